"""``python -m course_utils bench``: nn.LSTM vs nn.GRU on one device, JSON out (issue 6).

    python -m course_utils bench [--device cuda|cpu] [--quick] [--out FILE]

What one run measures, all on the same device, in the same process:

* **peaks**: a dense square matmul's achieved TFLOP/s per dtype (fastest repeat) (fp32 with the current TF32
  setting, TF32 forced on (CUDA), bf16) and a device-to-device copy bandwidth (GB/s), so every
  RNN figure can be read as a fraction of what *this* device really does;
* **grid**: nn.LSTM vs nn.GRU (cuDNN on CUDA), 1 layer, I = H, T = 128, H x B grid, inference
  (``no_grad`` forward) and training (forward + backward), fp32 and bf16;
* **T sweep**: time vs T at fixed H, B, and a least-squares fit ``t = a + b T`` separating the
  per-call overhead ``a`` from the per-step cost ``b``;
* **ladder**: implementations at pytorch's fastrnns shape (T = 100, B = 64, I = H = 512):
  torch.nn (cuDNN), cuDNN disabled, a Python loop over nn.LSTMCell / nn.GRUCell, and the
  course's :mod:`course_utils.lib.fast_rnn` (hoisted input GEMM, fused gate GEMM; CUDA graph).

Timing: warm-up calls, then ``repeats`` calls each bracketed by CUDA events (on CUDA, with a
synchronisation before reading them) or ``time.perf_counter`` (CPU); the median and the
inter-quartile range are recorded. Peak memory: ``torch.cuda.max_memory_allocated`` after
``reset_peak_memory_stats`` around one call (CUDA); ``null`` on CPU.

FLOPs: per step forward ``2 G B H (I + H)`` (G = 4 LSTM, 3 GRU: the GEMMs; pointwise work is
ignored); training counts 3x forward (backward = two GEMMs per forward GEMM).

Reference: Appleyard, Kociský & Blunsom (2016), arXiv:1604.01946; pytorch/benchmarks fastrnns.
``--quick`` is a small CPU-friendly grid (seconds) for CI and laptops.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import os
import platform
import sys
import time
from typing import Any, Callable, Iterator

SCHEMA = "rnn-course-bench/1"
KINDS = ("lstm", "gru")
GATES = {"lstm": 4, "gru": 3}
MODES = ("inference", "training")


# --------------------------------------------------------------------------- configuration
def plan(device: str, quick: bool) -> dict[str, Any]:
    """The grid, sweep and ladder shapes of a run (full on CUDA, ``quick`` for CI/laptops)."""
    if quick:
        return {"T": 16, "H": [32, 128], "B": [1, 4, 16], "dtypes": ["fp32"],
                "t_sweep": {"H": 64, "B": 16, "T": [8, 16, 32, 64]},
                "ladder": {"T": 16, "B": 16, "H": 64},
                "matmul_n": 512, "copy_mib": 64, "warmup": 1, "repeats": 5, "budget_s": 0.1,
                "threads": 1}
    big = device == "cuda"
    return {"T": 128, "H": [256, 512, 1024, 2048], "B": [1, 16, 64, 256],
            "dtypes": ["fp32", "bf16"] if big else ["fp32"],
            "t_sweep": {"H": 512, "B": 64, "T": [25, 50, 100, 200, 400, 800, 1600]},
            "ladder": {"T": 100, "B": 64, "H": 512},
            "matmul_n": 8192 if big else 2048, "copy_mib": 1024 if big else 256,
            "warmup": 3, "repeats": 25 if big else 7, "budget_s": 3.0 if big else 10.0,
            "threads": None}


def _dtype(name: str) -> Any:
    import torch

    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp64": torch.float64}[name]


# --------------------------------------------------------------------------- metadata
def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def metadata(device: str, quick: bool, argv: list[str]) -> dict[str, Any]:
    """The machine and software a result was measured on (no hostname, no user names)."""
    import numpy as np
    import torch

    meta: dict[str, Any] = {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": "python -m course_utils bench " + " ".join(argv),
        "device": device, "quick": quick,
        "python": platform.python_version(), "platform": platform.platform(terse=True),
        "numpy": np.__version__, "torch": torch.__version__,
        "cuda": torch.version.cuda, "cudnn": None, "gpu": None, "gpu_capability": None,
        "gpu_memory_gib": None,
        "cpu": {"model": _cpu_model(), "machine": platform.machine(),
                "logical_cores": os.cpu_count(), "torch_threads": torch.get_num_threads()},
        "tf32": {"cudnn_allow_tf32": bool(torch.backends.cudnn.allow_tf32),
                 "matmul_allow_tf32": bool(torch.backends.cuda.matmul.allow_tf32)},
        "cudnn_enabled": bool(torch.backends.cudnn.enabled) and device == "cuda",
        "timing": {"method": "cuda events" if device == "cuda" else "time.perf_counter",
                   "statistic": "median and IQR over repeats after warm-up"},
        "flops": "forward 2*G*B*H*(I+H) per step (G=4 LSTM, 3 GRU); training = 3x forward",
    }
    if device == "cuda":
        props = torch.cuda.get_device_properties(0)
        meta.update(gpu=torch.cuda.get_device_name(0), cudnn=torch.backends.cudnn.version(),
                    gpu_capability=f"{props.major}.{props.minor}",
                    gpu_memory_gib=round(props.total_memory / 2**30, 1))
    return meta


# --------------------------------------------------------------------------- timing
def _sync(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


def time_fn(fn: Callable[[], Any], device: str, warmup: int = 3, repeats: int = 25,
            budget_s: float | None = None) -> dict[str, Any]:
    """Median and IQR (ms) of ``fn()`` over ``repeats`` timed calls after ``warmup`` calls.

    CUDA: each call is bracketed by two CUDA events; all are read after one synchronisation.
    CPU: ``time.perf_counter`` around each call. With ``budget_s``, the number of repeats is
    cut (not below 3) so the timed calls take about that long.
    """
    import numpy as np

    for _ in range(warmup):
        fn()
    _sync(device)
    if budget_s is not None:
        t0 = time.perf_counter()
        fn()
        _sync(device)
        one = max(time.perf_counter() - t0, 1e-6)
        repeats = int(max(3, min(repeats, budget_s / one)))
    if device == "cuda":
        import torch

        events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
                  for _ in range(repeats)]
        for start, end in events:
            start.record()
            fn()
            end.record()
        torch.cuda.synchronize()
        ms = np.array([s.elapsed_time(e) for s, e in events])
    else:
        ms = np.empty(repeats)
        for k in range(repeats):
            t0 = time.perf_counter()
            fn()
            ms[k] = (time.perf_counter() - t0) * 1e3
    q1, med, q3 = np.percentile(ms, [25, 50, 75])
    return {"median_ms": float(med), "iqr_ms": float(q3 - q1), "q1_ms": float(q1),
            "q3_ms": float(q3), "min_ms": float(ms.min()), "repeats": int(repeats)}


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


# --------------------------------------------------------------------------- peaks
def measure_peaks(device: str, p: dict[str, Any]) -> dict[str, Any]:
    """Achieved dense-matmul TFLOP/s per dtype and copy bandwidth on this device."""
    import torch

    n = p["matmul_n"]
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
            t = time_fn(lambda: a @ b, device, p["warmup"], max(p["repeats"], 10),
                        max(p["budget_s"], 0.3))
        finally:
            torch.backends.cuda.matmul.allow_tf32 = old
        # a peak is what the device *can* do: the fastest repeat, not the median
        t.update(n=n, tflops=2 * n**3 / (t["min_ms"] * 1e-3) / 1e12)
        out["matmul"][name] = t
    numel = p["copy_mib"] * 2**20 // 4
    src = torch.empty(numel, device=device, dtype=torch.float32).uniform_()
    dst = torch.empty_like(src)
    t = time_fn(lambda: dst.copy_(src), device, p["warmup"], max(p["repeats"], 10),
                max(p["budget_s"], 0.3))
    out["copy_bandwidth_gbs"] = 2 * numel * 4 / (t["min_ms"] * 1e-3) / 1e9  # read + write, fastest
    out["copy"] = t
    return out


def step_flops(kind: str, B: int, H: int, I: int) -> float:
    """GEMM FLOPs of one forward time step: 2 G B H (I + H)."""
    return 2.0 * GATES[kind] * B * H * (I + H)


def run_flops(kind: str, T: int, B: int, H: int, I: int, mode: str) -> float:
    return T * step_flops(kind, B, H, I) * (3 if mode == "training" else 1)


# --------------------------------------------------------------------------- workloads
def make_call(module: Any, x: Any, mode: str, grad_out: Any = None) -> Callable[[], Any]:
    """A zero-argument closure running ``module(x)`` as inference or forward + backward."""
    import torch

    if mode == "inference":
        def infer() -> Any:
            with torch.no_grad():
                return module(x)
        return infer
    params = [q for q in module.parameters()] if hasattr(module, "parameters") else []

    def train() -> None:
        for q in params:
            q.grad = None
        out = module(x)
        out = out[0] if isinstance(out, tuple) else out
        out.backward(grad_out)
    return train


def _rnn(kind: str, H: int, I: int, device: str, dtype: Any) -> Any:
    import torch

    cls = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
    return cls(I, H).to(device=device, dtype=dtype)


def bench_shape(kind: str, T: int, B: int, H: int, I: int, mode: str, dtype_name: str,
                device: str, p: dict[str, Any], peaks: dict[str, Any],
                module: Any = None) -> dict[str, Any]:
    """Time one (kind, shape, mode, dtype) of torch.nn; returns a grid entry."""
    import torch

    dtype = _dtype(dtype_name)
    torch.manual_seed(0)
    module = module if module is not None else _rnn(kind, H, I, device, dtype)
    x = torch.randn(T, B, I, device=device, dtype=dtype)
    grad_out = torch.randn(T, B, H, device=device, dtype=dtype) if mode == "training" else None
    call = make_call(module, x, mode, grad_out)
    t = time_fn(call, device, p["warmup"], p["repeats"], p["budget_s"])
    entry = {"kind": kind, "T": T, "B": B, "H": H, "I": I, "mode": mode, "dtype": dtype_name, **t}
    entry["peak_mem_mib"] = peak_memory_mib(call, device)
    flops = run_flops(kind, T, B, H, I, mode)
    entry["tflops"] = flops / (t["median_ms"] * 1e-3) / 1e12
    ref = _peak_for(dtype_name, peaks)
    entry["frac_of_matmul_peak"] = entry["tflops"] / ref if ref else None
    return entry


def _peak_for(dtype_name: str, peaks: dict[str, Any]) -> float | None:
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


def guarded(what: str, measure: Callable[[], dict[str, Any]], skipped: list[dict[str, str]]
            ) -> dict[str, Any] | None:
    """``measure()``, or None after recording why it failed (an unsupported dtype, out of
    memory ...) in ``skipped``, so one bad configuration does not lose a long GPU run."""
    try:
        return measure()
    except (RuntimeError, NotImplementedError, ValueError) as exc:
        msg = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
        skipped.append({"what": what, "error": msg})
        print(f"skipped {what}: {msg}", file=sys.stderr)
        _free_memory()
        return None


def _free_memory() -> None:
    import gc

    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except Exception:  # noqa: BLE001 - best effort only
        pass


def run_t_sweep(device: str, p: dict[str, Any], peaks: dict[str, Any], progress: Any,
                skipped: list[dict[str, str]] | None = None) -> dict[str, Any]:
    s = p["t_sweep"]
    skipped = [] if skipped is None else skipped
    points, fits = [], []
    for kind in KINDS:
        for mode in MODES:
            rows = [guarded(f"t_sweep {kind} {mode} T={T}",
                            lambda T=T: bench_shape(kind, T, s["B"], s["H"], s["H"], mode, "fp32",
                                                    device, p, peaks), skipped)
                    for T in progress(s["T"], desc=f"T sweep {kind} {mode}")]
            rows = [r for r in rows if r is not None]
            points += rows
            if len(rows) >= 2:
                fit = fit_line([r["T"] for r in rows], [r["median_ms"] for r in rows])
                fits.append({"kind": kind, "mode": mode, **fit})
    return {"H": s["H"], "B": s["B"], "dtype": "fp32", "points": points, "fits": fits}


def _cell_loop(cell: Any, kind: str) -> Callable[[Any], Any]:
    import torch

    def loop(x: Any) -> Any:
        B, H = x.shape[1], cell.hidden_size
        h = x.new_zeros(B, H)
        state = (h, h) if kind == "lstm" else h
        outs = []
        for t in range(x.shape[0]):
            state = cell(x[t], state)
            outs.append(state[0] if kind == "lstm" else state)
        return torch.stack(outs)  # (T, B, H)
    return loop


def run_ladder(device: str, p: dict[str, Any], peaks: dict[str, Any], progress: Any,
               skipped: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """Implementations of the same LSTM / GRU at the fastrnns shape, fp32."""
    import torch

    from ...lib.fast_rnn import FastRNN, capture_cuda_graph

    L = p["ladder"]
    T, B, H = L["T"], L["B"], L["H"]
    I = H
    skipped = [] if skipped is None else skipped
    entries: list[dict[str, Any] | None] = []
    cuda = device == "cuda"
    for kind in KINDS:
        torch.manual_seed(0)
        nn_mod = _rnn(kind, H, I, device, torch.float32)
        cell = (torch.nn.LSTMCell if kind == "lstm" else torch.nn.GRUCell)(I, H).to(device)
        with torch.no_grad():  # the same weights everywhere
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(cell, name).copy_(getattr(nn_mod, name + "_l0"))
        fast = FastRNN.from_torch(nn_mod)
        x = torch.randn(T, B, I, device=device)
        loop = _cell_loop(cell, kind)
        impls: list[tuple[str, Callable[[Any], Any], Any]] = [
            ("torch.nn (cuDNN)" if cuda else "torch.nn", lambda v: nn_mod(v)[0], None)]
        if cuda:
            impls.append(("torch.nn, cuDNN off", lambda v: nn_mod(v)[0],
                          lambda: torch.backends.cudnn.flags(enabled=False)))
        impls += [(f"Python loop over nn.{'LSTM' if kind == 'lstm' else 'GRU'}Cell", loop, None),
                  ("course fast (hoisted + fused GEMM)", lambda v: fast(v)[0], None)]
        params = list(nn_mod.parameters()) + list(cell.parameters())
        for name, fn, ctx in progress(impls, desc=f"ladder {kind}"):
            for mode in MODES:
                entries.append(guarded(
                    f"ladder {kind} {name} {mode}",
                    lambda fn=fn, ctx=ctx, mode=mode, name=name: _ladder_entry(
                        kind, name, fn, ctx, x, mode, device, p, peaks, T, B, H, I, params), skipped))
        if cuda:  # the fast forward captured once as a CUDA graph (inference only)
            entries.append(guarded(
                f"ladder {kind} CUDA graph",
                lambda: _ladder_entry(kind, "course fast + CUDA graph",
                                      capture_cuda_graph(lambda v: fast(v)[0], x), None, x,
                                      "inference", device, p, peaks, T, B, H, I, params), skipped))
    done = [e for e in entries if e is not None]
    base = {(e["kind"], e["mode"]): e["median_ms"] for e in done
            if e["impl"].startswith("torch.nn") and "off" not in e["impl"]}
    done = [e for e in done if (e["kind"], e["mode"]) in base]
    for e in done:
        e["ratio_to_torch_nn"] = e["median_ms"] / base[(e["kind"], e["mode"])]
    best_fast = {}
    for kind in KINDS:
        fast_rows = [e["ratio_to_torch_nn"] for e in done if e["kind"] == kind
                     and e["mode"] == "inference" and e["impl"].startswith("course fast")]
        if fast_rows:
            best_fast[kind] = min(fast_rows)
    entries = done  # type: ignore[assignment]
    return {"T": T, "B": B, "H": H, "I": I, "dtype": "fp32", "entries": entries,
            "fast_forward_ratio_to_torch_nn": best_fast, "target_ratio": 1.5,
            "target": "course fast LSTM forward within 1.5x of cuDNN on an H100"}


def _ladder_entry(kind: str, impl: str, fn: Callable[[Any], Any], ctx: Any, x: Any, mode: str,
                  device: str, p: dict[str, Any], peaks: dict[str, Any],
                  T: int, B: int, H: int, I: int, params: list[Any] = ()) -> dict[str, Any]:
    import torch

    grad_out = torch.randn(T, B, H, device=device)

    def call() -> Any:
        with (ctx() if ctx else contextlib.nullcontext()):
            if mode == "inference":
                with torch.no_grad():
                    return fn(x)
            for q in params:  # as in the grid: fresh gradients every call
                q.grad = None
            out = fn(x)
            out.backward(grad_out)
            return None

    t = time_fn(call, device, p["warmup"], p["repeats"], p["budget_s"])
    tflops = run_flops(kind, T, B, H, I, mode) / (t["median_ms"] * 1e-3) / 1e12
    ref = _peak_for("fp32", peaks)
    return {"kind": kind, "impl": impl, "mode": mode, **t, "tflops": tflops,
            "frac_of_matmul_peak": tflops / ref if ref else None,
            "peak_mem_mib": peak_memory_mib(call, device)}


# --------------------------------------------------------------------------- the run
def run(device: str = "cpu", quick: bool = False, argv: list[str] | None = None,
        progress: Any = None, parts: tuple[str, ...] = ("grid", "t_sweep", "ladder"),
        threads: int | None = None) -> dict[str, Any]:
    """Run the benchmark and return the results dict (the JSON that ``main`` writes)."""
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda asked for, but torch.cuda.is_available() is False")
    if progress is None:
        def progress(it: Any, desc: str = "") -> Any:  # noqa: ARG001 - no bar by default
            return it
    p = plan(device, quick)
    if threads is not None:
        p["threads"] = threads
    with torch_threads(p["threads"]):
        return _run(device, quick, argv or [], progress, parts, p)


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(n)`` (None: leave as is), then restore.

    ``--quick`` uses one thread: on a CPU shared with other programs, several OpenMP threads
    spin-wait for each other and a 1 ms call can take a second; one thread stays honest."""
    import torch

    old = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _run(device: str, quick: bool, argv: list[str], progress: Any, parts: tuple[str, ...],
         p: dict[str, Any]) -> dict[str, Any]:
    import torch

    torch.manual_seed(0)
    results: dict[str, Any] = {"schema": SCHEMA, "meta": metadata(device, quick, argv),
                               "plan": p}
    peaks = measure_peaks(device, p)
    results["peaks"] = peaks
    skipped: list[dict[str, str]] = []
    if "grid" in parts:
        grid = []
        combos = [(k, H, B, m, d) for d in p["dtypes"] for m in MODES for H in p["H"]
                  for B in p["B"] for k in KINDS]
        for kind, H, B, mode, dt in progress(combos, desc="grid"):
            e = guarded(f"grid {kind} H={H} B={B} {mode} {dt}",
                        lambda: bench_shape(kind, p["T"], B, H, H, mode, dt, device, p, peaks), skipped)
            if e is not None:
                grid.append(e)
        results["grid"] = grid
        results["gru_lstm_ratios"] = gru_lstm_ratios(grid)
    if "t_sweep" in parts:
        results["t_sweep"] = run_t_sweep(device, p, peaks, progress, skipped)
    if "ladder" in parts:
        results["ladder"] = run_ladder(device, p, peaks, progress, skipped)
    results["skipped"] = skipped
    return results


