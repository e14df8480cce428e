"""The roofline of one LSTM step's recurrent GEMM: the model drawn from measured peaks, and the
bench's measured entries drawn on it.

References: Williams, Waterman & Patterson (2009), "Roofline: an insightful visual performance
model", CACM 52(4).
"""

from __future__ import annotations

from typing import Any

Results = dict[str, Any]


def intensity(B: Any, H: int, G: int = 4, bytes_per: int = 4) -> Any:
    """FLOP/byte of the recurrent GEMM (B, H) x (H, G·H): weights + h in, gates out."""
    return 2 * G * B * H * H / (bytes_per * (G * H * H + B * H + G * B * H))


def rooflines(device: str, peaks: dict[str, Any], gpu_results: list[Results]
              ) -> list[tuple[str, float, float]]:
    """(label, matmul peak FLOP/s, bandwidth bytes/s): this device's measured peaks, then
    every committed GPU result (its best fp32 path: fp32 or TF32)."""
    out = [(f"model from this device's measured peaks ({device})", peaks["matmul"]["fp32"]["tflops"] * 1e12,
            peaks["copy_bandwidth_gbs"] * 1e9)]
    for r in gpu_results:
        mm = r["peaks"]["matmul"]
        best = max(mm, key=lambda k: mm[k]["tflops"] if k != "bf16" else 0)
        out.append((f"model from committed peaks: {r['meta']['gpu']} ({best})", mm[best]["tflops"] * 1e12,
                    r["peaks"]["copy_bandwidth_gbs"] * 1e9))
    return out


def plot_roofline(lines: list[tuple[str, float, float]], H: int = 512) -> Any:
    """Attainable TFLOP/s of one LSTM step's recurrent GEMM against B, one line per device;
    prints the fraction of peak at B = 1 and where the step becomes GEMM-bound."""
    import matplotlib.pyplot as plt
    import numpy as np

    batches = 2.0 ** np.arange(0, 13)  # B = 1 ... 4096
    fig, ax = plt.subplots()
    for label, peak, bw in lines:
        roof = bw * intensity(batches, H)
        attain = np.minimum(peak, roof)
        ax.loglog(batches, attain / 1e12, "o-", ms=3, label=label)
        ridge = int(batches[np.argmax(roof >= peak)]) if (roof >= peak).any() else "> 4096"
        print(f"{label}: attainable at B=1: {attain[0] / 1e12:.4f} TFLOP/s = "
              f"{attain[0] / peak:.1%} of peak; GEMM-bound from B = {ridge}")
    print(f"LSTM W_hh at H = {H}: {4 * H} x {H} fp32 numbers = "
          f"{4 * H * H * 4 / 2**20:.0f} MiB read per step")
    ax.set_title(f"Roofline of one LSTM step's recurrent GEMM (H = {H}, fp32)")
    ax.set_xlabel("batch size B")
    ax.set_ylabel("attainable TFLOP/s")
    ax.legend(fontsize=8)
    return fig


def layer_attainable(B: Any, H: int, I: int, G: int, peak: float, bw: float) -> Any:
    """Attainable FLOP/s of one recurrent layer under the model: the hoisted input GEMM runs at
    the matmul peak, each step's recurrent GEMM at min(peak, bw · intensity)."""
    import numpy as np

    f_in, f_rec = 2.0 * G * B * H * I, 2.0 * G * B * H * H  # per step
    rec = np.minimum(peak, bw * intensity(B, H, G))
    return (f_in + f_rec) / (f_in / peak + f_rec / rec)


def plot_roofline_measured(label: str, r: Results, peak: float, bw: float,
                           mode: str = "inference") -> Any:
    """The bench's measured fp32 grid entries (points) on the model (lines, one per kind and
    H) against B; prints, at the smallest batch, a step's measured time against the model's
    bandwidth bound — the gap is per-step overhead, not bytes."""
    import matplotlib.pyplot as plt
    import numpy as np

    from ...lib import counts

    grid = [e for e in r["grid"] if e["dtype"] == "fp32" and e["mode"] == mode]
    Bs = np.array(sorted({e["B"] for e in grid}), dtype=float)
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for j, H in enumerate(sorted({e["H"] for e in grid})):
        for kind, style in (("lstm", "o"), ("gru", "s")):
            G = counts.gate_blocks(kind)
            pts = sorted((e["B"], e["tflops"]) for e in grid if e["H"] == H and e["kind"] == kind)
            if not pts:
                continue
            ax.loglog(Bs, layer_attainable(Bs, H, H, G, peak, bw) / 1e12, "-" if kind == "lstm"
                      else "--", color=f"C{j}", lw=1, label=f"model {kind.upper()} H={H}")
            ax.loglog(*zip(*pts), style, color=f"C{j}", ms=5, label=f"measured {kind.upper()} H={H}")
    ax.axhline(peak / 1e12, color="k", lw=0.8, ls=":", label="matmul peak")
    ax.set_title(f"{label}: roofline model (lines) vs measured (points), {mode}, fp32", fontsize=9)
    ax.set_xlabel("batch size B")
    ax.set_ylabel("TFLOP/s (GEMM FLOPs / median time)")
    ax.legend(fontsize=6, ncol=2, loc="lower right")
    b0 = min(e["B"] for e in grid)
    for e in sorted((e for e in grid if e["B"] == b0 and e["kind"] == "lstm"), key=lambda e: e["H"]):
        step_us = e["median_ms"] * 1e3 / r["plan"]["T"]
        bound_us = 4 * e["H"] * e["H"] * 4 / bw * 1e6  # W_hh read once per step (fp32)
        model = layer_attainable(float(b0), e["H"], e["H"], 4, peak, bw)
        bound = ("overhead-bound: most of the step is not weight traffic" if step_us > 3 * bound_us
                 else "near the bandwidth bound")
        print(f"{label}: LSTM H={e['H']} B={b0}: measured {e['tflops'] / (model / 1e12):.1%} of "
              f"the model; a step takes {step_us:.1f} us where reading W_hh at the copy "
              f"bandwidth takes {bound_us:.2f} us ({bound})")
    return fig
