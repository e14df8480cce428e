"""``python -m course_utils bench``: nn.LSTM vs nn.GRU on one device, JSON out.

    python -m course_utils bench [--device cuda|cpu] [--quick] [--out FILE] [--parts ...]

One run measures, on one device, in one process (:mod:`.workloads`, :mod:`.ladder`): the
device's **peaks** (dense matmul TFLOP/s per dtype, copy bandwidth), the **grid** (nn.LSTM vs
nn.GRU, 1 layer, I = H, inference and training, per H x B x dtype), the **T sweep** (time
against T and the fit ``a + b T``) and the **ladder** of implementations. The shapes are the
:class:`.plan.Plan`; the output is validated against :mod:`.schema` before it is written.
``--quick`` is a small CPU-friendly grid (seconds) for CI and laptops.

Reference: Appleyard, Kociský & Blunsom (2016), arXiv:1604.01946; pytorch/benchmarks fastrnns.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Callable

from ...lib.measure import machine_info, torch_threads
from . import ladder, workloads
from .plan import MODES, PARTS, Plan
from .schema import SCHEMA, validate

FLOPS_NOTE = "forward 2*G*B*H*(I+H) per step (G=4 LSTM, 3 GRU); training = 3x forward"


def metadata(device: str, quick: bool, argv: list[str]) -> dict[str, Any]:
    """The machine and software a result was measured on (no hostname, no user names)."""
    import torch

    m = machine_info()
    return {
        "date": m["date"], "command": "python -m course_utils bench " + " ".join(argv),
        "device": device, "quick": quick, "python": m["python"], "platform": m["platform"],
        "numpy": m["numpy"], "torch": m["torch"], "cuda": m["cuda"],
        "cudnn": m["cudnn"] if device == "cuda" else None,
        "gpu": m["gpu"] if device == "cuda" else None,
        "gpu_capability": m["gpu_capability"] if device == "cuda" else None,
        "gpu_memory_gib": m["gpu_memory_gib"] if device == "cuda" else None,
        "cuda_driver": m["cuda_driver"] if device == "cuda" else None,
        "cpu": {"model": m["cpu_model"], "machine": m["machine"],
                "logical_cores": m["cpu_count"], "torch_threads": m["torch_threads"],
                "mkl_available": m["mkl_available"], "mkldnn_available": m["mkldnn_available"]},
        "tf32": {"cudnn_allow_tf32": bool(torch.backends.cudnn.allow_tf32),
                 "matmul_allow_tf32": bool(torch.backends.cuda.matmul.allow_tf32)},
        "cudnn_enabled": bool(torch.backends.cudnn.enabled) and device == "cuda",
        "timing": {"method": "cuda events" if device == "cuda" else "time.perf_counter",
                   "statistic": "median and IQR over repeats after warm-up"},
        "flops": FLOPS_NOTE,
    }


def run(device: str = "cpu", quick: bool = False, argv: list[str] | None = None,
        progress: Callable[..., Any] | None = None, parts: tuple[str, ...] = PARTS,
        threads: int | None = None, peaks: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run the benchmark and return the results dict (the JSON that :func:`main` writes).

    ``peaks``: the result of :func:`.workloads.measure_peaks` measured just before with the same
    plan, reused instead of measured again (a notebook that draws the roofline first then shows
    one set of peaks, not two that differ by the machine's noise)."""
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda asked for, but torch.cuda.is_available() is False")
    plan = Plan.for_device(device, quick).with_threads(threads)
    with torch_threads(plan.threads):
        torch.manual_seed(0)
        results: dict[str, Any] = {"schema": SCHEMA, "meta": metadata(device, quick, argv or []),
                                   "plan": plan.as_dict()}
        ctx = workloads.Context(device, plan, progress=progress or workloads.no_bar)
        ctx.peaks = results["peaks"] = peaks or workloads.measure_peaks(device, plan)
        if "grid" in parts:
            results["grid"] = workloads.run_grid(ctx)
            results["gru_lstm_ratios"] = workloads.gru_lstm_ratios(results["grid"])
        if "t_sweep" in parts:
            results["t_sweep"] = workloads.run_t_sweep(ctx)
        if "ladder" in parts:
            results["ladder"] = ladder.run_ladder(ctx)
        results["skipped"] = ctx.skipped
    return results


