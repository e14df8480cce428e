"""Grade one submission: each exercise in a fresh sandbox, raw values back, judged outside.

For each exercise E of the submission's notebook (see :mod:`.plan` for the cases):

1. in a fresh sandbox (:mod:`.sandbox`; one per notebook and set of allowed packages), a
   process forked for E alone runs the learner's exercise cells in notebook order up to E's
   cell (after the instructor's ``grader-context`` cells), calls E on every case and leaves
   raw return values as plain data; once it and everything it started are gone, the runner
   hands E's outcome over and waits until the grader has taken it: no learner code runs
   between an outcome and the grader;
2. the grader, which never enters the sandbox, rebuilds each value, decides itself whether an
   input was changed in place (from its own copy of the inputs, :func:`mutated_inputs`), wraps
   it in an :class:`~course_utils.checks.spec.Outcome` and calls the same
   :func:`~course_utils.checks.judging.judge` / :func:`summarize` as the notebook checkers; for
   hidden cases the feedback echoes nothing the learner's code chose (:mod:`.hidden`).

The hidden cases of a submission come from the class's secret and its graded code
(:func:`.plan.submission_seed`).

If a run dies or times out while running another exercise's cell at top level, that cell gets
the blame (and its exercise a zero) and E is run again without it; a fault while E's own cell
or calls run costs only E. Scoring: ``points * (cases passed / cases)``, rounded to 0.01.
"""

from __future__ import annotations

import hashlib
import signal
import sys
from dataclasses import dataclass
from typing import Any

from . import discover
from .hidden import Sources
from .plan import NotebookPlan, PlanCache
from .record import ExerciseResult, SubmissionRecord
from .sandbox import ExerciseRun, Limits, RunOutcome, run
from .serialize import save_npz_bytes
from .verdict import judge_exercise


@dataclass
class Batch:
    """How this batch runs learner code (shared by every submission)."""

    plans: PlanCache
    limits: Limits
    mode: str = "bwrap"                 # "bwrap" | "none"
    runner_site: list[str] | None = None
    seed_hash: str = ""


def _spec(ex: str):
    from ..checks import SPECS

    return SPECS[ex]


def entry(ex: str, status: str, message: str, notes: list[str] | None = None) -> ExerciseResult:
    spec = _spec(ex)
    return ExerciseResult(ex, spec.title, status, message, 0.0, float(spec.points),
                          notes=list(notes or []))


def fault_text(timed_out: bool, rc: int | None, limits: Limits, during: str) -> tuple[str, str]:
    """(status, message) for a process that produced no result."""
    if timed_out:
        return "timeout", (f"stopped after {limits.timeout:g} s {during} (an infinite loop, or "
                           "far too slow?)")
    if rc is not None and rc < 0:
        try:
            name = signal.Signals(-rc).name
        except ValueError:
            name = str(-rc)
        extra = {"SIGXCPU": " (CPU time limit)", "SIGKILL": " (killed: memory or time limit, "
                 "or the code killed its own process)", "SIGSEGV": " (crash)"}.get(name, "")
        return "crashed", f"the grading process died with {name}{extra} {during}"
    return "crashed", (f"the grading process ended early (exit status {rc}) {during}; does "
                       "your code call os._exit, sys.exit or kill its own process?")


def _ex_job(ex: str, plan: NotebookPlan, cells: list[discover.ExerciseCell],
            bad: dict[str, ExerciseResult]) -> dict[str, Any]:
    """What the runner needs for one exercise: the cells up to its own, its cases."""
    own = next(c for c in cells if c.id == ex)
    return {"exercise": ex, "checkers": list(plan.exercise_ids),
            "cells": [{"id": c.id, "source": c.source} for c in cells
                      if c.index <= own.index and c.id not in bad],
            "cases": plan.exercises[ex].payloads}


