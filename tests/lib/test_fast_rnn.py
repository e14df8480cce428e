"""The course's fast LSTM/GRU (course_utils.lib.fast_rnn) equals torch.nn in value and gradient."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from course_utils.lib.fast_rnn import FastRNN, capture_cuda_graph, fast_forward, gru_hoisted, lstm_hoisted

# (T, B, I, H): all distinct; batch 1 and > 1
SHAPES = [(5, 3, 4, 6), (4, 1, 7, 3), (6, 2, 3, 5)]


def _module(kind: str, I: int, H: int, seed: int, bias: bool = True) -> nn.Module:
    torch.manual_seed(seed)
    return getattr(nn, kind)(I, H, bias=bias).double()


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("bias", [True, False])
def test_lstm_hoisted_matches_nn_lstm_forward_and_backward(shape, bias):
    T, B, I, H = shape
    ref = _module("LSTM", I, H, seed=T, bias=bias)
    g = torch.Generator().manual_seed(B)
    x = torch.randn(T, B, I, dtype=torch.float64, generator=g, requires_grad=True)
    h0 = torch.randn(B, H, dtype=torch.float64, generator=g, requires_grad=True)
    c0 = torch.randn(B, H, dtype=torch.float64, generator=g, requires_grad=True)
    grad_out = torch.randn(T, B, H, dtype=torch.float64, generator=g)
    biases = [ref.bias_ih_l0, ref.bias_hh_l0] if bias else [None, None]
    params = [ref.weight_ih_l0, ref.weight_hh_l0] + biases

    out, (h, c) = lstm_hoisted(x, h0, c0, *params)
    exp, (eh, ec) = ref(x, (h0[None], c0[None]))
    torch.testing.assert_close(out, exp, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(h, eh[0], rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(c, ec[0], rtol=1e-10, atol=1e-12)

    wrt = [x, h0, c0, ref.weight_ih_l0, ref.weight_hh_l0]
    mine = torch.autograd.grad((out * grad_out).sum() + c.sum(), wrt)
    theirs = torch.autograd.grad((exp * grad_out).sum() + ec.sum(), wrt)
    for a, b in zip(mine, theirs):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("shape", SHAPES)
def test_gru_hoisted_matches_nn_gru_forward_and_backward(shape):
    T, B, I, H = shape
    ref = _module("GRU", I, H, seed=10 + T)
    g = torch.Generator().manual_seed(B)
    x = torch.randn(T, B, I, dtype=torch.float64, generator=g, requires_grad=True)
    h0 = torch.randn(B, H, dtype=torch.float64, generator=g, requires_grad=True)
    out, h = gru_hoisted(x, h0, ref.weight_ih_l0, ref.weight_hh_l0, ref.bias_ih_l0, ref.bias_hh_l0)
    exp, eh = ref(x, h0[None])
    torch.testing.assert_close(out, exp, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(h, eh[0], rtol=1e-10, atol=1e-12)
    wrt = [x, h0, ref.weight_hh_l0, ref.bias_hh_l0]
    mine = torch.autograd.grad(out.sum(), wrt)
    theirs = torch.autograd.grad(exp.sum(), wrt)
    for a, b in zip(mine, theirs):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_fastrnn_module_shares_weights_and_returns_torch_layout(kind):
    T, B, I, H = 7, 2, 3, 4
    ref = _module(kind, I, H, seed=1)
    fast = FastRNN.from_torch(ref)
    assert fast.weight_hh_l0 is ref.weight_hh_l0  # shared, not copied
    x = torch.randn(T, B, I, dtype=torch.float64)
    got, exp = fast(x), ref(x)  # zero initial state
    torch.testing.assert_close(got[0], exp[0])
    if kind == "LSTM":
        assert got[1][0].shape == (1, B, H) and got[1][1].shape == (1, B, H)
        torch.testing.assert_close(got[1][1], exp[1][1])
    else:
        torch.testing.assert_close(got[1], exp[1])


def test_fastrnn_float32_close_to_nn_and_fresh_init_in_range():
    fast = FastRNN("LSTM", 5, 8)
    bound = 8 ** -0.5
    assert all(p.abs().max() <= bound for p in fast.parameters())
    ref = nn.LSTM(5, 8)
    ref.load_state_dict(fast.state_dict())  # same names, same shapes
    x = torch.randn(9, 3, 5)
    torch.testing.assert_close(fast(x)[0], ref(x)[0], rtol=1e-5, atol=1e-6)


def test_from_torch_rejects_unsupported_modules():
    with pytest.raises(ValueError):
        FastRNN.from_torch(nn.LSTM(3, 4, num_layers=2))
    with pytest.raises(ValueError):
        FastRNN("RNN", 3, 4)


def test_capture_on_cpu_is_eager_no_grad():
    fast = FastRNN("GRU", 3, 4)
    x = torch.randn(5, 2, 3)
    run = fast_forward(fast, x)  # no CUDA here: eager under no_grad
    assert run.captured is False
    out = run(x)
    assert not out.requires_grad
    torch.testing.assert_close(out, fast(x)[0].detach())
    double = capture_cuda_graph(lambda t: 2 * t, x)
    assert double.captured is False and torch.equal(double(x), 2 * x)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_graph_replay_matches_eager_on_new_inputs():
    fast = FastRNN("LSTM", 16, 32, device="cuda")
    x = torch.randn(10, 4, 16, device="cuda")
    run = fast_forward(fast, x, use_graph=True)
    assert run.captured is True
    x2 = torch.randn_like(x)
    got = run(x2).clone()
    with torch.no_grad():
        exp = fast(x2)[0]
    torch.testing.assert_close(got, exp)
