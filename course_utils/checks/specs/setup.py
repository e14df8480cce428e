"""Spec of notebook 00's warm-up exercise: ``sigmoid(a)``, the squashing function every gate uses.

    sigmoid(a) = 1 / (1 + exp(-a))     (element-wise; reference: torch.sigmoid in float64)

The last case lies in the tails (|a| up to 1000): exp(a) / (1 + exp(a)), algebraically the same
function, is NaN there, and the checker names that overflow. The mistakes' functions may
overflow too (the engine runs them with numpy's warnings off).
"""

from __future__ import annotations

import numpy as np

from ..recurrent import rng_for
from ..spec import Case, Mistake, Spec

# a in the tails: exp(-a) overflows float64 for a < -709.78, exp(a) for a > 709.78
TAILS = (-1000.0, -800.0, -710.0, -100.0, -30.0, 30.0, 100.0, 710.0, 800.0, 1000.0)


def _cases(seed: int) -> list[Case]:
    """Three shapes of N(0, 3) inputs, then one case in the tails (|a| up to 1000, both signs),
    where only a numerically stable form stays finite. The tail case comes last, so any other
    mistake is reported on an ordinary case first."""
    shapes = [(3, 4), (5,), (2, 3, 6)]
    cases = []
    for i, shape in enumerate(shapes):
        rng = rng_for(seed, i)
        cases.append(Case(f"shape {shape}", (rng.normal(0.0, 3.0, shape),)))
    rng = rng_for(seed, len(shapes))
    tails = np.concatenate([TAILS, rng.uniform(-1000.0, 1000.0, 8)])
    cases.append(Case("shape (3, 6), |a| up to 1000",
                      (rng.permutation(tails).reshape(3, 6),)))
    return cases


def _stable(a: np.ndarray) -> np.ndarray:
    """The sigmoid without overflow (exp of non-positive numbers only)."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _overflowing(a: np.ndarray) -> np.ndarray:
    """exp(a) / (1 + exp(a)): right in the middle, NaN (inf / inf) for a > 709."""
    return np.exp(a) / (1.0 + np.exp(a))


def ref_sigmoid(a):
    import torch

    return torch.sigmoid(torch.from_numpy(a)).numpy()


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
                     "1 / (1 + np.exp(-a)) stays finite for every a (exp(-a) = inf gives 1 / inf "
                     "= 0), or branch on the sign of a", _overflowing),
         ]),
]
