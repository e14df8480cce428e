"""Specs of notebook 04's GRU exercises: ``gru_cell_forward``, ``gru_forward`` (PyTorch's GRU,
reset-after).

Gate order r, z, n in ``W_ih`` (3H, I), ``W_hh`` (3H, H), ``b_ih``, ``b_hh`` (3H,)::

    r  = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr)           reset gate
    z  = sigmoid(x W_iz^T + b_iz + h W_hz^T + b_hz)           update gate
    n  = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))         candidate (reset *after* the matmul)
    h' = (1 - z) * n + z * h

References: the torch.nn.GRU documentation; Cho et al. 2014, "Learning Phrase Representations
using RNN Encoder-Decoder" (arXiv:1406.1078 v3, reset *before* the matmul); Chung et al. 2014,
"Empirical Evaluation of Gated Recurrent Neural Networks" (arXiv:1412.3555, z and 1 - z swapped);
C. Olah, "Understanding LSTM Networks" (2015). Reference implementation here: torch.nn.GRUCell /
torch.nn.GRU in float64 with the case's weights copied in.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ...recurrent import (
    cell_cases,
    cell_reference,
    forward_reference,
    inside_time_step,
    seq_cases,
    sequence_mistakes,
    sigmoid,
)
from ...spec import Mistake, Spec

CELL_ARGS = ("x_t", "h_prev", "W_ih", "W_hh", "b_ih", "b_hh")
SEQ_ARGS = ("x", "h0", "W_ih", "W_hh", "b_ih", "b_hh")


# --------------------------------------------------------------------------- references
ref_gru_cell = cell_reference("gru")          # torch.nn.GRUCell, float64
ref_gru_forward = forward_reference("gru")    # torch.nn.GRU, float64


# --------------------------------------------------------------------------- cell variants
def _split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(..., 3H) -> three (..., H) chunks in stored order."""
    return tuple(np.split(a, 3, axis=-1))  # type: ignore[return-value]


def gru_variant(x_t, h_prev, W_ih, W_hh, b_ih, b_hh, *, z_flipped: bool = False,
                reset_before: bool = False, order: str = "rzn", no_reset: bool = False,
                b_hn_outside: bool = False, candidate=np.tanh, no_update: bool = False,
                gate=sigmoid, hh_bias: bool = True, ih_bias: bool = True,
                reset_input: bool = False, reset_hidden: bool = True) -> np.ndarray:
    """One GRU step with switchable deviations from torch.nn.GRUCell (all off = correct).

    ``order`` names how the learner *reads* the stored chunks, e.g. "zrn" means chunk 0 is
    taken as z and chunk 1 as r. ``reset_input`` / ``reset_hidden``: which side of the
    candidate the reset gate multiplies (torch: the hidden side only).
    """
    gi = x_t @ W_ih.T + (b_ih if ih_bias else 0.0)                # (B, 3H)
    chunks_i = dict(zip(order, _split(gi)))
    W = dict(zip(order, np.split(W_hh, 3, axis=0)))               # each (H, H)
    bh = dict(zip(order, np.split(b_hh if hh_bias else np.zeros_like(b_hh), 3)))
    r = gate(chunks_i["r"] + h_prev @ W["r"].T + bh["r"])         # (B, H)
    z = gate(chunks_i["z"] + h_prev @ W["z"].T + bh["z"])         # (B, H)
    if no_reset:
        r = np.ones_like(r)
    x_n = r * chunks_i["n"] if reset_input else chunks_i["n"]
    if not reset_hidden:
        hn = h_prev @ W["n"].T + bh["n"]
    elif reset_before:
        hn = (r * h_prev) @ W["n"].T + bh["n"]
    elif b_hn_outside:
        hn = r * (h_prev @ W["n"].T) + bh["n"]
    else:
        hn = r * (h_prev @ W["n"].T + bh["n"])
    n = candidate(x_n + hn)                                       # (B, H)
    if no_update:
        return n
    if z_flipped:
        return z * n + (1.0 - z) * h_prev
    return (1.0 - z) * n + z * h_prev


