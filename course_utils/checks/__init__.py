"""Checkers: ``check_<exercise id>(fn) -> CheckResult`` for every exercise of the course.

The engine lives beside this file (``spec`` the data types, ``calling``, ``structure``,
``judging``, ``result``; ``recurrent`` the cases and torch references shared by the recurrent
specs, ``sequence_mistakes`` their catalogue of sequence-level slips). Each notebook's exercises
are specs in ``specs/<notebook slug>.py`` or a package ``specs/<notebook slug>/``
(``SPECS = [...]``); every module there is found automatically and gets one checker per spec,
so adding an exercise is adding a spec. Importing this package costs numpy only: torch is
imported on the first check.

    >>> from course_utils.checks import check_rnn_cell_forward
    >>> check_rnn_cell_forward(rnn_cell_forward)        # doctest: +SKIP
    ✔ rnn_cell_forward: public checks passed (4 cases).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any, Callable

from . import specs as _specs_pkg
from .calling import call_safely
from .judging import judge, make_checker, run_spec, summarize
from .result import CaseOutcome, CheckResult
from .spec import Case, Int, Mistake, Outcome, Spec

SPECS: dict[str, Spec] = {}


def _discover() -> None:
    for info in sorted(pkgutil.iter_modules(_specs_pkg.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{_specs_pkg.__name__}.{info.name}")
        for spec in getattr(module, "SPECS", ()):
            if spec.id in SPECS:
                raise RuntimeError(f"exercise id {spec.id!r} defined twice")
            SPECS[spec.id] = spec
            globals()[f"check_{spec.id}"] = make_checker(spec)


_discover()


def get_spec(exercise_id: str) -> Spec:
    try:
        return SPECS[exercise_id]
    except KeyError:
        known = ", ".join(sorted(SPECS))
        raise KeyError(f"unknown exercise {exercise_id!r}; known: {known}") from None


def check(exercise_id: str, fn: Any, seed: int | None = None) -> CheckResult:
    """``check("rnn_forward", rnn_forward)`` is ``check_rnn_forward(rnn_forward)``."""
    return run_spec(get_spec(exercise_id), fn, seed)


def yours_or_reference(fn: Any, exercise_id: str | None = None) -> Callable[..., Any]:
    """Your function if it passes its public checks, else the torch reference (with a note).

    Cells that *use* an exercise call this, so an unfinished notebook still runs end to end.
    """
    exercise_id = exercise_id or getattr(fn, "__name__", "")
    spec = get_spec(exercise_id)
    if run_spec(spec, fn).passed:
        return fn
    print(f"note: your {exercise_id} does not pass its checks yet, so this cell uses the "
          "torch reference implementation instead.")
    return spec.reference


__all__ = ["CheckResult", "CaseOutcome", "Spec", "Case", "Int", "Mistake", "Outcome", "SPECS",
           "get_spec", "check", "run_spec", "judge", "call_safely", "summarize", "make_checker",
           "yours_or_reference"] + [f"check_{k}" for k in SPECS]
