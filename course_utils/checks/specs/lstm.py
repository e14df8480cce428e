"""Specs of notebook 03: ``lstm_cell_forward`` and ``lstm_forward`` (PyTorch's LSTM).

The equations exactly as ``torch.nn.LSTM`` computes them (gate order i, f, g, o along the rows
of ``W_ih`` / ``W_hh`` / the biases; Hochreiter & Schmidhuber 1997, with the forget gate of
Gers, Schmidhuber & Cummins 2000)::

    a   = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh        # (B, 4H) = [a_i | a_f | a_g | a_o]
    i   = sigmoid(a_i)    f = sigmoid(a_f)    g = tanh(a_g)    o = sigmoid(a_o)
    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)

Reference: ``torch.nn.LSTMCell`` / ``torch.nn.LSTM`` in float64 with the case's weights copied
in (see :mod:`..recurrent`). The mistake catalogue names the slips learners actually make:
another gate order (CS231n's i, f, o, g; TensorFlow 1's i, g, f, o; ONNX's i, o, f, g ...), the
wrong squashing function on a gate or on the candidate, a gate left out or coupled to another
(f = 1 - i), the cell state or hidden state not carried or started from zeros, returned pairs in
the wrong order. The sequence-level slips come from the catalogue shared with the RNN and the
GRU (:mod:`..sequence_mistakes`), the step-level ones from the cell's catalogue.
"""

from __future__ import annotations

from typing import Callable

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

CELL_ARGS = ("x_t", "h_prev", "c_prev", "W_ih", "W_hh", "b_ih", "b_hh")
SEQ_ARGS = ("x", "h0", "c0", "W_ih", "W_hh", "b_ih", "b_hh")
TORCH_ORDER = "ifgo"


# --------------------------------------------------------------------------- references
ref_lstm_cell = cell_reference("lstm")          # torch.nn.LSTMCell, float64
ref_lstm_forward = forward_reference("lstm")    # torch.nn.LSTM, float64


