"""The notebook-only probe of ``lstm_forward_hoisted``: *how* the values were computed.

Run by the notebook checker once every case's values are right (``Spec.probe``); the grader
never runs it — instrumentation inside the learner's own process can be popped or bypassed, so it
gives hints, not grades (issue 26). Four looks, in this order, each naming what it saw:

1. a ``TorchFunctionMode`` records every torch call on a T = 7 case: a fused recurrent kernel
   (``torch.lstm_cell``, ``nn.LSTM`` ...) is named; matrix products whose contraction runs over
   the input size I are the *input-side* GEMMs, and hoisting means fewer of them than steps;
2. the same case with ``requires_grad=True`` inputs: the outputs must be tensors and the
   gradient of a weighted sum of them must reach every input with autograd's values through
   the reference (a detour through numpy, ``.detach()`` or ``no_grad`` cuts it);
3. the same case on PyTorch's ``meta`` device (shapes without data, a stand-in for a GPU): a
   tensor created without ``device=`` lands on the CPU and fails or shows in the output's device.
"""

from __future__ import annotations

from typing import Any, Callable

from ...calling import format_exception, quiet

# PyTorch's fused recurrent kernels (torch functions; nn.LSTM calls torch._VF.lstm = "lstm").
FUSED_RNN = ("lstm", "lstm_cell", "_thnn_fused_lstm_cell", "mkldnn_rnn_layer", "_cudnn_rnn",
             "miopen_rnn", "gru", "gru_cell", "rnn_tanh", "rnn_relu", "rnn_tanh_cell",
             "rnn_relu_cell")
PROBE_DIMS = (7, 2, 4, 5)  # (T, B, I, H): T > 4 (four per-gate GEMMs are still hoisted), I != H
_MATMUL_FIRST = {"matmul", "__matmul__", "mm", "bmm", "mv", "dot", "inner", "linear"}
_MATMUL_SECOND = {"addmm", "baddbmm", "addbmm", "addmv"}
Hint = tuple[str, str]


def _contracted(name: str, args: tuple) -> list[int]:
    """Sizes summed over by one matrix-product call (empty when not one or not readable)."""
    import torch

    def shape(i: int) -> tuple[int, ...]:
        a = args[i] if len(args) > i else None
        return tuple(a.shape) if isinstance(a, torch.Tensor) else ()

    if name in _MATMUL_FIRST:
        return list(shape(0)[-1:])
    if name in _MATMUL_SECOND:
        return list(shape(1)[-1:])
    if name == "tensordot":
        dims = args[2] if len(args) > 2 else 2
        a = shape(0)
        return list(a[-dims:]) if isinstance(dims, int) else [a[d] for d in dims[0]]
    if name == "einsum" and args and isinstance(args[0], str):
        ops = args[1] if len(args) == 2 and isinstance(args[1], (list, tuple)) else args[1:]
        lhs, _, rhs = args[0].replace(" ", "").partition("->")
        sizes: dict[str, int] = {}
        for term, op in zip(lhs.split(","), ops):
            if not isinstance(op, torch.Tensor):
                continue
            head, _, tail = term.partition("...")
            for k, ch in enumerate(head):
                sizes[ch] = op.shape[k]
            for k, ch in enumerate(reversed(tail)):
                sizes[ch] = op.shape[-1 - k]
        if not rhs and "->" not in args[0]:
            rhs = "".join(ch for ch in sizes if lhs.count(ch) == 1)
        return [n for ch, n in sizes.items() if ch not in rhs]
    return []


def _probe_inputs(dtype: Any, device: str, grad: bool) -> list[Any]:
    import numpy as np
    import torch

    T, B, I, H = PROBE_DIMS
    rng = np.random.default_rng(2024)
    shapes = [(T, B, I), (B, H), (B, H), (4 * H, I), (4 * H, H), (4 * H,), (4 * H,), (H,), (H,),
              (H,)]
    return [torch.tensor(rng.normal(0.0, 0.6, s), dtype=dtype, device=device, requires_grad=grad)
            for s in shapes]


