"""Judging: one case's outcome -> a verdict (with the named mistake or *where* it goes wrong), the
verdicts -> a :class:`~.result.CheckResult`, and :func:`run_spec`, which chains calling and judging."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .calling import call_safely
from .result import FAILED, NOT_IMPLEMENTED, CaseOutcome, CheckResult
from .spec import Case, Mistake, Outcome, Spec
from .structure import StructureError, describe, type_name, flatten

def _leaf_close(got: Any, exp: Any, rtol: float, atol: float) -> bool:
    if isinstance(exp, int):
        return isinstance(got, int) and got == exp
    if not isinstance(got, np.ndarray) or got.shape != exp.shape:
        return False
    return bool(np.all(np.isfinite(got)) and np.allclose(got, exp, rtol=rtol, atol=atol))


def _all_close(got: list[tuple[str, Any]], exp: list[tuple[str, Any]], rtol: float, atol: float) -> bool:
    return len(got) == len(exp) and all(_leaf_close(g, e, rtol, atol) for (_, g), (_, e) in zip(got, exp))


def _mismatch_text(spec: Spec, name: str, got: Any, exp: Any) -> str:
    if isinstance(exp, int):
        return f"{name} is {got}, which is not the expected count"
    if got.shape != exp.shape:
        text = f"{name} has shape {got.shape}, expected {exp.shape}"
        if got.shape == exp.shape[::-1] and got.ndim > 1:
            text += " (transposed?)"
        elif got.size == exp.size:
            text += " (same number of entries: a reshape or axis order mix-up?)"
        return text
    if not np.all(np.isfinite(got)):
        return f"{name} contains NaN or inf values"
    err = np.abs(got - exp)
    worst = np.unravel_index(int(np.argmax(err)), err.shape)
    text = f"{name} has the right shape {exp.shape} but wrong values (max abs error {err.max():.3g} at index {tuple(int(i) for i in worst)})"
    axis = spec.time_axis.get(name)
    if axis is not None and got.ndim > axis:
        bad = np.moveaxis(~np.isclose(got, exp, rtol=spec.rtol, atol=spec.atol), axis, 0)
        steps = np.nonzero(bad.reshape(bad.shape[0], -1).any(axis=1))[0]
        if steps.size:
            text += f"; the first wrong time step is t={int(steps[0])}"
            if steps[0] > 0:
                text += f" (t=0..{int(steps[0]) - 1} are right)"
    return text


def expected_leaves(spec: Spec, case: Case) -> list[tuple[str, Any]]:
    return flatten(spec.output, spec.expected(case), where="the reference")


def find_mistake(spec: Spec, case: Case, got: list[tuple[str, Any]],
                 exp: list[tuple[str, Any]]) -> Mistake | None:
    """The first catalogued mistake whose output equals the learner's on this case."""
    for mistake in spec.mistakes:
        try:
            args, kwargs = case.inputs()
            wrong = flatten(spec.output, mistake.fn(*args, **kwargs))
        except Exception:  # noqa: BLE001 - a mistake that cannot apply to this case
            continue
        if _all_close(wrong, exp, spec.rtol, spec.atol):
            continue  # indistinguishable from the right answer on this case
        if _all_close(got, wrong, spec.rtol, spec.atol):
            return mistake
    return None


def _diagnosis(spec: Spec, got: list[tuple[str, Any]], exp: list[tuple[str, Any]], brief: bool) -> str | None:
    """The spec's own diagnosis, when it has one and every leaf has the right shape and is finite."""
    if spec.diagnose is None:
        return None
    for (_, g), (_, e) in zip(got, exp):
        if isinstance(e, int):
            continue
        if not isinstance(g, np.ndarray) or g.shape != e.shape or not np.all(np.isfinite(g)):
            return None
    return spec.diagnose(dict(got), dict(exp), brief) or None


def judge(spec: Spec, case: Case, outcome: Outcome) -> CaseOutcome:
    """Verdict on one case. Plain data in, plain data out; never shows expected values."""
    def fail(message: str, mistake: str | None = None) -> CaseOutcome:
        return CaseOutcome(case.label, case.group, False, message, mistake)

    if outcome.not_implemented:
        return fail("not implemented yet")
    if outcome.error is not None:
        return fail(f"your function raised {outcome.error}")
    if outcome.mutated:
        names = ", ".join(f"`{n}`" for n in outcome.mutated)
        return fail(f"your function modified its input {names} in place (e.g. `+=` or `[...] =` on "
                    "an argument); the caller's arrays must stay unchanged — build new arrays instead",
                    "modified an input in place")
    exp = expected_leaves(spec, case)
    try:
        got = flatten(spec.output, outcome.value)
    except StructureError as exc:
        return fail(str(exc))
    if _all_close(got, exp, spec.rtol, spec.atol):
        return CaseOutcome(case.label, case.group, True)
    mistake = find_mistake(spec, case, got, exp)
    detail = _diagnosis(spec, got, exp, brief=mistake is not None)
    if mistake is not None:
        text = f"looks like {mistake.name}: {mistake.explain}"
        return fail(f"{text} ({detail})" if detail else text, mistake.name)
    if detail:
        return fail(detail)
    for (name, g), (_, e) in zip(got, exp):
        if not _leaf_close(g, e, spec.rtol, spec.atol):
            return fail(_mismatch_text(spec, name, g, e))
    return fail("wrong result")  # unreachable in practice


def summarize(spec: Spec, outcomes: list[CaseOutcome], hidden: bool = False) -> CheckResult:
    n = len(outcomes)
    kind = "hidden" if hidden else "public"
    if outcomes and all(o.passed for o in outcomes):
        return CheckResult(spec.id, True, f"{kind} checks passed ({n} cases).", cases=outcomes)
    if outcomes and all(o.message == "not implemented yet" for o in outcomes):
        return CheckResult(spec.id, False,
                           "not implemented yet — replace `raise NotImplementedError()` with your "
                           "code, then run this cell again.", status=NOT_IMPLEMENTED, cases=outcomes)
    first = next(o for o in outcomes if not o.passed)
    k = sum(o.passed for o in outcomes)
    msg = f"{first.message} [case {first.label}; {k} of {n} {kind} cases passed]"
    return CheckResult(spec.id, False, msg, status=FAILED, mistake=first.mistake, cases=outcomes)


def run_spec(spec: Spec, fn: Any, seed: int | None = None) -> CheckResult:
    """Run every case of ``spec`` on ``fn`` in this process. Never raises."""
    try:
        if not callable(fn):
            return CheckResult(spec.id, False, f"expected your function `{spec.id}`, got "
                               f"{type_name(fn)} — pass the function itself, without calling it")
        cases = spec.cases(seed)
        outcomes = [judge(spec, c, call_safely(fn, c, spec.arg_names)) for c in cases]
        return summarize(spec, outcomes, hidden=seed is not None and seed != spec.public_seed)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - a checker never raises
        return CheckResult(spec.id, False, f"the checker itself failed ({type(exc).__name__}: {exc}); "
                           "please report this to the course maintainers")


def make_checker(spec: Spec) -> Callable[..., CheckResult]:
    def check(fn: Any, seed: int | None = None) -> CheckResult:
        return run_spec(spec, fn, seed)

    check.__name__ = check.__qualname__ = f"check_{spec.id}"
    check.__doc__ = (f"Check your `{spec.id}` ({spec.title}, notebook {spec.notebook}) against "
                     f"the torch reference; returns a CheckResult (truthy when it passes).")
    check.spec = spec  # type: ignore[attr-defined]
    return check
