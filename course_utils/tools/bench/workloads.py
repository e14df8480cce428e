"""The measured workloads of ``bench``: device peaks, the LSTM/GRU grid and the T sweep
(the implementation ladder is :mod:`.ladder`).

Every timing goes through :func:`course_utils.lib.measure.time_call` (warm-up, CUDA events,
median / IQR / min); FLOPs come from :mod:`course_utils.lib.counts` (GEMMs only: forward
2·G·B·H·(I + H) per step, training 3x forward). Peak memory: ``torch.cuda.max_memory_allocated``
after ``reset_peak_memory_stats`` around one call (CUDA); ``None`` on CPU.
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

from ...lib import counts
from ...lib.measure import time_call
from .plan import KINDS, MODES, Plan


def no_bar(it: Any, desc: str = "") -> Any:  # noqa: ARG001 - same signature as a tqdm wrapper
    return it


@dataclass
class Context:
    """What every workload needs: device, plan, the measured peaks, where failures go."""

    device: str
    plan: Plan
    peaks: dict[str, Any] = field(default_factory=dict)
    skipped: list[dict[str, str]] = field(default_factory=list)
    progress: Callable[..., Any] = no_bar


@dataclass(frozen=True)
class Shape:
    """One timed configuration of a recurrent layer (I = input size)."""

    kind: str
    T: int
    B: int
    H: int
    I: int
    mode: str
    dtype: str = "fp32"

    def flops(self) -> float:
        return counts.gemm_flops(self.kind, self.T, self.B, self.I, self.H,
                                 training=self.mode == "training")


def torch_dtype(name: str) -> Any:
    import torch

    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp64": torch.float64}[name]


def peak_memory_mib(fn: Callable[[], Any], device: str) -> float | None:
    """``torch.cuda.max_memory_allocated`` during one call of ``fn`` (MiB); None on CPU."""
    if device != "cuda":
        return None
    import torch

    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    fn()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() / 2**20


def timed(ctx: Context, fn: Callable[[], Any], floor: tuple[int, float] | None = None
          ) -> dict[str, Any]:
    """``time_call`` with the plan's warm-up, repeats and budget (``floor``: at least these
    repeats and seconds, for the peaks), as the JSON dict."""
    p = ctx.plan
    repeats, budget = p.repeats, p.budget_s
    if floor is not None:
        repeats, budget = max(repeats, floor[0]), max(budget or 0.0, floor[1])
    return time_call(fn, warmup=p.warmup, repeats=repeats, device=ctx.device,
                     budget_s=budget).as_dict()


# --------------------------------------------------------------------------- peaks
def measure_peaks(device: str, plan: Plan) -> dict[str, Any]:
    """Achieved dense-matmul TFLOP/s per dtype (the fastest repeat: what the device *can*
    do) and device-to-device copy bandwidth (GB/s, read + write)."""
    import torch

    ctx, n = Context(device, plan), plan.matmul_n
    out: dict[str, Any] = {"matmul": {}, "copy_bandwidth_gbs": None}
    variants = [("fp32", torch.float32, None), ("bf16", torch.bfloat16, None)]
    if device == "cuda":
        variants.insert(1, ("tf32", torch.float32, True))
    gen = torch.Generator(device=device).manual_seed(0)
    for name, dtype, tf32 in variants:
        a = torch.randn(n, n, device=device, dtype=dtype, generator=gen)
        b = torch.randn(n, n, device=device, dtype=dtype, generator=gen)
        old = torch.backends.cuda.matmul.allow_tf32
        if tf32 is not None:
            torch.backends.cuda.matmul.allow_tf32 = tf32
        try:
            t = timed(ctx, functools.partial(torch.matmul, a, b), floor=(10, 0.3))
        finally:
            torch.backends.cuda.matmul.allow_tf32 = old
        t.update(n=n, tflops=2 * n**3 / (t["min_ms"] * 1e-3) / 1e12)
        out["matmul"][name] = t
    numel = plan.copy_mib * 2**20 // 4
    src = torch.empty(numel, device=device, dtype=torch.float32).uniform_()
    dst = torch.empty_like(src)
    t = timed(ctx, lambda: dst.copy_(src), floor=(10, 0.3))
    out["copy_bandwidth_gbs"] = 2 * numel * 4 / (t["min_ms"] * 1e-3) / 1e9
    out["copy"] = t
    return out


def peak_for(dtype_name: str, peaks: dict[str, Any]) -> float | None:
    """The matmul peak an RNN entry is compared with: bf16 with bf16; fp32 with TF32 when
    cuDNN may use TF32 (its default), else plain fp32."""
    import torch

    mm = peaks.get("matmul", {})
    if dtype_name == "bf16":
        key = "bf16"
    elif "tf32" in mm and torch.backends.cudnn.allow_tf32:
        key = "tf32"
    else:
        key = "fp32"
    return mm.get(key, {}).get("tflops")


def entry_stats(ctx: Context, shape: Shape, call: Callable[[], Any]) -> dict[str, Any]:
    """Timing, achieved TFLOP/s, fraction of the matmul peak and peak memory of one call."""
    t = timed(ctx, call)
    t["tflops"] = shape.flops() / (t["median_ms"] * 1e-3) / 1e12
    ref = peak_for(shape.dtype, ctx.peaks)
    t["frac_of_matmul_peak"] = t["tflops"] / ref if ref else None
    t["peak_mem_mib"] = peak_memory_mib(call, ctx.device)
    return t


# --------------------------------------------------------------------------- grid & sweep
def make_call(module: Any, x: Any, mode: str, grad_out: Any = None) -> Callable[[], Any]:
    """A zero-argument closure running ``module(x)`` as inference (``no_grad``) or as
    forward + backward with fresh gradients every call."""
    import torch

    if mode == "inference":
        def infer() -> Any:
            with torch.no_grad():
                return module(x)
        return infer
    params = list(module.parameters()) if hasattr(module, "parameters") else []

    def train() -> None:
        for q in params:
            q.grad = None
        out = module(x)
        out = out[0] if isinstance(out, tuple) else out
        out.backward(grad_out)
    return train


def bench_shape(ctx: Context, shape: Shape) -> dict[str, Any]:
    """Time one (kind, shape, mode, dtype) of torch.nn.LSTM / GRU; returns a grid entry."""
    import torch

    dtype = torch_dtype(shape.dtype)
    torch.manual_seed(0)
    cls = torch.nn.LSTM if shape.kind == "lstm" else torch.nn.GRU
    module = cls(shape.I, shape.H).to(device=ctx.device, dtype=dtype)
    x = torch.randn(shape.T, shape.B, shape.I, device=ctx.device, dtype=dtype)  # (T, B, I)
    grad_out = (torch.randn(shape.T, shape.B, shape.H, device=ctx.device, dtype=dtype)
                if shape.mode == "training" else None)  # (T, B, H)
    call = make_call(module, x, shape.mode, grad_out)
    return {"kind": shape.kind, "T": shape.T, "B": shape.B, "H": shape.H, "I": shape.I,
            "mode": shape.mode, "dtype": shape.dtype, **entry_stats(ctx, shape, call)}


def guarded(ctx: Context, what: str, measure: Callable[..., dict[str, Any]], *args: Any
            ) -> dict[str, Any] | None:
    """``measure(*args)``, or None after recording why it failed (an unsupported dtype, out of
    memory ...) in ``ctx.skipped``, so one bad configuration does not lose a long GPU run."""
    try:
        return measure(*args)
    except (RuntimeError, NotImplementedError, ValueError) as exc:
        msg = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
        ctx.skipped.append({"what": what, "error": msg})
        print(f"skipped {what}: {msg}", file=sys.stderr)
        free_memory()
        return None


def free_memory() -> None:
    import gc

    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except Exception:  # noqa: BLE001 - best effort only
        pass


def run_grid(ctx: Context) -> list[dict[str, Any]]:
    """nn.LSTM vs nn.GRU over the plan's H x B x mode x dtype grid (I = H, T = plan.T)."""
    p = ctx.plan
    combos = [Shape(k, p.T, B, H, H, m, d) for d in p.dtypes for m in MODES for H in p.H
              for B in p.B for k in KINDS]
    grid = []
    for s in ctx.progress(combos, desc="grid"):
        e = guarded(ctx, f"grid {s.kind} H={s.H} B={s.B} {s.mode} {s.dtype}", bench_shape, ctx, s)
        if e is not None:
            grid.append(e)
    return grid


