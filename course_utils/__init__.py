"""course_utils: the helper package of *Recurrent networks from scratch*.

Importing this package is cheap: numpy, torch, matplotlib and ipywidgets are imported only by
the submodules that need them, when they are first used.

Layout (one room per idea)
--------------------------
checks     ``check_<exercise id>(fn)`` per exercise: the engine, and ``checks/specs/<notebook>.py``
exercises  the registry: exercise id -> notebook, title, points, spec
grade      sandboxed grading of a class (``python -m course_utils grade ...``)
labs       ``labs/<notebook slug>.py`` (a package where one file would pass ~300 lines): the
           helpers, explorers and experiments of one notebook
lib        what several notebooks share: tasks, train, fast_rnn, measure, counts, results
tools      ``build``, ``sweep``, ``bench``: the maintainers' commands
setup      ``setup_notebook()``, the first cell of every notebook
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.2.0"

_LAZY = ("checks", "exercises", "grade", "labs", "lib", "tools", "setup")


def __getattr__(name: str) -> Any:  # PEP 562: submodules load on first use
    if name in _LAZY:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["__version__", *_LAZY]
