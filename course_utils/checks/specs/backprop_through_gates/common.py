"""What the specs of notebook 05 share: upstream-gradient cases and the BPTT diagnosis.

The diagnosis generalises notebook 02's (:mod:`..vanishing_gradients`): it says *which*
gradients are wrong and, for the per-step gradient ``dx``, the first step **counting back from
the end** where it goes wrong (errors in backpropagation through time start at the last step
and travel backwards, so "right for the last k steps" points at what flows back in time).
"""

from __future__ import annotations

from ...recurrent import rng_for, seq_cases
from ...spec import Case


def backward_cases(seed: int, kind: str) -> list[Case]:
    """The sequence cases of notebooks 03/04 (T, B, I, H all distinct; batch 3, 1, 2; non-zero
    initial states; unequal biases) plus an upstream gradient ``grad_output`` (T, B, H) drawn
    from its own sub-seed."""
    cases = []
    for i, case in enumerate(seq_cases(seed, kind)):
        x, h0 = case.args[0], case.args[1]
        g = rng_for(seed, 200 + i).normal(size=(x.shape[0], x.shape[1], h0.shape[1]))  # (T, B, H)
        cases.append(Case(case.label, (*case.args, g), group=case.group, dims=case.dims))
    return cases
