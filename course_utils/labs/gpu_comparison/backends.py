"""Which backend ran, compared like with like, and checked with the PyTorch profiler.

On a CPU ``torch.nn.LSTM`` (unpacked input, float32) runs oneDNN's fused RNN primitive
(``aten::mkldnn_rnn_layer``: the whole layer in one call); with oneDNN switched off it runs
ATen's own C++ loop, op by op (``aten::addmm`` and pointwise ops per step, the input GEMM
hoisted as here). A Python loop runs the same ops as that C++ loop, so

* Python loop vs ATen's loop (oneDNN off) = the interpreter's cost, like with like;
* ATen's loop vs oneDNN = what the fused kernel buys.

On CUDA the same switch is ``torch.backends.cudnn.flags(enabled=False)``. :func:`profile_ops`
runs one call under ``torch.profiler`` and returns the ops that ran (self time, calls), so a
cell can *show* which backend ran instead of asserting it.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Any, Callable, Iterator


@contextlib.contextmanager
def library_backend(device: str, enabled: bool) -> Iterator[None]:
    """oneDNN (CPU) or cuDNN (CUDA) on or off for ``torch.nn`` recurrent layers."""
    import torch

    flags = torch.backends.cudnn.flags if device == "cuda" else torch.backends.mkldnn.flags
    with warnings.catch_warnings():  # mkldnn.flags warns about TF32 on every call
        warnings.simplefilter("ignore")
        ctx = flags(enabled=enabled)
        ctx.__enter__()
    try:
        yield
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ctx.__exit__(None, None, None)


def library_name(device: str) -> str:
    return "cuDNN" if device == "cuda" else "oneDNN"


def lstm_not_hoisted(x: Any, h0: Any, c0: Any, W_ih: Any, W_hh: Any, b_ih: Any, b_hh: Any
                     ) -> tuple[Any, tuple[Any, Any]]:
    """A plain LSTM (no peepholes) as a Python loop with the input GEMM left in the loop: two
    ``addmm`` per step. Its hoisted partner is :func:`course_utils.lib.fast_rnn.lstm_hoisted`
    (one ``addmm`` before the loop, one per step): the ops ATen's C++ loop issues."""
    import torch

    bias = b_ih + b_hh
    h, c, outs = h0, c0, []
    for t in range(x.shape[0]):
        a = torch.addmm(torch.addmm(bias, x[t], W_ih.T), h, W_hh.T)  # (B, 4H): 2 GEMMs a step
        i, f, g, o = a.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outs.append(h)
    return torch.stack(outs), (h, c)


@contextlib.contextmanager
def _quiet_stderr_fd() -> Iterator[None]:
    """Silence file descriptor 2 (the profiler's C++ start/stop log lines) for a moment."""
    import os
    import sys

    try:
        sys.stderr.flush()
        saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError, AttributeError):
        yield
        return
    os.dup2(null, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def profile_ops(call: Callable[[], Any], device: str, calls: int = 3) -> dict[str, Any]:
    """``calls`` calls of ``call`` (after one warm-up) under ``torch.profiler``: ``ops`` =
    [(name, self ms, total ms, calls)] per call (self: in the op itself; total: with the ops it
    called), sorted by self time; ``op_ms`` the sum of self times, ``wall_ms`` the wall time per
    call under the profiler (which slows small ops: read shares, not times)."""
    import time

    import torch
    from torch.profiler import ProfilerActivity, profile

    call()
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == "cuda" else [])
    with warnings.catch_warnings(), _quiet_stderr_fd():
        warnings.simplefilter("ignore")
        with profile(activities=acts) as prof:
            t0 = time.perf_counter()
            for _ in range(calls):
                call()
            if device == "cuda":
                torch.cuda.synchronize()
            wall = (time.perf_counter() - t0) * 1e3 / calls
    rows = [(e.key, e.self_cpu_time_total / 1e3 / calls, e.cpu_time_total / 1e3 / calls,
             round(e.count / calls)) for e in prof.key_averages()]
    rows.sort(key=lambda r: -r[1])
    return {"ops": rows, "op_ms": sum(r[1] for r in rows), "wall_ms": wall,
            "calls": sum(r[3] for r in rows)}


def profile_line(name: str, p: dict[str, Any]) -> str:
    """"<name>: 1234 op calls; top aten::addmm (65 calls) 80% of op time; ..."""
    top = p["ops"][:2]
    tops = "; ".join(f"{n} ({c} call{'s' if c != 1 else ''}) {ms / p['op_ms']:.0%}"
                     for n, ms, _, c in top)
    return f"  {name:<34} {p['calls']:5d} op calls; by self time: {tops} of op time"


def backend_split(ms: dict[str, float], device: str) -> str:
    """The gap Python loop -> library kernel, split at the library-off C++ loop (printed)."""
    lib = library_name(device)
    loop, off, on = ms["python loop, hoisted"], ms[f"nn.LSTM, {lib} off"], ms[f"nn.LSTM, {lib}"]
    gap = loop - on
    if gap <= 0:
        return (f"here the Python loop is not slower than nn.LSTM with {lib} "
                f"({loop:.2f} vs {on:.2f} ms): no gap to split")
    interp = (loop - off) / gap
    if interp <= 0:
        return (f"of the gap between the hoisted Python loop and nn.LSTM with {lib} "
                f"({loop:.2f} vs {on:.2f} ms), none is measurably the interpreter: the Python "
                f"loop is no slower than nn.LSTM with {lib} off ({off:.2f} ms, the same ops from "
                f"C++), so the gap is {lib}'s fused kernel")
    if interp >= 1:
        return (f"the whole gap between the hoisted Python loop and nn.LSTM with {lib} "
                f"({loop:.2f} vs {on:.2f} ms) is the interpreter here: nn.LSTM with {lib} off "
                f"({off:.2f} ms, the same ops from C++) is as fast as with it")
    return (f"of the gap between the hoisted Python loop and nn.LSTM with {lib} "
            f"({loop:.2f} vs {on:.2f} ms), {interp:.0%} is the interpreter (Python loop vs "
            f"nn.LSTM with {lib} off: the same ops from C++) and {1 - interp:.0%} is {lib}'s "
            "fused kernel (nn.LSTM with it off vs on)")
