"""Notebook 08 (LSTM vs GRU): the CPU speed micro-benchmark and the analysis of the sweep.

The sweep itself (which runs to train, and the command that writes the JSON) is
:mod:`course_utils.tools.sweep`; this module reads its results.

References: Chung, Gulcehre, Cho & Bengio (2014), "Empirical evaluation of gated recurrent
neural networks on sequence modeling"; Jozefowicz, Zaremba & Sutskever (2015); Greff et al.
(2017), "LSTM: a search space odyssey".
"""


from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Iterable


SPEED_SIZES = ((50, 64, 2, 48), (50, 32, 32, 128), (50, 32, 32, 256))  # (T, B, I, H)


# --------------------------------------------------------------------------- machine & speed
def machine_info() -> dict[str, Any]:
    """Where and when a result was measured."""
    import torch

    return {"platform": platform.platform(), "machine": platform.machine(),
            "processor": platform.processor(), "cpu_count": os.cpu_count(),
            "python": platform.python_version(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "mkldnn_available": bool(torch.backends.mkldnn.is_available()),
            "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}


def _mkldnn(enabled: bool) -> Any:
    """``torch.backends.mkldnn.flags(enabled=...)`` without its Intel-GPU TF32 warning."""
    import contextlib
    import warnings

    import torch

    @contextlib.contextmanager
    def quiet() -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ctx = torch.backends.mkldnn.flags(enabled=enabled)
            ctx.__enter__()
        try:
            yield
        finally:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ctx.__exit__(None, None, None)
    return quiet()


def _timed_pass(module: Any, x: Any, mkldnn: bool) -> float:
    """Seconds of one forward + backward pass (gradients cleared afterwards)."""
    with _mkldnn(mkldnn):
        start = time.perf_counter()
        out, _ = module(x)  # (T, B, H)
        out.sum().backward()
        elapsed = time.perf_counter() - start
    module.zero_grad(set_to_none=True)
    x.grad = None
    return elapsed


def _module(cell: str, input_size: int, hidden: int) -> Any:
    import torch

    return {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](input_size, hidden)


def time_fwd_bwd(cell: str, T: int, batch: int, input_size: int, hidden: int, reps: int = 5,
                 mkldnn: bool = True, seed: int = 0) -> float:
    """Fastest of ``reps`` forward + backward passes of torch.nn.{RNN,LSTM,GRU}, CPU float32, s.

    ``mkldnn=False`` runs it under ``torch.backends.mkldnn.flags(enabled=False)``: on CPU,
    PyTorch sends float32 ``nn.LSTM`` (and ``nn.RNN``) through oneDNN when it is enabled;
    ``nn.GRU`` has no oneDNN path, so the flag changes the LSTM's backend, not the GRU's.
    The minimum (not the mean) is the estimate least disturbed by other jobs on the machine.
    """
    import torch

    torch.manual_seed(seed)
    module = _module(cell, input_size, hidden)
    x = torch.randn(T, batch, input_size, requires_grad=True)  # (T, B, I)
    _timed_pass(module, x, mkldnn)  # warm-up: allocation, oneDNN primitive creation
    return min(_timed_pass(module, x, mkldnn) for _ in range(reps))


def speed_table(sizes: Iterable[tuple[int, int, int, int]] | None = None, reps: int = 5, progress: bool = True) -> list[dict[str, Any]]:
    """fwd+bwd seconds of LSTM and GRU, oneDNN on and off, for each (T, B, I, H).

    The four variants are timed *interleaved* (one pass of each per round, ``reps`` rounds) and
    each keeps its fastest pass, so a burst of load from other jobs hits all of them alike.
    """
    import torch
    from tqdm.auto import tqdm

    sizes = SPEED_SIZES if sizes is None else sizes
    variants = [(cell, flag) for cell in ("lstm", "gru") for flag in (True, False)]
    rows = []
    for T, B, I, H in tqdm(list(sizes), desc="speed", disable=not progress, leave=False):
        torch.manual_seed(0)
        x = torch.randn(T, B, I, requires_grad=True)  # (T, B, I)
        modules = {cell: _module(cell, I, H) for cell in ("lstm", "gru")}
        best = {v: float("inf") for v in variants}
        for v in variants:
            _timed_pass(modules[v[0]], x, v[1])  # warm-up
        for _ in range(reps):
            for v in variants:
                best[v] = min(best[v], _timed_pass(modules[v[0]], x, v[1]))
        row: dict[str, Any] = {"T": T, "B": B, "I": I, "H": H}
        for (cell, flag), t in best.items():
            row[f"{cell}_{'mkldnn' if flag else 'native'}_s"] = t
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- analysis
def load(path: str | Path) -> dict[str, Any]:
    """A sweep JSON as written by :func:`main`."""
    return json.loads(Path(path).read_text())


def select(runs: list[dict[str, Any]], group: str | None = None, **config: Any) -> list[dict[str, Any]]:
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


def final_loss(run: dict[str, Any], last: float = 0.1) -> float:
    """Mean training loss over the last ``last`` fraction of updates (fresh data each update)."""
    losses = run["losses"]
    k = max(1, int(len(losses) * last))
    return sum(losses[-k:]) / k


def updates_to(run: dict[str, Any], threshold: float, k: int = 25) -> int | None:
    """First update at which the k-update moving average is below ``threshold`` (None: never)."""
    for i, v in enumerate(smooth(run["losses"], k)):
        if i >= k - 1 and v < threshold:
            return i + 1
    return None


def seconds_to(run: dict[str, Any], threshold: float, k: int = 25) -> float | None:
    """Training seconds until :func:`updates_to`'s update (None: never)."""
    n = updates_to(run, threshold, k)
    return None if n is None else run["seconds"][n - 1]


def seconds_per_update(run: dict[str, Any]) -> float:
    """Median seconds of one update (robust to a busy machine's hiccups)."""
    s = [0.0] + run["seconds"]
    return statistics.median(b - a for a, b in zip(s, s[1:]))


def spread(values: list[float]) -> tuple[float, float, float]:
    """(mean, min, max) of a list of per-seed numbers."""
    return statistics.fmean(values), min(values), max(values)


def band(runs: list[dict[str, Any]], x: str = "updates", k: int = 25,
         points: int = 200) -> tuple[list[float], list[float], list[float], list[float]]:
    """Seed band of smoothed loss curves: (x, median, min, max), x in updates or seconds.

    For ``x="seconds"`` each run is resampled on a common time grid that ends at the shortest
    run's total time (so every point has every seed).
    """
    import numpy as np

    curves = [np.asarray(smooth(r["losses"], k)) for r in runs]
    if x == "updates":
        grid = np.arange(1, len(curves[0]) + 1, dtype=float)
        ys = np.stack(curves)
    else:
        end = min(r["seconds"][-1] for r in runs)
        grid = np.linspace(end / points, end, points)
        ys = np.stack([np.interp(grid, r["seconds"], c) for r, c in zip(runs, curves)])
    return (grid.tolist(), np.median(ys, 0).tolist(), ys.min(0).tolist(), ys.max(0).tolist())


def plot_band(ax: Any, runs: list[dict[str, Any]], label: str, x: str = "updates", k: int = 25,
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
