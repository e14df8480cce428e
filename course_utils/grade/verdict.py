"""The verdict on one exercise from its sandbox run's raw report (untrusted data), judged in
the grader with the notebook checkers' own functions.

* :func:`mutated_inputs`: whether an input was changed in place, established here from the
  grader's own copy of the inputs — against the runner's snapshot of the shared memory that
  held them, and against the arguments as the learner's process reported them — with
  :func:`~course_utils.checks.calling.changed_in_place`, the one implementation the notebook
  checkers use;
* :func:`case_outcome`: one case's report -> an :class:`~course_utils.checks.spec.Outcome`
  (exception texts rendered by :mod:`.hidden`);
* :func:`judge_exercise`: every case through :func:`~course_utils.checks.judging.judge` and
  :func:`~course_utils.checks.judging.summarize`; hidden cases are labelled ``#k`` and their
  messages rebuilt from the spec alone (:func:`.hidden.hidden_message`).
"""

from __future__ import annotations

from typing import Any

from .hidden import Sources, exception_text, hidden_message
from .plan import NotebookPlan
from .record import ExerciseResult
from .serialize import DecodeError, decode_value


def _spec(ex: str):
    from ..checks import SPECS

    return SPECS[ex]


def _plain(value: Any) -> Any:
    """Tensors as numpy arrays (containers kept), to compare with what the sandbox reported."""
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if type(value).__name__ in ("Tensor", "Parameter") and hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return value


def mutated_inputs(ex_plan: Any, j: int, reported: Any, after: dict | None,
                   arg_names: tuple[str, ...]) -> list[str] | None:
    """The arguments of case ``j`` changed in place, established here from the grader's own
    copy of the inputs (the learner's process never held it), with the one implementation the
    notebook checkers use (:func:`~course_utils.checks.calling.changed_in_place`): against the
    runner's snapshot of the shared input memory (data), and against the arguments as the
    learner's process reported them (containers, shapes). None: the snapshot is missing."""
    from ..checks.calling import changed_in_place
    from .serialize import decode_inputs

    payload = ex_plan.payloads[j]
    if payload.get("source") is not None:
        return []  # inputs built by code (models, optimizers): changing them is the exercise
    before_args = decode_inputs(payload["args"], ex_plan.arrays)
    before_kwargs = decode_inputs(payload["kwargs"], ex_plan.arrays)
    names = [arg_names[i] if i < len(arg_names) else f"argument {i}"
             for i in range(len(before_args))]
    before = {**dict(zip(names, before_args)), **before_kwargs}
    keys = {k for k in ex_plan.arrays if k.startswith(f"{ex_plan.id}.{j}.")}
    snap = (after or {}).get(j, {})
    if keys and not keys <= set(snap):
        return None
    changed = set()
    if keys:
        got = {**dict(zip(names, decode_inputs(payload["args"], snap))),
               **decode_inputs(payload["kwargs"], snap)}
        changed |= {n for n in before if changed_in_place(before[n], got[n])}
    if type(reported) is dict and type(reported.get("args")) is list \
            and type(reported.get("kwargs")) is dict:
        now = {**dict(zip(names, reported["args"])), **reported["kwargs"]}
        changed |= {n for n in before if n in now and changed_in_place(_plain(before[n]), now[n])}
    return [n for n in before if n in changed]


def case_outcome(ex: str, ex_plan: Any, j: int, raw: Any, after: dict | None,
                 sources: Sources, hidden: bool):
    """One case's raw report (untrusted) -> an :class:`~course_utils.checks.spec.Outcome`."""
    from ..checks.spec import Outcome

    if type(raw) is not dict:
        return Outcome(error="the sandbox reported no result for this case")
    if raw.get("not_implemented") is True:
        return Outcome(not_implemented=True)
    if "cell_error" in raw:
        return Outcome(error=exception_text(raw["cell_error"], sources, hidden)
                       + ", when your exercise cell was run (before any call)")
    if "undefined" in raw:
        return Outcome(error=f"your exercise cell does not define a function `{ex}`")
    if "exception" in raw:
        return Outcome(error=exception_text(raw["exception"], sources, hidden))
    try:
        value = decode_value(raw.get("value"))
        reported = decode_value(raw["after"]) if "after" in raw else None
    except (DecodeError, RecursionError, ValueError, TypeError) as exc:
        return Outcome(error=f"returned data the grader could not read ({str(exc)[:80]})")
    mutated = mutated_inputs(ex_plan, j, reported, after, _spec(ex).arg_names)
    if mutated is None:
        return Outcome(error="the grader could not read your inputs back after the call (did "
                             "your code change the run's folder?)")
    return Outcome(value=value, mutated=mutated)


def judge_exercise(ex: str, plan: NotebookPlan, run_: Any, notes: list[str],
                   sources: Sources | None = None) -> ExerciseResult:
    """The verdict on one exercise from its run's raw outcomes (untrusted data)."""
    from ..checks.judging import judge, summarize
    from ..checks.result import CaseOutcome

    spec, ex_plan = _spec(ex), plan.exercises[ex]
    sources = sources or Sources({})
    raw_cases = run_.cases if type(run_.cases) is list else []
    notes = list(notes)
    if run_.late_error is not None:
        notes.append(f"a statement after the definition of `{ex}` in its cell raised "
                     f"{exception_text(run_.late_error, sources, plan.hidden)}; the function "
                     "was graded anyway (a checker call or display() is not needed there)")
    outcomes = []
    for j, case in enumerate(ex_plan.cases):
        raw = raw_cases[j] if j < len(raw_cases) else None
        label = f"#{j + 1}" if plan.hidden else case.shown_label()  # a hidden label says nothing
        try:
            outcome = case_outcome(ex, ex_plan, j, raw, run_.after, sources, plan.hidden)
            verdict = judge(spec, case, outcome)
            verdict.label = label
            if plan.hidden and not verdict.passed and outcome.error is None \
                    and not outcome.not_implemented and not outcome.mutated:
                verdict.message = hidden_message(spec, case, outcome.value, verdict.mistake,
                                                 sources)
            outcomes.append(verdict)
        except Exception as exc:  # noqa: BLE001 - whatever came back, it is a failed case
            outcomes.append(CaseOutcome(label, case.group, False, "the returned value could "
                                        f"not be judged ({type(exc).__name__})"))
    result = summarize(spec, outcomes, hidden=plan.hidden)
    n_pass = sum(o.passed for o in outcomes)
    score = float(spec.points) * n_pass / len(outcomes) if outcomes else 0.0
    return ExerciseResult(ex, spec.title, result.status, result.message, round(score, 2),
                          float(spec.points), n_pass, len(outcomes), result.mistake, notes)
