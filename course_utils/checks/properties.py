"""Cheap properties of a learner's output that name a mistake without a catalogue entry.

Each function returns the text of a message (every factual clause checked on the output it
reads) or None; the specs' ``recognise`` hooks combine them. Shared by the recurrent-layer
specs of notebook 06 (aliased buffers, swapped or never-updated states) and the probability
specs of notebook 07 (rows that do not sum to 1, the number of kept entries per row).
"""

from __future__ import annotations

from typing import Any

import numpy as np

RTOL, ATOL = 1e-4, 1e-5


def _close(a: Any, b: Any) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=RTOL, atol=ATOL))


def aliased_steps(output: np.ndarray, expected: np.ndarray, axis: int = 0) -> str | None:
    """Every step of ``output`` along ``axis`` is the same array, though the expected steps
    differ: the state was updated in place and the same buffer appended at every step."""
    if output.shape != expected.shape or output.shape[axis] < 2:
        return None
    steps = np.moveaxis(output, axis, 0)
    want = np.moveaxis(expected, axis, 0)
    if not all(np.array_equal(steps[0], s) for s in steps[1:]) or _close(want[0], want[-1]):
        return None
    return (f"every time step of the output is the same array ({steps.shape[0]} identical "
            "steps, equal to the last one): the state is updated in place (h[:] = ..., h *= "
            "..., np.copyto, out= ...) and the same buffer is appended at every step, so all "
            "entries show its final value — build a new array each step (h = ...) or append "
            "h.copy()")


def swapped_states(h_n: np.ndarray, c_n: np.ndarray, exp_h: np.ndarray,
                   exp_c: np.ndarray) -> str | None:
    """h_n and c_n exchanged, or c_n returned in place of h_n."""
    if _close(h_n, exp_c) and _close(c_n, exp_h):
        return ("h_n holds the expected c_n and c_n the expected h_n: (h_n, c_n) swapped — "
                "return (output, (h_n, c_n)), the hidden state first, like torch.nn.LSTM")
    if _close(h_n, exp_c) and not _close(h_n, exp_h):
        return ("h_n holds the cell states (the expected c_n): return the hidden states h as "
                "h_n and the cell states c as c_n")
    return None


def never_updated(c_n: np.ndarray, c0: np.ndarray, exp_c: np.ndarray) -> str | None:
    """c_n equal to c0 although the expected c_n differs: the cell state is never updated."""
    if c_n.shape == np.shape(c0) and np.array_equal(c_n, c0) and not _close(exp_c, c0):
        return ("c_n is exactly c0: the cell state is never updated — keep the c that each "
                "step returns (h, c = lstm_cell(x_t, h, c, ...)) and pass it to the next step")
    return None


def state_mistake(h_n: np.ndarray, c_n: np.ndarray, c0: Any, exp_h: np.ndarray,
                  exp_c: np.ndarray) -> tuple[str, str] | None:
    """(mistake name, message) when the returned final states are (h_n, c_n) swapped or the cell
    state was never updated; None otherwise (or when their shapes are already wrong)."""
    if h_n.shape != exp_h.shape or c_n.shape != exp_c.shape:
        return None
    text = swapped_states(h_n, c_n, exp_h, exp_c)
    if text:
        return "(h_n, c_n) swapped", text
    text = never_updated(c_n, np.asarray(c0), exp_c)
    if text:
        return "the cell state never updated", text
    return None


def row_sums_text(p: np.ndarray) -> str | None:
    """Probabilities along the last axis that do not sum to 1 per row, said precisely."""
    if p.ndim < 1 or not np.all(np.isfinite(p)):
        return None
    rows = p.sum(axis=-1)
    if np.allclose(rows, 1.0, rtol=RTOL, atol=ATOL):
        return None
    if p.ndim >= 2 and np.allclose(p.sum(axis=0), 1.0, rtol=RTOL, atol=ATOL):
        return ("each COLUMN sums to 1 but the rows do not: the softmax is normalised along "
                "axis 0 (over the batch); normalise along the last axis, the characters "
                "(p.sum(axis=-1, keepdims=True))")
    if p.ndim >= 2 and np.isclose(p.sum(), 1.0, rtol=RTOL, atol=ATOL):
        return ("the whole array sums to 1 but each row does not: the softmax is normalised "
                "over the whole batch (p.sum() without axis); normalise each row along the "
                "last axis (p.sum(axis=-1, keepdims=True))")
    return None


def both_orders(mistake: Any) -> str:
    """A gate-order mistake's explanation, with the other cause of the same output: the rows
    split right but two gates exchanged in the update lines (c = f * c + i * g, h = o * tanh(c))
    give exactly the same numbers, so the message names both."""
    if not mistake.name.startswith("gates in the order"):
        return mistake.explain
    return (f"{mistake.explain} — or the rows are split right and two gates are exchanged where "
            "they are used (c = f * c + i * g, h = o * tanh(c)): both give this output")
