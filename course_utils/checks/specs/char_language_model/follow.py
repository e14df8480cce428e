"""Many updates of a learner's ``lm_train_step`` beside the identical PyTorch model.

The spec (:mod:`.numpy_lm`) judges single steps, as the grader does; this runs the learner's step
for a dozen windows, carrying the LSTM state and Adam's state, beside the PyTorch twin started
from the same weights on the same windows, and says at which update the losses part and which
parameter differs first. Notebook 07 calls it after the checker.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ...result import CheckResult
from .numpy_lm import KEYS, torch_twin, twin_step


def follow_pytorch(step: Callable[..., Any], lstm_forward: Callable[..., Any],
                   lstm_backward: Callable[..., Any], adam_step: Callable[..., Any],
                   updates: int = 12, V: int = 11, H: int = 8, T: int = 7, B: int = 3,
                   lr: float = 0.01, max_norm: float = 0.1, seed: int = 0,
                   tol: float = 1e-8) -> tuple[CheckResult, dict[str, Any]]:
    """Run ``step`` (the learner's ``lm_train_step``, with the functions given) for ``updates``
    windows of one random text, carrying state and optimizer state, beside the identical PyTorch
    model with the same initial weights and windows. Returns a CheckResult (passed when every
    loss agrees within ``tol`` and every parameter within 1e-6 relative) and the record
    ``{"numpy": losses, "torch": losses, "max_loss_diff", "parted_at", "parameter"}``."""
    import torch

    from ...calling import format_exception, quiet

    rng = np.random.default_rng(seed)
    params = {k: rng.normal(0.0, 0.3, s) for k, s in
              {"W_ih": (4 * H, V), "W_hh": (4 * H, H), "b_ih": (4 * H,), "b_hh": (4 * H,),
               "W_hy": (V, H), "b_y": (V,)}.items()}
    text = rng.integers(0, V, (B, updates * T + 1))
    twin, ps = torch_twin(params)
    opt = torch.optim.Adam(ps, lr=lr)
    h = c = np.zeros((B, H))
    th, tc = h.copy(), c.copy()
    state, rec = None, {"numpy": [], "torch": [], "parted_at": None, "parameter": None}
    name = "lm_train_step"
    for k in range(updates):
        x = text[:, k * T:(k + 1) * T].T.copy()                        # (T, B)
        y = text[:, k * T + 1:(k + 1) * T + 1].T.copy()
        try:
            with quiet():
                loss, params, state, (h, c) = step(params, state, x, y, h, c, lr, max_norm,
                                                   lstm_forward, lstm_backward, adam_step)
        except NotImplementedError:
            return CheckResult(name, False, "not implemented yet: nothing to compare with "
                               "PyTorch", status="not_implemented"), rec
        except Exception as exc:  # noqa: BLE001 - reported
            return CheckResult(name, False, f"update {k + 1} raised {format_exception(exc)}"), rec
        tloss, (th, tc) = twin_step(twin, ps, opt, x, y, th, tc, max_norm)
        rec["numpy"].append(float(loss))
        rec["torch"].append(tloss)
        if rec["parameter"] is None:
            for key, p in zip(KEYS, ps):
                if not np.allclose(np.asarray(params[key], float), p.detach().numpy(), rtol=1e-6,
                                   atol=1e-9):
                    rec["parameter"] = (k + 1, key)
                    break
        if rec["parted_at"] is None and abs(float(loss) - tloss) > tol:
            rec["parted_at"] = k + 1
    diffs = np.abs(np.subtract(rec["numpy"], rec["torch"]))
    rec["max_loss_diff"] = float(diffs.max())
    if rec["parted_at"] is None and rec["parameter"] is None:
        return CheckResult(name, True, f"your numpy model follows PyTorch step for step: over "
                           f"{updates} updates every loss agrees within {tol:g} bits and every "
                           "parameter within 1e-6 (relative)."), rec
    parts = []
    if rec["parted_at"] is not None:
        k = rec["parted_at"]
        parts.append(f"the losses part at update {k} (yours {rec['numpy'][k - 1]:.6f}, PyTorch "
                     f"{rec['torch'][k - 1]:.6f} bits)" + (" — before any update, so the "
                                                           "forward pass or the loss differs"
                                                           if k == 1 else ""))
    if rec["parameter"] is not None:
        k, key = rec["parameter"]
        parts.append(f"the first parameter to differ is {key}, after update {k}")
    return CheckResult(name, False, "; ".join(parts) + "."), rec