def _calls(fn: Callable[..., Any]) -> tuple[list[str], list[int] | None]:
    """(fused kernels called, contraction sizes of every matrix product) on the probe case;
    None for the sizes when the function raised."""
    import torch
    from torch.overrides import TorchFunctionMode

    fused: list[str] = []
    sizes: list[int] = []

    class Record(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
            name = getattr(func, "__name__", "")
            if name in FUSED_RNN:
                fused.append(name)
            sizes.extend(_contracted(name, tuple(args)))
            return func(*args, **(kwargs or {}))

    try:
        with quiet(), torch.no_grad(), Record():
            fn(*_probe_inputs(torch.float64, "cpu", grad=False))
    except Exception:  # noqa: BLE001 - right values on every case, but not here: say nothing
        return fused, None
    return fused, sizes


def _count_hint(fn: Callable[..., Any]) -> Hint | None:
    fused, sizes = _calls(fn)
    if fused:
        names = ", ".join(sorted({f"torch.{n}" for n in fused}))
        return (f"looks like called PyTorch's fused LSTM kernel: your function calls {names}; "
                "the values are right, but this exercise asks you to write the step yourself "
                "(the notebook's checker sees the call, the grader grades the values)",
                "called PyTorch's fused LSTM kernel")
    T, _, I, _ = PROBE_DIMS
    n = sum(1 for s in sizes or [] if s == I)
    if sizes is not None and n >= T:
        return (f"looks like the input GEMM inside the loop (not hoisted): on a case with "
                f"T = {T} the checker counted {n} matrix products over the input size for "
                f"T = {T} steps; compute x_t W_ih^T for every step *before* the loop, as one big "
                "product over all T·B rows (x_t W_ih^T does not depend on the state)",
                "the input GEMM inside the loop (not hoisted)")
    return None


def _grad_hint(fn: Callable[..., Any]) -> Hint | None:
    import torch

    from . import _peephole_loop  # the reference's loop, here with autograd on

    names = ("x", "h0", "c0", "W_ih", "W_hh", "b_ih", "b_hh", "p_i", "p_f", "p_o")
    mine = _probe_inputs(torch.float64, "cpu", grad=True)
    name = "the gradient cut (a detour through numpy, .detach() or torch.no_grad())"
    try:
        with quiet():
            value = fn(*mine)
        out, (h, c) = value
    except Exception as exc:  # noqa: BLE001
        return (f"looks like {name}: with requires_grad=True inputs your function raised "
                f"{format_exception(exc)}; stay in torch operations so autograd (and a GPU) can "
                "follow", name)
    kinds = [type(v).__name__ for v in (out, h, c)]
    if any(k != "Tensor" for k in kinds):
        return (f"looks like {name}: your function returns {', '.join(kinds)} for (output, h_n, "
                "c_n); return torch tensors: numpy arrays carry no gradient and cannot live on a "
                "GPU", name)
    weights = [torch.linspace(-1, 1, v.numel(), dtype=torch.float64).reshape(v.shape)
               for v in (out, h, c)]

    def grads(leaves: list[Any], outs: tuple[Any, ...]) -> list[Any]:
        loss = sum((o.to(torch.float64) * w).sum() for o, w in zip(outs, weights))
        if not getattr(loss, "requires_grad", False):
            return [None] * len(leaves)
        return list(torch.autograd.grad(loss, leaves, allow_unused=True))

    got = grads(mine, (out, h, c))
    ref_in = _probe_inputs(torch.float64, "cpu", grad=True)
    with torch.enable_grad():
        r_out, (r_h, r_c) = _peephole_loop(*ref_in)
    want = grads(ref_in, (r_out, r_h, r_c))
    missing = [n for n, g in zip(names, got) if g is None]
    wrong = [n for n, g, w in zip(names, got, want)
             if g is not None and not torch.allclose(g, w, rtol=1e-5, atol=1e-7)]
    if not missing and not wrong:
        return None
    parts = []
    if missing:
        parts.append(f"no gradient reaches {', '.join(f'`{n}`' for n in missing)}")
    if wrong:
        parts.append(f"the gradient of {', '.join(f'`{n}`' for n in wrong)} differs from "
                     "autograd's through the reference")
    return (f"looks like {name}: with requires_grad=True inputs, {'; '.join(parts)} — the values "
            "are right, so some step leaves autograd's graph (.numpy() / torch.tensor(...) of a "
            "result, .detach(), .item(), or torch.no_grad()); training this LSTM needs them all",
            name)


def _device_hint(fn: Callable[..., Any]) -> Hint | None:
    import torch

    name = "a tensor made without device="
    try:
        with quiet():
            out, (h, c) = fn(*_probe_inputs(torch.float64, "meta", grad=False))
    except Exception as exc:  # noqa: BLE001
        text = format_exception(exc)
        if "device" in text or "meta" in text:
            return (f"looks like {name}: on tensors of another device (PyTorch's 'meta' device, "
                    f"a stand-in for a GPU) your function raised {text}; create tensors with "
                    "device= / dtype= of the inputs (torch.zeros_like(h0), x.new_zeros(...)), "
                    "and read no value back to Python (.item(), .numpy())", name)
        return None
    devices = sorted({str(getattr(v, "device", "?")) for v in (out, h, c)} - {"meta"})
    if devices:
        return (f"looks like {name}: for inputs on the 'meta' device (a stand-in for a GPU) "
                f"your function returns tensors on {', '.join(devices)}; build new tensors on "
                "the inputs' device (torch.zeros_like(h0), x.new_empty(...))", name)
    return None


def probe_hoisted(fn: Callable[..., Any]) -> Hint | None:
    """The first violation of the exercise's point, as (message, mistake name), or None."""
    for look in (_count_hint, _grad_hint, _device_hint):
        hint = look(fn)
        if hint:
            return hint
    return None