def gru_lstm_ratios(grid: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """GRU time / LSTM time per (H, B, mode, dtype); the FLOP ratio is 3/4 = 0.75."""
    by = {(e["kind"], e["H"], e["B"], e["mode"], e["dtype"]): e for e in grid}
    out = []
    for (kind, H, B, mode, dt), gru in by.items():
        lstm = by.get(("lstm", H, B, mode, dt))
        if kind == "gru" and lstm is not None:
            out.append({"H": H, "B": B, "mode": mode, "dtype": dt,
                        "time_ratio": gru["median_ms"] / lstm["median_ms"], "flop_ratio": 0.75})
    return out


# --------------------------------------------------------------------------- schema
_ENTRY_NUM = ("median_ms", "iqr_ms", "q1_ms", "q3_ms", "min_ms", "tflops")


def validate_results(results: dict[str, Any]) -> dict[str, Any]:
    """Check that ``results`` has the schema this module writes; raise ValueError listing
    every problem, else return ``results``. Used by the tests and by notebook 09 when it
    loads committed ``results/*.json``."""
    problems: list[str] = []

    def need(obj: Any, key: str, types: Any, where: str, nullable: bool = False) -> Any:
        if not isinstance(obj, dict) or key not in obj:
            problems.append(f"{where}: missing {key!r}")
            return None
        val = obj[key]
        if val is None and nullable:
            return None
        if isinstance(val, bool) and types in ((int, float), float, int):
            problems.append(f"{where}.{key}: expected a number, got a bool")
        elif not isinstance(val, types):
            problems.append(f"{where}.{key}: expected {getattr(types, '__name__', types)}, "
                            f"got {type(val).__name__}")
            return None
        return val

    def timed(e: Any, where: str, memory: bool = True) -> None:
        for k in _ENTRY_NUM:
            v = need(e, k, (int, float), where)
            if v is not None and (v != v or v < 0):
                problems.append(f"{where}.{k}: must be a non-negative number, got {v}")
        if isinstance(e, dict) and all(isinstance(e.get(k), (int, float))
                                       for k in ("q1_ms", "median_ms", "q3_ms")):
            if not e["q1_ms"] <= e["median_ms"] <= e["q3_ms"]:
                problems.append(f"{where}: median not between q1 and q3")
        need(e, "repeats", int, where)
        if memory:
            need(e, "peak_mem_mib", (int, float), where, nullable=True)

    if not isinstance(results, dict):
        raise ValueError("results must be a dict (the JSON object written by the bench)")
    if results.get("schema") != SCHEMA:
        problems.append(f"schema must be {SCHEMA!r}, got {results.get('schema')!r}")
    meta = need(results, "meta", dict, "results")
    if meta is not None:
        for k in ("date", "command", "device", "python", "platform", "torch"):
            need(meta, k, str, "meta")
        need(meta, "quick", bool, "meta")
        for k in ("cuda", "gpu", "gpu_capability"):
            need(meta, k, str, "meta", nullable=True)
        need(meta, "cudnn", int, "meta", nullable=True)
        cpu = need(meta, "cpu", dict, "meta")
        if cpu is not None:
            need(cpu, "model", str, "meta.cpu")
            need(cpu, "logical_cores", int, "meta.cpu", nullable=True)
        tf32 = need(meta, "tf32", dict, "meta")
        if tf32 is not None:
            need(tf32, "cudnn_allow_tf32", bool, "meta.tf32")
            need(tf32, "matmul_allow_tf32", bool, "meta.tf32")
        if meta.get("device") == "cuda" and not meta.get("gpu"):
            problems.append("meta.gpu: a CUDA result must name its GPU")
        if meta.get("device") == "cpu" and meta.get("gpu") is not None:
            problems.append("meta.gpu: a CPU result must have gpu = null")
    peaks = need(results, "peaks", dict, "results")
    if peaks is not None:
        mm = need(peaks, "matmul", dict, "peaks")
        if mm is not None:
            if "fp32" not in mm:
                problems.append("peaks.matmul: missing 'fp32'")
            for name, e in mm.items():
                timed(e, f"peaks.matmul.{name}", memory=False)
                need(e, "n", int, f"peaks.matmul.{name}")
        need(peaks, "copy_bandwidth_gbs", (int, float), "peaks")
    grid = results.get("grid")
    if grid is not None:
        if not isinstance(grid, list) or not grid:
            problems.append("grid: must be a non-empty list")
        else:
            for i, e in enumerate(grid):
                w = f"grid[{i}]"
                timed(e, w)
                for k in ("T", "B", "H", "I"):
                    need(e, k, int, w)
                if isinstance(e, dict):
                    if e.get("kind") not in KINDS:
                        problems.append(f"{w}.kind: must be one of {KINDS}")
                    if e.get("mode") not in MODES:
                        problems.append(f"{w}.mode: must be one of {MODES}")
                    if e.get("dtype") not in ("fp32", "bf16"):
                        problems.append(f"{w}.dtype: must be 'fp32' or 'bf16'")
                need(e, "frac_of_matmul_peak", (int, float), w, nullable=True)
            ratios = need(results, "gru_lstm_ratios", list, "results")
            for i, r in enumerate(ratios or []):
                need(r, "time_ratio", (int, float), f"gru_lstm_ratios[{i}]")
    sweep = results.get("t_sweep")
    if sweep is not None:
        pts = need(sweep, "points", list, "t_sweep")
        for i, e in enumerate(pts or []):
            timed(e, f"t_sweep.points[{i}]")
        fits = need(sweep, "fits", list, "t_sweep")
        for i, f in enumerate(fits or []):
            for k in ("a_ms", "b_ms_per_step", "r2"):
                need(f, k, (int, float), f"t_sweep.fits[{i}]")
    ladder = results.get("ladder")
    if ladder is not None:
        ent = need(ladder, "entries", list, "ladder")
        for i, e in enumerate(ent or []):
            timed(e, f"ladder.entries[{i}]")
            need(e, "impl", str, f"ladder.entries[{i}]")
            need(e, "ratio_to_torch_nn", (int, float), f"ladder.entries[{i}]")
        need(ladder, "fast_forward_ratio_to_torch_nn", dict, "ladder")
    skipped = results.get("skipped", [])
    if not isinstance(skipped, list):
        problems.append("skipped: must be a list")
    else:
        for i, sk in enumerate(skipped):
            need(sk, "what", str, f"skipped[{i}]")
            need(sk, "error", str, f"skipped[{i}]")
    if not any(k in results for k in ("grid", "t_sweep", "ladder")):
        problems.append("results: no 'grid', 't_sweep' or 'ladder' section")
    if problems:
        raise ValueError("invalid bench results:\n  " + "\n  ".join(problems))
    return results


def load_results(path: str) -> dict[str, Any]:
    """Read and validate one results JSON file."""
    with open(path, encoding="utf-8") as fh:
        return validate_results(json.load(fh))


# --------------------------------------------------------------------------- summary / CLI
def summary(results: dict[str, Any]) -> str:
    """A few plain-text lines: peaks, ladder ratios, median GRU/LSTM time ratio."""
    import numpy as np

    m = results["meta"]
    lines = [f"device {m['device']} ({m['gpu'] or m['cpu']['model']}), torch {m['torch']}"]
    for name, e in results["peaks"]["matmul"].items():
        lines.append(f"matmul {name}: {e['tflops']:.2f} TFLOP/s (n={e['n']})")
    lines.append(f"copy bandwidth: {results['peaks']['copy_bandwidth_gbs']:.1f} GB/s")
    if "gru_lstm_ratios" in results:
        for mode in MODES:
            r = [x["time_ratio"] for x in results["gru_lstm_ratios"] if x["mode"] == mode]
            if r:
                lines.append(f"GRU/LSTM time, {mode}: median {np.median(r):.2f} "
                             f"(range {min(r):.2f}-{max(r):.2f}; FLOP ratio 0.75)")
    if "t_sweep" in results:
        for f in results["t_sweep"]["fits"]:
            lines.append(f"T sweep {f['kind']} {f['mode']}: {f['a_ms']:.3f} ms + "
                         f"{f['b_ms_per_step'] * 1e3:.1f} us/step (R^2 {f['r2']:.3f})")
    if "ladder" in results:
        for kind, r in results["ladder"]["fast_forward_ratio_to_torch_nn"].items():
            lines.append(f"ladder {kind}: course fast forward / torch.nn = {r:.2f}x")
    if results.get("skipped"):
        lines.append(f"skipped {len(results['skipped'])} configuration(s): see 'skipped' in the JSON")
    return "\n".join(lines)


def ledger_rows(results: dict[str, Any]) -> list[dict[str, str]]:
    """Claims-ledger rows (notebook 08's format: claim, verdict, evidence, where) from one run.

    Verdicts: "supported" / "not supported" / "mixed" (GRU faster on some shapes, slower on
    others) / "not measured". Only what this run measured is judged; everything else says so.
    """
    import numpy as np

    m = results["meta"]
    where = (f"{m['gpu']} (torch {m['torch']}, cuDNN {m['cudnn']})" if m["device"] == "cuda"
             else f"CPU {m['cpu']['model']}, {m['cpu']['torch_threads']} thread(s), torch {m['torch']}")
    where += ", quick grid" if m["quick"] else ""
    rows = []
    ratios = results.get("gru_lstm_ratios", [])
    for mode in MODES:
        r = np.array([x["time_ratio"] for x in ratios if x["mode"] == mode and x["dtype"] == "fp32"])
        if r.size == 0:
            continue
        faster = float((r < 1).mean())
        verdict = "supported" if faster == 1 else "not supported" if faster == 0 else "mixed"
        rows.append({"claim": f"GRU is faster than LSTM ({mode}, fp32)", "verdict": verdict,
                     "evidence": f"GRU/LSTM time median {np.median(r):.2f} (range {r.min():.2f}-"
                                 f"{r.max():.2f}) over {r.size} shapes; GRU faster on "
                                 f"{round(100 * faster)}%; FLOP ratio 0.75", "where": where})
    rows.append({"claim": "GRU needs fewer FLOPs than LSTM", "verdict": "supported",
                 "evidence": "3 vs 4 gate GEMMs per step: ratio 0.75 at every shape (by count)",
                 "where": "any device"})
    mem = [(e, o) for e in results.get("grid", []) for o in results.get("grid", [])
           if e["kind"] == "gru" and o["kind"] == "lstm" and e["peak_mem_mib"] is not None
           and o["peak_mem_mib"] is not None and e["mode"] == o["mode"] == "training"
           and (e["H"], e["B"], e["dtype"]) == (o["H"], o["B"], o["dtype"])]
    if mem:
        r = np.array([e["peak_mem_mib"] / o["peak_mem_mib"] for e, o in mem])
        rows.append({"claim": "GRU uses less memory than LSTM (training)",
                     "verdict": "supported" if (r < 1).all() else "mixed" if (r < 1).any() else "not supported",
                     "evidence": f"peak-memory ratio GRU/LSTM median {np.median(r):.2f} "
                                 f"(range {r.min():.2f}-{r.max():.2f}) over {r.size} shapes", "where": where})
    else:
        rows.append({"claim": "GRU uses less memory than LSTM (training)", "verdict": "not measured",
                     "evidence": "peak memory is recorded on CUDA only (torch.cuda.max_memory_allocated)",
                     "where": where})
    lad = results.get("ladder")
    if (lad and m["device"] == "cuda" and m["gpu"] and "H100" in m["gpu"] and not m["quick"]
            and "lstm" in lad["fast_forward_ratio_to_torch_nn"]):
        r = lad["fast_forward_ratio_to_torch_nn"]["lstm"]
        rows.append({"claim": "the course's fast LSTM forward is within 1.5x of cuDNN on an H100",
                     "verdict": "supported" if r <= 1.5 else "not supported",
                     "evidence": f"fast / cuDNN forward time {r:.2f}x at T={lad['T']}, B={lad['B']}, "
                                 f"H={lad['H']}", "where": where})
    else:
        rows.append({"claim": "the course's fast LSTM forward is within 1.5x of cuDNN on an H100",
                     "verdict": "not measured", "evidence": "needs a full run on an H100: "
                     "python -m course_utils bench --device cuda", "where": where})
    return rows


def default_out(results: dict[str, Any]) -> str:
    """``results/gpu_<gpu name>_<full|quick>.json`` or ``results/cpu_<full|quick>_<date>.json``."""
    import re

    m = results["meta"]
    size = "quick" if m["quick"] else "full"
    if m["device"] == "cuda":
        name = re.sub(r"[^a-z0-9]+", "_", m["gpu"].lower()).strip("_")
        return os.path.join("results", f"gpu_{name}_{size}.json")
    return os.path.join("results", f"cpu_{size}_{m['date'][:10].replace('-', '')}.json")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m course_utils bench",
                                     description="nn.LSTM vs nn.GRU benchmark, JSON out.")
    parser.add_argument("--device", choices=("cuda", "cpu"), default=None,
                        help="default: cuda if available, else cpu")
    parser.add_argument("--quick", action="store_true", help="small grid, seconds on a CPU")
    parser.add_argument("--out", default=None, help="JSON file to write (default: "
                        "results/<device>_<quick|full>_<date>.json)")
    parser.add_argument("--parts", default="grid,t_sweep,ladder",
                        help="comma-separated subset of grid,t_sweep,ladder")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: 1 with --quick, torch's default otherwise)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        print("error: --device cuda, but no CUDA device is visible to torch", file=sys.stderr)
        return 2
    parts = tuple(s.strip() for s in args.parts.split(",") if s.strip())
    bad = [s for s in parts if s not in ("grid", "t_sweep", "ladder")]
    if bad:
        print(f"error: unknown part(s) {bad}", file=sys.stderr)
        return 2
    progress = None
    if not args.no_progress:
        from tqdm.auto import tqdm

        def progress(it: Any, desc: str = "") -> Any:
            return tqdm(it, desc=desc, leave=False, file=sys.stderr)
    results = validate_results(run(device, args.quick, argv, progress, parts, args.threads))
    out = args.out or default_out(results)
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(results, fh, indent=1)
        fh.write("\n")
    print(summary(results))
    print(f"wrote {out}")
    return 0
