"""course_utils: the helper package of *Recurrent networks from scratch*.

Importing this package is cheap: numpy, torch, matplotlib and ipywidgets are imported only by
the submodules that need them, when they are first used.

Submodules
----------
checks     one ``check_<exercise id>(fn)`` per exercise, built from specs (cases, reference,
           catalogue of known mistakes); returns a :class:`~course_utils.checks.result.CheckResult`
exercises  the registry: exercise id -> notebook, title, points, spec
build      solutions/ -> notebooks/ (``python -m course_utils build [--check]``)
grade      sandboxed grading of a class (``python -m course_utils grade ...``)
bench      LSTM vs GRU benchmark (``python -m course_utils bench ...``)
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = ("checks", "exercises", "build", "grade", "bench", "tasks", "train", "experiments", "plots",
         "widgets", "setup", "gradients", "lstm_viz", "gru_viz", "fast_rnn")


def __getattr__(name: str) -> Any:  # PEP 562: submodules load on first use
    if name in _LAZY:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["__version__", *_LAZY]
