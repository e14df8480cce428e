"""Which cuDNN RNN algorithm PyTorch asks for, transcribed from ``get_algo`` and its helpers in
PyTorch's ``aten/src/ATen/native/cudnn/RNN.cpp`` (read at commit 00fc08aa616f of
github.com/pytorch/pytorch; the rules change between releases, so the notebook cites the file).

In that code, for an unpacked, non-projected input:

* ``CUDNN_RNN_ALGO_PERSIST_STATIC_SMALL_H`` for any dtype but float64 on compute capability
  >= 6 when the hidden size is small: LSTM/GRU H <= 192 forward, <= 128 backward (RNN tanh/relu:
  384 / 256);
* else ``CUDNN_RNN_ALGO_PERSIST_STATIC`` only in **float16**, with one layer, one direction,
  H <= 1024, H and I multiples of 128, and a device rule: sm 7.x except Turing (7.5) with batch
  and length conditions, or sm >= 8 with >= 98 SMs, not sm_86, never for a GRU, and for an LSTM
  a batch that is a multiple of 8 and <= 128;
* else ``CUDNN_RNN_ALGO_STANDARD`` (always for packed input or ``proj_size`` != 0).

So float32 and bfloat16 LSTMs with H > 192 — every shape of the course's full benchmark — get
the *standard* algorithm, not a persistent kernel.
"""

from __future__ import annotations

from dataclasses import dataclass

SOURCE = ("PyTorch aten/src/ATen/native/cudnn/RNN.cpp, get_algo (commit 00fc08aa616f of "
          "github.com/pytorch/pytorch)")
STANDARD, PERSIST, SMALL_H = "standard", "persistent (static)", "persistent (small H)"


@dataclass(frozen=True)
class Gpu:
    """What ``get_algo`` reads of the device: compute capability and number of SMs."""

    name: str
    major: int
    minor: int
    sms: int


GPUS = (Gpu("T4", 7, 5, 40), Gpu("V100", 7, 0, 80), Gpu("A100", 8, 0, 108),
        Gpu("H100 SXM", 9, 0, 132))


def _small_h(kind: str, H: int, gpu: Gpu, forward: bool) -> bool:
    if gpu.major < 6:
        return False
    if kind in ("lstm", "gru"):
        return H <= (192 if forward else 128)
    return H <= (384 if forward else 256)


def _device_rule(kind: str, T: int, B: int, H: int, gpu: Gpu) -> bool:
    if gpu.major == 7:
        if gpu.minor == 5:
            return False
        return (((B % 16 == 0 and B not in (80, 112)) or B == 8)
                and ((T >= 40 and B <= 128) or (T >= 20 and B <= 96) or (T >= 10 and B <= 32)))
    if gpu.major >= 8 and gpu.sms >= 98:
        if gpu.minor == 6 or kind == "gru":
            return False
        if kind == "lstm":
            return B % 8 == 0 and B <= 128
        return B % 8 == 0 and B <= 128 and (B < 96 or H < 896)
    return False


def cudnn_algo(kind: str, dtype: str, T: int, B: int, H: int, I: int, gpu: Gpu,
               layers: int = 1, bidirectional: bool = False, packed: bool = False,
               proj_size: int = 0, forward: bool = True) -> str:
    """The algorithm ``get_algo`` picks (``dtype`` one of fp16, bf16, fp32, fp64)."""
    if proj_size != 0 or packed:
        return STANDARD
    if dtype != "fp64" and _small_h(kind, H, gpu, forward):
        return SMALL_H
    if (dtype == "fp16" and layers == 1 and H <= 1024 and not bidirectional and H % 128 == 0
            and I % 128 == 0 and _device_rule(kind, T, B, H, gpu)):
        return PERSIST
    return STANDARD


def algo_table(T: int, Hs: tuple[int, ...], Bs: tuple[int, ...],
               dtypes: tuple[str, ...] = ("fp32", "bf16", "fp16"),
               gpus: tuple[Gpu, ...] = GPUS) -> list[str]:
    """One line per GPU and dtype: how many of the (kind, H, B) shapes get each algorithm
    (forward, one layer, one direction, I = H)."""
    lines = []
    for gpu in gpus:
        for dtype in dtypes:
            got: dict[str, list[str]] = {}
            for kind in ("lstm", "gru"):
                for H in Hs:
                    for B in Bs:
                        algo = cudnn_algo(kind, dtype, T, B, H, H, gpu)
                        got.setdefault(algo, []).append(f"{kind.upper()} H={H} B={B}")
            parts = [f"{algo}: {len(v)}" + (f" ({', '.join(v[:4])}{' ...' if len(v) > 4 else ''})"
                                            if algo != STANDARD else "")
                     for algo, v in sorted(got.items())]
            lines.append(f"  {gpu.name:<9} {dtype}: " + "; ".join(parts))
    return lines
