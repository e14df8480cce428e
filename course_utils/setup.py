"""The first code cell of every notebook: seeds, plotting defaults, device pick, versions.

    from course_utils.setup import setup_notebook
    device = setup_notebook(seed=0)
"""

from __future__ import annotations

import os
import random
import sys
from typing import Any


def in_colab() -> bool:
    return "google.colab" in sys.modules


def seed_everything(seed: int = 0) -> None:
    """Seed Python, numpy and torch (CPU and CUDA) so every run of a notebook is the same."""
    random.seed(seed)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    import numpy as np

    np.random.seed(seed)
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a course dependency
        return
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def pick_device() -> str:
    import torch

    if torch.cuda.is_available():
        return "cuda"
    return "cpu"


def environment() -> dict[str, Any]:
    """Versions and hardware, as plain data (notebook 00 shows it): the short view of
    :func:`course_utils.lib.measure.machine_info`, which results files record in full."""
    from .lib.measure import machine_info

    m = machine_info()
    info: dict[str, Any] = {
        "python": m["python"],
        "platform": m["platform"],
        "numpy": m["numpy"],
        "torch": m["torch"],
        "cpu_threads": m["torch_threads"],
        "cuda_available": m["gpu"] is not None,
        "colab": in_colab(),
    }
    if m["gpu"] is not None:
        info.update(gpu=m["gpu"], cuda=m["cuda"], cudnn=m["cudnn"])
    return info


def setup_notebook(seed: int = 0, quiet: bool = False) -> str:
    """Seed everything, set plot defaults, and return the device ("cuda" or "cpu")."""
    seed_everything(seed)
    try:
        import matplotlib as mpl

        mpl.rcParams.update({"figure.figsize": (7.0, 3.6), "figure.dpi": 90, "axes.grid": True,
                             "grid.alpha": 0.3, "axes.spines.top": False, "axes.spines.right": False})
    except ImportError:  # pragma: no cover
        pass
    device = pick_device()
    if not quiet:
        from . import __version__

        env = environment()
        print(f"course_utils {__version__} | numpy {env['numpy']} | torch {env['torch']} | "
              f"device {device}{' (' + env['gpu'] + ')' if 'gpu' in env else ''} | seed {seed}")
    return device
