"""The engine pieces notebook 09's specs added, and the grader's path for its two exercises:
``Case.raises`` (inputs the function must refuse), ``explain_error`` naming a mistake, numbers
inside list arguments counted for in-place changes, and grading outside the notebook (inputs
encoded, the learner's values and exceptions reported as data, judged from the spec alone)."""

from __future__ import annotations

import types

import numpy as np
import pytest

from course_utils.checks.calling import changed_in_place
from course_utils.checks.judging import judge, run_spec
from course_utils.checks.spec import Case, Mistake, Outcome, Spec


def _refusing_spec(**extra) -> Spec:
    """sqrt of a non-negative number; a negative one must raise ValueError naming it."""
    def cases(seed):
        rng = np.random.default_rng(seed)
        x = float(rng.integers(2, 9))
        return [Case("x >= 0", (np.array([x * x]),)),
                Case("x < 0", (np.array([-x]),), raises="ValueError",
                     raises_mentions=(f"{-x:g}", f"{-x}"))]

    def ref(a):
        if (a < 0).any():
            raise ValueError(f"negative input {a[a < 0][0]:g}")
        return np.sqrt(a)

    nan_sqrt = Mistake("nan instead of an error", "raise ValueError", lambda a: np.sqrt(a))
    return Spec(id="safe_sqrt", title="t", notebook="99_test", arg_names=("a",), output="y",
                make_cases=cases, reference=ref, mistakes=[nan_sqrt], **extra)


def test_a_refusal_passes_only_with_the_right_exception_naming_the_value():
    spec = _refusing_spec()
    assert run_spec(spec, spec.reference).passed
    assert spec.expected(spec.cases()[1]) is None           # the reference is never asked

    def vague(a):
        if (a < 0).any():
            raise ValueError("bad input")
        return np.sqrt(a)

    result = run_spec(spec, vague)
    assert not result.passed and result.mistake == "the error message names no value"

    def wrong_kind(a):
        if (a < 0).any():
            raise TypeError(f"negative {a}")
        return np.sqrt(a)

    result = run_spec(spec, wrong_kind)
    assert result.mistake == "the wrong exception, not ValueError" and "TypeError" in result.message

    with np.errstate(invalid="ignore"):
        result = run_spec(spec, lambda a: np.sqrt(a))
    assert result.mistake == "nan instead of an error" and "calls for ValueError" in result.message
    result = run_spec(spec, lambda a: np.sqrt(np.abs(a)))
    assert result.mistake == "no ValueError raised" and "returned a value" in result.message
    assert judge(spec, spec.cases()[1], Outcome(value="no")).mistake == "no ValueError raised"
    moved = judge(spec, spec.cases()[1], Outcome(value=np.zeros(1), mutated=["a"]))
    assert moved.mistake == "modified an input in place"


def test_a_hidden_refusal_is_judged_by_the_exception_type_alone():
    """The grader never sees a hidden case's exception text, only its type and the line."""
    spec = _refusing_spec()
    case = spec.cases(5)[1]
    case.group = "hidden"
    ok = judge(spec, case, Outcome(error="ValueError (in your code, line 3: `raise ...`)"))
    assert ok.passed
    bad = judge(spec, case, Outcome(error="an exception (in your code, line 3: `raise ...`)"))
    assert not bad.passed and bad.mistake == "the wrong exception, not ValueError"
    case.group = "public"
    assert not judge(spec, case, Outcome(error="ValueError: bad (in f, line 3: `x = 5`)")).passed


def test_explain_error_may_name_the_mistake():
    spec = _refusing_spec(explain_error=lambda err, a: ("a hint", "a name") if "Type" in err
                          else "just a hint")
    result = run_spec(spec, lambda a: (_ for _ in ()).throw(TypeError("x")))
    assert result.mistake == "a name" and "a hint" in result.message
    result = run_spec(spec, lambda a: (_ for _ in ()).throw(KeyError("x")))
    assert result.mistake is None and "just a hint" in result.message


