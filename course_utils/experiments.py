"""Notebook 05's experiments: the sweep command, a CPU speed micro-benchmark, and the analysis.

    python -m course_utils sweep --out results/sweeps/adding_copy_cpu.json     # ~10 min, 2 cores
    python -m course_utils sweep --quick --out /tmp/smoke.json                  # seconds

The sweep trains a tanh RNN, an LSTM and a GRU on the adding problem over growing T, at equal
hidden size and at (approximately) equal parameter count, an LSTM with forget-gate bias 1
(Jozefowicz et al. 2015), the three cells on the copy task, and longer LSTM runs (does it leave
the adding problem's plateau?); several seeds each. It first times forward + backward of
nn.LSTM and nn.GRU with oneDNN on and off (:func:`speed_table`). The JSON
records the command that made it, the machine, and every run's loss per update and cumulative
seconds per update (:class:`course_utils.train.Run`).

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

from .train import TrainConfig, matched_hidden, recurrent_params

DEFAULT_T = (10, 25, 50, 100)
DEFAULT_COPY_T = (10, 25)
DEFAULT_LONG_T = (50,)
SPEED_SIZES = ((50, 64, 2, 48), (50, 32, 32, 128), (50, 32, 32, 256))  # (T, B, I, H)


# --------------------------------------------------------------------------- plan
def plan(T_values: Iterable[int] = DEFAULT_T, copy_T: Iterable[int] = DEFAULT_COPY_T,
         hidden: int = 48, seeds: Iterable[int] = (0, 1, 2), steps: int = 700,
         batch: int = 64, lr: float = 3e-3, long_T: Iterable[int] = DEFAULT_LONG_T,
         long_steps: int = 2000) -> list[tuple[str, TrainConfig]]:
    """The sweep as a list of (group label, config).

    Groups: ``"equal-H"`` (rnn, lstm, gru at ``hidden``), ``"equal-params"`` (gru and rnn sized
    to the LSTM's recurrent-layer parameter count), ``"forget-bias-1"`` (lstm, forget bias 1),
    ``"copy"`` (the three cells at ``hidden`` on the copy task), and ``"long"`` (the LSTM with
    default and with forget bias 1, trained ``long_steps`` updates at each of ``long_T``: does it
    leave the adding problem's plateau given more time?).
    """
    seeds = list(seeds)
    lstm_params = recurrent_params("lstm", 2, hidden)
    sized = {c: matched_hidden(c, 2, lstm_params) for c in ("gru", "rnn")}
    common = dict(steps=steps, batch=batch, lr=lr)
    out: list[tuple[str, TrainConfig]] = []
    for T in T_values:
        for seed in seeds:
            for cell in ("rnn", "lstm", "gru"):
                out.append(("equal-H", TrainConfig(cell=cell, T=T, hidden=hidden, seed=seed, **common)))
            for cell in ("gru", "rnn"):
                out.append(("equal-params", TrainConfig(cell=cell, T=T, hidden=sized[cell], seed=seed,
                                                        **common)))
            out.append(("forget-bias-1", TrainConfig(cell="lstm", T=T, hidden=hidden, seed=seed,
                                                     forget_bias=1.0, **common)))
    copy_cfg = dict(common, lr=1e-2)
    for T in copy_T:
        for seed in seeds:
            for cell in ("rnn", "lstm", "gru"):
                out.append(("copy", TrainConfig(cell=cell, task="copy", T=T, hidden=hidden, seed=seed,
                                                **copy_cfg)))
    for T in long_T:
        for seed in seeds:
            for fb in (None, 1.0):
                out.append(("long", TrainConfig(cell="lstm", T=T, hidden=hidden, seed=seed, forget_bias=fb,
                                                **dict(common, steps=long_steps))))
    return out


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


# --------------------------------------------------------------------------- running
def run_sweep(items: list[tuple[str, TrainConfig]], progress: bool = True) -> list[dict[str, Any]]:
    from tqdm.auto import tqdm

    from .train import train

    runs = []
    for group, cfg in tqdm(items, desc="sweep", disable=not progress):
        run = train(cfg, progress=False)
        runs.append({"group": group, **run.to_dict()})
    return runs


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(prog="python -m course_utils sweep",
                                description="Notebook 05's LSTM vs GRU vs tanh RNN sweep (CPU).")
    p.add_argument("--out", required=True, help="JSON file to write (e.g. results/sweeps/adding_copy_cpu.json)")
    p.add_argument("--quick", action="store_true", help="smoke test: T=10 only, 1 seed, 20 updates")
    p.add_argument("--steps", type=int, default=700, help="parameter updates per run")
    p.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1")
    p.add_argument("--T", type=int, nargs="+", default=list(DEFAULT_T), help="adding-problem lengths")
    p.add_argument("--copy-T", type=int, nargs="*", default=list(DEFAULT_COPY_T), help="copy-task delays")
    p.add_argument("--long-T", type=int, nargs="*", default=list(DEFAULT_LONG_T),
                   help="lengths of the long LSTM runs")
    p.add_argument("--long-steps", type=int, default=2000, help="updates of the long LSTM runs")
    p.add_argument("--hidden", type=int, default=48, help="hidden size of the equal-H group")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    if args.quick:
        items = plan([10], [10], hidden=args.hidden, seeds=[0], steps=20, long_T=[10], long_steps=30)
        sizes: tuple = ((10, 8, 2, 16),)
    else:
        items = plan(args.T, args.copy_T, hidden=args.hidden, seeds=range(args.seeds), steps=args.steps,
                     long_T=args.long_T, long_steps=args.long_steps)
        sizes = SPEED_SIZES
    start = time.perf_counter()
    speed = speed_table(sizes, reps=2 if args.quick else 5, progress=not args.no_progress)
    runs = run_sweep(items, progress=not args.no_progress)
    result = {"command": "python -m course_utils sweep " + " ".join(argv),
              "machine": machine_info(), "wall_seconds": round(time.perf_counter() - start, 1),
              "speed": speed, "runs": runs}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, separators=(",", ":")) + "\n")
    print(f"wrote {out}: {len(runs)} runs in {result['wall_seconds']} s")
    return 0


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
