"""The checker engine (course_utils.checks.spec) and CheckResult: never raises, always renders."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from course_utils.checks import CheckResult, check_rnn_cell_forward, check_sigmoid, get_spec
from course_utils.checks.judging import run_spec
from course_utils.checks.spec import Case, Int, Mistake, Spec


def good_sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def test_sigmoid_styles_pass():
    assert check_sigmoid(good_sigmoid)
    assert check_sigmoid(lambda a: 0.5 * (1 + np.tanh(a / 2)))
    assert check_sigmoid(lambda a: (1 / (1 + np.exp(-a.astype(np.float32)))))


@pytest.mark.parametrize("fn,expected", [
    (lambda a: 1 / (1 + np.exp(a)), "sign error in the exponent"),
    (lambda a: 1 / np.exp(-a), "'1 +' missing"),
    (np.tanh, "tanh instead of the sigmoid"),
    (lambda a: np.exp(-a) / (1 + np.exp(-a)), "sign error in the exponent"),  # = 1/(1+e^a)
    (lambda a: 1 + np.exp(-a), "reciprocal missing"),
    (lambda a: good_sigmoid(a) * (1 - good_sigmoid(a)), "derivative"),
    (lambda a: None, "returned None"),
    (lambda a: good_sigmoid(a).tolist(), "should be a numpy array"),
    (lambda a: "0.5", "numeric array"),
    (lambda a: good_sigmoid(a).T, "shape"),
])
def test_sigmoid_mistakes(fn, expected):
    result = check_sigmoid(fn)
    assert not result and expected in result.message, result.message


def test_not_implemented_is_friendly():
    def sigmoid(a):
        raise NotImplementedError()

    result = check_sigmoid(sigmoid)
    assert result.status == "not_implemented"
    assert "not implemented yet" in str(result)
    assert "Traceback" not in str(result)


def test_non_callable_and_called_function():
    assert "pass the function itself" in check_sigmoid(good_sigmoid(np.zeros(2))).message
    assert "pass the function itself" in check_sigmoid(None).message


@pytest.mark.parametrize("exc", [SystemExit(3), RecursionError("deep"), MemoryError(), ZeroDivisionError()])
def test_learner_exceptions_never_escape(exc):
    def sigmoid(a):
        raise exc

    result = check_sigmoid(sigmoid)
    assert not result and "your function raised" in result.message


def test_keyboard_interrupt_propagates():
    def sigmoid(a):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        check_sigmoid(sigmoid)


def test_wrong_arity_is_reported():
    result = check_rnn_cell_forward(lambda x_t, h_prev: x_t)
    assert "TypeError" in result.message


def test_checker_internal_failure_is_a_result_not_an_exception():
    def broken_reference(a):
        raise RuntimeError("boom")

    spec = Spec(id="demo", title="demo", notebook="00_setup", arg_names=("a",), output="y",
                make_cases=lambda seed: [Case("c", (np.zeros(3),))], reference=broken_reference)
    result = run_spec(spec, lambda a: a)
    assert not result and "checker itself failed" in result.message


def test_int_and_dict_templates():
    spec = Spec(id="demo_int", title="t", notebook="x", arg_names=("n",),
                output={"count": Int("count"), "v": "v"},
                make_cases=lambda seed: [Case(f"n={n}", (n,)) for n in (2, 3)],
                reference=lambda n: {"count": n * 2, "v": np.arange(n, dtype=float)},
                mistakes=[Mistake("the count not doubled", "multiply by 2",
                                  lambda n: {"count": n, "v": np.arange(n, dtype=float)})])
    assert run_spec(spec, lambda n: {"count": n * 2, "v": np.arange(n)})
    assert run_spec(spec, lambda n: {"count": float(n * 2), "v": np.arange(n)})
    r = run_spec(spec, lambda n: {"count": n, "v": np.arange(n)})
    assert r.mistake == "the count not doubled"
    assert "lacks key" in run_spec(spec, lambda n: {"count": n * 2}).message
    assert "unexpected key" in run_spec(spec, lambda n: {"count": n * 2, "v": np.arange(n), "w": 1}).message
    assert "should be an int" in run_spec(spec, lambda n: {"count": "4", "v": np.arange(n)}).message
    assert "should be an int" in run_spec(spec, lambda n: {"count": True, "v": np.arange(n)}).message


def test_partial_credit_counts_and_groups():
    def half(a):  # right only for 1-d inputs
        return good_sigmoid(a) if a.ndim == 1 else good_sigmoid(a) + 1

    result = check_sigmoid(half)
    assert result.n_cases == 3 and result.n_passed == 1
    assert result.fraction_by_group() == {"public": pytest.approx(1 / 3)}
    assert "1 of 3 public cases passed" in result.message


def test_renderings_are_deterministic_and_path_free():
    results = [check_sigmoid(good_sigmoid), check_sigmoid(np.tanh), check_sigmoid(lambda a: 1 / 0)]
    for r in results:
        for text in (str(r), repr(r), r._repr_html_()):
            assert "0x" not in text and os.sep + "work" not in text and "site-packages" not in text
        assert str(check_sigmoid(np.tanh)) == str(results[1])
        assert r._repr_html_().startswith("<div")
    assert str(results[0]).startswith("✔") and str(results[1]).startswith("✘")


def test_to_dict_is_plain_data():
    import json

    d = check_sigmoid(np.tanh).to_dict()
    json.dumps(d)
    assert d["mistake"] == "tanh instead of the sigmoid" and not d["passed"]


def test_checkresult_bool():
    assert bool(CheckResult("x", True, "ok")) and not CheckResult("x", False, "no")


def test_mutation_of_inputs_after_the_fact_does_not_leak_between_cases():
    calls = []

    def sigmoid(a):
        calls.append(a.copy())
        a[...] = 0
        return good_sigmoid(calls[-1])

    result = check_sigmoid(sigmoid)
    assert result.mistake == "modified an input in place"
    assert all(np.abs(c).sum() > 0 for c in calls)  # each case got fresh inputs


def test_every_spec_generates_distinct_dimensions_and_passes_its_reference():
    from course_utils.checks import SPECS

    for spec in SPECS.values():
        cases = spec.cases()
        assert len(cases) >= 2, spec.id
        result = run_spec(spec, spec.reference)
        assert result.passed, (spec.id, result.message)
        hidden = spec.cases(seed=12345)
        assert [c.label for c in hidden] != [c.label for c in cases] or spec.id == "never"


def test_every_mistake_is_rejected_by_its_own_checker():
    """A catalogue entry that the checker would accept could never be reported: catch it here."""
    from course_utils.checks import SPECS

    for spec in SPECS.values():
        for mistake in spec.mistakes:
            result = run_spec(spec, mistake.fn)
            assert not result.passed, (spec.id, mistake.name)


def test_import_course_utils_is_light():
    import subprocess

    code = ("import sys, course_utils, course_utils.exercises; "
            "print(any(m in sys.modules for m in ('torch', 'matplotlib', 'ipywidgets', 'numpy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_get_spec_unknown():
    with pytest.raises(KeyError, match="unknown exercise"):
        get_spec("nope")


def test_in_place_change_of_a_tensor_argument_is_caught():
    import torch

    spec = Spec(id="demo_t", title="t", notebook="x", arg_names=("t",), output="y",
                make_cases=lambda seed: [Case("c", (torch.arange(3.0),))],
                reference=lambda t: (t * 2).numpy())
    assert run_spec(spec, lambda t: t * 2)

    def doubles_in_place(t):
        t.mul_(2)
        return t

    assert run_spec(spec, doubles_in_place).mistake == "modified an input in place"