def summary(results: dict[str, Any]) -> str:
    """A few plain-text lines: peaks, GRU/LSTM time ratios, T-sweep fits, ladder ratios."""
    import numpy as np

    m = results["meta"]
    lines = [f"device {m['device']} ({m['gpu'] or m['cpu']['model']}), torch {m['torch']}"]
    for name, e in results["peaks"]["matmul"].items():
        lines.append(f"matmul {name}: {e['tflops']:.2f} TFLOP/s (n={e['n']})")
    lines.append(f"copy bandwidth: {results['peaks']['copy_bandwidth_gbs']:.1f} GB/s")
    for mode in MODES:
        r = [x["time_ratio"] for x in results.get("gru_lstm_ratios", []) if x["mode"] == mode]
        if r:
            lines.append(f"GRU/LSTM time, {mode}: median {np.median(r):.2f} "
                         f"(range {min(r):.2f}-{max(r):.2f}; FLOP ratio 0.75)")
    for f in results.get("t_sweep", {}).get("fits", []):
        lines.append(f"T sweep {f['kind']} {f['mode']}: {f['a_ms']:.3f} ms + "
                     f"{f['b_ms_per_step'] * 1e3:.1f} us/step (R^2 {f['r2']:.3f})")
    for kind, r in results.get("ladder", {}).get("fast_forward_ratio_to_torch_nn", {}).items():
        lines.append(f"ladder {kind}: course fast forward / torch.nn = {r:.2f}x")
    if results.get("skipped"):
        lines.append(f"skipped {len(results['skipped'])} configuration(s): "
                     "see 'skipped' in the JSON")
    return "\n".join(lines)


def default_out(results: dict[str, Any]) -> str:
    """``results/gpu_<gpu name>_<full|quick>.json`` or ``results/cpu_<full|quick>_<date>.json``."""
    import re

    m = results["meta"]
    size = "quick" if m["quick"] else "full"
    if m["device"] == "cuda":
        name = re.sub(r"[^a-z0-9]+", "_", m["gpu"].lower()).strip("_")
        return os.path.join("results", f"gpu_{name}_{size}.json")
    return os.path.join("results", f"cpu_{size}_{m['date'][:10].replace('-', '')}.json")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m course_utils bench",
                                description="nn.LSTM vs nn.GRU benchmark, JSON out.")
    p.add_argument("--device", choices=("cuda", "cpu"), default=None,
                   help="default: cuda if available, else cpu")
    p.add_argument("--quick", action="store_true", help="small grid, seconds on a CPU")
    p.add_argument("--out", default=None, help="JSON file to write (default: "
                   "results/<device>_<quick|full>_<date>.json)")
    p.add_argument("--parts", default=",".join(PARTS),
                   help="comma-separated subset of " + ",".join(PARTS))
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (default: 1 with --quick, torch's default otherwise)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p


def _bar(it: Any, desc: str = "") -> Any:
    from tqdm.auto import tqdm

    return tqdm(it, desc=desc, leave=False, file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        print("error: --device cuda, but no CUDA device is visible to torch", file=sys.stderr)
        return 2
    parts = tuple(s.strip() for s in args.parts.split(",") if s.strip())
    bad = [s for s in parts if s not in PARTS]
    if bad:
        print(f"error: unknown part(s) {bad}", file=sys.stderr)
        return 2
    results = validate(run(device, args.quick, argv, None if args.no_progress else _bar, parts,
                           args.threads))
    out = args.out or default_out(results)
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(results, fh, indent=1)
        fh.write("\n")
    print(summary(results))
    print(f"wrote {out}")
    return 0
