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
wrong squashing function on a gate or on the candidate, a gate left out, the cell state or
hidden state not carried, returned pairs in the wrong order.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..recurrent import cell_cases, cell_reference, forward_reference, seq_cases, sigmoid, unroll
from ..spec import Mistake, Spec

CELL_ARGS = ("x_t", "h_prev", "c_prev", "W_ih", "W_hh", "b_ih", "b_hh")
SEQ_ARGS = ("x", "h0", "c0", "W_ih", "W_hh", "b_ih", "b_hh")
TORCH_ORDER = "ifgo"


# --------------------------------------------------------------------------- references
ref_lstm_cell = cell_reference("lstm")          # torch.nn.LSTMCell, float64
ref_lstm_forward = forward_reference("lstm")    # torch.nn.LSTM, float64


# --------------------------------------------------------------------------- a configurable wrong cell
def _cell(order: str = TORCH_ORDER, act_i: Callable = sigmoid, act_f: Callable = sigmoid,
          act_g: Callable = np.tanh, act_o: Callable = sigmoid, act_c: Callable | None = np.tanh,
          use_i: bool = True, use_f: bool = True, h_from_prev_c: bool = False,
          c_from_h: bool = False, b_ih_used: bool = True, b_hh_used: bool = True,
          swap_return: bool = False, interleaved: bool = False) -> Callable:
    """An LSTM step with one or more deliberate deviations from torch.nn.LSTMCell.

    ``order`` is the gate order the (wrong) code *assumes* for the four row blocks of the
    weights, e.g. ``"ifog"`` reads block 2 as o and block 3 as g.
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
_good = _cell()


def _run(x, h0, c0, Wi, Wh, bi, bh, carry_h: bool = True, carry_c: bool = True):
    """Correct steps, optionally restarting h or c from h0 / c0 at every step."""
    h, c, hs, cs = h0, c0, [], []
    for t in range(x.shape[0]):
        h_new, c_new = _good(x[t], h if carry_h else h0, c if carry_c else c0, Wi, Wh, bi, bh)
        h, c = h_new, c_new
        hs.append(h)
        cs.append(c)
    return hs, cs


def _c_not_carried(*a):
    hs, cs = _run(*a, carry_c=False)
    return np.stack(hs), (hs[-1], cs[-1])


def _h_not_carried(*a):
    hs, cs = _run(*a, carry_h=False)
    return np.stack(hs), (hs[-1], cs[-1])


def _c_as_output(*a):
    hs, cs = _run(*a)
    return np.stack(cs), (hs[-1], cs[-1])


def _final_swapped(*a):
    hs, cs = _run(*a)
    return np.stack(hs), (cs[-1], hs[-1])


def _reversed(*a):
    hs, cs = _run(*a)
    return np.stack(hs[::-1]), (hs[-1], cs[-1])


def _off_by_one(x, h0, c0, *p):
    hs, cs = _run(x, h0, c0, *p)
    return np.stack([h0] + hs[:-1]), (hs[-1], cs[-1])


def _h0_included(x, h0, c0, *p):
    hs, cs = _run(x, h0, c0, *p)
    return np.stack([h0] + hs), (hs[-1], cs[-1])


def _final_from_first(*a):
    hs, cs = _run(*a)
    return np.stack(hs), (hs[0], cs[0])


def _batch_first(*a):
    hs, cs = _run(*a)
    return np.stack(hs, axis=1), (hs[-1], cs[-1])


def _c_n_is_c0(x, h0, c0, *p):
    hs, cs = _run(x, h0, c0, *p)
    return np.stack(hs), (hs[-1], c0)


SEQ_MISTAKES = [
    Mistake("the cell state not carried (c0 at every step)", "every step must use the c computed "
            "at the previous step: update c inside the loop, as you do for h", _c_not_carried),
    Mistake("the hidden state not carried (h0 at every step)", "every step must use the h "
            "computed at the previous step: update h inside the loop", _h_not_carried),
    Mistake("the cell states returned as output", "output stacks the hidden states h_1 ... h_T "
            "(what torch.nn.LSTM returns); c stays inside, apart from c_n", _c_as_output),
    Mistake("(h_n, c_n) swapped", "return (output, (h_n, c_n)): the hidden state first, like "
            "torch.nn.LSTM", _final_swapped),
    Mistake("c_n left at c0", "c_n is the cell state after the last step", _c_n_is_c0),
    Mistake("the outputs in reversed order", "output[t] must be the state after reading "
            "x[0..t]; append each step's h in time order", _reversed),
    Mistake("an off-by-one in time", "output[t] is the state *after* step t (h_1 ... h_T); h0 is "
            "not part of output", _off_by_one),
    Mistake("h0 included in output", "output has T steps (h_1 ... h_T), not T + 1", _h0_included),
    Mistake("(h_n, c_n) taken from the first step", "h_n and c_n are the states after the last "
            "step", _final_from_first),
    Mistake("a batch-first / time-major confusion", "stack the outputs along axis 0 so output "
            "has shape (seq_len, batch, hidden) like torch.nn.LSTM's default", _batch_first),
] + [Mistake(f"{m.name} (inside the time step)", m.explain + " — check lstm_cell_forward",
             unroll(m.fn, lstm=True)) for m in CELL_MISTAKES]


SPECS = [
    Spec(id="lstm_cell_forward", title="one step of an LSTM", notebook="03_lstm",
         arg_names=CELL_ARGS, output=("h_t", "c_t"),
         make_cases=lambda seed: cell_cases(seed, "lstm"), reference=ref_lstm_cell,
         mistakes=CELL_MISTAKES, points=2),
    Spec(id="lstm_forward", title="an LSTM over a whole sequence", notebook="03_lstm",
         arg_names=SEQ_ARGS, output=("output", ("h_n", "c_n")),
         make_cases=lambda seed: seq_cases(seed, "lstm"), reference=ref_lstm_forward,
         mistakes=SEQ_MISTAKES, time_axis={"output": 0}, points=3),
]
