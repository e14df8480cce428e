"""Spec ``numerical_gradient(f, x, eps=1e-6) -> array``: central differences, one entry at a time.

    grad[i] = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)          (x restored after each probe)

The truncation error of central differences is O(eps^2 f'''), of forward differences O(eps f'');
round-off adds about ulp(f) / eps, so eps near 1e-6 balances both in float64 (CS231n notes,
"Gradient checks"; Press et al., *Numerical Recipes*, §5.7).

Cases are given as source text (``Case.source``): a scalar function ``f`` and the point ``x``,
so the sandboxed grader can rebuild them. Each ``f`` is written once for numpy and torch
(``f.expr(xp, x)``), so the reference is torch autograd in float64. ``f`` also *guards* its
input: called at a point that differs from ``x`` in more than one entry, it raises
``ProbeError`` naming the mistake (x not restored after a probe, or all entries perturbed at
once) — the learner's ``x`` being fine after the return does not prove it was fine during it.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ...recurrent import rng_for
from ...spec import Case, Mistake, Spec

ARGS = ("f", "x", "eps")

# (label, expression in xp (numpy or torch) and x, shape of x, eps passed or None for default)
FUNCTIONS: tuple[tuple[str, str, tuple[int, ...], float | None], ...] = (
    ("f(x) = sum(sin(x) * x**2), x of shape (5,)", "xp.sum(xp.sin(x) * x ** 2)", (5,), None),
    ("f(x) = log(sum(exp(x))), x of shape (3, 4)", "xp.log(xp.sum(xp.exp(x)))", (3, 4), 1e-5),
    ("f(x) = sum(tanh(x @ W)**2), x of shape (2, 3)",
     "xp.sum(xp.tanh(x @ xp.asarray(W)) ** 2)", (2, 3), 1e-4),
    ("f(x) = sum(x**3) / 3 + prod(x), x of shape (4,)", "xp.sum(x ** 3) / 3 + xp.prod(x)",
     (4,), 1e-4),
)

_SOURCE = '''\
class ProbeError(Exception):
    """f was called at a point that is not x with at most one entry moved."""


W = np.array({W}).reshape(3, 4)
x = np.array({x}).reshape({shape})
_x0 = x.copy()


def expr(xp, x):
    return {expr}


def raw(x):
    """{label} (no input checks)."""
    return float(expr(np, np.asarray(x, dtype=float)))


def f(x):
    """{label}; refuses points where more than one entry of x was moved."""
    moved = np.asarray(x, dtype=float).reshape(-1) - _x0.reshape(-1)
    k = int(np.count_nonzero(moved))
    if k > 1 and k == moved.size and np.allclose(moved, moved[0], rtol=1e-3, atol=0):
        raise ProbeError("all entries perturbed at once: f was called with every entry of x "
                         "moved by the same step; move ONE entry x[i] at a time, the others fixed")
    if k > 1:
        raise ProbeError(f"x not restored: f was called with {{k}} entries of x moved; put x[i] "
                         "back to its original value after each probe (or probe a copy)")
    return raw(x)


f.expr, f.raw = expr, raw
args = (f, x)
kwargs = {kwargs}
'''


def case_source(label: str, expr: str, shape: tuple[int, ...], eps: float | None,
                rng: np.random.Generator) -> str:
    """Numpy source text defining ``args = (f, x)`` (and ``kwargs``) for one case."""
    x = rng.normal(0.0, 1.0, shape)
    W = rng.normal(0.0, 0.8, (3, 4))
    return _SOURCE.format(W=repr(W.ravel().tolist()), x=repr(x.ravel().tolist()), shape=shape,
                          expr=expr, label=label, kwargs={} if eps is None else {"eps": eps})


def make_cases(seed: int) -> list[Case]:
    """Four functions (vector and matrix inputs), default eps and eps = 1e-5 / 1e-4."""
    return [Case(label, source=case_source(label, expr, shape, eps, rng_for(seed, 300 + k)))
            for k, (label, expr, shape, eps) in enumerate(FUNCTIONS)]


def _central(f: Callable[[np.ndarray], float], x: np.ndarray, eps: float) -> np.ndarray:
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        plus = f(x)
        x[i] = old - eps
        minus = f(x)
        x[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def ref_numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray,
                           eps: float = 1e-6) -> np.ndarray:
    """The exact gradient by torch autograd (float64) when ``f`` carries ``f.expr`` (the
    checker's functions); for any other ``f``, central differences with step ``eps``."""
    expr = getattr(f, "expr", None)
    if expr is None:
        return _central(f, x, eps)
    import torch

    xt = torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    expr(torch, xt).backward()
    return xt.grad.numpy()


# --------------------------------------------------------------------------- mistakes
def _raw(f: Callable) -> Callable:
    return getattr(f, "raw", f)


def forward_differences(f, x, eps=1e-6):
    f, x = _raw(f), np.array(x, dtype=np.float64)
    base, grad = f(x), np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp = x.copy()
        xp[i] += eps
        grad[i] = (f(xp) - base) / eps
    return grad


def divided_by_eps(f, x, eps=1e-6):
    return 2 * _central(_raw(f), x, eps)


def not_restored(f, x, eps=1e-6):
    f, x = _raw(f), np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += eps
        plus = f(x)
        x[i] -= 2 * eps
        grad[i] = (plus - f(x)) / (2 * eps)
    return grad


def all_at_once(f, x, eps=1e-6):
    f, x = _raw(f), np.array(x, dtype=np.float64)
    return np.full_like(x, (f(x + eps) - f(x - eps)) / (2 * eps))


def _fixed_eps(value: float) -> Callable[..., np.ndarray]:
    def fn(f, x, eps=1e-6):
        return _central(_raw(f), x, value)
    return fn


MISTAKES = [
    Mistake("forward differences", "(f(x + eps) - f(x)) / eps has an error of order eps * f''; "
            "the central difference (f(x + eps) - f(x - eps)) / (2 eps) is accurate to eps**2",
            forward_differences),
    Mistake("dividing by eps instead of 2 * eps", "the two probes x + eps and x - eps are 2 eps "
            "apart: divide their difference by 2 * eps", divided_by_eps),
    Mistake("x not restored", "after probing x[i] + eps and x[i] - eps, put x[i] back, or the "
            "next probes are taken at a moved point", not_restored),
    Mistake("all entries perturbed at once", "f(x + eps) - f(x - eps) with every entry moved "
            "gives one directional derivative, not the gradient: move one entry at a time",
            all_at_once),
    Mistake("eps far too small for float64", "with eps = 1e-12, f(x + eps) - f(x - eps) is "
            "mostly round-off (about 1e-16 * |f| / eps); use the eps argument (about 1e-6)",
            _fixed_eps(1e-12)),
    Mistake("eps far too large", "with eps = 1e-2 the truncation error (about eps**2 * f''' / 6) "
            "dominates; use the eps argument (about 1e-6)", _fixed_eps(1e-2)),
]


def diagnose(got: dict[str, np.ndarray], exp: dict[str, np.ndarray], brief: bool = False
             ) -> str | None:
    """How far the estimate is from autograd, and what that size of error suggests."""
    if brief:
        return None
    g, e = got["grad"], exp["grad"]
    rel = float(np.max(np.abs(g - e)) / max(float(np.max(np.abs(g) + np.abs(e))), 1e-300))
    bad = int(np.count_nonzero(~np.isclose(g, e, rtol=SPEC.rtol, atol=SPEC.atol)))
    text = (f"grad differs from autograd in {bad} of {e.size} entries (relative error {rel:.1e}; "
            "central differences in float64 reach about 1e-9)")
    if rel < 1e-2:
        text += ("; an error this small but too large comes from the step: forward differences "
                 "(error ~ eps), eps far too small (round-off ~ 1e-16 / eps) or eps far too "
                 "large (error ~ eps**2) — use the central difference with the given eps")
    return text


SPEC = Spec(id="numerical_gradient", title="central-difference gradient of a scalar function",
            notebook="05_backprop_through_gates", arg_names=ARGS, output="grad",
            make_cases=make_cases, reference=ref_numerical_gradient, mistakes=MISTAKES,
            rtol=1e-6, atol=1e-7, points=2, diagnose=diagnose)
