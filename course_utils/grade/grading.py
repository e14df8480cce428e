"""Grade one submission: hidden cases in, raw outputs back, verdicts by the shared specs.

The flow for a submission of course notebook N:

1. cases: ``spec.cases(hidden_seed)`` for every exercise of N, generated (and their torch
   references computed) once per batch in the grader process;
2. the sandbox runs the instructor's ``grader-context`` cells of ``solutions/N.ipynb`` and the
   learner's exercise cells, calls each function on the hidden inputs and hands back raw
   return values as plain data (:mod:`.serialize`);
3. the grader rebuilds each value, wraps it in the checkers' :class:`~course_utils.checks.Outcome`
   and calls the same :func:`~course_utils.checks.spec.judge` / :func:`summarize` as the
   notebook checkers, so both can never disagree.

If the sandbox dies or times out, the exercise it was working on (from its progress lines) gets
the blame and a zero, and the sandbox is run again for the remaining exercises (without that
exercise's cell when its top-level code was the culprit): one runaway exercise costs only its
own points.

Scoring: each exercise earns ``points * (hidden cases passed / hidden cases)``, rounded to
0.01 (partial credit); ``Spec.points`` come from the registry.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import discover
from .sandbox import Limits, RunOutcome, run_worker
from .serialize import DecodeError, decode_value, encode_inputs, save_npz_bytes

GRADER_VERSION = "1"


@dataclass
class NotebookPlan:
    """Everything about one course notebook that is the same for every submission."""

    name: str
    exercise_ids: list[str]
    context: list[str]
    cases: dict[str, list[Any]]            # exercise id -> list[Case] (hidden, with expected)
    case_trees: dict[str, list[dict]]      # exercise id -> [{"args": tree, "kwargs": tree}]
    npz: bytes
    torch: bool
    fingerprint: str


@dataclass
class Batch:
    seed: int
    limits: Limits
    solutions: Path
    hide: list[str]
    plans: dict[str, NotebookPlan] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    _lock: threading.Lock = field(default_factory=threading.Lock)

    def plan(self, notebook: str) -> NotebookPlan:
        with self._lock:
            if notebook not in self.plans:
                self.plans[notebook] = make_plan(notebook, self.seed, self.solutions, self.warnings)
            return self.plans[notebook]


def _hide_seed(label: str) -> str:
    return re.sub(r"seed\s*-?\d+", "hidden seed", label)


def make_plan(notebook: str, seed: int, solutions: Path, warnings: list[str]) -> NotebookPlan:
    from ..checks import SPECS

    ids = [s.id for s in SPECS.values() if s.notebook == notebook]
    sol = solutions / f"{notebook}.ipynb"
    if sol.is_file():
        context = discover.grader_context(sol)
    else:
        context = ["import numpy as np"]
        warnings.append(f"warning: {sol} not found; grading {notebook} with `import numpy as np` "
                        "as its only context")
    cases, trees, arrays, torch = {}, {}, {}, False
    for ex in ids:
        spec = SPECS[ex]
        cases[ex] = spec.cases(seed)
        trees[ex] = []
        for j, case in enumerate(cases[ex]):
            case.label = _hide_seed(case.label)
            case.group = "hidden"
            spec.expected(case)  # computed once, here, in the grader process
            tree, arr = encode_inputs({"args": tuple(case.args), "kwargs": dict(case.kwargs)},
                                      prefix=f"{ex}.{j}.a")
            arrays.update(arr)
            trees[ex].append({"args": tree["args"], "kwargs": tree["kwargs"]})
            torch = torch or '"torch": true' in json.dumps(tree)
    h = hashlib.sha256(GRADER_VERSION.encode())
    for ex in ids:
        s = SPECS[ex]
        h.update(f"{ex}|{s.points}|{s.rtol}|{s.atol}|{len(s.mistakes)}|{s.output!r}".encode())
    for src in context:
        h.update(src.encode())
    return NotebookPlan(notebook, ids, context, cases, trees, save_npz_bytes(arrays), torch,
                        h.hexdigest()[:16])


def course_notebooks() -> dict[str, list[str]]:
    from ..exercises import by_notebook

    return {nb: [e.id for e in exs] for nb, exs in by_notebook().items()}


# --------------------------------------------------------------------------- one submission
def _exercise_entry(ex: str, status: str, message: str, score: float = 0.0, n_passed: int = 0,
                    n_cases: int = 0, mistake: str | None = None, notes: list[str] | None = None) -> dict:
    from ..checks import SPECS

    spec = SPECS[ex]
    return {"id": ex, "title": spec.title, "status": status, "message": message,
            "score": round(score, 2), "max_score": float(spec.points), "n_passed": n_passed,
            "n_cases": n_cases, "mistake": mistake, "notes": notes or []}


def _outcome(raw: Any, arg_names: tuple[str, ...]):
    from ..checks.spec import Outcome

    if type(raw) is not dict:
        return Outcome(error="the sandbox reported no result for this case")
    if raw.get("not_implemented") is True:
        return Outcome(not_implemented=True)
    if "error" in raw:
        return Outcome(error=str(raw["error"])[:600])
    try:
        value = decode_value(raw.get("value"))
    except (DecodeError, RecursionError, ValueError, TypeError) as exc:
        return Outcome(error=f"returned data the grader could not read ({str(exc)[:80]})")
    mutated = raw.get("mutated")
    mutated = [m for m in mutated if m in arg_names] if type(mutated) is list else []
    return Outcome(value=value, mutated=mutated)


def judge_exercise(ex: str, plan: NotebookPlan, raw_cases: Any, notes: list[str]) -> dict:
    from ..checks import SPECS
    from ..checks.result import CaseOutcome
    from ..checks.judging import judge, summarize

    spec = SPECS[ex]
    cases = plan.cases[ex]
    raw_cases = raw_cases if type(raw_cases) is list else []
    outcomes = []
    for j, case in enumerate(cases):
        raw = raw_cases[j] if j < len(raw_cases) else None
        try:
            outcomes.append(judge(spec, case, _outcome(raw, spec.arg_names)))
        except Exception as exc:  # noqa: BLE001 - whatever came back, it is a failed case
            outcomes.append(CaseOutcome(case.label, case.group, False,
                                        f"the returned value could not be judged ({type(exc).__name__})"))
    result = summarize(spec, outcomes, hidden=True)
    n_pass = sum(o.passed for o in outcomes)
    score = float(spec.points) * n_pass / len(outcomes) if outcomes else 0.0
    return _exercise_entry(ex, result.status, result.message, score, n_pass, len(outcomes),
                           result.mistake, notes)


def _blame(run: RunOutcome, pending: list[str]) -> str | None:
    parts = run.last_progress.split()
    if len(parts) >= 2 and parts[0] in ("cell", "case") and parts[1] in pending:
        return parts[1]
    return None


def _fault_text(run: RunOutcome, limits: Limits, during: str) -> tuple[str, str]:
    if run.timed_out:
        return "timeout", (f"stopped after {limits.timeout:g} s {during} (an infinite loop, or far "
                           "too slow?)")
    rc = run.returncode
    if rc is not None and rc < 0:
        import signal as _signal

        try:
            name = _signal.Signals(-rc).name
        except ValueError:
            name = str(-rc)
        extra = {"SIGXCPU": " (CPU time limit)", "SIGKILL": " (killed: memory or time limit, "
                 "or the code killed its own process)", "SIGSEGV": " (crash)"}.get(name, "")
        return "crashed", f"the grading process died with {name}{extra} {during}"
    return "crashed", f"the grading process ended early (exit status {rc}) {during}; does your code call os._exit, sys.exit or kill its own process?"


def grade_notebook(nb: dict, plan: NotebookPlan, batch: Batch) -> tuple[list[dict], str, list[int]]:
    """Run the sandbox (again after a fault, without the faulty cell) and judge every exercise."""
    found, missing = discover.exercise_cells(nb, plan.exercise_ids)
    entries: dict[str, dict] = {ex: _exercise_entry(ex, "missing", reason) for ex, reason in missing.items()}
    cells = sorted(found.values(), key=lambda c: c.index)
    pending = [ex for ex in plan.exercise_ids if ex in found]
    skip: set[str] = set()
    isolation = ""
    uids: list[int] = []  # the sandbox uids used (root only), so a test can check none survives
    for _ in range(len(pending) + 1):
        if not pending:
            break
        job = {"context": plan.context, "cells": [{"id": c.id, "source": c.source} for c in cells
                                                    if c.id not in skip],
               "grade": pending, "cases": {ex: plan.case_trees[ex] for ex in pending},
               "arg_names": {ex: list(_spec(ex).arg_names) for ex in pending},
               "hide": batch.hide, "torch": plan.torch}
        run = run_worker(job, plan.npz, batch.limits)
        isolation = isolation or run.isolation
        uids += [run.uid] if run.uid is not None else []
        for ex in list(pending):
            if ex in run.results:
                entries[ex] = judge_exercise(ex, plan, run.results[ex], found[ex].notes)
                pending.remove(ex)
        if not pending:
            break
        blamed = _blame(run, pending)
        if blamed is None:  # died before any learner code or the trusted part failed
            why = ("the grader could not run the instructor's context: " + run.fatal.strip().splitlines()[-1][:200]
                   if run.fatal and not run.last_progress else _fault_text(run, batch.limits, "")[1])
            for ex in pending:
                entries[ex] = _exercise_entry(ex, "crashed", why, notes=found[ex].notes)
            break
        what = run.last_progress.split()
        during = (f"while running the cell of `{blamed}`" if what[0] == "cell"
                  else f"while calling `{blamed}` on hidden case {int(what[2]) + 1 if len(what) > 2 and what[2].isdigit() else '?'}")
        status, text = _fault_text(run, batch.limits, during)
        entries[blamed] = _exercise_entry(blamed, status, text, notes=found[blamed].notes)
        pending.remove(blamed)
        if what[0] == "cell":  # its top-level code is the problem: do not run it again
            skip.add(blamed)
    return [entries[ex] for ex in plan.exercise_ids], isolation, uids


def _spec(ex: str):
    from ..checks import SPECS

    return SPECS[ex]


def grade_submission(sub: discover.Submission, content: bytes, key: str, batch: Batch,
                     notebooks: dict[str, list[str]]) -> dict[str, Any]:
    """The record of one submission (plain JSON). Never raises for anything the learner did."""
    from ..checks import SPECS

    record: dict[str, Any] = {"id": sub.id, "key": key, "path": str(sub.path), "notebook": None,
                              "exercises": [], "total": 0.0, "max": 0.0, "status": "graded",
                              "note": "", "seed_hash": hashlib.sha256(str(batch.seed).encode()).hexdigest()[:8]}
    nb = None
    try:
        nb = discover.read_notebook(content)
    except discover.NotebookError as exc:
        record["status"], record["note"] = "unreadable", str(exc)
    name = discover.identify(nb, sub.path.name, notebooks)
    record["notebook"] = name
    if name is None:
        record["status"] = record["status"] if nb is None else "unknown notebook"
        record["note"] = record["note"] or ("no exercise of the course found (no grade_id, file name "
                                            "or exercise function matched)")
        return record
    plan = batch.plan(name)
    if nb is None:
        record["exercises"] = [_exercise_entry(ex, "missing", record["note"]) for ex in plan.exercise_ids]
    else:
        kernel = (nb["metadata"].get("kernelspec") or {}) if isinstance(nb["metadata"].get("kernelspec"), dict) else {}
        if kernel.get("name") not in (None, "python3"):
            record["note"] = f"kernel {str(kernel.get('name'))[:40]!r} ignored: graded with the course's Python"
        if not nb["cells"]:
            record["status"], record["note"] = "empty", "the notebook has no cells"
        record["exercises"], record["isolation"], record["sandbox_uids"] = grade_notebook(nb, plan, batch)
    record["total"] = round(sum(e["score"] for e in record["exercises"]), 2)
    record["max"] = float(sum(SPECS[ex].points for ex in plan.exercise_ids))
    return record


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
