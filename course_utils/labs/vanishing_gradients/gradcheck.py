"""Notebook 02: the numerical gradient check of your ``rnn_backward`` (central differences)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

GRAD_KEYS = ("x", "h0", "W_ih", "W_hh", "b_ih", "b_hh")


# --------------------------------------------------------------------------- numerical check
def rnn_forward_numpy(x: np.ndarray, h0: np.ndarray, W_ih: np.ndarray, W_hh: np.ndarray,
                      b_ih: np.ndarray, b_hh: np.ndarray) -> np.ndarray:
    """The tanh RNN of notebook 01: returns ``output`` (T, B, H) = h_1 ... h_T."""
    h, outs = h0, []
    for t in range(x.shape[0]):
        h = np.tanh(x[t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh)    # (B, H)
        outs.append(h)
    return np.stack(outs)


@dataclass
class GradCheckReport:
    """Relative errors of analytic vs central-difference gradients, one row per argument.

    ``rel_error[name]`` is max |analytic - numeric| / max(|analytic| + |numeric|, 1e-12) over
    the probed entries; a correct float64 backward gives about 1e-8 or less.
    """

    rel_error: dict[str, float]
    probes: dict[str, int]
    eps: float
    tol: float = 1e-6
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(e < self.tol for e in self.rel_error.values()) and not self.notes

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        lines = [f"numerical gradient check (central differences, eps={self.eps:g}):"]
        for name in self.probes:
            if name in self.notes:
                lines.append(f"  d{name:<5} {self.notes[name]}")
                continue
            err = self.rel_error[name]
            verdict = "ok" if err < self.tol else "MISMATCH"
            lines.append(f"  d{name:<5} max relative error {err:.1e} over {self.probes[name]:>3} "
                         f"entries  {verdict}")
        return "\n".join(lines)

    __repr__ = __str__


def numerical_gradient_check(backward: Callable[..., dict], x: np.ndarray, h0: np.ndarray,
                             W_ih: np.ndarray, W_hh: np.ndarray, b_ih: np.ndarray,
                             b_hh: np.ndarray, grad_output: np.ndarray,
                             forward: Callable[..., np.ndarray] = rnn_forward_numpy,
                             eps: float = 1e-5, max_probes: int = 20, seed: int = 0,
                             tol: float = 1e-6) -> GradCheckReport:
    """Compare ``backward(x, h0, W_ih, W_hh, b_ih, b_hh, grad_output)`` with central differences.

    The loss is ``L = sum(forward(...) * grad_output)``. For each argument, up to ``max_probes``
    random entries ``i`` are nudged: ``dL/dθ_i ≈ (L(θ + eps e_i) - L(θ - eps e_i)) / (2 eps)``,
    whose error is O(eps²) (CS231n notes, "Gradient checks"). Work in float64.
    """
    args = {k: np.array(v, dtype=np.float64) for k, v in
            zip(GRAD_KEYS, (x, h0, W_ih, W_hh, b_ih, b_hh))}
    g = np.asarray(grad_output, dtype=np.float64)

    def loss(a: dict[str, np.ndarray]) -> float:
        return float(np.sum(np.asarray(forward(*(a[k] for k in GRAD_KEYS))) * g))

    analytic = backward(*(a.copy() for a in args.values()), g.copy())
    rng = np.random.default_rng(seed)
    rel, probes, notes = {}, {}, {}
    for name, value in args.items():
        n = min(max_probes, value.size)
        probes[name] = n
        got = analytic.get(name) if isinstance(analytic, dict) else None
        if got is None:
            notes[name] = "missing from the returned dict"
            continue
        got = np.asarray(got, dtype=np.float64)
        if got.shape != value.shape:
            notes[name] = f"has shape {got.shape}, expected {value.shape}"
            continue
        worst = 0.0
        for flat in rng.choice(value.size, size=n, replace=False):
            idx = np.unravel_index(flat, value.shape)
            plus = {**args, name: value.copy()}
            plus[name][idx] += eps
            minus = {**args, name: value.copy()}
            minus[name][idx] -= eps
            num = (loss(plus) - loss(minus)) / (2 * eps)
            ana = float(got[idx])
            worst = max(worst, abs(ana - num) / max(abs(ana) + abs(num), 1e-12))
        rel[name] = worst
    return GradCheckReport(rel, probes, eps, tol, notes)
