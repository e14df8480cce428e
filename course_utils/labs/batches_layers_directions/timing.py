"""Notebook 06, section 7: packed vs padded ``nn.LSTM`` on CPU, timed like with like, and the
kernels that ran (``torch.profiler``).

On CPU a float32 ``nn.LSTM`` on a padded tensor runs oneDNN's fused RNN primitive
(``aten::mkldnn_rnn_layer``) when oneDNN is enabled; a packed sequence never does: it runs op by
op (one ``aten::addmm`` GEMM per time step, then the gate arithmetic). Comparing the two with
oneDNN on compares two backends; with oneDNN off (:func:`course_utils.lib.measure.onednn`) both
run op by op, and the difference is the padding.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any, Callable, Iterator

from ...lib.measure import Timing, onednn, time_interleaved, torch_threads
from .padding import pad_batch

# --------------------------------------------------------------------------- packed vs padded
#: the configurations timed: (name, packed?, oneDNN enabled?)
CONFIGS = (("padded, oneDNN", False, True), ("padded, op-by-op", False, False),
           ("packed, op-by-op", True, False))


def _inputs(groups: list[list[str]], vocab: dict[str, int], embed: Any) -> list[tuple[Any, Any]]:
    import torch

    inputs = []
    for group in groups:
        tokens, lengths = pad_batch(group, vocab)
        with torch.no_grad():
            inputs.append((embed(torch.from_numpy(tokens)), torch.as_tensor(lengths)))  # (T, B, E)
    return inputs


def _forward_backward(lstm: Any, inputs: list[tuple[Any, Any]], packed: bool,
                      use_onednn: bool) -> Callable[[], None]:
    """One call = forward + backward of ``lstm`` over every (x, lengths) of ``inputs``."""
    from torch.nn.utils.rnn import pack_padded_sequence

    def call() -> None:
        with onednn(use_onednn):
            for x, lengths in inputs:
                inp = pack_padded_sequence(x, lengths, enforce_sorted=False) if packed else x
                _, (h_n, _) = lstm(inp)
                h_n.sum().backward()
        lstm.zero_grad()
    return call


def _model(hidden: int, emb: int, vocab: dict[str, int], seed: int) -> tuple[Any, Any]:
    import torch

    torch.manual_seed(seed)
    return torch.nn.Embedding(len(vocab) + 1, emb), torch.nn.LSTM(emb, hidden)


def packed_vs_padded(groupings: dict[str, list[list[str]]], vocab: dict[str, int],
                     hidden: int = 64, emb: int = 16, repeats: int = 3, threads: int | None = 1,
                     seed: int = 0) -> dict[str, Timing]:
    """Forward + backward of one ``nn.LSTM`` (float32) over every batch of a grouping, in the
    three :data:`CONFIGS`: padded with oneDNN (PyTorch's CPU default), padded with oneDNN off,
    packed (``pack_padded_sequence``; op by op whatever the flag says) with oneDNN off. All
    timed interleaved. Keys of the result: ``"<config>: <grouping name>"``.
    """
    embed, lstm = _model(hidden, emb, vocab, seed)
    fns = {}
    for name, groups in groupings.items():
        inputs = _inputs(groups, vocab, embed)
        for config, packed, use_onednn in CONFIGS:
            fns[f"{config}: {name}"] = _forward_backward(lstm, inputs, packed, use_onednn)
    with torch_threads(threads):
        return time_interleaved(fns, warmup=1, repeats=repeats)


#: operators that name the path taken: oneDNN's fused RNN layer, or a GEMM per step (op by op)
KERNEL_OPS = ("aten::mkldnn_rnn_layer", "aten::mkldnn_rnn_layer_backward", "aten::addmm",
              "aten::mm")


@contextlib.contextmanager
def _quiet_stderr_fd() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for a moment: the profiler's C++ backend (Kineto)
    prints start/stop lines with timestamps there, below Python's ``sys.stderr``."""
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(null)
        os.close(saved)


def lstm_kernels(group: list[str], vocab: dict[str, int], hidden: int = 64, emb: int = 16,
                 seed: int = 0) -> dict[str, dict[str, int]]:
    """Run forward + backward on one batch in each of :data:`CONFIGS` (and packed with oneDNN
    *on*) under ``torch.profiler`` and count the calls of :data:`KERNEL_OPS`.

    Returns {config: {op: calls}} with the batch's padded length under ``"T"``. A fused oneDNN
    run shows ``aten::mkldnn_rnn_layer`` (once per layer and direction) and no per-step GEMM; an
    op-by-op run shows about one ``aten::addmm`` per time step forward and GEMMs backward.
    """
    from torch.profiler import ProfilerActivity, profile

    embed, lstm = _model(hidden, emb, vocab, seed)
    inputs = _inputs([group], vocab, embed)
    out: dict[str, dict[str, int]] = {}
    configs = (*CONFIGS, ("packed, oneDNN flag on", True, True))
    for config, packed, use_onednn in configs:
        call = _forward_backward(lstm, inputs, packed, use_onednn)
        with _quiet_stderr_fd(), profile(activities=[ProfilerActivity.CPU]) as prof:
            call()
        counts = {e.key: e.count for e in prof.key_averages()}
        out[config] = {op: int(counts.get(op, 0)) for op in KERNEL_OPS}
        out[config]["T"] = int(inputs[0][0].shape[0])
    return out
