"""Judging: one case's outcome -> a verdict (with the named mistake or *where* it goes wrong), the
verdicts -> a :class:`~.result.CheckResult`, and :func:`run_spec`, which chains calling and judging.

Notebook checker and grader share this path (the grader calls :func:`judge` and :func:`summarize`
on the values its sandbox returns), so every message below reaches both.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .calling import call_safely, quiet
from .result import FAILED, NOT_IMPLEMENTED, CaseOutcome, CheckResult
from .spec import Case, Mistake, Outcome, Spec
from .structure import StructureError, flatten, type_name

Leaves = list[tuple[str, Any]]


def _leaf_close(got: Any, exp: Any, rtol: float, atol: float) -> bool:
    if isinstance(exp, int):
        return isinstance(got, int) and got == exp
    if not isinstance(got, np.ndarray) or got.shape != exp.shape:
        return False
    return bool(np.all(np.isfinite(got)) and np.allclose(got, exp, rtol=rtol, atol=atol))


def _all_close(got: Leaves, exp: Leaves, rtol: float, atol: float) -> bool:
    return len(got) == len(exp) and all(_leaf_close(g, e, rtol, atol)
                                        for (_, g), (_, e) in zip(got, exp))


def _leaf_same(got: Any, wrong: Any, rtol: float, atol: float) -> bool:
    """Like :func:`_leaf_close`, but NaN and inf count as equal where both have them: a mistake
    that overflows is recognised by its NaNs."""
    if isinstance(wrong, int) or isinstance(got, int):
        return got == wrong and isinstance(got, int) and isinstance(wrong, int)
    if not isinstance(got, np.ndarray) or not isinstance(wrong, np.ndarray):
        return False
    return got.shape == wrong.shape and bool(
        np.allclose(got, wrong, rtol=rtol, atol=atol, equal_nan=True))


def _all_same(got: Leaves, wrong: Leaves, rtol: float, atol: float) -> bool:
    return len(got) == len(wrong) and all(_leaf_same(g, w, rtol, atol)
                                          for (_, g), (_, w) in zip(got, wrong))


def _first_wrong_step(spec: Spec, name: str, got: np.ndarray, exp: np.ndarray) -> str:
    """Where along the time axis (if the leaf has one) the values first go wrong."""
    axis = spec.time_axis.get(name)
    if axis is None or got.ndim <= axis:
        return ""
    bad = np.moveaxis(~np.isclose(got, exp, rtol=spec.rtol, atol=spec.atol), axis, 0)
    steps = np.nonzero(bad.reshape(bad.shape[0], -1).any(axis=1))[0]
    if not steps.size:
        return ""
    text = f"; the first wrong time step is t={int(steps[0])}"
    if steps[0] > 0:
        text += f" (t=0..{int(steps[0]) - 1} are right)"
    return text


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
        text = f"{name} contains NaN or inf values"
        if np.all(np.isfinite(exp)):
            text += (" where the expected values are finite (from an overflow such as np.exp "
                     "of a large number, a 0 / 0, or an array left uninitialised by np.empty?)")
        return text
    err = np.abs(got - exp)
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(err)), err.shape))
    return (f"{name} has the right shape {exp.shape} but wrong values (max abs error "
            f"{err.max():.3g} at index {worst})" + _first_wrong_step(spec, name, got, exp))


def _unused_state_hint(spec: Spec, case: Case, got: Leaves, exp: Leaves) -> str:
    """"the first step is already wrong: is h0 used?" when every step of a time-axis leaf is
    wrong from t=0 and the case's initial state (``spec.initial_state``) is not zero."""
    if not spec.initial_state:
        return ""
    for (name, g), (_, e) in zip(got, exp):
        axis = spec.time_axis.get(name)
        if axis is None or not isinstance(g, np.ndarray) or g.shape != e.shape or g.ndim <= axis:
            continue
        bad = np.moveaxis(~np.isclose(g, e, rtol=spec.rtol, atol=spec.atol), axis, 0)
        if bad.shape[0] > 1 and bad.reshape(bad.shape[0], -1).any(axis=1).all():
            args, kwargs = case.inputs()
            named = {**dict(zip(spec.arg_names, args)), **kwargs}
            used = [n for n in spec.initial_state
                    if n in named and np.any(np.asarray(named[n], dtype=float) != 0)]
            if used:
                return (f"; the first step is already wrong: is {' / '.join(used)} used? "
                        "(if it is, the error is inside the step)")
        return ""
    return ""


def expected_leaves(spec: Spec, case: Case) -> Leaves:
    with quiet():
        return flatten(spec.output, spec.expected(case), where="the reference")


