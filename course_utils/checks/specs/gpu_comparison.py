"""Spec of notebook 09: ``lstm_forward_hoisted``, the LSTM forward in PyTorch, input GEMM
hoisted.

    xw = x.reshape(T*B, I) @ W_ih^T + b_ih + b_hh            # (T*B, 4H): every step at once
    for t: gates = xw[t] + h_{t-1} @ W_hh^T                    # (B, 4H): one GEMM per step
           i, f, g, o = chunks; c_t = σ(f) c_{t-1} + σ(i) tanh(g); h_t = σ(o) tanh(c_t)

Inputs and outputs are **torch tensors** (device-agnostic code: the same function runs on a
GPU); the cases are float64 CPU tensors built from :func:`..recurrent.seq_cases`, and the
engine's ``to_array`` reads the returned tensors. Reference: torch.nn.LSTM in the inputs' dtype
and device (float64 here). The hoisting trick: Appleyard, Kociský & Blunsom (2016),
arXiv:1604.01946, section 3.1.
"""

from __future__ import annotations

from typing import Any

from ..recurrent import seq_cases
from ..spec import Case, Mistake, Spec

ARGS = ("x", "h0", "c0", "W_ih", "W_hh", "b_ih", "b_hh")
# PyTorch's fused recurrent kernels (torch functions and aten ops): calling one (torch.nn.LSTM,
# torch.lstm, torch.lstm_cell ...) is not writing the hoisted loop; the grader checks for them.
FUSED_RNN = ("lstm", "lstm_cell", "_thnn_fused_lstm_cell", "mkldnn_rnn_layer", "_cudnn_rnn",
             "miopen_rnn", "gru", "gru_cell", "rnn_tanh", "rnn_relu", "rnn_tanh_cell",
             "rnn_relu_cell")


def make_cases(seed: int) -> list[Case]:
    """The LSTM sequence cases (all of T, B, I, H distinct; B = 3, 1, 2) as float64 tensors."""
    import torch

    return [Case(c.label, tuple(torch.from_numpy(a.copy()) for a in c.args), dims=c.dims)
            for c in seq_cases(seed, "lstm")]


