"""Shared case generation and torch references for the recurrent-cell exercises.

Conventions (DESIGN.md): numpy float64, PyTorch layout, time-major ``x`` (T, B, I);
``W_ih`` (G*H, I), ``W_hh`` (G*H, H), ``b_ih``/``b_hh`` (G*H,); G = 1 (RNN), 4 (LSTM), 3 (GRU).
Every case has all of T, B, I, H distinct (so a transpose or a swapped axis cannot hide),
and the set includes batch = 1 and batch > 1, each from its own sub-seed.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..lib.measure import torch_threads
from .sequence_mistakes import sequence_mistakes
from .spec import Case, Mistake

__all__ = ["DIMS", "GATES", "cell_cases", "seq_cases", "random_params", "rng_for",
           "torch_module", "unroll", "inside_time_step", "sequence_mistakes", "sigmoid",
           "cell_reference", "forward_reference"]

# (T, B, I, H): all distinct within a case; batch 3, 1 and 2.
DIMS: tuple[tuple[int, int, int, int], ...] = ((6, 3, 5, 4), (5, 1, 3, 7), (7, 2, 4, 5))

GATES = {"rnn": 1, "lstm": 4, "gru": 3}

# (B, I, H) of the cells' tail case (see _to_the_tails)
TAIL_DIMS: tuple[int, int, int] = (4, 2, 6)


def rng_for(seed: int, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, index])


def random_params(rng: np.random.Generator, gates: int, input_size: int, hidden: int,
                  scale: float = 0.6) -> tuple[np.ndarray, ...]:
    """W_ih (G*H, I), W_hh (G*H, H), b_ih, b_hh (G*H,): large enough that nonlinearities matter."""
    W_ih = rng.normal(0.0, scale, (gates * hidden, input_size))
    W_hh = rng.normal(0.0, scale, (gates * hidden, hidden))
    b_ih = rng.normal(0.0, 0.5, gates * hidden)
    b_hh = rng.normal(0.0, 0.5, gates * hidden)
    return W_ih, W_hh, b_ih, b_hh


def _label(T: int | None, B: int, I: int, H: int) -> str:
    t = f"T={T}, " if T is not None else ""
    return f"{t}B={B}, I={I}, H={H}"


def _to_the_tails(x_t: np.ndarray, W_ih: np.ndarray) -> np.ndarray:
    """Rows 0 and 2 stay ordinary (every mistake stays visible); row 1 is scaled so that the
    largest |x_t W_ih^T| is 1000 and row 3 is its negative: every gate saturates, both ways."""
    x_t = x_t.copy()
    x_t[1] *= 1000.0 / np.abs(W_ih @ x_t[1]).max()
    x_t[3] = -x_t[1]
    return x_t


def cell_cases(seed: int, kind: str, tails: bool = False) -> list[Case]:
    """Cases for ``*_cell_forward(x_t, h_prev, [c_prev,] W_ih, W_hh, b_ih, b_hh)``; with
    ``tails``, a last case whose pre-activations reach |a| ~ 1000 (``TAIL_DIMS``), where every
    gate saturates and a hand-written sigmoid or tanh that overflows returns NaN."""
    dims = [(B, I, H) for _, B, I, H in DIMS] + ([TAIL_DIMS] if tails else [])
    cases = []
    for i, (B, I, H) in enumerate(dims):
        rng = rng_for(seed, i)
        x_t = rng.normal(size=(B, I))
        h = rng.normal(0.0, 0.8, size=(B, H))
        state = (h, rng.normal(size=(B, H))) if kind == "lstm" else (h,)
        params = random_params(rng, GATES[kind], I, H)
        label = _label(None, B, I, H)
        if i == len(DIMS):
            x_t = _to_the_tails(x_t, params[0])
            label += ", rows 1 and 3 in the tails (|x_t W_ih^T| up to 1000)"
        cases.append(Case(label, (x_t, *state, *params), dims={"B": B, "I": I, "H": H}))
    return cases


def seq_cases(seed: int, kind: str) -> list[Case]:
    """Cases for ``*_forward(x, h0, [c0,] W_ih, W_hh, b_ih, b_hh)`` (non-zero h0 and c0)."""
    cases = []
    for i, (T, B, I, H) in enumerate(DIMS):
        rng = rng_for(seed, 100 + i)
        x = rng.normal(size=(T, B, I))
        h0 = rng.normal(0.0, 0.8, size=(B, H))
        state = (h0, rng.normal(size=(B, H))) if kind == "lstm" else (h0,)
        params = random_params(rng, GATES[kind], I, H)
        cases.append(Case(_label(T, B, I, H), (x, *state, *params),
                          dims={"T": T, "B": B, "I": I, "H": H}))
    return cases


def torch_module(kind: str, W_ih: np.ndarray, W_hh: np.ndarray, b_ih: np.ndarray | None,
                 b_hh: np.ndarray | None, cell: bool) -> Any:
    """A float64 torch.nn.{RNN,LSTM,GRU}[Cell] holding copies of the given weights."""
    import torch

    hidden = W_hh.shape[1]
    input_size = W_ih.shape[1]
    bias = b_ih is not None
    name = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}[kind] + ("Cell" if cell else "")
    module = getattr(torch.nn, name)(input_size, hidden, bias=bias).double()
    suffix = "" if cell else "_l0"
    with torch.no_grad():
        getattr(module, "weight_ih" + suffix).copy_(torch.from_numpy(W_ih))
        getattr(module, "weight_hh" + suffix).copy_(torch.from_numpy(W_hh))
        if bias:
            getattr(module, "bias_ih" + suffix).copy_(torch.from_numpy(b_ih))
            getattr(module, "bias_hh" + suffix).copy_(torch.from_numpy(b_hh))
    return module


def unroll(cell: Callable[..., Any], lstm: bool = False) -> Callable[..., Any]:
    """Turn a (possibly wrong) cell function into a sequence function with the exercise's
    signature, so a mistake inside the step is recognised in ``*_forward`` too."""
    if lstm:
        def forward_lstm(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
            h, c, outs = h0, c0, []
            for t in range(x.shape[0]):
                h, c = cell(x[t], h, c, W_ih, W_hh, b_ih, b_hh)
                outs.append(h)
            return np.stack(outs), (h, c)
        return forward_lstm

    def forward(x, h0, W_ih, W_hh, b_ih, b_hh):
        h, outs = h0, []
        for t in range(x.shape[0]):
            h = cell(x[t], h, W_ih, W_hh, b_ih, b_hh)
            outs.append(h)
        return np.stack(outs), h
    return forward


def inside_time_step(mistakes: list[Mistake], exercise: str, lstm: bool = False) -> list[Mistake]:
    """A cell exercise's mistakes, looked for in its sequence exercise: each wrong step unrolled
    over time (:func:`unroll`), named "... (inside the time step)", its explanation pointing at
    the cell ``exercise``. Mistakes flagged ``in_sequence=False`` are left out."""
    return [Mistake(f"{m.name} (inside the time step)", f"{m.explain} — check {exercise}",
                    unroll(m.fn, lstm)) for m in mistakes if m.in_sequence]


def sigmoid(a: np.ndarray) -> np.ndarray:
    """The logistic function, written so that it never overflows (the mistakes use it)."""
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def cell_reference(kind: str) -> Callable[..., Any]:
    """The float64 torch.nn.{RNN,GRU,LSTM}Cell reference with the exercise's signature:
    ``(x_t, h_prev, [c_prev,] W_ih, W_hh, b_ih, b_hh) -> h_t`` (LSTM: ``(h_t, c_t)``)."""
    n_state = 2 if kind == "lstm" else 1

    def reference(x_t, *rest):
        import torch

        state = tuple(torch.from_numpy(s) for s in rest[:n_state])
        cell = torch_module(kind, *rest[n_state:], cell=True)
        with torch.no_grad(), torch_threads(1):  # tiny problems: one thread is fastest
            out = cell(torch.from_numpy(x_t), state if kind == "lstm" else state[0])
        return tuple(o.numpy() for o in out) if kind == "lstm" else out.numpy()

    reference.__name__ = f"ref_{kind}_cell"
    return reference


def forward_reference(kind: str) -> Callable[..., Any]:
    """The float64 torch.nn.{RNN,GRU,LSTM} reference (one layer, time-major):
    ``(x, h0, [c0,] W_ih, W_hh, b_ih, b_hh) -> (output, h_n)`` (LSTM: ``(output, (h_n, c_n))``)."""
    n_state = 2 if kind == "lstm" else 1

    def reference(x, *rest):
        import torch

        state = tuple(torch.from_numpy(s)[None] for s in rest[:n_state])  # (1, B, H): one layer
        module = torch_module(kind, *rest[n_state:], cell=False)
        with torch.no_grad(), torch_threads(1):  # tiny problems: one thread is fastest
            out, final = module(torch.from_numpy(x), state if kind == "lstm" else state[0])
        if kind == "lstm":
            return out.numpy(), (final[0][0].numpy(), final[1][0].numpy())
        return out.numpy(), final[0].numpy()

    reference.__name__ = f"ref_{kind}_forward"
    return reference
