"""A diagnosis for backward exercises (``rnn_backward``, ``lstm_backward``, ``gru_backward``):
which gradients are wrong, and the first wrong step of ``dx`` counting back from the end."""

from __future__ import annotations

from typing import Callable

import numpy as np


def make_diagnose(rtol: float, atol: float, step_hint: str, carry_hint: str
                  ) -> Callable[[dict[str, np.ndarray], dict[str, np.ndarray], bool], str]:
    """A ``Spec.diagnose`` for a backward exercise whose leaves include a per-step ``dx``.

    Says which gradients are wrong (with error sizes unless ``brief``: after a named mistake)
    and where ``dx`` first goes wrong counting back from the end. ``step_hint`` is shown when
    ``dx`` is already wrong at the last step (the error is inside one step), ``carry_hint`` when
    it is right for the last few steps (the error is in what is carried back in time).
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
                where = "" if brief else f", so the error is inside one step {step_hint}"
                parts.append(f"dx already differs at the last step (t={t}){where}")
            else:
                parts.append(f"dx is right for the last {k} step{'s' if k > 1 else ''} and first "
                             f"differs {k + 1} steps from the end (t={t})"
                             + ("" if brief else f": {carry_hint}"))
        return "; ".join(parts)

    return diagnose
