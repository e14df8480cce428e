"""Figures drawn from a ``bench`` result (a live quick run or a committed ``results/gpu_*.json``):
time against batch, the GRU/LSTM ratio heat map, the implementation ladder, the T sweep, peak
memory, and the grid's efficiency lines."""

from __future__ import annotations

from typing import Any

MODES = ("inference", "training")
Results = dict[str, Any]


def plot_time_vs_batch(label: str, r: Results) -> Any:
    """Time per call against B, LSTM solid and GRU dashed, one colour per H (fp32 grid)."""
    import matplotlib.pyplot as plt

    grid = [e for e in r["grid"] if e["dtype"] == "fp32"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    for ax, mode in zip(axes, MODES):
        for j, H in enumerate(sorted({e["H"] for e in grid})):
            for kind, style in (("lstm", "-"), ("gru", "--")):
                pts = sorted((e["B"], e["median_ms"]) for e in grid
                             if e["H"] == H and e["kind"] == kind and e["mode"] == mode)
                ax.loglog(*zip(*pts), style, color=f"C{j}", marker="o", ms=3,
                          label=f"{kind.upper()} H={H}")
        ax.set_title(f"{label}: {mode} (T = {r['plan']['T']}, fp32)")
        ax.set_xlabel("batch size B")
    axes[0].set_ylabel("time per call (ms, median)")
    axes[1].legend(fontsize=7, ncol=2)
    return fig


def plot_ratio_heatmap(label: str, r: Results) -> Any:
    """GRU/LSTM time ratio per (H, B), colour = log2 of the ratio (blue: GRU faster)."""
    import matplotlib.pyplot as plt
    import numpy as np

    ratios = [x for x in r["gru_lstm_ratios"] if x["dtype"] == "fp32"]
    Hs, Bs = sorted({x["H"] for x in ratios}), sorted({x["B"] for x in ratios})
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), layout="constrained")  # room for the bars
    for ax, mode in zip(axes, MODES):
        grid = np.full((len(Hs), len(Bs)), np.nan)  # (H, B)
        for x in ratios:
            if x["mode"] == mode:
                grid[Hs.index(x["H"]), Bs.index(x["B"])] = x["time_ratio"]
        span = max(abs(np.log2(np.nanmax(grid))), abs(np.log2(np.nanmin(grid))), 0.5)
        im = ax.imshow(np.log2(grid), cmap="coolwarm", vmin=-span, vmax=span, aspect="auto")
        fig.colorbar(im, ax=ax, label="log2(GRU time / LSTM time)")
        for (i, j), v in np.ndenumerate(grid):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8)
        ax.set_xticks(range(len(Bs)), Bs)
        ax.set_yticks(range(len(Hs)), Hs)
        ax.set_title(f"{label}: GRU / LSTM time, {mode}\n(FLOP ratio 0.75; colour: log2 of "
                     "the ratio)", fontsize=9)
        ax.set_xlabel("batch size B")
        ax.set_ylabel("hidden size H = I")
    return fig


def _plain(v: float, _pos: Any = None, digits: tuple[int, ...] = ()) -> str:
    """A log-axis tick as a plain number (0.2, 5, 100); with ``digits``, only ticks whose
    leading digit is one of them (minor ticks: 2 and 5), else ""."""
    import math

    lead = round(v / 10 ** math.floor(math.log10(v))) if v > 0 else 0
    return f"{v:g}" if not digits or lead in digits else ""


