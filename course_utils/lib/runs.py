"""Reading training-run records: smoothing, thresholds, seed spreads, bands and tables.

A run record is :meth:`course_utils.lib.train.Run.to_dict` (plus a ``group`` label in a
sweep): ``{"config": {...}, "losses": [per update], "seconds": [cumulative, per update]}``.
Notebooks read sweeps of them (notebook 08; any later sweep uses the same helpers).
"""

from __future__ import annotations

import statistics
from typing import Any, Iterable

Run = dict[str, Any]


def select(runs: list[Run], group: str | None = None, **config: Any) -> list[Run]:
    """The runs of ``group`` whose config matches every keyword (e.g. ``cell="gru", T=50``)."""
    return [r for r in runs if (group is None or r["group"] == group)
            and all(r["config"].get(k) == v for k, v in config.items())]


def smooth(values: list[float], k: int = 25) -> list[float]:
    """Trailing moving average over ``k`` updates (the first values average what exists)."""
    out, acc = [], 0.0
    for i, v in enumerate(values):
        acc += v
        if i >= k:
            acc -= values[i - k]
        out.append(acc / min(i + 1, k))
    return out


def final_loss(run: Run, last: float = 0.1) -> float:
    """Mean training loss over the last ``last`` fraction of updates (fresh data each update)."""
    losses = run["losses"]
    k = max(1, int(len(losses) * last))
    return sum(losses[-k:]) / k


def updates_to(run: Run, threshold: float, k: int = 25) -> int | None:
    """First update at which the k-update moving average is below ``threshold`` (None: never)."""
    for i, v in enumerate(smooth(run["losses"], k)):
        if i >= k - 1 and v < threshold:
            return i + 1
    return None


def seconds_to(run: Run, threshold: float, k: int = 25) -> float | None:
    """Training seconds until :func:`updates_to`'s update (None: never)."""
    n = updates_to(run, threshold, k)
    return None if n is None else run["seconds"][n - 1]


def seconds_per_update(run: Run) -> float:
    """Median seconds of one update (robust to a busy machine's hiccups)."""
    s = [0.0] + run["seconds"]
    return statistics.median(b - a for a, b in zip(s, s[1:]))


def spread(values: list[float]) -> tuple[float, float, float]:
    """(mean, min, max) of a list of per-seed numbers."""
    return statistics.fmean(values), min(values), max(values)


def ranges_overlap(a: Iterable[float], b: Iterable[float]) -> bool:
    """Do the [min, max] ranges of two lists of per-seed numbers touch?"""
    a, b = list(a), list(b)
    return max(min(a), min(b)) <= min(max(a), max(b))


def fmt_final(values: list[float], digits: int = 3) -> str:
    """``"mean [min–max]"`` of per-seed numbers."""
    mean, lo, hi = spread(values)
    return f"{mean:.{digits}f} [{lo:.{digits}f}–{hi:.{digits}f}]"


def fmt_list(values: Iterable[float | None], spec: str = "{:.0f}") -> str:
    """Per-seed numbers joined by commas, "—" for None (never reached)."""
    return ", ".join("—" if x is None else spec.format(x) for x in values)


def band(runs: list[Run], x: str = "updates", k: int = 25,
         points: int = 200) -> tuple[list[float], list[float], list[float], list[float]]:
    """Seed band of smoothed loss curves: (x, median, min, max), x in updates or seconds.

    For ``x="seconds"`` each run is resampled on a common time grid that ends at the shortest
    run's total time (so every point has every seed).
    """
    import numpy as np

    curves = [np.asarray(smooth(r["losses"], k)) for r in runs]
    if x == "updates":
        grid = np.arange(1, len(curves[0]) + 1, dtype=float)
        ys = np.stack(curves)  # (seeds, updates)
    else:
        end = min(r["seconds"][-1] for r in runs)
        grid = np.linspace(end / points, end, points)
        ys = np.stack([np.interp(grid, r["seconds"], c) for r, c in zip(runs, curves)])
    return (grid.tolist(), np.median(ys, 0).tolist(), ys.min(0).tolist(), ys.max(0).tolist())


def plot_band(ax: Any, runs: list[Run], label: str, x: str = "updates", k: int = 25,
              color: str | None = None, baseline: float | None = None) -> None:
    """Median curve and min-max band over seeds on a matplotlib axis."""
    grid, med, lo, hi = band(runs, x=x, k=k)
    (line,) = ax.plot(grid, med, label=f"{label} (n={len(runs)})", color=color)
    ax.fill_between(grid, lo, hi, color=line.get_color(), alpha=0.2, linewidth=0)
    if baseline is not None:
        ax.axhline(baseline, color="grey", linestyle=":", linewidth=1)


def markdown_table(headers: list[str], rows: list[list[Any]]) -> str:
    """A GitHub-flavoured markdown table (display it with IPython.display.Markdown)."""
    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(map(cell, headers)) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(map(cell, r)) + " |" for r in rows]
    return "\n".join(lines)
