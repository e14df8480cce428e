"""Notebook 07's lab helpers: model interface, baselines, evaluation, sampling, unit probes."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from course_utils.checks import SPECS  # noqa: E402
from course_utils.labs import char_language_model as lab  # noqa: E402


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_model_interface_state_is_a_tuple(cell):
    torch.manual_seed(0)
    m = lab.char_model(11, cell, embed=4, hidden=6)
    x = torch.randint(0, 11, (5, 3))
    logits, state = m(x, None)
    assert logits.shape == (5, 3, 11) and isinstance(state, tuple)
    logits2, _ = m(x, tuple(s.detach() for s in state))
    assert logits2.shape == (5, 3, 11)


def test_ngram_bits_orders_and_uniform():
    rng = np.random.default_rng(0)
    ids = np.tile(np.arange(5), 200)                  # perfectly predictable from the previous
    b = lab.ngram_bits(ids, ids[:300], 5, alpha=1e-3)
    assert b["uniform"] == pytest.approx(math.log2(5))
    assert b["bigram"] < 0.01 < b["unigram"] == pytest.approx(math.log2(5), abs=1e-3)
    noise = rng.integers(0, 5, 1000)
    assert lab.ngram_bits(noise, noise, 5)["bigram"] < math.log2(5)


def test_evaluate_bits_of_an_untrained_model_is_near_uniform():
    torch.manual_seed(0)
    m = lab.char_model(7, "gru", embed=3, hidden=4)
    with torch.no_grad():
        for p in m.parameters():
            p.zero_()
    ids = np.random.default_rng(1).integers(0, 7, 500)
    assert lab.evaluate_bits(m, ids, seq_len=10, batch=4) == pytest.approx(math.log2(7))


def test_fit_trains_with_a_given_loop_and_records_history():
    torch.manual_seed(0)
    ids = np.tile(np.arange(6), 300)
    x, y = SPECS["tbptt_batches"].reference(ids, 4, 10)
    m = lab.char_model(6, "lstm", embed=4, hidden=16)
    h = lab.fit(m, SPECS["train_tbptt"].reference, x, y, ids[:200], updates=60, chunk=20,
                lr=3e-2, progress=False)
    assert h.updates[-1] == 60 and h.updates == sorted(h.updates)       # chunks end at the wrap
    assert len(h.valid_bits) == len(h.train_bits) == len(h.updates)
    assert h.valid_bits[-1] < 1.0 < h.valid_bits[0] + 1
    assert h.seconds == sorted(h.seconds)


def test_generate_uses_the_given_probabilities():
    torch.manual_seed(0)
    m = lab.char_model(4, "lstm", embed=2, hidden=3)
    chars = "abcd"

    def encode(s):
        return np.array([chars.index(c) for c in s])

    def decode(ids):
        return "".join(chars[i] for i in ids)

    def always_c(logits, temperature, top_k):
        return np.eye(4)[2]

    assert lab.generate(m, encode, decode, always_c, prompt="ab", n=5) == "abccccc"
    text = lab.generate(m, encode, decode, SPECS["next_char_probs"].reference, "a", 50, 1.5, 2)
    assert len(text) == 51 and set(text) <= set(chars)


def test_text_properties_and_best_units():
    text = 'say "hi" (x [y]) ok\nab "c"\n' * 20
    props = lab.text_properties(text)
    i = text.index('"h')
    assert props["inside quotes"][i] == 1 and props["inside quotes"][text.index("i\"") + 1] == 0
    assert props["inside parentheses"][text.index("x")] == 1
    assert props["inside brackets"][text.index("[y") + 1] == 1
    assert props["position in line"][text.index("\n")] == 0 == props["position in line"][0] - 1
    noise = np.random.default_rng(0).normal(size=len(text))
    acts = np.stack([props["inside quotes"] * 2 - 1, noise], 1)
    rows = {r["property"]: r for r in lab.best_units(acts, props)}
    assert rows["inside quotes"]["unit"] == 0 and rows["inside quotes"]["r_heldout"] > 0.99


def test_coloured_html_escapes_and_colours():
    out = lab.coloured_html("<a>\n", np.array([1.0, -1.0, 0.0, 0.5]), title="unit 3")
    assert "&lt;" in out and "rgba(214,39,40,1.00)" in out and "rgba(31,119,180,1.00)" in out
    assert "unit 3" in out and "<br>" in out


def test_evaluate_bits_subset_samples_every_part_of_the_text():
    torch.manual_seed(0)
    m = lab.char_model(5, "lstm", embed=3, hidden=4)
    ids = np.concatenate([np.zeros(3000, dtype=np.int64), np.full(3000, 4)])
    full = lab.evaluate_bits(m, ids, seq_len=20, batch=8)
    assert lab.evaluate_bits(m, ids, seq_len=20, batch=8, max_chars=10_000) == full
    quick = lab.evaluate_bits(m, ids, seq_len=20, batch=8, max_chars=800)
    first_half = lab.evaluate_bits(m, ids[:3000], seq_len=20, batch=8)
    assert abs(quick - full) < abs(first_half - full)          # both halves are sampled


# --------------------------------------------------------------------------- regularisation
def test_dropout_is_active_in_training_only_and_adds_no_parameters():
    torch.manual_seed(0)
    plain, dropped = lab.char_model(9, "lstm", 4, 6), lab.char_model(9, "lstm", 4, 6, dropout=0.5)
    assert lab.count_params(plain) == lab.count_params(dropped)
    x = torch.randint(0, 9, (5, 2))
    dropped.train()
    a, _ = dropped(x)
    b, _ = dropped(x)
    assert not torch.equal(a, b)
    ids = np.random.default_rng(0).integers(0, 9, 400)
    dropped.train()
    e1, e2 = lab.evaluate_bits(dropped, ids, 10, 4), lab.evaluate_bits(dropped, ids, 10, 4)
    assert e1 == e2 and dropped.training                       # eval mode inside, restored


def test_fit_lr_schedule_and_keep_best():
    torch.manual_seed(0)
    ids = np.tile(np.arange(6), 300)
    x, y = SPECS["tbptt_batches"].reference(ids, 4, 10)
    m = lab.char_model(6, "lstm", embed=4, hidden=8)
    h = lab.fit(m, SPECS["train_tbptt"].reference, x, y, ids[:200], updates=40, chunk=10,
                lr=1e-2, progress=False, lr_schedule=lambda f: 1.0 - f, keep_best=True)
    assert h.lr[0] == pytest.approx(1e-2) and h.lr == sorted(h.lr, reverse=True)
    assert h.lr[-1] == pytest.approx(1e-2 * (1 - 30 / 40))
    low = int(np.argmin(h.valid_bits))
    m.load_state_dict(h.best_state)
    assert lab.evaluate_bits(m, ids[:200]) == pytest.approx(h.valid_bits[low])
    assert "lr" in h.to_dict()


# --------------------------------------------------------------------------- compressors, units
def test_compressors_bits_and_the_value_of_the_training_text():
    from course_utils.labs.char_language_model.baselines import compressed_bits

    rng = np.random.default_rng(0)
    words = ["".join(rng.choice(list("abcdefgh"), 6)) for _ in range(200)]
    train = " ".join(rng.choice(words, 3000))
    valid = train[5000:9000]                                    # a passage of the training text
    got = compressed_bits(train, valid)
    assert set(got) == {"zlib", "bz2", "lzma"}
    assert got["lzma"]["given_train"] < 0.5 < got["lzma"]["alone"]   # copies the passage
    assert got["zlib"]["given_train"] > got["lzma"]["given_train"]    # 32 KB window only
    with pytest.raises(ValueError):
        compressed_bits(train, "")


def test_probe_units_finds_a_planted_unit_and_rejects_noise():
    from course_utils.labs.char_language_model.units import probe_units

    rng = np.random.default_rng(0)
    pieces = ['say "hello there" ', "and (x + y) ", "ok ", "words\n", '"q" ', "(a) "]
    text = "".join(rng.choice(pieces, 400))                   # not periodic: shifts differ
    props = {k: v for k, v in lab.text_properties(text).items() if k != "inside brackets"}
    noise = [rng.normal(size=(len(text), 6)) for _ in range(4)]
    planted = noise[0].copy()
    planted[:, 2] = props["inside quotes"] + 0.3 * rng.normal(size=len(text))
    rows = {r["property"]: r for r in probe_units(planted, noise[1:], props, shifts=100)}
    assert rows["inside quotes"]["survives"] and rows["inside quotes"]["unit"] == 2
    assert not rows["position in line"]["survives"]
    only_noise = probe_units(noise[0], noise[1:], props, shifts=100)
    assert not any(r["survives"] for r in only_noise)
    assert rows["inside quotes"]["level"] == pytest.approx(0.05 / 3)


# --------------------------------------------------------------------------- numpy model (part 1)
def test_numpy_model_helpers_with_torch_stand_ins():
    from course_utils.checks.specs.char_language_model.numpy_lm import TOOLS
    from course_utils.labs.char_language_model import numpy_lm
    from tests.checks.test_char_language_model_numpy import lm_step

    ns: dict = {}
    exec(TOOLS, ns)  # noqa: S102 - the checker's torch-based stand-ins
    fns = (ns["lstm_forward"], ns["lstm_backward"], ns["adam_step"])
    V, H = 5, 6
    p = numpy_lm.init_params(V, H, seed=1)
    assert p["W_ih"].shape == (24, 5) and np.abs(p["W_hh"]).max() <= 1 / math.sqrt(H)
    ids = np.tile(np.arange(V), 200)
    assert numpy_lm.numpy_bits(p, fns[0], ids, streams=4, seq_len=7) == pytest.approx(
        math.log2(V), abs=0.3)
    L = (len(ids) - 1) // 4
    x = ids[:4 * L].reshape(4, L)[:, :240].reshape(4, 30, 8).transpose(1, 2, 0)   # (K, T, B)
    y = ids[1:4 * L + 1].reshape(4, L)[:, :240].reshape(4, 30, 8).transpose(1, 2, 0)
    run = numpy_lm.train_numpy(lm_step, fns, p, x, y, 0.05, 5.0, updates=25, progress=False)
    twin = numpy_lm.train_torch_twin(p, x, y, 0.05, 5.0, updates=25)
    np.testing.assert_allclose(run.losses, twin.losses, atol=1e-9)
    assert run.losses[-1] < run.losses[0] and len(run.seconds) == 25
    assert numpy_lm.numpy_bits(run.params, fns[0], ids, 4, 7) < 1.0
    chars = "abcde"
    text = numpy_lm.sample_numpy(run.params, fns[0], lambda s: np.array([chars.index(c) for c in s]),
                                 lambda a: "".join(chars[i] for i in a), "ab", 20, 0.5)
    assert len(text) == 22 and set(text) <= set(chars)


def test_top_p_keeps_the_smallest_set_reaching_p():
    p = np.array([0.5, 0.05, 0.3, 0.15])
    np.testing.assert_allclose(lab.top_p_filter(p, 0.75), [0.625, 0, 0.375, 0])
    np.testing.assert_allclose(lab.top_p_filter(p, 0.81), [0.5 / 0.95, 0, 0.3 / 0.95, 0.15 / 0.95])
    np.testing.assert_allclose(lab.top_p_filter(p, 1.0), p)
    assert lab.top_p_filter(np.array([0.99, 0.01]), 0.9).tolist() == [1.0, 0.0]
    with pytest.raises(ValueError):
        lab.top_p_filter(p, 0.0)