def ref_lstm_forward_hoisted(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    """torch.nn.LSTM with these weights, on the inputs' device and dtype; returns tensors."""
    import torch

    H, I = W_hh.shape[1], W_ih.shape[1]
    lstm = torch.nn.LSTM(I, H).to(device=x.device, dtype=x.dtype)
    with torch.no_grad():
        for name, value in (("weight_ih_l0", W_ih), ("weight_hh_l0", W_hh),
                            ("bias_ih_l0", b_ih), ("bias_hh_l0", b_hh)):
            getattr(lstm, name).copy_(value)
        out, (h_n, c_n) = lstm(x, (h0[None], c0[None]))  # (T, B, H), (1, B, H) x 2
    return out, (h_n[0], c_n[0])


# --------------------------------------------------------------------------- mistakes
def _loop(x, h0, c0, W_ih, W_hh, b_ih, b_hh, *, order="ifgo", carry_h=True, carry_c=True,
          layout="blocked", flatten="time-major", fold_bhh=True, loop_bhh=False,
          tanh_c=True, zero_start=False) -> tuple[Any, tuple[Any, Any]]:
    """The hoisted LSTM with switches, each switch one known mistake (defaults: correct)."""
    import torch

    T, B, I = x.shape
    H = W_hh.shape[1]
    if flatten == "time-major":
        x2d = x.reshape(T * B, I)
    else:  # batch-major rows, then read back as if time-major
        x2d = x.transpose(0, 1).reshape(B * T, I)
    xw = (x2d @ W_ih.T + b_ih + (b_hh if fold_bhh else 0)).reshape(T, B, 4 * H)
    if zero_start:
        h0, c0 = h0 * 0, c0 * 0
    h, c, outs = h0, c0, []
    for t in range(T):
        rec = (h if carry_h else h0) @ W_hh.T + (b_hh if loop_bhh else 0)
        gates = xw[t] + rec  # (B, 4H)
        if layout == "blocked":
            parts = dict(zip(order, gates.chunk(4, dim=1)))
        else:  # gates read as (B, H, 4): interleaved columns
            parts = dict(zip(order, gates.reshape(B, H, 4).unbind(dim=2)))
        i, f, g, o = (parts[k] for k in "ifgo")
        c = torch.sigmoid(f) * (c if carry_c else c0) + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * (torch.tanh(c) if tanh_c else c)
        outs.append(h)
    return torch.stack(outs), (h, c)


def _variant(**switches: Any):
    def fn(*args):
        return _loop(*args, **switches)
    return fn


def _swapped_state(*args):
    out, (h, c) = _loop(*args)
    return out, (c, h)


MISTAKES = [
    Mistake("h0 used at every step (the recurrence hoisted too)",
            "only x_t W_ih^T can be computed for all steps before the loop; h_{t-1} W_hh^T needs "
            "the state of the previous step, so that GEMM stays inside the loop",
            _variant(carry_h=False)),
    Mistake("the cell state not carried", "c_t = σ(f) * c_{t-1} + σ(i) * tanh(g) uses the c of "
            "the previous step, not c0: update c inside the loop", _variant(carry_c=False)),
    Mistake("starting from zeros instead of the given h0 and c0", "the loop starts from the "
            "initial state passed in (h, c = h0, c0), not from torch.zeros",
            _variant(zero_start=True)),
    Mistake("gates in the order i, f, o, g", "torch.nn.LSTM stacks the gates as i, f, g, o "
            "(input, forget, cell candidate, output)", _variant(order="ifog")),
    Mistake("gates in the order f, i, g, o", "torch.nn.LSTM stacks the gates as i, f, g, o",
            _variant(order="figo")),
    Mistake("the gates interleaved instead of blocked", "the 4H columns are four blocks of H "
            "(all of i, then all of f ...): split with gates.chunk(4, dim=1), not "
            "gates.view(B, H, 4)", _variant(layout="interleaved")),
    Mistake("time and batch mixed up when flattening x", "x is (T, B, I): x.reshape(T * B, I) "
            "keeps time-major rows, so the result reshapes back to (T, B, 4H); transposing to "
            "batch-major first scrambles which input belongs to which step",
            _variant(flatten="batch-major")),
    Mistake("a missing bias b_hh", "PyTorch keeps two bias vectors: add b_ih and b_hh (both can "
            "go into the hoisted part, once per step)", _variant(fold_bhh=False)),
    Mistake("a missing bias b_ih", "add both biases: x W_ih^T + b_ih + b_hh in the hoisted part",
            lambda x, h0, c0, Wi, Wh, bi, bh: _loop(x, h0, c0, Wi, Wh, bi * 0, bh)),
    Mistake("b_hh added twice", "b_hh is already in the hoisted input part; adding it again "
            "inside the loop counts it twice", _variant(loop_bhh=True)),
    Mistake("both biases missing", "add b_ih and b_hh (both fit in the hoisted input part)",
            lambda x, h0, c0, Wi, Wh, bi, bh: _loop(x, h0, c0, Wi, Wh, bi * 0, bh, fold_bhh=False)),
    Mistake("tanh(c_t) missing in h_t", "h_t = σ(o) * tanh(c_t), not σ(o) * c_t",
            _variant(tanh_c=False)),
    Mistake("h_n and c_n swapped", "return (output, (h_n, c_n)) in that order, like torch.nn.LSTM",
            _swapped_state),
]

SPECS = [
    Spec(id="lstm_forward_hoisted", title="LSTM forward in PyTorch with the input GEMM hoisted",
         notebook="09_gpu_comparison", arg_names=ARGS, output=("output", ("h_n", "c_n")),
         make_cases=make_cases, reference=ref_lstm_forward_hoisted, mistakes=MISTAKES,
         time_axis={"output": 0}, initial_state=("h0", "c0"), points=3,
         sandbox_modules=("torch",), forbidden_calls=FUSED_RNN),
]
