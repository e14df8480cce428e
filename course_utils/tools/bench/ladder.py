"""The implementation ladder of ``bench``: one LSTM (and GRU), the same weights, several
implementations at pytorch's fastrnns shape (T = 100, B = 64, I = H = 512 in the full plan).

torch.nn (cuDNN on CUDA, oneDNN on a CPU), the same with that library off (ATen's own loop, op by
op: the like-for-like partner of a Python loop), a Python loop over nn.LSTMCell / nn.GRUCell,
and the course's :mod:`course_utils.lib.fast_rnn` (hoisted input GEMM, fused gate GEMM; its
forward also captured as a CUDA graph on CUDA). Reference: Appleyard, Kociský & Blunsom (2016),
arXiv:1604.01946; pytorch/benchmarks fastrnns.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Callable

from .plan import KINDS, MODES
from .workloads import Context, Shape, entry_stats, guarded

TARGET_RATIO = 1.5
TARGET = "course fast LSTM forward within 1.5x of cuDNN on an H100"


@dataclass(frozen=True)
class Impl:
    """One rung: a name, ``fn(x) -> output (T, B, H)``, an optional context factory."""

    name: str
    fn: Callable[[Any], Any]
    context: Callable[[], Any] | None = None


def _cell_loop(cell: Any, kind: str) -> Callable[[Any], Any]:
    import torch

    def loop(x: Any) -> Any:  # x (T, B, I)
        h = x.new_zeros(x.shape[1], cell.hidden_size)  # (B, H)
        state = (h, h) if kind == "lstm" else h
        outs = []
        for t in range(x.shape[0]):
            state = cell(x[t], state)
            outs.append(state[0] if kind == "lstm" else state)
        return torch.stack(outs)  # (T, B, H)
    return loop


def _call(impl: Impl, x: Any, mode: str, grad_out: Any, params: list[Any]) -> Callable[[], Any]:
    import torch

    def call() -> Any:
        with (impl.context() if impl.context else contextlib.nullcontext()):
            if mode == "inference":
                with torch.no_grad():
                    return impl.fn(x)
            for q in params:  # as in the grid: fresh gradients every call
                q.grad = None
            impl.fn(x).backward(grad_out)
            return None
    return call


def _impls(kind: str, ctx: Context) -> tuple[list[Impl], list[Any], Any]:
    """The rungs for ``kind`` (same weights everywhere), their parameters, the fast module."""
    import torch

    from ...labs.gpu_comparison.backends import library_backend
    from ...lib.fast_rnn import FastRNN

    cuda, L = ctx.device == "cuda", ctx.plan.ladder
    torch.manual_seed(0)
    nn_mod = (torch.nn.LSTM if kind == "lstm" else torch.nn.GRU)(L.H, L.H).to(ctx.device)
    cell = (torch.nn.LSTMCell if kind == "lstm" else torch.nn.GRUCell)(L.H, L.H).to(ctx.device)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(getattr(nn_mod, name + "_l0"))
    fast = FastRNN.from_torch(nn_mod)
    impls = [Impl("torch.nn (cuDNN)" if cuda else "torch.nn", lambda v: nn_mod(v)[0])]
    lib = "cuDNN" if cuda else "oneDNN"  # nn's fused kernel off: ATen's loop, op by op
    impls.append(Impl(f"torch.nn, {lib} off", lambda v: nn_mod(v)[0],
                      lambda: library_backend(ctx.device, enabled=False)))
    impls += [Impl(f"Python loop over nn.{kind.upper()}Cell", _cell_loop(cell, kind)),
              Impl("course fast (hoisted + fused GEMM)", lambda v: fast(v)[0])]
    return impls, list(nn_mod.parameters()) + list(cell.parameters()), fast


def ladder_entry(ctx: Context, kind: str, impl: Impl, x: Any, mode: str,
                 params: list[Any]) -> dict[str, Any]:
    """Time one rung in one mode; returns a ladder entry."""
    import torch

    L = ctx.plan.ladder
    grad_out = torch.randn(L.T, L.B, L.H, device=ctx.device)  # (T, B, H)
    shape = Shape(kind, L.T, L.B, L.H, L.H, mode)
    call = _call(impl, x, mode, grad_out, params)
    return {"kind": kind, "impl": impl.name, "mode": mode, **entry_stats(ctx, shape, call)}


def _graph_entry(ctx: Context, kind: str, fast: Any, x: Any, params: list[Any]) -> dict[str, Any]:
    """The course's fast forward captured once as a CUDA graph, timed as an inference rung."""
    from ...lib.fast_rnn import capture_cuda_graph

    graph = capture_cuda_graph(lambda v: fast(v)[0], x)
    return ladder_entry(ctx, kind, Impl("course fast + CUDA graph", graph), x, "inference", params)


def _ratios(entries: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Each entry's time over torch.nn's (same kind and mode); the best fast forward ratio."""
    base = {(e["kind"], e["mode"]): e["median_ms"] for e in entries
            if e["impl"].startswith("torch.nn") and "off" not in e["impl"]}
    done = [e for e in entries if (e["kind"], e["mode"]) in base]
    for e in done:
        e["ratio_to_torch_nn"] = e["median_ms"] / base[(e["kind"], e["mode"])]
    best = {}
    for kind in KINDS:
        fast = [e["ratio_to_torch_nn"] for e in done if e["kind"] == kind
                and e["mode"] == "inference" and e["impl"].startswith("course fast")]
        if fast:
            best[kind] = min(fast)
    return done, best


def run_ladder(ctx: Context) -> dict[str, Any]:
    """Every rung for LSTM and GRU, both modes, fp32; ratios to torch.nn."""
    import torch

    L = ctx.plan.ladder
    entries: list[dict[str, Any] | None] = []
    for kind in KINDS:
        impls, params, fast = _impls(kind, ctx)
        x = torch.randn(L.T, L.B, L.H, device=ctx.device)  # (T, B, I)
        for impl in ctx.progress(impls, desc=f"ladder {kind}"):
            for mode in MODES:
                entries.append(guarded(ctx, f"ladder {kind} {impl.name} {mode}", ladder_entry,
                                       ctx, kind, impl, x, mode, params))
        if ctx.device == "cuda":  # the fast forward captured once as a CUDA graph (inference)
            entries.append(guarded(ctx, f"ladder {kind} CUDA graph", _graph_entry, ctx, kind,
                                   fast, x, params))
    done, best = _ratios([e for e in entries if e is not None])
    return {"T": L.T, "B": L.B, "H": L.H, "I": L.H, "dtype": "fp32", "entries": done,
            "fast_forward_ratio_to_torch_nn": best, "target_ratio": TARGET_RATIO,
            "target": TARGET}
