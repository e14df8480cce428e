"""Specs of notebook 01: ``rnn_cell_forward`` and ``rnn_forward`` (tanh RNN, PyTorch layout).

    h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)          (torch.nn.RNN, Elman 1990)

Reference: torch.nn.RNNCell / torch.nn.RNN in float64 with the case's weights copied in.
"""

from __future__ import annotations

import numpy as np

from ..recurrent import (
    cell_cases,
    cell_reference,
    forward_reference,
    inside_time_step,
    seq_cases,
    sequence_mistakes,
    sigmoid,
)
from ..spec import Mistake, Spec

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
            lambda *a: np.tanh(_pre(*a))[0], in_sequence=False),
    Mistake("only the first batch row computed", "x_t has shape (batch, input_size): compute "
            "every row at once with a matrix product, not x_t[0:1]",
            lambda *a: np.tanh(_pre(*a))[:1], in_sequence=False),
]


# --------------------------------------------------------------------------- sequence mistakes
SEQ_MISTAKES = (sequence_mistakes(lambda *a: np.tanh(_pre(*a)), "torch.nn.RNN")
                + inside_time_step(CELL_MISTAKES, "rnn_cell_forward"))


SPECS = [
    Spec(id="rnn_cell_forward", title="one step of a tanh RNN", notebook="01_rnn_basics",
         arg_names=CELL_ARGS, output="h_t",
         make_cases=lambda seed: cell_cases(seed, "rnn", tails=True), reference=ref_rnn_cell,
         mistakes=CELL_MISTAKES, points=2),
    Spec(id="rnn_forward", title="a tanh RNN over a whole sequence", notebook="01_rnn_basics",
         arg_names=SEQ_ARGS, output=("output", "h_n"),
         make_cases=lambda seed: seq_cases(seed, "rnn"), reference=ref_rnn_forward,
         mistakes=SEQ_MISTAKES, time_axis={"output": 0}, initial_state=("h0",), points=3),
]