def test_numbers_changed_inside_a_list_argument_count_as_in_place():
    assert changed_in_place([[60, 64], []], [[62, 64], []])
    assert changed_in_place({"t": 3}, {"t": 4})
    assert changed_in_place([[60]], [["60"]])
    assert not changed_in_place([[60, 64], [], [1.5, float("nan")]],
                                [[60, 64], [], [1.5, float("nan")]])
    assert not changed_in_place([np.int64(3)], [3])


# --------------------------------------------------------------------------- the grader's path
def _grade(ex: str, fn, seed: int | None):
    """What the grader does with one exercise, minus the sandbox: its plan's encoded inputs
    decoded as the runner does, the learner's function called on them, value / exception /
    arguments reported as plain data, then ``judge_exercise``."""
    from course_utils.grade.hidden import Sources
    from course_utils.grade.plan import make_plan
    from course_utils.grade.runner_exec import describe_exception
    from course_utils.grade.serialize import decode_inputs, encode_value
    from course_utils.grade.verdict import judge_exercise

    plan = make_plan("09_polyphonic_music", seed, context=[])
    ex_plan = plan.exercises[ex]
    assert ex_plan.modules == ()             # numpy only inside the learner's sandbox
    raws, after = [], {}
    for j, payload in enumerate(ex_plan.payloads):
        arrays = {k: v.copy() for k, v in ex_plan.arrays.items() if k.startswith(f"{ex}.{j}.")}
        args = decode_inputs(payload["args"], arrays, copy=False)     # as the runner does
        kwargs = decode_inputs(payload["kwargs"], arrays, copy=False)
        try:
            with np.errstate(all="ignore"):
                value = fn(*args, **kwargs)
            raws.append({"value": encode_value(value),
                         "after": encode_value({"args": list(args), "kwargs": kwargs})})
        except Exception as exc:  # noqa: BLE001
            raws.append({"exception": describe_exception(exc)})
        after[j] = arrays
    run_ = types.SimpleNamespace(cases=raws, after=after, late_error=None)
    return judge_exercise(ex, plan, run_, [], Sources({}))


@pytest.mark.parametrize("seed", [None, 2024])
def test_the_grader_grades_both_exercises(seed):
    from .test_polyphonic_music_nll import nll_float32, nll_log_sigmoid_stable, nll_naive
    from .test_polyphonic_music_roll import roll_loops, roll_mutates, roll_numpy_index_error, roll_vectorised

    for ex, fn in (("piano_roll", roll_loops), ("piano_roll", roll_vectorised),
                   ("frame_nll", nll_float32), ("frame_nll", nll_log_sigmoid_stable)):
        result = _grade(ex, fn, seed)
        assert result.n_passed == result.n_cases, (ex, fn.__name__, result.message)
    for ex, fn, name in (("piano_roll", roll_mutates, "modified an input in place"),
                         ("piano_roll", roll_numpy_index_error,
                          "a key index below 0 wrapped around to the top keys"),
                         ("frame_nll", nll_naive,
                          "log(σ(x)) and log(1 - σ(x)) computed from σ (NaN in the tails)")):
        result = _grade(ex, fn, seed)
        assert result.n_passed < result.n_cases and result.mistake == name, result.message
        if seed is not None:
            assert "seed" not in result.message and "#" in result.message


def test_the_grader_says_a_hidden_refusal_was_missed_without_its_inputs():
    from .test_polyphonic_music_roll import roll_loops

    def silent(frames, tonic):                              # an empty roll instead of an error
        try:
            return roll_loops(frames, tonic)
        except ValueError:
            return np.zeros((len(frames), 88))

    result = _grade("piano_roll", silent, 77)
    assert result.n_passed == result.n_cases - 2 and result.mistake == "no ValueError raised"
    assert result.message.startswith("the function returned a value, but this input calls for "
                                     "ValueError [case #")