def gru_lstm_ratios(grid: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """GRU time / LSTM time per (H, B, mode, dtype); the FLOP ratio is 3/4 = 0.75."""
    flop_ratio = counts.gate_blocks("gru") / counts.gate_blocks("lstm")
    by = {(e["kind"], e["H"], e["B"], e["mode"], e["dtype"]): e for e in grid}
    out = []
    for (kind, H, B, mode, dt), gru in by.items():
        lstm = by.get(("lstm", H, B, mode, dt))
        if kind == "gru" and lstm is not None:
            out.append({"H": H, "B": B, "mode": mode, "dtype": dt,
                        "time_ratio": gru["median_ms"] / lstm["median_ms"],
                        "flop_ratio": flop_ratio})
    return out


def fit_line(T: list[float], ms: list[float]) -> dict[str, float]:
    """Least-squares ``t = a + b T``: a = per-call overhead (ms), b = per-step cost (ms)."""
    import numpy as np

    A = np.stack([np.ones(len(T)), np.asarray(T, float)], axis=1)  # (n, 2)
    y = np.asarray(ms, float)
    (a, b), *_ = np.linalg.lstsq(A, y, rcond=None)
    resid = y - A @ np.array([a, b])
    ss_tot = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float((resid**2).sum()) / ss_tot if ss_tot > 0 else 1.0
    return {"a_ms": float(a), "b_ms_per_step": float(b), "r2": r2}


def run_t_sweep(ctx: Context) -> dict[str, Any]:
    """Time against T at the plan's sweep shape, and the fit ``a + b T`` per kind and mode."""
    s = ctx.plan.t_sweep
    points, fits = [], []
    for kind in KINDS:
        for mode in MODES:
            rows = [guarded(ctx, f"t_sweep {kind} {mode} T={T}", bench_shape, ctx,
                            Shape(kind, T, s.B, s.H, s.H, mode))
                    for T in ctx.progress(s.T, desc=f"T sweep {kind} {mode}")]
            done = [r for r in rows if r is not None]
            points += done
            if len(done) >= 2:
                fit = fit_line([r["T"] for r in done], [r["median_ms"] for r in done])
                fits.append({"kind": kind, "mode": mode, **fit})
    return {"H": s.H, "B": s.B, "dtype": "fp32", "points": points, "fits": fits}

