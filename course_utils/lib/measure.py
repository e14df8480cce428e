"""One way to measure: timing, torch threads, the oneDNN switch and where a number came from.

    from course_utils.lib.measure import time_call, torch_threads, onednn, machine_info
    with torch_threads(1), onednn(False):
        t = time_call(lambda: model(x), warmup=2, repeats=15, device="cpu")
    t.median_ms, t.iqr_ms, t.min_ms          # milliseconds

Timing rules (the ones notebook 11 teaches): warm up first (allocation, kernel selection); on
CUDA bracket every call with CUDA events and read them after one synchronisation (CUDA work is
asynchronous); report the median and the inter-quartile range, and the minimum, which is the
estimate least disturbed by other jobs. ``torch.utils.benchmark.Timer`` times *blocks* of calls
(``blocked_autorange``), so it gives no per-call quartiles or minimum; we time calls one by one.

References: PyTorch "CUDA semantics: asynchronous execution"; pytorch/benchmarks (fastrnns).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import platform
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterator, Mapping


@dataclass(frozen=True)
class Timing:
    """Statistics of ``repeats`` timed calls, in milliseconds."""

    median_ms: float
    iqr_ms: float
    q1_ms: float
    q3_ms: float
    min_ms: float
    repeats: int

    @property
    def median_s(self) -> float:
        return self.median_ms / 1e3

    @property
    def min_s(self) -> float:
        return self.min_ms / 1e3

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (the keys the bench writes)."""
        return asdict(self)


def _stats(ms: list[float]) -> Timing:
    import numpy as np

    q1, med, q3 = np.percentile(np.asarray(ms, dtype=float), [25, 50, 75])
    return Timing(median_ms=float(med), iqr_ms=float(q3 - q1), q1_ms=float(q1),
                  q3_ms=float(q3), min_ms=float(min(ms)), repeats=len(ms))


def synchronize(device: str) -> None:
    """Wait for queued CUDA work (no-op on CPU)."""
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def _samples(fns: list[Callable[[], Any]], repeats: int, device: str) -> list[list[float]]:
    """``repeats`` rounds of one timed call of each function, in order; ms per call.

    CUDA: every call between two recorded events, all read after *one* synchronisation at the
    end, so the host keeps queueing work as it would in a real loop. CPU: ``perf_counter``."""
    samples: list[list[float]] = [[] for _ in fns]
    if device.startswith("cuda"):
        import torch

        events = []
        for _ in range(repeats):
            for k, fn in enumerate(fns):
                start, end = (torch.cuda.Event(enable_timing=True),
                              torch.cuda.Event(enable_timing=True))
                start.record()
                fn()
                end.record()
                events.append((k, start, end))
        torch.cuda.synchronize()
        for k, start, end in events:
            samples[k].append(float(start.elapsed_time(end)))
        return samples
    for _ in range(repeats):
        for k, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            samples[k].append((time.perf_counter() - t0) * 1e3)
    return samples


def time_interleaved(fns: Mapping[str, Callable[[], Any]], *, warmup: int = 1, repeats: int = 5,
                     device: str = "cpu") -> dict[str, Timing]:
    """Time several functions *interleaved*: each round calls every one once, so a burst of
    load from other jobs hits all of them alike. Returns one :class:`Timing` per name."""
    names, calls = list(fns), list(fns.values())
    for _ in range(warmup):
        for fn in calls:
            fn()
    synchronize(device)
    samples = _samples(calls, max(1, repeats), device)
    return {name: _stats(s) for name, s in zip(names, samples)}


def time_call(fn: Callable[[], Any], *, warmup: int = 3, repeats: int = 25, device: str = "cpu",
              budget_s: float | None = None) -> Timing:
    """Median, IQR and minimum (ms) of ``fn()`` over ``repeats`` calls after ``warmup`` calls.

    CUDA (``device`` "cuda..."): CUDA events around each call, read after one synchronisation.
    CPU: ``time.perf_counter`` around each call. With ``budget_s`` the number of repeats is cut
    (not below 3) so that the timed calls take about that long.
    """
    for _ in range(warmup):
        fn()
    synchronize(device)
    if budget_s is not None:
        t0 = time.perf_counter()
        fn()
        synchronize(device)
        one = max(time.perf_counter() - t0, 1e-6)
        repeats = int(max(3, min(repeats, budget_s / one)))
    return time_interleaved({"fn": fn}, warmup=0, repeats=repeats, device=device)["fn"]


class Stopwatch:
    """Accumulates the time spent inside ``with watch:`` blocks (seconds; CUDA-synchronised).

    The training loops use it to count only the update, not the bookkeeping around it."""

    def __init__(self, device: str = "cpu") -> None:
        self.device = device
        self.elapsed = 0.0
        self._start = 0.0

    def __enter__(self) -> Stopwatch:
        synchronize(self.device)
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        synchronize(self.device)
        self.elapsed += time.perf_counter() - self._start


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(n)`` (None: leave it), then restore the old
    count, also when the block raises. One thread keeps small recurrent loops fast and timings
    honest on a shared CPU (several OpenMP threads spin-wait for each other)."""
    import torch

    old = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


@contextlib.contextmanager
def onednn(enabled: bool) -> Iterator[None]:
    """``torch.backends.mkldnn.flags(enabled=...)`` without its Intel-GPU TF32 warning.

    On CPU, float32 ``nn.LSTM`` (and ``nn.RNN``) go through oneDNN when it is enabled (the
    default); ``nn.GRU`` has no oneDNN path."""
    import warnings

    import torch

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


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else what ``platform`` knows)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict[str, Any]:
    """Where and when a result was measured (no host or user names): CPU, versions, BLAS and
    oneDNN availability, the CUDA device, driver and cuDNN when present, the UTC date."""
    import numpy as np
    import torch

    info: dict[str, Any] = {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "platform": platform.platform(terse=True), "machine": platform.machine(),
        "cpu_model": cpu_model(), "cpu_count": os.cpu_count(),
        "python": platform.python_version(), "numpy": np.__version__, "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "mkl_available": bool(torch.backends.mkl.is_available()),
        "mkldnn_available": bool(torch.backends.mkldnn.is_available()),
        "cuda": torch.version.cuda, "gpu": None, "gpu_capability": None, "gpu_memory_gib": None,
        "cuda_driver": None, "cudnn": None,
    }
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info.update(gpu=torch.cuda.get_device_name(0), cudnn=torch.backends.cudnn.version(),
                    gpu_capability=f"{props.major}.{props.minor}",
                    gpu_memory_gib=round(props.total_memory / 2**30, 1),
                    cuda_driver=_cuda_driver())
    return info


def _cuda_driver() -> int | None:
    """The CUDA driver API version (e.g. 12040), or None where torch cannot tell."""
    try:
        import ctypes

        version = ctypes.c_int()
        lib = ctypes.CDLL("libcuda.so.1")
        return int(version.value) if lib.cuDriverGetVersion(ctypes.byref(version)) == 0 else None
    except (OSError, AttributeError):
        return None
