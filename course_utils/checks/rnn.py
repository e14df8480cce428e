"""Specs of notebook 01: ``rnn_cell_forward`` and ``rnn_forward`` (tanh RNN, PyTorch layout).

    h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)          (torch.nn.RNN, Elman 1990)

Reference: torch.nn.RNNCell / torch.nn.RNN in float64 with the case's weights copied in.
"""

from __future__ import annotations

import numpy as np

from ._recurrent import cell_cases, cell_reference, forward_reference, seq_cases, sigmoid, unroll
from .spec import Mistake, Spec

CELL_ARGS = ("x_t", "h_prev", "W_ih", "W_hh", "b_ih", "b_hh")
SEQ_ARGS = ("x", "h0", "W_ih", "W_hh", "b_ih", "b_hh")


# --------------------------------------------------------------------------- references
ref_rnn_cell = cell_reference("rnn")          # torch.nn.RNNCell, float64
ref_rnn_forward = forward_reference("rnn")    # torch.nn.RNN, float64


# --------------------------------------------------------------------------- cell mistakes
def _pre(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh


CELL_MISTAKES = [
    Mistake("a missing bias b_hh", "add both biases: x_t W_ih^T + b_ih + h_prev W_hh^T + b_hh "
            "(PyTorch keeps two bias vectors)",
            lambda x, h, Wi, Wh, bi, bh: np.tanh(x @ Wi.T + bi + h @ Wh.T)),
    Mistake("a missing bias b_ih", "add both biases: x_t W_ih^T + b_ih + h_prev W_hh^T + b_hh",
            lambda x, h, Wi, Wh, bi, bh: np.tanh(x @ Wi.T + h @ Wh.T + bh)),
    Mistake("both biases missing", "add b_ih and b_hh to the pre-activation",
            lambda x, h, Wi, Wh, bi, bh: np.tanh(x @ Wi.T + h @ Wh.T)),
    Mistake("ReLU instead of tanh", "the Elman RNN of torch.nn.RNN (nonlinearity='tanh') squashes "
            "with np.tanh", lambda *a: np.maximum(_pre(*a), 0.0)),
    Mistake("sigmoid instead of tanh", "use np.tanh; a sigmoid maps to (0, 1), tanh to (-1, 1)",
            lambda *a: sigmoid(_pre(*a))),
    Mistake("W_hh not transposed", "PyTorch stores W_hh as (hidden, hidden) acting on column "
            "vectors: for row-vector batches use h_prev @ W_hh.T",
            lambda x, h, Wi, Wh, bi, bh: np.tanh(x @ Wi.T + bi + h @ Wh + bh)),
    Mistake("h_prev ignored", "the recurrence needs the previous state: add h_prev @ W_hh.T",
            lambda x, h, Wi, Wh, bi, bh: np.tanh(x @ Wi.T + bi + bh)),
    Mistake("the pre-activation returned (tanh missing)", "apply np.tanh to the sum before "
            "returning it", lambda *a: _pre(*a)),
    Mistake("the biases added after tanh", "the biases belong inside the tanh",
            lambda x, h, Wi, Wh, bi, bh: np.tanh(x @ Wi.T + h @ Wh.T) + bi + bh),
    Mistake("only the first batch row computed", "x_t has shape (batch, input_size): compute "
            "every row at once with a matrix product, not x_t[0]",
            lambda *a: np.tanh(_pre(*a))[0]),
    Mistake("only the first batch row computed", "x_t has shape (batch, input_size): compute "
            "every row at once with a matrix product, not x_t[0:1]",
            lambda *a: np.tanh(_pre(*a))[:1]),
]


# --------------------------------------------------------------------------- sequence mistakes
def _run(x, h0, Wi, Wh, bi, bh):
    h, outs = h0, []
    for t in range(x.shape[0]):
        h = np.tanh(x[t] @ Wi.T + bi + h @ Wh.T + bh)
        outs.append(h)
    return outs


def _state_not_carried(x, h0, Wi, Wh, bi, bh):
    outs = [np.tanh(x[t] @ Wi.T + bi + h0 @ Wh.T + bh) for t in range(x.shape[0])]
    return np.stack(outs), outs[-1]


def _reversed(*a):
    outs = _run(*a)
    return np.stack(outs[::-1]), outs[-1]


def _off_by_one(x, h0, *p):
    outs = _run(x, h0, *p)
    return np.stack([h0] + outs[:-1]), outs[-1]


def _h0_included(x, h0, *p):
    outs = _run(x, h0, *p)
    return np.stack([h0] + outs), outs[-1]


def _hn_first(*a):
    outs = _run(*a)
    return np.stack(outs), outs[0]


def _batch_first(*a):
    outs = _run(*a)
    return np.stack(outs, axis=1), outs[-1]


def _hn_with_layer_axis(*a):
    outs = _run(*a)
    return np.stack(outs), outs[-1][None]


def _time_reversed_input(x, *p):
    outs = _run(x[::-1], *p)
    return np.stack(outs), outs[-1]


SEQ_MISTAKES = [
    Mistake("the hidden state not carried", "every step must use the h computed at the previous "
            "step, not h0: update h inside the loop", _state_not_carried),
    Mistake("the outputs in reversed order", "output[t] must be the state after reading x[0..t]; "
            "append each step's h in time order", _reversed),
    Mistake("an off-by-one in time", "output[t] is the state *after* step t (h_1 ... h_T); h0 is "
            "not part of output", _off_by_one),
    Mistake("h0 included in output", "output has T steps (h_1 ... h_T), not T + 1", _h0_included),
    Mistake("h_n taken from the first step", "h_n is the state after the last step, output[-1]",
            _hn_first),
    Mistake("a batch-first / time-major confusion", "stack the outputs along axis 0 so output "
            "has shape (seq_len, batch, hidden) like torch.nn.RNN's default", _batch_first),
    Mistake("h_n with a leading layer axis", "torch.nn.RNN returns h_n as (num_layers, batch, "
            "hidden); this exercise wants h_n of shape (batch, hidden)", _hn_with_layer_axis),
    Mistake("the input read backwards in time", "loop t = 0, 1, ..., T-1 over x[t]",
            _time_reversed_input),
] + [Mistake(f"{m.name} (inside the time step)", m.explain + " — check rnn_cell_forward",
             unroll(m.fn)) for m in CELL_MISTAKES[:9]]


SPECS = [
    Spec(id="rnn_cell_forward", title="one step of a tanh RNN", notebook="01_rnn_basics",
         arg_names=CELL_ARGS, output="h_t",
         make_cases=lambda seed: cell_cases(seed, "rnn"), reference=ref_rnn_cell,
         mistakes=CELL_MISTAKES, points=2),
    Spec(id="rnn_forward", title="a tanh RNN over a whole sequence", notebook="01_rnn_basics",
         arg_names=SEQ_ARGS, output=("output", "h_n"),
         make_cases=lambda seed: seq_cases(seed, "rnn"), reference=ref_rnn_forward,
         mistakes=SEQ_MISTAKES, time_axis={"output": 0}, points=3),
]
