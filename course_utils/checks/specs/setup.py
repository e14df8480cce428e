"""Spec of notebook 00's warm-up exercise: ``sigmoid(a)``, the squashing function every gate uses.

    sigmoid(a) = 1 / (1 + exp(-a))     (element-wise; reference: torch.sigmoid in float64)
"""

from __future__ import annotations

import numpy as np

from ..recurrent import rng_for
from ..spec import Case, Mistake, Spec


def _cases(seed: int) -> list[Case]:
    shapes = [(3, 4), (5,), (2, 3, 6)]
    cases = []
    for i, shape in enumerate(shapes):
        rng = rng_for(seed, i)
        cases.append(Case(f"shape {shape}, seed {seed}", (rng.normal(0.0, 3.0, shape),)))
    return cases


def ref_sigmoid(a):
    import torch

    return torch.sigmoid(torch.from_numpy(a)).numpy()


SPECS = [
    Spec(id="sigmoid", title="the logistic sigmoid", notebook="00_setup", arg_names=("a",),
         output="s", make_cases=_cases, reference=ref_sigmoid, points=1,
         mistakes=[
             Mistake("a sign error in the exponent", "sigmoid(a) = 1 / (1 + exp(-a)): large "
                     "positive a must give values near 1", lambda a: 1 / (1 + np.exp(a))),
             Mistake("the '1 +' missing in the denominator", "1 / exp(-a) is exp(a); the "
                     "sigmoid is 1 / (1 + exp(-a))", lambda a: np.exp(a)),
             Mistake("tanh instead of the sigmoid", "tanh maps to (-1, 1); the sigmoid to (0, 1)",
                     np.tanh),
             Mistake("the reciprocal missing", "1 + exp(-a) is the denominator; the sigmoid "
                     "is 1 / (1 + exp(-a))", lambda a: 1 + np.exp(-a)),
             Mistake("the derivative sigmoid(a)(1 - sigmoid(a)) returned", "that is the slope; "
                     "return the sigmoid itself", lambda a: np.exp(-a) / (1 + np.exp(-a)) ** 2),
         ]),
]
