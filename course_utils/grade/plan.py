"""What is the same for every submission of one course notebook: its grading plan.

For each exercise of the notebook: the cases (hidden seed, or the public one for ``check``)
with their expected values computed here, in the grader, once per batch; what the runner
receives for each case (an array tree over one ``.npz``, or the case's course-authored
``source`` text, rebuilt inside the sandbox); which packages its sandbox may import (numpy
always; ``Spec.sandbox_modules``; torch when the inputs hold tensors or the context or a case's
source imports it); and which torch functions it must not call (``Spec.forbidden_calls``).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import discover
from .serialize import encode_inputs, save_npz_bytes

_IMPORTS_TORCH = re.compile(r"^\s*(import|from)\s+torch\b", re.M)


@dataclass
class ExercisePlan:
    id: str
    cases: list[Any]                 # checks.spec.Case, expected values computed
    payloads: list[dict[str, Any]]   # what the runner gets per case
    modules: tuple[str, ...]
    forbidden: tuple[str, ...]


@dataclass
class NotebookPlan:
    name: str
    exercise_ids: list[str]
    context: list[str]
    exercises: dict[str, ExercisePlan]
    npz: bytes
    hidden: bool


def _has_tensor(tree: Any) -> bool:
    if isinstance(tree, dict):
        return tree.get("torch") is True or any(_has_tensor(v) for v in tree.values())
    if isinstance(tree, (list, tuple)):
        return any(_has_tensor(v) for v in tree)
    return False


def _exercise_plan(spec: Any, seed: int | None, context: list[str],
                   arrays: dict[str, Any]) -> ExercisePlan:
    cases = spec.cases(seed)
    payloads = []
    modules = set(getattr(spec, "sandbox_modules", ()) or ())
    if any(_IMPORTS_TORCH.search(src) for src in context):
        modules.add("torch")
    for j, case in enumerate(cases):
        if seed is not None:
            case.group = "hidden"  # its seed (a field, never in the label) is then not shown
        spec.expected(case)  # computed once, here, in the grader process
        if case.source is not None:
            payloads.append({"source": case.source})
            if _IMPORTS_TORCH.search(case.source):
                modules.add("torch")
            continue
        tree, arr = encode_inputs({"args": tuple(case.args), "kwargs": dict(case.kwargs)},
                                  prefix=f"{spec.id}.{j}.a")
        arrays.update(arr)
        payloads.append({"args": tree["args"], "kwargs": tree["kwargs"]})
        if _has_tensor(tree):
            modules.add("torch")
    return ExercisePlan(spec.id, cases, payloads, tuple(sorted(modules)),
                        tuple(getattr(spec, "forbidden_calls", ()) or ()))


def make_plan(notebook: str, seed: int | None, context: list[str]) -> NotebookPlan:
    """The plan of one notebook; ``seed=None`` means each spec's public seed."""
    from ..checks import SPECS

    ids = [s.id for s in SPECS.values() if s.notebook == notebook]
    arrays: dict[str, Any] = {}
    exercises = {ex: _exercise_plan(SPECS[ex], seed, context, arrays) for ex in ids}
    return NotebookPlan(notebook, ids, context, exercises, save_npz_bytes(arrays),
                        hidden=seed is not None)


def solution_context(solutions: Path, notebook: str, warnings: list[str]) -> list[str]:
    """The instructor's ``grader-context`` cells of ``solutions/<notebook>.ipynb``."""
    sol = solutions / f"{notebook}.ipynb"
    if sol.is_file():
        return discover.grader_context(sol)
    warnings.append(f"warning: {sol} not found; grading {notebook} with `import numpy as np` "
                    "as its only context")
    return ["import numpy as np"]


@dataclass
class PlanCache:
    """Plans made on first use, shared by the batch's threads."""

    seed: int | None
    solutions: Path
    warnings: list[str] = field(default_factory=list)
    plans: dict[str, NotebookPlan] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def context(self, notebook: str, warn: bool = True) -> list[str]:
        return solution_context(self.solutions, notebook, self.warnings if warn else [])

    def get(self, notebook: str) -> NotebookPlan:
        with self._lock:
            if notebook not in self.plans:
                self.plans[notebook] = make_plan(notebook, self.seed, self.context(notebook))
            return self.plans[notebook]