def find_mistakes(spec: Spec, case: Case, got: Leaves, exp: Leaves) -> list[Mistake]:
    """The catalogued mistakes whose output equals the learner's on this case (in catalogue
    order), each with its ``holds`` check (if any) true on the learner's output."""
    found: list[Mistake] = []
    for mistake in spec.mistakes:
        try:
            args, kwargs = case.inputs()
            with quiet():
                wrong = flatten(spec.output, mistake.fn(*args, **kwargs))
        except Exception:  # noqa: BLE001 - a mistake that cannot apply to this case
            continue
        if _all_close(wrong, exp, spec.rtol, spec.atol):
            continue  # indistinguishable from the right answer on this case
        if not _all_same(got, wrong, spec.rtol, spec.atol):
            continue
        if mistake.holds is not None:
            try:
                args, kwargs = case.inputs()
                with quiet():
                    if not mistake.holds(dict(got), *args, **kwargs):
                        continue
            except Exception:  # noqa: BLE001 - a check that cannot apply: do not claim it
                continue
        if all(m.name != mistake.name for m in found):
            found.append(mistake)
    return found


def find_mistake(spec: Spec, case: Case, got: Leaves, exp: Leaves) -> Mistake | None:
    """The first catalogued mistake whose output equals the learner's on this case."""
    found = find_mistakes(spec, case, got, exp)
    return found[0] if found else None


def _non_finite(got: Leaves) -> bool:
    return any(isinstance(g, np.ndarray) and g.dtype.kind == "f" and not np.all(np.isfinite(g))
               for _, g in got)


def _recognised(spec: Spec, case: Case, got: Leaves, exp: Leaves) -> tuple[str, str] | None:
    """The spec's naming from cheap output properties (never raises)."""
    if spec.recognise is None:
        return None
    try:
        args, kwargs = case.inputs()
        with quiet():
            return spec.recognise(dict(got), dict(exp), *args, **kwargs)
    except Exception:  # noqa: BLE001 - a property that cannot be read: say nothing
        return None


def _diagnosis(spec: Spec, got: Leaves, exp: Leaves, brief: bool) -> str | None:
    """The spec's own diagnosis, when it has one and every leaf has the right shape and is
    finite."""
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
    batch = case.dims.get("B")
    rank = case.dims.get("ndim")

    def fail(message: str, mistake: str | None = None) -> CaseOutcome:
        return CaseOutcome(case.shown_label(), case.group, False, message, mistake, batch, rank)

    if outcome.not_implemented:
        return fail("not implemented yet")
    if outcome.error is not None:
        hint, name = None, None
        if spec.explain_error is not None:
            try:
                args, kwargs = case.inputs()
                hint = spec.explain_error(outcome.error, *args, **kwargs)
            except Exception:  # noqa: BLE001 - no hint rather than a wrong one
                hint = None
            if isinstance(hint, tuple):  # (hint, the mistake the error shows)
                hint, name = hint
        text = f"your function raised {outcome.error}"
        return fail(f"{text} — {hint}" if hint else text, name)
    if outcome.mutated:
        names = ", ".join(f"`{n}`" for n in outcome.mutated)
        return fail(f"your function modified its input {names} in place (e.g. `+=` or `[...] =` "
                    "on an argument); the caller's arrays must stay unchanged — build new arrays "
                    "instead", "modified an input in place")
    if spec.check_types is not None:
        try:
            wrong_type = spec.check_types(case, outcome.value)
        except Exception:  # noqa: BLE001 - an unreadable value is judged below
            wrong_type = None
        if wrong_type:
            return fail(*((wrong_type, "a type the notebook states") if isinstance(wrong_type, str)
                          else wrong_type))
    exp = expected_leaves(spec, case)
    try:
        got = flatten(spec.output, outcome.value)
    except StructureError as exc:
        return fail(str(exc))
    if _all_close(got, exp, spec.rtol, spec.atol):
        return CaseOutcome(case.shown_label(), case.group, True, batch=batch, rank=rank)
    named = _recognised(spec, case, got, exp)
    if named is not None:
        return fail(named[1], named[0])
    found = find_mistakes(spec, case, got, exp)
    mistake = found[0] if found else None
    detail = _diagnosis(spec, got, exp, brief=mistake is not None)
    if mistake is not None:
        text = f"looks like {mistake.name}: {mistake.explain}"
        if len(found) > 1 and _non_finite(got):
            # NaN / inf match several mistakes alike: say each that fits
            fits = found[:3]
            text = (f"{len(fits)} explanations fit this output: " + "; or ".join(
                f"{m.name} ({m.explain})" for m in fits))
            return fail(text, " / ".join(m.name for m in fits))
        return fail(f"{text} ({detail})" if detail else text, mistake.name)
    if detail:
        return fail(detail)
    for (name, g), (_, e) in zip(got, exp):
        if not _leaf_close(g, e, spec.rtol, spec.atol):
            return fail(_mismatch_text(spec, name, g, e) + _unused_state_hint(spec, case, got, exp))
    return fail("wrong result")  # unreachable in practice


