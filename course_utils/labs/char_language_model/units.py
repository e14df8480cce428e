"""Interpretable units, claimed only against a null (Karpathy, Johnson & Fei-Fei 2015, tested).

For every property of the text (inside quotes, inside parentheses, ...), a unit is *chosen* on
the first half of a held-out snippet (the largest |correlation|) and *measured* on the second half.
Two nulls say whether that held-out correlation means anything:

1. **untrained models**: the same choose-then-measure procedure on several models of the same
   architecture with random weights (different seeds). Random LSTM units already echo the input
   (a unit that responds to '(' correlates with "inside parentheses"), so the trained unit must
   beat every one of them;
2. **circular-shift permutation test** on the held-out half: the property is shifted by random
   offsets (which keeps its run lengths, unlike shuffling single characters) and the chosen
   unit's |r| against the shifted property gives the chance distribution; p = (1 + #{|r_shift| >=
   |r|}) / (1 + shifts).

A unit *survives* when it beats the largest untrained |r| and p < ``alpha / number of
properties`` (Bonferroni).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .core import correlations


def choose_and_measure(acts: np.ndarray, prop: np.ndarray, split: float = 0.5
                       ) -> tuple[int, float, float]:
    """(unit, r on the first part (chosen there), r on the rest) for one property."""
    n = int(len(acts) * split)
    r_fit = np.nan_to_num(correlations(acts[:n], prop[:n]))
    unit = int(np.argmax(np.abs(r_fit)))
    return unit, float(r_fit[unit]), float(correlations(acts[n:, unit:unit + 1], prop[n:])[0])


def shift_p_value(values: np.ndarray, prop: np.ndarray, r: float, shifts: int = 500,
                  seed: int = 0) -> float:
    """p-value of |r| (``values`` against ``prop``) under circular shifts of ``prop``."""
    rng = np.random.default_rng(seed)
    n = len(prop)
    offsets = rng.integers(n // 10, n - n // 10, shifts)
    null = np.array([abs(correlations(values[:, None], np.roll(prop, int(k)))[0])
                     for k in offsets])
    return float((1 + np.sum(null >= abs(r))) / (1 + shifts))


def probe_units(acts: np.ndarray, untrained: list[np.ndarray], props: dict[str, np.ndarray],
               hidden: int | None = None, alpha: float = 0.05, shifts: int = 500,
               seed: int = 0) -> list[dict[str, Any]]:
    """One row per property (with variation in both halves): the chosen unit, its held-out r,
    the untrained models' held-out |r| (largest), the permutation p-value, and ``survives``."""
    rows = []
    usable = {k: v for k, v in props.items()
              if v[:len(v) // 2].std() > 0 and v[len(v) // 2:].std() > 0}
    level = alpha / max(1, len(usable))
    for name, prop in usable.items():
        unit, r_sel, r_held = choose_and_measure(acts, prop)
        null = [abs(choose_and_measure(a, prop)[2]) for a in untrained]
        n = len(prop) // 2
        p = shift_p_value(acts[n:, unit], prop[n:], r_held, shifts, seed)
        label = f"c[{unit - hidden}]" if hidden is not None and unit >= hidden else f"h[{unit}]"
        rows.append({"property": name, "unit": unit, "label": label, "r_select": r_sel,
                     "r_heldout": r_held, "untrained_max_abs_r": max(null) if null else np.nan,
                     "p_shift": p, "level": level,
                     "survives": bool(null) and abs(r_held) > max(null) and p < level})
    return rows