def plot_ladder(label: str, r: Results) -> Any:
    """Median (a point) with quartile whiskers per implementation, on a log time axis (points,
    not bars: a bar's length on a log axis means nothing); prints the fast/torch.nn forward
    ratios against the H100 target."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    lad = r["ladder"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for ax, mode in zip(axes, MODES):
        rows = [e for e in lad["entries"] if e["mode"] == mode]
        for k, e in enumerate(rows):  # points, not bars: a bar on a log axis has no zero
            ax.errorbar(e["median_ms"], k, xerr=[[e["median_ms"] - e["q1_ms"]],
                                                 [e["q3_ms"] - e["median_ms"]]],
                        fmt="o", capsize=3, color="C0" if e["kind"] == "lstm" else "C1")
        ax.set_yticks(range(len(rows)), [f"{e['kind'].upper()}: {e['impl']}" for e in rows],
                      fontsize=7)
        ax.set_ylim(len(rows) - 0.5, -0.5)  # first implementation on top
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(_plain))  # 0.1, 10: not 10⁻¹, 10¹
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: _plain(v, digits=(2, 5))))
        ax.grid(axis="x", which="both", alpha=0.3)
        ax.set_title(f"{label}: {mode}, T={lad['T']}, B={lad['B']}, H=I={lad['H']}", fontsize=9)
        ax.set_xlabel("ms per call, log scale (point: median; whiskers: quartiles)")
    fig.tight_layout()
    for kind, ratio in lad["fast_forward_ratio_to_torch_nn"].items():
        print(f"{label}: course fast {kind.upper()} forward = {ratio:.2f}x torch.nn "
              "(target on an H100: <= 1.5x)")
    return fig


def plot_t_sweep(label: str, r: Results) -> Any:
    """Median time against T with the fitted line a + b·T per kind and mode."""
    import matplotlib.pyplot as plt
    import numpy as np

    sw = r["t_sweep"]
    fig, ax = plt.subplots()
    for i, fit in enumerate(sw["fits"]):
        pts = sorted((p["T"], p["median_ms"]) for p in sw["points"]
                     if p["kind"] == fit["kind"] and p["mode"] == fit["mode"])
        Ts, ms = map(np.array, zip(*pts))
        ax.plot(Ts, ms, "o", color=f"C{i}", ms=4)
        ax.plot(Ts, fit["a_ms"] + fit["b_ms_per_step"] * Ts, "-", color=f"C{i}",
                label=f"{fit['kind'].upper()} {fit['mode']}: {fit['a_ms']:.2f} ms + "
                      f"{1e3 * fit['b_ms_per_step']:.1f} µs·T")
    ax.set_title(f"{label}: time vs sequence length (H = {sw['H']}, B = {sw['B']}, fp32)")
    ax.set_xlabel("sequence length T (steps)")
    ax.set_ylabel("time per call (ms, median)")
    ax.legend(fontsize=7)
    return fig


def efficiency_lines(label: str, r: Results) -> list[str]:
    """The grid's best and smallest-batch achieved TFLOP/s as fractions of the matmul peak."""
    best = max(r["grid"], key=lambda e: e["tflops"])
    frac = best["frac_of_matmul_peak"]
    lines = [f"{label}: best grid entry {best['kind'].upper()} {best['mode']} H={best['H']} "
             f"B={best['B']} {best['dtype']}: {best['tflops']:.3f} TFLOP/s = "
             + (f"{frac:.1%} of the measured matmul peak" if frac else "no peak")]
    if frac and frac > 1:
        lines.append(f"{label}: above 100 %: the dense matmul timed for the peak is not this "
                     "device's fastest fp32 path (the RNN kernel beats it), so read these "
                     "percentages as relative only here.")
    b_min = min(x["B"] for x in r["grid"])
    small = min((e for e in r["grid"] if e["B"] == b_min), key=lambda e: e["tflops"])
    lines.append(f"{label}: at B={small['B']} the lowest is {small['tflops']:.4f} TFLOP/s "
                 f"({small['frac_of_matmul_peak']:.2%} of peak)"
                 if small["frac_of_matmul_peak"] else "")
    return lines


def plot_peak_memory(label: str, r: Results, B: int = 64) -> Any:
    """Peak allocated memory, training, fp32, at batch ``B``, LSTM vs GRU per H (CUDA runs)."""
    import matplotlib.pyplot as plt
    import numpy as np

    rows = [e for e in r["grid"] if e["mode"] == "training" and e["dtype"] == "fp32"
            and e["B"] == B]
    Hs = sorted({e["H"] for e in rows})
    fig, ax = plt.subplots()
    for k, kind in enumerate(("lstm", "gru")):
        vals = [next(e["peak_mem_mib"] for e in rows if e["H"] == H and e["kind"] == kind)
                for H in Hs]
        ax.bar(np.arange(len(Hs)) + 0.4 * k, vals, width=0.4, label=kind.upper())
    ax.set_xticks(np.arange(len(Hs)) + 0.2, Hs)
    ax.set_title(f"{label}: peak memory, training, B = {B}, T = {r['plan']['T']}, fp32")
    ax.set_xlabel("hidden size H = I")
    ax.set_ylabel("peak allocated memory (MiB)")
    ax.legend()
    return fig