def _batch_note(outcomes: list[CaseOutcome]) -> str:
    """"passes at batch 1, fails at batch 3" when every batch-1 case passes and every larger
    batch fails: the bug mixes up (or drops) the rows of the batch."""
    ones = [o for o in outcomes if o.batch == 1]
    more = [o for o in outcomes if o.batch is not None and o.batch > 1]
    if not ones or not more or not all(o.passed for o in ones) or any(o.passed for o in more):
        return ""
    sizes = sorted({o.batch for o in more})
    listed = ", ".join(map(str, sizes[:-1])) + (" and " if len(sizes) > 1 else "") + str(sizes[-1])
    return f"passes at batch 1, fails at batch {listed}; "


def _rank_note(outcomes: list[CaseOutcome]) -> str:
    """"passes on 2-D inputs, fails on 3-D inputs" when the cases' inputs differ in their number
    of axes (``Case.dims["ndim"]``) and the verdict splits exactly along it."""
    ranks = sorted({o.rank for o in outcomes if o.rank is not None})
    if len(ranks) < 2:
        return ""
    good = {r for r in ranks if all(o.passed for o in outcomes if o.rank == r)}
    bad = {r for r in ranks if not any(o.passed for o in outcomes if o.rank == r)}
    if not good or not bad or good | bad != set(ranks):
        return ""
    text = (f"passes on {' and '.join(f'{r}-D' for r in sorted(good))} inputs, fails on "
            f"{' and '.join(f'{r}-D' for r in sorted(bad))} inputs")
    return text + " (work along axis=-1 with `...` indexing, or reshape to (-1, V) first); "


def summarize(spec: Spec, outcomes: list[CaseOutcome], hidden: bool = False) -> CheckResult:
    """The verdicts on all cases -> one :class:`CheckResult` (the first failing case speaks)."""
    n = len(outcomes)
    kind = "hidden" if hidden else "public"
    if outcomes and all(o.passed for o in outcomes):
        return CheckResult(spec.id, True, f"{kind} checks passed ({n} cases).", cases=outcomes)
    if outcomes and all(o.message == "not implemented yet" for o in outcomes):
        return CheckResult(spec.id, False,
                           "not implemented yet — replace `raise NotImplementedError()` with "
                           "your code, then run this cell again.", status=NOT_IMPLEMENTED,
                           cases=outcomes)
    first = next(o for o in outcomes if not o.passed)
    k = sum(o.passed for o in outcomes)
    msg = (f"{first.message} [case {first.label}; {_batch_note(outcomes)}"
           f"{'' if first.mistake else _rank_note(outcomes)}"
           f"{k} of {n} {kind} cases passed]")
    return CheckResult(spec.id, False, msg, status=FAILED, mistake=first.mistake, cases=outcomes)


def run_spec(spec: Spec, fn: Any, seed: int | None = None) -> CheckResult:
    """Run every case of ``spec`` on ``fn`` in this process. Never raises."""
    try:
        if not callable(fn):
            return CheckResult(spec.id, False, f"expected your function `{spec.id}`, got "
                               f"{type_name(fn)} — pass the function itself, without calling it")
        cases = spec.cases(seed)
        outcomes = [judge(spec, c, call_safely(fn, c, spec.arg_names)) for c in cases]
        result = summarize(spec, outcomes, hidden=seed is not None and seed != spec.public_seed)
        if result.passed and spec.probe is not None:  # notebook only: how, not just what
            hint = spec.probe(fn)
            if hint:
                return CheckResult(spec.id, False, f"{hint[0]} [the values of all {len(outcomes)} "
                                   "cases are right]", status=FAILED, mistake=hint[1],
                                   cases=outcomes)
        return result
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - a checker never raises
        return CheckResult(spec.id, False, f"the checker itself failed ({type(exc).__name__}: "
                           f"{exc}); please report this to the course maintainers")


def make_checker(spec: Spec) -> Callable[..., CheckResult]:
    def check(fn: Any, seed: int | None = None) -> CheckResult:
        return run_spec(spec, fn, seed)

    check.__name__ = check.__qualname__ = f"check_{spec.id}"
    check.__doc__ = (f"Check your `{spec.id}` ({spec.title}, notebook {spec.notebook}) against "
                     f"the torch reference; returns a CheckResult (truthy when it passes).")
    check.spec = spec  # type: ignore[attr-defined]
    return check
