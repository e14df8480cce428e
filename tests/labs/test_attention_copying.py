"""Notebook 10's "memory that copies" lab: repeat classes, lzma's cost per class by prefixes,
per-character bits of a recurrent and a Transformer model, the block bootstrap, ledger rows."""

from __future__ import annotations

import lzma

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from course_utils.labs.attention import copying as C  # noqa: E402
from course_utils.labs.attention.deploy_models import transformer_lm  # noqa: E402
from course_utils.labs.char_language_model import char_model  # noqa: E402


def test_repeat_classes_near_far_and_new():
    context = "the quick brown fox" + "." * 40
    text = "zz quick brown " + "abcdefghij" + "-" * 3 + "abcdefghij"
    lab = C.repeat_classes(context, text, min_len=6, window=30)
    assert lab.shape == (len(text),) and lab.dtype == np.int8
    far = text.index(" quick brown ")
    assert (lab[far: far + len(" quick brown ")] == C.FAR).all()     # from the context, far back
    second = len(text) - 10
    assert (lab[second:] == C.NEAR).all()                            # 13 characters back
    assert (lab[:2] == C.NEW).all() and (lab[second - 13: second - 3] == C.NEW).all()
    wide = C.repeat_classes(context, text, min_len=6, window=10_000)
    assert (wide[far: far + 5] == C.NEAR).all()
    with pytest.raises(ValueError, match="positive"):
        C.repeat_classes("a", "b", min_len=0)


def test_repeats_need_min_len_characters():
    lab = C.repeat_classes("abcde", "xabcdx", min_len=5, window=100)
    assert (lab == C.NEW).all()
    lab = C.repeat_classes("abcde", "xabcdey", min_len=5, window=100)
    assert lab.tolist() == [0, 1, 1, 1, 1, 1, 0]


def test_runs_cover_the_labels():
    lab = np.array([0, 0, 1, 1, 1, 2, 0])
    assert C.runs(lab) == [(0, 2, 0), (2, 5, 1), (5, 6, 2), (6, 7, 0)]
    assert C.runs(np.array([], np.int8)) == []


def test_lzma_class_bits_telescopes_to_the_baseline():
    rng = np.random.default_rng(0)
    words = ["alpha ", "beta ", "gamma ", "delta ", "epsilon "]
    train = "".join(rng.choice(words, 300)) + "a repeated sentence that matters. "
    valid = ("new words here " + "a repeated sentence that matters. " + "".join(rng.choice(words, 40)))
    lab = C.repeat_classes(train, valid, min_len=12, window=50)

    def fast(b: bytes) -> bytes:           # notebook 07's preset is slow per call; same method
        return lzma.compress(b, preset=0)

    res = C.lzma_class_bits(train, valid, lab, compress=fast)
    given = 8 * (len(fast((train + valid).encode())) - len(fast(train.encode()))) / len(valid)
    assert res["total"] == pytest.approx(given)
    assert sum(res["chars"].values()) == len(valid) and res["runs"] == len(C.runs(lab))
    assert res["per_class"][C.CLASS_NAMES[C.FAR]] < res["per_class"][C.CLASS_NAMES[C.NEW]]
    with pytest.raises(ValueError, match="labels"):
        C.lzma_class_bits(train, valid, lab[:-1], compress=fast)


def _direct_bits(logits, y):
    return torch.nn.functional.cross_entropy(logits, y, reduction="none").double().numpy() / C.LN2


def test_recurrent_char_bits_is_one_stream():
    torch.manual_seed(0)
    m = char_model(7, "lstm", 3, 5)
    ids = np.random.default_rng(1).integers(0, 7, 23)
    bits = C.recurrent_char_bits(m, ids, chunk=4)
    with torch.no_grad():
        logits, _ = m(torch.from_numpy(ids[:-1])[:, None], None)
    np.testing.assert_allclose(bits, _direct_bits(logits[:, 0], torch.from_numpy(ids[1:])),
                               atol=1e-5)


@pytest.mark.parametrize("n,window", [(40, 8), (37, 10), (9, 16)])
def test_transformer_char_bits_scores_each_character_once_with_context(n, window):
    torch.manual_seed(0)
    tf = transformer_lm(6, d=8, layers=1, heads=2)
    ids = np.random.default_rng(2).integers(0, 6, n)
    bits = C.transformer_char_bits(tf, ids, window=window, batch=3)
    assert bits.shape == (n - 1,) and np.isfinite(bits).all()
    L = min(window, n - 1)
    with torch.no_grad():                 # the last character, read with its L - 1 predecessors
        x = torch.from_numpy(ids[n - 1 - L: n - 1])[None]
        last = _direct_bits(tf(x)[0], torch.from_numpy(ids[n - L: n]))[-1]
        first = _direct_bits(tf(torch.from_numpy(ids[:L])[None])[0],
                             torch.from_numpy(ids[1: L + 1]))[0]
    assert bits[-1] == pytest.approx(last, abs=1e-5)
    assert bits[0] == pytest.approx(first, abs=1e-5)


def test_class_bits_and_gap_interval():
    lab = np.array([0, 1] * 1000)
    a = np.where(lab == 1, 1.0, 3.0)
    b = np.full(lab.shape, 2.0)
    assert C.class_bits(a, lab) == {C.CLASS_NAMES[0]: 3.0, C.CLASS_NAMES[1]: 1.0,
                                    C.CLASS_NAMES[2]: None}
    mean, lo, hi = C.gap_interval(a, b, lab, 1, block=100)
    assert (mean, lo, hi) == (-1.0, -1.0, -1.0)
    noisy = b + np.random.default_rng(0).normal(0, 1, lab.shape)
    mean, lo, hi = C.gap_interval(noisy, b, lab, 0, block=100)
    assert lo < mean < hi and lo < 0.2 and hi > -0.2
    with pytest.raises(ValueError, match="two blocks"):
        C.gap_interval(a[:10], b[:10], lab[:10], 0, block=100)


def test_copy_rows_read_the_numbers():
    names = C.CLASS_NAMES
    per = {"transformer": dict(zip(names, (2.0, 0.5, 1.5))), "lstm": dict(zip(names, (2.1, 1.6, 1.7)))}
    res = {"window": 256, "min_len": 20, "budget": {"updates": 1500, "chars_per_update": 6400},
           "lzma": {"total": 1.23, "per_class": dict(zip(names, (2.5, 0.3, 0.2)))},
           "models": {m: {"per_class": per[m], "params": 360_000,
                          "bits_per_char": 1.6 if m == "transformer" else 1.85,
                          "training_seconds": 900.0 if m == "transformer" else 300.0} for m in per},
           "gaps_transformer_minus_lstm": {names[0]: [-0.1, -0.2, 0.05],
                                           names[1]: [-1.1, -1.3, -0.9]}}
    rows = C.copy_rows(res)
    assert len(rows) == 3 and all(len(r) == 3 for r in rows)
    assert "0.50 vs LSTM 1.60" in rows[0][1] and "Transformer better" in rows[0][1]
    assert "not separated" in rows[0][1] and "one training seed" in rows[0][2]
    assert rows[0][1].startswith("holds in this run")
    res["gaps_transformer_minus_lstm"][names[1]] = [-0.05, -0.2, 0.1]
    assert C.copy_rows(res)[0][1].startswith("not shown within this budget")
    assert rows[2][1].startswith("does not close") and "900 s (Transformer)" in rows[2][1]


def test_lzma_is_notebook_07s():
    from course_utils.labs.char_language_model.baselines import COMPRESSORS

    data = b"notebook 07's baseline table " * 20
    assert C.lzma_compress(data) == COMPRESSORS["lzma"](data)
