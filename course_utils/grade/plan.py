"""What is the same for every submission of one course notebook: its grading plan.

For each exercise of the notebook: the cases (hidden seed, or the public one for ``check``)
with their expected values computed here, in the grader, once per batch; what the runner
receives for each case (an array tree over one ``.npz``, or the case's course-authored
``source`` text, rebuilt inside the sandbox); and which packages its sandbox may import (numpy
always; ``Spec.sandbox_modules``; torch when the inputs hold tensors or the context or a case's
source imports it). Each exercise's inputs are kept as their own ``.npz`` (a run of one
exercise carries only those).

Hidden cases are drawn per submission: :func:`submission_seed` derives the seed from the
class's secret and the submission's graded code (HMAC-SHA256), so a resubmission faces new
cases, the same submission always the same ones, and no submission's cases say anything about
another's (the secret cannot be recovered from a seed).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
from collections import OrderedDict
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
    npz: bytes = b""                 # this exercise's input arrays
    arrays: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class NotebookPlan:
    name: str
    exercise_ids: list[str]
    context: list[str]
    exercises: dict[str, ExercisePlan]
    hidden: bool
    seed: int | None = None


def _has_tensor(tree: Any) -> bool:
    if isinstance(tree, dict):
        return tree.get("torch") is True or any(_has_tensor(v) for v in tree.values())
    if isinstance(tree, (list, tuple)):
        return any(_has_tensor(v) for v in tree)
    return False


def _exercise_plan(spec: Any, seed: int | None, context: list[str]) -> ExercisePlan:
    cases = spec.cases(seed)
    arrays: dict[str, Any] = {}
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
                        save_npz_bytes(arrays), arrays)


def make_plan(notebook: str, seed: int | None, context: list[str]) -> NotebookPlan:
    """The plan of one notebook; ``seed=None`` means each spec's public seed."""
    from ..checks import SPECS

    ids = [s.id for s in SPECS.values() if s.notebook == notebook]
    exercises = {ex: _exercise_plan(SPECS[ex], seed, context) for ex in ids}
    return NotebookPlan(notebook, ids, context, exercises, hidden=seed is not None, seed=seed)


def submission_seed(secret: int, notebook: str, code: list[str]) -> int:
    """The hidden seed of one submission: HMAC-SHA256 keyed by the class's secret over the
    notebook's name and the graded cells' code, mapped into [10 000, 2**31)."""
    msg = notebook.encode() + b"".join(len(c).to_bytes(8, "little") + c.encode("utf-8",
                                       "surrogatepass") for c in code)
    digest = hmac.new(str(secret).encode(), msg, hashlib.sha256).digest()
    return 10_000 + int.from_bytes(digest[:8], "little") % (2**31 - 10_000)


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
    """Plans made on first use, shared by the batch's threads. ``seed`` is the class's secret
    (None: the public cases); each submission's plan uses :func:`submission_seed`."""

    seed: int | None
    solutions: Path
    warnings: list[str] = field(default_factory=list)
    plans: OrderedDict = field(default_factory=OrderedDict)
    contexts: dict[str, list[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    keep: int = 32  # plans kept (identical submissions share one)

    def context(self, notebook: str, warn: bool = True) -> list[str]:
        if notebook not in self.contexts:
            found: list[str] = []
            self.contexts[notebook] = solution_context(self.solutions, notebook, found)
            self.contexts[notebook + "\0warnings"] = found
        if warn:
            self.warnings += self.contexts[notebook + "\0warnings"]
        return self.contexts[notebook]

    def get(self, notebook: str, code: list[str] | None = None) -> NotebookPlan:
        """The plan for a submission whose graded cells hold ``code``."""
        with self._lock:
            context = self.context(notebook)
        seed = None if self.seed is None else submission_seed(self.seed, notebook, code or [])
        key = (notebook, seed)
        with self._lock:
            if key in self.plans:
                self.plans.move_to_end(key)
                return self.plans[key]
        plan = make_plan(notebook, seed, context)  # outside the lock: threads make plans at once
        with self._lock:
            self.plans[key] = plan
            while len(self.plans) > self.keep:
                self.plans.popitem(last=False)
        return plan
