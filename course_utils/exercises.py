"""The exercise registry: id -> notebook, title, points, checker.

Built from the specs in :mod:`course_utils.checks` (one source of truth), so the notebooks'
checkers and the grader can never disagree about what an exercise is or what it is worth.
``python -m course_utils exercises`` prints the table.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Exercise:
    id: str
    notebook: str
    title: str
    points: float

    @property
    def checker(self) -> Callable:
        from . import checks

        return getattr(checks, f"check_{self.id}")


def all_exercises() -> list[Exercise]:
    from .checks import SPECS

    items = [Exercise(s.id, s.notebook, s.title, float(s.points)) for s in SPECS.values()]
    return sorted(items, key=lambda e: (e.notebook, e.id))


def by_notebook() -> dict[str, list[Exercise]]:
    out: dict[str, list[Exercise]] = {}
    for e in all_exercises():
        out.setdefault(e.notebook, []).append(e)
    return out


def get(exercise_id: str) -> Exercise:
    for e in all_exercises():
        if e.id == exercise_id:
            return e
    raise KeyError(f"unknown exercise {exercise_id!r}")


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(prog="python -m course_utils exercises",
                            description="List the course's exercises.").parse_args(argv)
    print(f"{'notebook':<26} {'exercise':<28} {'points':>6}  title")
    for e in all_exercises():
        print(f"{e.notebook:<26} {e.id:<28} {e.points:>6g}  {e.title}")
    return 0