def _v(**kw) -> Callable[..., np.ndarray]:
    def fn(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
        return gru_variant(x_t, h_prev, W_ih, W_hh, b_ih, b_hh, **kw)
    return fn


_RESET_AFTER = ("torch.nn.GRU computes n = tanh(x W_in^T + b_in + r * (h_prev W_hn^T + b_hn)): "
                "the reset gate multiplies the *result* of the matmul, bias b_hn included")

CELL_MISTAKES = [
    Mistake("colah's / Chung et al.'s equations (z flipped and reset before the matmul)",
            "you wrote h' = z * n + (1 - z) * h_prev with n = tanh(W_in x + W_hn (r * h_prev) "
            "+ b): "
            "torch.nn.GRU keeps the old state with weight z, h' = (1 - z) * n + z * h_prev, and "
            + _RESET_AFTER, _v(z_flipped=True, reset_before=True)),
    Mistake("z flipped (h' = z * n + (1 - z) * h_prev)",
            "that is the convention of Chung et al. 2014 and colah's blog; torch.nn.GRU (like Cho "
            "et al. 2014) uses h' = (1 - z) * n + z * h_prev: z = 1 keeps the old state",
            _v(z_flipped=True)),
    Mistake("the reset gate applied before the matmul (Cho et al. 2014 v3)",
            "n = tanh(x W_in^T + b_in + (r * h_prev) W_hn^T + b_hn) is the original paper's form "
            "(Keras reset_after=False); " + _RESET_AFTER, _v(reset_before=True)),
    Mistake("the gates read in the order z, r, n",
            "PyTorch stacks the rows of W_ih / W_hh / b_ih / b_hh as reset r, update z, candidate "
            "n: r = rows [0:H], z = rows [H:2H], n = rows [2H:3H]", _v(order="zrn")),
    Mistake("the gates read in the order r, n, z",
            "PyTorch stacks r, z, n: the candidate's weights are the *last* H rows",
            _v(order="rnz")),
    Mistake("the gates read in the order n, r, z",
            "PyTorch stacks r, z, n: the candidate's weights are the *last* H rows",
            _v(order="nrz")),
    Mistake("no reset gate (r = 1)",
            "the candidate must use the reset gate: n = tanh(x W_in^T + b_in + r * (h_prev W_hn^T "
            "+ b_hn))", _v(no_reset=True)),
    Mistake("the reset gate applied to the input side (r * (x W_in^T + b_in))",
            "the reset gate decides how much of the *previous state* enters the candidate; the "
            "input part is not reset: " + _RESET_AFTER,
            _v(reset_input=True, reset_hidden=False)),
    Mistake("the reset gate applied to both the input and the hidden side",
            "only the hidden part is reset; the input part x W_in^T + b_in enters unscaled: "
            + _RESET_AFTER, _v(reset_input=True)),
    Mistake("b_hn outside the reset product",
            "n = tanh(x W_in^T + b_in + r * (h_prev W_hn^T + b_hn)): b_hn is inside the "
            "parentheses, so it is scaled by r too", _v(b_hn_outside=True)),
    Mistake("a sigmoid on the candidate",
            "the candidate n uses tanh (values in (-1, 1)); only r and z use the sigmoid",
            _v(candidate=sigmoid)),
    Mistake("tanh on the gates",
            "r and z are gates in (0, 1): use the sigmoid for them, tanh only for n",
            _v(gate=np.tanh)),
    Mistake("the update gate missing (h' = n)",
            "blend the candidate with the old state: h' = (1 - z) * n + z * h_prev",
            _v(no_update=True)),
    Mistake("the candidate returned without its tanh",
            "apply np.tanh to the candidate's pre-activation",
            _v(candidate=lambda a: a)),
    Mistake("a missing bias b_hh", "PyTorch's GRU has two bias vectors: add b_hh (split into "
            "b_hr, b_hz, b_hn) as well as b_ih", _v(hh_bias=False)),
    Mistake("a missing bias b_ih", "PyTorch's GRU has two bias vectors: add b_ih (split into "
            "b_ir, b_iz, b_in) as well as b_hh", _v(ih_bias=False)),
    Mistake("h_prev ignored", "the gates and the candidate all read h_prev through W_hh, and "
            "h' mixes in z * h_prev", lambda x, h, *p: gru_variant(x, np.zeros_like(h), *p)),
    Mistake("only the first batch row computed", "x_t has shape (batch, input_size): compute "
            "every row at once with matrix products, not x_t[0]",
            lambda *a: gru_variant(*a)[0], in_sequence=False),
]


# --------------------------------------------------------------------------- sequence mistakes
SEQ_MISTAKES = (sequence_mistakes(gru_variant, "torch.nn.GRU")
                + inside_time_step(CELL_MISTAKES, "gru_cell_forward"))


SPECS = [
    Spec(id="gru_cell_forward", title="one step of PyTorch's GRU (reset-after)",
         notebook="04_gru", arg_names=CELL_ARGS, output="h_t",
         make_cases=lambda seed: cell_cases(seed, "gru", tails=True), reference=ref_gru_cell,
         mistakes=CELL_MISTAKES, points=3),
    Spec(id="gru_forward", title="a GRU over a whole sequence", notebook="04_gru",
         arg_names=SEQ_ARGS, output=("output", "h_n"),
         make_cases=lambda seed: seq_cases(seed, "gru"), reference=ref_gru_forward,
         mistakes=SEQ_MISTAKES, time_axis={"output": 0}, initial_state=("h0",), points=3),
]