@dataclass
class Reading:
    """What one exercise's run says: a result, a fault of its own, or another cell to blame."""

    run: ExerciseRun | None = None
    fault: tuple[str, str] | None = None   # (status, message)
    blame: str | None = None               # another exercise's cell killed this process


def read_run(ex: str, run_: RunOutcome, cells: set[str], limits: Limits) -> Reading:
    er = run_.exercises.get(ex)
    if er is not None and er.cases is not None:
        return Reading(run=er)
    if er is None or not er.started:
        if run_.fatal and run_.started:
            return Reading(fault=("crashed", "the grader could not run the instructor's context: "
                                  + run_.fatal.strip().splitlines()[-1][:200]))
        return Reading()  # never got its turn: run it again
    timed_out = er.timed_out or (not er.ended and run_.timed_out)
    rc = er.exit_code if er.ended else run_.returncode
    p = er.progress
    if p.cell is not None and p.cell != ex and p.cell in cells:
        return Reading(fault=fault_text(timed_out, rc, limits,
                                        f"while running the cell of `{p.cell}`"), blame=p.cell)
    if p.cell == ex:
        during = f"while running the cell of `{ex}`"
    elif p.case is not None:
        during = f"while calling `{ex}` on case {p.case + 1}"
    else:
        during = "before any of your code ran"
    return Reading(fault=fault_text(timed_out, rc, limits, during))


def _run(exs: list[str], plan: NotebookPlan, batch: Batch,
         cells: list[discover.ExerciseCell], bad: dict[str, ExerciseResult],
         uids: list[int]) -> RunOutcome:
    """Exercises ``exs`` in one fresh sandbox, each in its own process: the runner hands each
    outcome over and waits for the grader to have taken it before any more learner code runs."""
    modules = tuple(sorted({m for ex in exs for m in plan.exercises[ex].modules}))
    job = {"context": plan.context, "exercises": [_ex_job(ex, plan, cells, bad) for ex in exs]}
    arrays = {k: v for ex in exs for k, v in plan.exercises[ex].arrays.items()}
    npz = plan.exercises[exs[0]].npz if len(exs) == 1 else save_npz_bytes(arrays)
    out = run(job, npz, batch.limits, batch.mode, modules, batch.runner_site)
    uids += [out.uid] if out.uid is not None else []
    if out.cleanup:
        log(f"warning: could not remove {out.cleanup} after a run")
    return out


def _settle(ex: str, reading: Reading, plan: NotebookPlan, cells: list[discover.ExerciseCell],
            bad: dict[str, ExerciseResult]) -> ExerciseResult | None:
    """The verdict a reading gives, or None when the exercise must run again."""
    notes = {c.id: c.notes for c in cells}
    if reading.run is not None:
        return judge_exercise(ex, plan, reading.run, notes[ex],
                              Sources({c.id: c.source for c in cells}))
    if reading.blame is not None:
        bad.setdefault(reading.blame, entry(reading.blame, *reading.fault, notes[reading.blame]))
        return None
    if reading.fault is None:
        return None
    bad[ex] = entry(ex, *reading.fault, notes[ex])
    return bad[ex]


def grade_exercise(ex: str, plan: NotebookPlan, batch: Batch, cells: list[discover.ExerciseCell],
                   bad: dict[str, ExerciseResult], uids: list[int]) -> ExerciseResult:
    """E alone in fresh sandboxes until it has a verdict (cells found faulty go into ``bad``)."""
    ids = {c.id for c in cells}
    for _ in range(len(cells) + 1):
        out = _run([ex], plan, batch, cells, bad, uids)
        reading = read_run(ex, out, ids, batch.limits)
        if reading.blame is None and reading.run is None and reading.fault is None:
            reading.fault = fault_text(out.timed_out, out.returncode, batch.limits,
                                       "before any of your code ran")
        verdict = _settle(ex, reading, plan, cells, bad)
        if verdict is not None:
            return verdict
    return entry(ex, "crashed", "the sandbox did not run this exercise", [])


