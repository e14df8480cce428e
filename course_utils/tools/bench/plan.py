"""What one ``bench`` run measures: the shapes and the timing budget, as a dataclass.

The full plan is for a GPU (T = 128, H up to 2048, B up to 256, fp32 and bf16); ``quick`` is
a small CPU-friendly grid (seconds) for CI and laptops. :meth:`Plan.as_dict` is the ``plan``
section of the results JSON.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

KINDS = ("lstm", "gru")
MODES = ("inference", "training")
PARTS = ("grid", "t_sweep", "ladder")


@dataclass(frozen=True)
class SweepShape:
    """The T sweep: time against T at fixed H (= I) and B."""

    H: int
    B: int
    T: tuple[int, ...]


@dataclass(frozen=True)
class LadderShape:
    """The implementation ladder's one shape (pytorch's fastrnns: T 100, B 64, H 512)."""

    T: int
    B: int
    H: int


@dataclass(frozen=True)
class Plan:
    """Grid shapes, sweep and ladder shapes, and the timing budget of a run."""

    T: int
    H: tuple[int, ...]
    B: tuple[int, ...]
    dtypes: tuple[str, ...]
    t_sweep: SweepShape
    ladder: LadderShape
    matmul_n: int  # the square matmul of the peak measurement
    copy_mib: int  # the buffer of the bandwidth measurement
    warmup: int = 3
    repeats: int = 25
    budget_s: float | None = 3.0  # cut repeats so one configuration takes about this long
    threads: int | None = None  # torch CPU threads (None: torch's default)

    @classmethod
    def for_device(cls, device: str, quick: bool = False) -> Plan:
        """The full plan (CUDA: bigger matmul, bf16, more repeats) or the ``quick`` one."""
        if quick:
            return cls(T=16, H=(32, 128), B=(1, 4, 16), dtypes=("fp32",),
                       t_sweep=SweepShape(H=64, B=16, T=(8, 16, 32, 64)),
                       ladder=LadderShape(T=16, B=16, H=64), matmul_n=512, copy_mib=64,
                       warmup=1, repeats=5, budget_s=0.1, threads=1)
        big = device == "cuda"
        return cls(T=128, H=(256, 512, 1024, 2048), B=(1, 16, 64, 256),
                   dtypes=("fp32", "bf16") if big else ("fp32",),
                   t_sweep=SweepShape(H=512, B=64, T=(25, 50, 100, 200, 400, 800, 1600)),
                   ladder=LadderShape(T=100, B=64, H=512), matmul_n=8192 if big else 2048,
                   copy_mib=1024 if big else 256, warmup=3, repeats=25 if big else 7,
                   budget_s=3.0 if big else 10.0, threads=None)

    def with_threads(self, threads: int | None) -> Plan:
        """The same plan with another thread count (None keeps this plan's)."""
        return self if threads is None else replace(self, threads=threads)

    def as_dict(self) -> dict[str, Any]:
        """The ``plan`` section of the results JSON (tuples as lists)."""
        return _lists(asdict(self))


def _lists(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _lists(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_lists(v) for v in obj]
    return obj
