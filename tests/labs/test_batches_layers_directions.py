"""Tests of course_utils.labs.batches_layers_directions (notebook 06's helpers)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from course_utils.labs import batches_layers_directions as lab  # noqa: E402


def test_sensitivity_maps_are_triangular_then_full() -> None:
    T = 5
    maps = lab.sensitivity_maps(T=T, I=2, H=3, seed=1)
    fwd, rev = maps["1 layer, forward half"], maps["1 layer, reverse half"]
    lower = np.tril(np.ones((T, T), dtype=bool))                          # s <= t
    assert np.all(fwd[~lower] == 0) and np.all(fwd[lower] > 0)           # sees s <= t only
    assert np.all(rev[lower.T] > 0) and np.all(rev[~lower.T] == 0)       # sees s >= t only
    assert np.all(maps["2 layers, forward half"] > 0) and np.all(maps["2 layers, reverse half"] > 0)


def test_lstm_layouts_follow_pytorch_order() -> None:
    rows = dict(lab.lstm_layouts(num_layers=2, bidirectional=True, I=5, H=4, T=6, B=3))
    names = list(rows)
    assert names[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                         "weight_ih_l0_reverse"]
    assert rows["weight_ih_l1"] == (16, 8) and rows["weight_ih_l0"] == (16, 5)
    assert rows["output"] == (6, 3, 8) and rows["h_n"] == (4, 3, 4)


def test_padding_helpers() -> None:
    vocab = lab.vocabulary(["ab.", "ba"])
    assert lab.PAD not in vocab.values()
    tokens, lengths = lab.pad_batch(["ab.", "b"], vocab)
    assert tokens.shape == (3, 2) and lengths.tolist() == [3, 1]
    assert tokens[1, 1] == lab.PAD and tokens[0, 1] == vocab["b"]
    mask = lab.real_mask(lengths, 2)                     # predictions of tokens 1..2
    assert mask.tolist() == [[1.0, 0.0], [1.0, 0.0]]


def test_loss_variants_algebra() -> None:
    rng = np.random.default_rng(0)
    losses = rng.uniform(1, 3, size=(6, 4))
    mask = (np.arange(6)[:, None] < np.array([6, 2, 4, 1])[None, :]).astype(float)
    v = lab.loss_variants(losses, mask)
    good = v["masked mean (correct)"]
    assert good == pytest.approx(losses[mask > 0].mean())
    assert v["(losses * mask).mean()"] == pytest.approx(good * mask.mean())
    assert v["mean over all positions"] == pytest.approx(losses.mean())


def test_sentences_batches_and_bucketing_reduce_padding() -> None:
    sentences = lab.load_sentences(max_chars=120)
    assert len(sentences) > 500 and all(2 <= len(s) <= 120 for s in sentences)
    vocab = lab.vocabulary(sentences)

    def padding(groups):
        lens = [lab.pad_batch(g, vocab)[1] for g in groups]
        return 1 - sum(x.sum() for x in lens) / sum(x.max() * len(x) for x in lens)

    rand = lab.batches(sentences, 16, bucketed=False)
    buck = lab.batches(sentences, 16, bucketed=True)
    assert all(len(g) == 16 for g in rand + buck)
    assert padding(buck) < padding(rand)


def test_model_training_bias_and_timing_run() -> None:
    sentences = lab.load_sentences(max_chars=40)[:64]
    vocab = lab.vocabulary(sentences)
    groups = lab.batches(sentences, 8, bucketed=False)
    model = lab.char_model(len(vocab) + 1, hidden=8, emb=4)
    history = lab.train_masked(model, groups, vocab, steps=3)
    assert len(history) == 3 and all(np.isfinite(history))
    rows = lab.bias_table(model, groups[:2], vocab)
    assert set(rows[0]) == {"padding", "masked mean (correct)", "mean over all positions",
                            "(losses * mask).mean()"}
    timings = lab.packed_vs_padded({"r": groups[:2]}, vocab, hidden=8, emb=4, repeats=1)
    assert set(timings) == {"padded, oneDNN: r", "padded, op-by-op: r", "packed, op-by-op: r"}
    assert all(t.median_ms > 0 for t in timings.values())


def test_profiler_names_the_path_each_configuration_takes() -> None:
    """Padded with oneDNN: the fused layer and no per-step GEMM; padded with oneDNN off and
    packed (flag on or off): no fused layer, one forward GEMM per step."""
    import torch

    sentences = lab.load_sentences(max_chars=30)[:6]
    vocab = lab.vocabulary(sentences)
    kernels = lab.lstm_kernels(sentences, vocab, hidden=8, emb=4)
    assert set(kernels) == {"padded, oneDNN", "padded, op-by-op", "packed, op-by-op",
                            "packed, oneDNN flag on"}
    T = kernels["padded, oneDNN"]["T"]
    if torch.backends.mkldnn.is_available():
        assert kernels["padded, oneDNN"]["aten::mkldnn_rnn_layer"] == 1
        assert kernels["padded, oneDNN"]["aten::addmm"] < T
    for config in ("padded, op-by-op", "packed, op-by-op", "packed, oneDNN flag on"):
        assert kernels[config]["aten::mkldnn_rnn_layer"] == 0
        assert kernels[config]["aten::addmm"] >= T