def grade_notebook(nb: dict, plan: NotebookPlan, batch: Batch,
                   uids: list[int]) -> list[ExerciseResult]:
    """Every exercise of the notebook: one sandbox per set of allowed packages (usually one),
    a fresh process per exercise whose outcome is taken before the next one starts; exercises
    whose process was killed by another exercise's cell run again alone, without that cell."""
    found, missing = discover.exercise_cells(nb, plan.exercise_ids)
    cells = sorted(found.values(), key=lambda c: c.index)
    bad: dict[str, ExerciseResult] = {}
    results: dict[str, ExerciseResult] = {ex: entry(ex, "missing", why)
                                          for ex, why in missing.items()}
    pending = [ex for ex in plan.exercise_ids if ex in found]
    groups: dict[tuple[str, ...], list[str]] = {}  # torch only in the sandbox of those needing it
    for ex in pending:
        groups.setdefault(plan.exercises[ex].modules, []).append(ex)
    ids = {c.id for c in cells}
    for group in groups.values():
        out = _run(group, plan, batch, cells, bad, uids)
        for ex in group:
            verdict = _settle(ex, read_run(ex, out, ids, batch.limits), plan, cells, bad)
            if verdict is not None:
                results[ex] = verdict
    for ex in pending:
        if ex not in results:
            results[ex] = bad.get(ex) or grade_exercise(ex, plan, batch, cells, bad, uids)
    return [results[ex] for ex in plan.exercise_ids]


def graded_code(nb: dict, exercise_ids: list[str]) -> list[str]:
    """The code that decides a submission's hidden cases: its exercise cells as graded."""
    found, _ = discover.exercise_cells(nb, exercise_ids)
    return [f"{c.id}\0{c.source}" for c in sorted(found.values(), key=lambda c: c.index)]


def grade_submission(sub: discover.Submission, content: bytes, key: str, batch: Batch,
                     notebooks: dict[str, list[str]]) -> SubmissionRecord:
    """The record of one submission. Never raises for anything the learner did."""
    record = SubmissionRecord(id=sub.id, path=str(sub.path), key=key, seed_hash=batch.seed_hash)
    nb = None
    try:
        nb = discover.read_notebook(content)
    except discover.NotebookError as exc:
        record.status, record.note = "unreadable", str(exc)
    record.notebook = discover.identify(nb, sub.path.name, notebooks)
    if record.notebook is None:
        record.status = record.status if nb is None else "unknown notebook"
        record.note = record.note or ("no exercise of the course found (no grade_id, file name "
                                      "or exercise function matched)")
        return record
    ids = notebooks[record.notebook]
    if nb is None:
        record.exercises = [entry(ex, "missing", record.note) for ex in ids]
    else:
        plan = batch.plans.get(record.notebook, graded_code(nb, ids))
        kernel = nb["metadata"].get("kernelspec")
        kernel = kernel if isinstance(kernel, dict) else {}
        if kernel.get("name") not in (None, "python3"):
            record.note = (f"kernel {str(kernel.get('name'))[:40]!r} ignored: graded with the "
                           "course's Python")
        if not nb["cells"]:
            record.status, record.note = "empty", "the notebook has no cells"
        record.exercises = grade_notebook(nb, plan, batch, record.sandbox_uids)
        record.isolation = ("bubblewrap" if batch.mode == "bwrap" else "none") + (
            " + own uid" if record.sandbox_uids else "")
    record.total = round(sum(e.score for e in record.exercises), 2)
    record.max = float(sum(_spec(ex).points for ex in ids))
    return record


def seed_hash(seed: int | None) -> str:
    return hashlib.sha256(str(seed).encode()).hexdigest()[:8]


def course_notebooks() -> dict[str, list[str]]:
    from ..exercises import by_notebook

    return {nb: [e.id for e in exs] for nb, exs in by_notebook().items()}


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)

