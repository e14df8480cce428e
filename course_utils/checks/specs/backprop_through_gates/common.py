"""What the specs of notebook 05 share: upstream-gradient cases and the BPTT diagnosis.

The diagnosis generalises notebook 02's (:mod:`..vanishing_gradients`): it says *which*
gradients are wrong and, for the per-step gradient ``dx``, the first step **counting back from
the end** where it goes wrong (errors in backpropagation through time start at the last step
and travel backwards, so "right for the last k steps" points at what flows back in time).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

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


def make_diagnose(rtol: float, atol: float, step_hint: str, carry_hint: str
                  ) -> Callable[[dict[str, np.ndarray], dict[str, np.ndarray], bool], str]:
    """A ``Spec.diagnose`` for a backward exercise whose leaves include a per-step ``dx``.

    ``step_hint`` is shown when ``dx`` is already wrong at the last step (the error is inside
    one step), ``carry_hint`` when it is right for the last few steps (the error is in what is
    carried back in time).
    """
    def close(got: np.ndarray, exp: np.ndarray) -> np.ndarray:
        return np.isclose(got, exp, rtol=rtol, atol=atol) & np.isfinite(got)

    def diagnose(got: dict[str, np.ndarray], exp: dict[str, np.ndarray], brief: bool = False
                 ) -> str:
        wrong = [n for n in exp if not bool(close(got[n], exp[n]).all())]
        right = [n for n in exp if n not in wrong]
        if brief:
            head = f"wrong: {', '.join(wrong)}"
        else:
            err = {n: float(np.nanmax(np.abs(got[n] - exp[n]))) for n in wrong}
            listed = ", ".join(f"{n} (max abs error {err[n]:.3g})" for n in wrong)
            head = f"wrong gradient{'s' if len(wrong) > 1 else ''}: {listed}"
        if right:
            head += f"; right: {', '.join(right)}"
        parts = [head]
        if "dx" in wrong:
            T = exp["dx"].shape[0]
            ok_step = close(got["dx"], exp["dx"]).reshape(T, -1).all(axis=1)   # (T,)
            k = 0
            while ok_step[T - 1 - k]:
                k += 1
            t = T - 1 - k
            if k == 0:
                where = "" if brief else f", so the error is inside one step ({step_hint})"
                parts.append(f"dx already differs at the last step (t={t}){where}")
            else:
                parts.append(f"dx is right for the last {k} step{'s' if k > 1 else ''} and first "
                             f"differs {k + 1} steps from the end (t={t})"
                             + ("" if brief else f": {carry_hint}"))
        return "; ".join(parts)

    return diagnose
