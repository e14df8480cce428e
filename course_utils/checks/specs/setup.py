"""Spec of notebook 00's warm-up exercise: ``sigmoid(a)``, the squashing function every gate uses.

    sigmoid(a) = 1 / (1 + exp(-a))     (element-wise; reference: torch.sigmoid in float64)

The last case lies in the tails (|a| up to 1000) and checks the exercise's point, numerical
stability: its array is an ``OverflowProbe`` (an ndarray subclass defined in the case's source,
:data:`PROBE`, so the grader's sandbox rebuilds it from the text) on which a ufunc that
*overflows* (numpy's "overflow encountered in exp": inf from finite inputs) yields NaN where it
overflowed. So exp(a) / (1 + exp(a)) (NaN for a > 709 anyway) and the plain 1 / (1 + exp(-a))
(whose exp(-a) overflows for a < -709, although 1 / inf = 0 rounds to the right value) both fail
there and are named; forms that only exponentiate numbers <= 0, clip first, or call tanh or
torch pass. The engine runs learner code with numpy's warnings off, so the probe, not a warning,
is what sees the overflow. The mistakes' functions see the same probe.
"""

from __future__ import annotations

import numpy as np

from ..recurrent import rng_for
from ..spec import Case, Mistake, Spec

# a in the tails: exp(-a) overflows float64 for a < -709.78, exp(a) for a > 709.78
TAILS = (-1000.0, -800.0, -710.0, -100.0, -30.0, 30.0, 100.0, 710.0, 800.0, 1000.0)

# Source text of the tail case's input (run by Case.inputs, here and in the grader's sandbox).
PROBE = '''
class OverflowProbe(np.ndarray):
    """An array on which a ufunc that overflows (inf from finite inputs) gives NaN there."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        plain = [x.view(np.ndarray) if isinstance(x, OverflowProbe) else x for x in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(o.view(np.ndarray) if isinstance(o, OverflowProbe) else o
                                  for o in kwargs["out"])
        with np.errstate(all="ignore"):
            result = getattr(ufunc, method)(*plain, **kwargs)
        if method != "__call__" or not isinstance(result, np.ndarray) or result.dtype.kind != "f":
            return result
        finite_in = np.ones(result.shape, dtype=bool)
        for x in plain:
            x = np.asarray(x)
            if x.dtype.kind == "f":
                finite_in &= np.broadcast_to(np.isfinite(x), result.shape)
        overflowed = finite_in & np.isinf(result)
        if ufunc in (np.divide, np.true_divide, np.floor_divide, np.reciprocal):
            overflowed[:] = False                     # x / 0 = inf is a division, not an overflow
        return np.where(overflowed, np.nan, result).view(OverflowProbe)


args = (np.array({values!r}).reshape({shape!r}).view(OverflowProbe),)
'''


def _cases(seed: int) -> list[Case]:
    """Three shapes of N(0, 3) inputs, then one case in the tails (|a| up to 1000, both signs),
    on the overflow probe, where only a numerically stable form stays finite. The tail case
    comes last, so any other mistake is reported on an ordinary case first."""
    shapes = [(3, 4), (5,), (2, 3, 6)]
    cases = []
    for i, shape in enumerate(shapes):
        rng = rng_for(seed, i)
        cases.append(Case(f"shape {shape}", (rng.normal(0.0, 3.0, shape),)))
    rng = rng_for(seed, len(shapes))
    tails = rng.permutation(np.concatenate([TAILS, rng.uniform(-1000.0, 1000.0, 8)]))
    cases.append(Case("shape (3, 6), |a| up to 1000 (an overflow anywhere gives NaN)",
                      source=PROBE.format(values=[float(v) for v in tails], shape=(3, 6))))
    return cases


def _stable(a: np.ndarray) -> np.ndarray:
    """The sigmoid without overflow (exp of non-positive numbers only)."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _overflowing(a: np.ndarray) -> np.ndarray:
    """exp(a) / (1 + exp(a)): right in the middle, NaN (inf / inf) for a > 709."""
    return np.exp(a) / (1.0 + np.exp(a))


def _plain(a: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-a)): exp(-a) overflows for a < -709 (on the probe: NaN there)."""
    return 1.0 / (1.0 + np.exp(-a))


def ref_sigmoid(a):
    import torch

    return torch.sigmoid(torch.from_numpy(np.asarray(a).view(np.ndarray))).numpy()


SPECS = [
    Spec(id="sigmoid", title="the logistic sigmoid", notebook="00_setup", arg_names=("a",),
         output="s", make_cases=_cases, reference=ref_sigmoid, points=1,
         mistakes=[
             Mistake("a sign error in the exponent", "sigmoid(a) = 1 / (1 + exp(-a)): large "
                     "positive a must give values near 1", lambda a: _stable(-a)),
             Mistake("the '1 +' missing in the denominator", "1 / exp(-a) is exp(a); the "
                     "sigmoid is 1 / (1 + exp(-a))", lambda a: np.exp(a)),
             Mistake("tanh instead of the sigmoid", "tanh maps to (-1, 1); the sigmoid to (0, 1)",
                     np.tanh),
             Mistake("the reciprocal missing", "1 + exp(-a) is the denominator; the sigmoid "
                     "is 1 / (1 + exp(-a))", lambda a: 1 + np.exp(-a)),
             Mistake("the derivative sigmoid(a)(1 - sigmoid(a)) returned", "that is the slope; "
                     "return the sigmoid itself", lambda a: _stable(a) * _stable(-a)),
             Mistake("an overflow for large |a|", "use a numerically stable form — "
                     "exp(a) / (1 + exp(a)) is inf / inf = NaN once exp(a) overflows (a > 709); "
                     "exponentiate only numbers <= 0: branch on the sign of a (np.where, with "
                     "exp(-|a|))", _overflowing),
             Mistake("1 / (1 + exp(-a)) overflowing for large negative a",
                     "exp(-a) is inf once a < -709 (numpy: 'overflow encountered in exp'); "
                     "1 / inf = 0 happens to round to the right value, but the computation is "
                     "not stable — exponentiate only numbers <= 0: for a < 0 use "
                     "exp(a) / (1 + exp(a)), for a >= 0 1 / (1 + exp(-a)) (np.where on the "
                     "sign, with exp(-|a|))", _plain),
         ]),
]
