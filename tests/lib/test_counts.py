"""course_utils.lib.counts against torch.nn: parameter counts for every kind, bias, layers and
directions; matched hidden sizes; FLOP formulas."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from course_utils.lib import counts  # noqa: E402

CLASSES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


def torch_count(kind: str, I: int, H: int, **kw) -> int:
    return sum(p.numel() for p in getattr(torch.nn, CLASSES[kind])(I, H, **kw).parameters())


def test_gate_blocks():
    assert [counts.gate_blocks(k) for k in ("rnn", "lstm", "gru")] == [1, 4, 3]
    assert counts.gate_blocks("LSTM") == counts.gate_blocks("nn.LSTM") == 4
    with pytest.raises(ValueError, match="kind must be one of"):
        counts.gate_blocks("transformer")


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("num_layers, bias, bidirectional",
                         [(1, True, False), (1, False, False), (3, True, False), (2, True, True),
                          (3, False, True)])
def test_param_count_matches_torch(kind, num_layers, bias, bidirectional):
    I, H = 7, 5
    expected = torch_count(kind, I, H, num_layers=num_layers, bias=bias,
                           bidirectional=bidirectional)
    assert counts.param_count(kind, I, H, num_layers, bias, bidirectional) == expected


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_layer_params_one_layer_one_direction(kind):
    assert counts.layer_params(kind, 3, 11) == torch_count(kind, 3, 11)
    assert counts.layer_params(kind, 3, 11, bias=False) == torch_count(kind, 3, 11, bias=False)


def test_matched_hidden_is_closest():
    target = counts.param_count("lstm", 2, 48)
    h = counts.matched_hidden("gru", 2, target)
    gap = abs(counts.param_count("gru", 2, h) - target)
    assert gap <= abs(counts.param_count("gru", 2, h - 1) - target)
    assert gap <= abs(counts.param_count("gru", 2, h + 1) - target)
    assert (h, counts.matched_hidden("rnn", 2, target)) == (56, 98)  # notebook 08's sizes


def test_step_flops_and_sequence_gemm_flops():
    f = counts.step_flops("lstm", batch=2, input_size=5, hidden=3)
    assert f["matmul"] == 2 * 4 * 2 * 3 * (5 + 3)
    assert f["elementwise"] == 21 * 2 * 3 and f["total"] == f["matmul"] + f["elementwise"]
    assert counts.step_flops("GRU", 1, 1, 1)["elementwise"] == 17
    assert counts.gemm_flops("gru", T=10, batch=2, input_size=5, hidden=3) == 10 * 2 * 3 * 2 * 3 * 8
    assert counts.gemm_flops("gru", 10, 2, 5, 3, training=True) == 3 * 10 * 2 * 3 * 2 * 3 * 8
    ratio = counts.step_flops("gru", 4, 8, 8)["matmul"] / counts.step_flops("lstm", 4, 8, 8)["matmul"]
    assert ratio == 0.75