# ---------------------------------------------------------------- a configurable wrong cell
def _cell(order: str = TORCH_ORDER, act_i: Callable = sigmoid, act_f: Callable = sigmoid,
          act_g: Callable = np.tanh, act_o: Callable = sigmoid, act_c: Callable | None = np.tanh,
          use_i: bool = True, use_f: bool = True, h_from_prev_c: bool = False,
          c_from_h: bool = False, b_ih_used: bool = True, b_hh_used: bool = True,
          swap_return: bool = False, interleaved: bool = False, coupled: str = "") -> Callable:
    """An LSTM step with one or more deliberate deviations from torch.nn.LSTMCell.

    ``order`` is the gate order the (wrong) code *assumes* for the four row blocks of the
    weights, e.g. ``"ifog"`` reads block 2 as o and block 3 as g. ``coupled="f"`` computes
    f = 1 - i (the input gate's block read, the forget gate's ignored), ``"i"`` i = 1 - f.
    """
    def step(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
        a = x_t @ W_ih.T + h_prev @ W_hh.T                     # (B, 4H)
        if b_ih_used:
            a = a + b_ih
        if b_hh_used:
            a = a + b_hh
        if interleaved:                                        # columns read as (H, 4)
            parts = list(np.moveaxis(a.reshape(a.shape[0], -1, 4), 2, 0))
        else:
            parts = np.split(a, 4, axis=1)                     # 4 x (B, H)
        blocks = dict(zip(order, parts))
        i, f = act_i(blocks["i"]), act_f(blocks["f"])
        if coupled:
            i, f = (i, 1.0 - i) if coupled == "f" else (1.0 - f, f)
        g, o = act_g(blocks["g"]), act_o(blocks["o"])
        c_old = h_prev if c_from_h else c_prev
        c = (f * c_old if use_f else c_old) + (i * g if use_i else g)
        c_out = c_prev if h_from_prev_c else c
        h = o * (act_c(c_out) if act_c is not None else c_out)
        return (c, h) if swap_return else (h, c)
    return step


def _named_cell(name: str, explain: str, **kw) -> Mistake:
    return Mistake(name, explain, _cell(**kw))


_ORDER_HINT = ("torch.nn.LSTM stacks the gate rows as i, f, g, o: rows 0:H are the input gate, "
               "H:2H the forget gate, 2H:3H the candidate g, 3H:4H the output gate")

_COUPLED = ("torch.nn.LSTM computes the input gate i (rows 0:H) and the forget gate f (rows "
            "H:2H) separately, each a sigmoid of its own block; tying one to 1 minus the other is "
            "the coupled CIFG variant (Greff et al. 2017), not PyTorch's LSTM")

CELL_MISTAKES = [
    _named_cell("gates in the order i, f, o, g (as in CS231n)", _ORDER_HINT, order="ifog"),
    _named_cell("gates in the order f, i, g, o", _ORDER_HINT, order="figo"),
    _named_cell("gates in the order i, g, f, o (as in TensorFlow 1's LSTMCell)", _ORDER_HINT,
                order="igfo"),
    _named_cell("gates in the order i, o, f, g (as in ONNX)", _ORDER_HINT, order="iofg"),
    _named_cell("gates in the order f, i, o, g", _ORDER_HINT, order="fiog"),
    _named_cell("gates in the order o, i, f, g", _ORDER_HINT, order="oifg"),
    _named_cell("the gates read interleaved (reshape to (B, H, 4) instead of (B, 4, H))",
                "the four gates are four *consecutive* blocks of H columns: "
                "a.reshape(B, 4, H), or np.split(a, 4, axis=1)", interleaved=True),
    _named_cell("tanh on the gates", "the gates i, f, o are sigmoids (values in (0, 1), a "
                "fraction to let through); only the candidate g uses tanh",
                act_i=np.tanh, act_f=np.tanh, act_o=np.tanh),
    _named_cell("tanh on the input gate", "i = sigmoid(...): a gate is a fraction in (0, 1)",
                act_i=np.tanh),
    _named_cell("tanh on the forget gate", "f = sigmoid(...): a gate is a fraction in (0, 1)",
                act_f=np.tanh),
    _named_cell("tanh on the output gate", "o = sigmoid(...): a gate is a fraction in (0, 1)",
                act_o=np.tanh),
    _named_cell("sigmoid on the candidate g", "the candidate g = tanh(...) lies in (-1, 1), so "
                "the cell can be pushed down as well as up", act_g=sigmoid),
    _named_cell("the input gate missing", "c_t = f * c_prev + i * g: the input gate scales the "
                "candidate", use_i=False),
    _named_cell("the forget gate missing (c_t = c_prev + i * g)", "c_t = f * c_prev + i * g: the "
                "forget gate decides how much of the old cell state is kept", use_f=False),
    _named_cell("both gates on the cell missing (c_t = c_prev + g)", "c_t = f * c_prev + i * g",
                use_i=False, use_f=False),
    _named_cell("a coupled input and forget gate (f = 1 - i)", _COUPLED, coupled="f"),
    _named_cell("a coupled input and forget gate (i = 1 - f)", _COUPLED, coupled="i"),
    _named_cell("h_t = o * c_t without the tanh", "h_t = o * tanh(c_t): squash the cell state "
                "before the output gate", act_c=None),
    _named_cell("sigmoid instead of tanh on the cell state", "h_t = o * tanh(c_t)",
                act_c=sigmoid),
    _named_cell("h_t computed from c_prev (o * tanh(c_prev))", "update the cell first, then "
                "h_t = o * tanh(c_t) with the *new* cell state", h_from_prev_c=True),
    _named_cell("h_prev used in place of c_prev in the cell update", "c_t = f * c_prev + i * g "
                "(the cell state, not the hidden state)", c_from_h=True),
    _named_cell("(c_t, h_t) returned in the wrong order", "return (h_t, c_t), like "
                "torch.nn.LSTMCell", swap_return=True),
    _named_cell("a missing bias b_hh", "add both biases: x_t W_ih^T + b_ih + h_prev W_hh^T + b_hh "
                "(PyTorch keeps two bias vectors)", b_hh_used=False),
    _named_cell("a missing bias b_ih", "add both biases: x_t W_ih^T + b_ih + h_prev W_hh^T + b_hh",
                b_ih_used=False),
    _named_cell("both biases missing", "add b_ih and b_hh to the pre-activation",
                b_ih_used=False, b_hh_used=False),
]


# --------------------------------------------------------------------------- sequence mistakes
SEQ_MISTAKES = (sequence_mistakes(_cell(), "torch.nn.LSTM", n_state=2)
                + inside_time_step(CELL_MISTAKES, "lstm_cell_forward", lstm=True))


SPECS = [
    Spec(id="lstm_cell_forward", title="one step of an LSTM", notebook="03_lstm",
         arg_names=CELL_ARGS, output=("h_t", "c_t"),
         make_cases=lambda seed: cell_cases(seed, "lstm", tails=True), reference=ref_lstm_cell,
         mistakes=CELL_MISTAKES, points=2),
    Spec(id="lstm_forward", title="an LSTM over a whole sequence", notebook="03_lstm",
         arg_names=SEQ_ARGS, output=("output", ("h_n", "c_n")),
         make_cases=lambda seed: seq_cases(seed, "lstm"), reference=ref_lstm_forward,
         mistakes=SEQ_MISTAKES, time_axis={"output": 0}, initial_state=("h0", "c0"),
         points=3),
]
