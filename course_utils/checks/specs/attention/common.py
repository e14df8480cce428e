"""Numpy helpers shared by notebook 10's attention specs: a masked softmax written the ways a
learner might write it (the catalogues' building block), and readings of attention weights
that name a mistake from the output alone (every clause checked before it is said)."""

from __future__ import annotations

from typing import Any

import numpy as np

RTOL, ATOL = 1e-4, 1e-5


def masked_softmax(scores: np.ndarray, allowed: np.ndarray | None, axis: int,
                   fill: float = -np.inf, stable: bool = True, after: bool = False
                   ) -> np.ndarray:
    """softmax of ``scores`` along ``axis`` over the ``allowed`` entries.

    ``fill``: what disallowed scores become (-inf, or a large negative constant);
    ``stable=False``: no max-subtraction (exp overflows for large scores);
    ``after=True``: softmax over every entry, then disallowed weights zeroed WITHOUT
    renormalising (a mistake)."""
    with np.errstate(all="ignore"):
        s = np.asarray(scores, dtype=np.float64)
        if allowed is not None and not after:
            s = np.where(allowed, s, fill)
        m = s.max(axis=axis, keepdims=True) if stable else 0.0
        e = np.exp(s - m)
        w = e / e.sum(axis=axis, keepdims=True)
        if allowed is not None and after:
            w = w * allowed
        return w


def close(a: Any, b: Any) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=RTOL, atol=ATOL))


def sums_to_one(w: np.ndarray, axis: int) -> bool:
    return bool(np.allclose(w.sum(axis=axis), 1.0, rtol=RTOL, atol=ATOL))


def weights_reading(w: np.ndarray, exp_w: np.ndarray, allowed: np.ndarray, axis: int,
                    across: str, other: str) -> tuple[str, str] | None:
    """Name what finite weights of the right shape show about the softmax and the mask.

    ``allowed`` (same shape as ``w``): where a weight may be non-zero; ``axis``: the axis the
    softmax runs over (named ``across``, e.g. "the source positions"); ``other``: the name of
    another axis the weights might have been normalised over by mistake."""
    if w.shape != exp_w.shape or not np.all(np.isfinite(w)) or close(w, exp_w):
        return None
    leak = np.abs(w[~allowed]) > ATOL
    sums = sums_to_one(w, axis)
    rows = np.moveaxis(w, axis, -1).reshape(-1, w.shape[axis])
    ok = np.moveaxis(allowed, axis, -1).reshape(-1, w.shape[axis])
    padded = ~ok.all(axis=1)
    if padded.any() and all(np.allclose(r[a], 0.0, atol=ATOL) and np.isclose(r[~a].sum(), 1.0)
                            for r, a in zip(rows[padded], ok[padded])):
        return ("the mask inverted", "wherever the mask excludes positions, all the weight sits "
                "on them and the allowed positions get 0: the mask is inverted (True means "
                "'takes part'; fill the scores where it is False)")
    if not sums:
        for ax in range(w.ndim):
            if ax != axis and w.shape[ax] > 1 and sums_to_one(w, ax):
                return ("the softmax over the wrong axis", f"the weights sum to 1 along axis "
                        f"{ax} ({other}) but not along axis {axis} ({across}): normalise over "
                        f"{across} (axis={axis})")
    if not leak.any() and not sums and np.all(w >= -ATOL):
        return ("masked after the softmax without renormalising", "the excluded positions "
                f"have weight 0 but the weights do not sum to 1 over {across}: the mask was "
                "applied after the softmax without dividing by the new sum — mask the SCORES "
                "(-inf, or a large negative number) before the softmax")
    if leak.any() and sums:
        n = int(leak.sum())
        return ("masked positions not excluded", f"{n} weight(s) on excluded positions are not "
                f"0 (the weights sum to 1 over {across}): the mask does not reach them — not "
                "applied, applied by multiplying the scores (a score of 0 still gets weight), "
                "or a slice with every position masked (the softmax then spreads over all of "
                "them) — set the excluded scores to -inf (or a large negative number) before "
                "the softmax")
    return None
