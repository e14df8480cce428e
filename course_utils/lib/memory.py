"""Activation memory on any device: the bytes autograd keeps for the backward pass.

    from course_utils.lib.memory import saved_bytes
    saved = saved_bytes(lambda: lstm(x)[0], exclude=[x, *lstm.parameters()])
    saved.bytes, saved.tensors        # distinct storages kept alive for backward

Training memory = parameters (+ their gradients and optimiser state) + the activations saved for
backward, which grow with T·B·H. :func:`saved_bytes` measures the second part exactly, on a CPU
too, with :func:`torch.autograd.graph.saved_tensors_hooks`: every tensor an operation saves
passes through the pack hook; we count each underlying storage once (views share storage) and
leave out the ones named in ``exclude`` (the weights and the input, which exist anyway). A GPU's
``torch.cuda.max_memory_allocated`` measures the peak of all of it, allocator rounding included.

References: PyTorch "Autograd mechanics: hooks for saved tensors";
Chen, Xu, Zhang & Guestrin (2016), "Training deep nets with sublinear memory cost".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable


@dataclass(frozen=True)
class Saved:
    """What one forward pass saved for backward: total bytes and number of distinct storages."""

    bytes: int
    tensors: int

    @property
    def mib(self) -> float:
        return self.bytes / 2**20


def _storage_key(t: Any) -> tuple[int, int] | None:
    """(data pointer, bytes) of a tensor's storage; None where it has none (e.g. sparse)."""
    try:
        s = t.untyped_storage()
    except (RuntimeError, NotImplementedError, AttributeError):
        return None
    return s.data_ptr(), s.nbytes()


def saved_bytes(forward: Callable[[], Any], exclude: Iterable[Any] = ()) -> Saved:
    """Run ``forward()`` (which must build an autograd graph) and count the distinct storages
    its operations save for backward, except those of the tensors in ``exclude``."""
    import torch

    skip = {k[0] for k in map(_storage_key, exclude) if k is not None}
    seen: dict[tuple[int, int], int] = {}

    def pack(t: Any) -> Any:
        key = _storage_key(t)
        if key is not None and key[0] not in skip:
            seen[key] = key[1]
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = forward()
    del out
    return Saved(bytes=sum(seen.values()), tensors=len(seen))


def rnn_saved_bytes(module: Any, x: Any) -> Saved:
    """Activation bytes one ``module(x)`` (nn.RNN / LSTM / GRU, x (T, B, I)) saves for backward,
    weights and input excluded. The input is made to require grad, as inside a deeper net."""
    x = x.detach().requires_grad_(True)
    return saved_bytes(lambda: module(x)[0], exclude=[x, *module.parameters()])
