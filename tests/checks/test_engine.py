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
    e = np.exp(-np.abs(a))                      # numerically stable: exp of numbers <= 0 only
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def test_sigmoid_styles_pass():
    assert check_sigmoid(good_sigmoid)
    assert check_sigmoid(lambda a: 0.5 * (1 + np.tanh(a / 2)))
    assert check_sigmoid(lambda a: good_sigmoid(a.astype(np.float32)))   # stable, in float32


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


def test_partial_credit_counts():
    def half(a):  # right only for 1-d inputs
        return good_sigmoid(a) if a.ndim == 1 else good_sigmoid(a) + 1

    result = check_sigmoid(half)
    assert result.n_cases == 4 and result.n_passed == 1
    assert {c.group for c in result.cases} == {"public"}
    assert "1 of 4 public cases passed" in result.message


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


def _inputs_digest(cases: list) -> list:
    """What a set of cases feeds the function: labels, sources and array bytes."""
    out = []
    for case in cases:
        args, kwargs = case.inputs()
        out.append((case.label, case.source))
        for a in (*args, *kwargs.values()):
            if hasattr(a, "detach"):
                a = a.detach().cpu().numpy()
            out.append(a.tobytes() if isinstance(a, np.ndarray) else repr(a))
    return out


def test_every_spec_generates_distinct_dimensions_and_passes_its_reference():
    from course_utils.checks import SPECS

    for spec in SPECS.values():
        cases = spec.cases()
        assert len(cases) >= 2, spec.id
        result = run_spec(spec, spec.reference)
        assert result.passed, (spec.id, result.message)
        hidden = spec.cases(seed=12345)
        assert _inputs_digest(hidden) != _inputs_digest(cases), spec.id


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


# --------------------------------------------------------------------------- where it fails
def _tanh_step(x_t, h, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh)


def rnn_cell_vector_style(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    """Written for one example: right at batch 1, raises at batch > 1."""
    a = W_ih @ x_t.ravel() + b_ih + W_hh @ h_prev.ravel() + b_hh
    return np.tanh(a).reshape(h_prev.shape)


def rnn_cell_batch_mean(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    """Mixes the rows of the batch (a mean over axis 0): right only when there is one row."""
    return _tanh_step(x_t, h_prev.mean(axis=0, keepdims=True), W_ih, W_hh, b_ih, b_hh)


@pytest.mark.parametrize("fn", [rnn_cell_vector_style, rnn_cell_batch_mean])
def test_passes_at_batch_1_fails_at_batch_b(fn):
    result = check_rnn_cell_forward(fn)
    assert not result.passed
    assert "passes at batch 1, fails at batch 2, 3 and 4" in result.message, result.message
    assert [c.batch for c in result.cases] == [3, 1, 2, 4]


def test_no_batch_note_when_batch_1_fails_too():
    result = check_rnn_cell_forward(lambda x_t, h_prev, *p: _tanh_step(x_t, h_prev, *p) + 1)
    assert not result.passed and "passes at batch 1" not in result.message


def rnn_zeros_and_no_b_hh(x, h0, W_ih, W_hh, b_ih, b_hh):
    """Two bugs at once (no catalogued mistake): starts from zeros and drops b_hh."""
    h, out = np.zeros_like(h0), []
    for x_t in x:
        h = np.tanh(x_t @ W_ih.T + b_ih + h @ W_hh.T)
        out.append(h)
    return np.stack(out), h


def test_first_step_wrong_asks_whether_h0_is_used():
    from course_utils.checks import check_rnn_forward

    result = check_rnn_forward(rnn_zeros_and_no_b_hh)
    assert result.mistake is None
    assert "the first step is already wrong: is h0 used?" in result.message, result.message


def test_drift_from_a_later_step_does_not_ask_about_h0():
    from course_utils.checks import check_rnn_forward

    def drift(x, h0, *p):
        h, out = h0, []
        for x_t in x:
            h = _tanh_step(x_t, h, *p)
            out.append(h)
        out = np.stack(out)
        out[3:] *= 1.1
        return out, h

    result = check_rnn_forward(drift)
    assert "first wrong time step is t=3" in result.message and "h0 used" not in result.message


def test_grader_path_gives_the_same_messages():
    """The grader calls judge and summarize itself (hidden seed): the notes come out there too."""
    from course_utils.checks import call_safely, judge, summarize

    for exercise, fn, note in [
        ("rnn_cell_forward", rnn_cell_vector_style, "passes at batch 1, fails at batch"),
        ("rnn_forward", rnn_zeros_and_no_b_hh, "is h0 used?"),
    ]:
        spec = get_spec(exercise)
        cases = spec.cases(seed=4242)
        outcomes = [judge(spec, c, call_safely(fn, c, spec.arg_names)) for c in cases]
        result = summarize(spec, outcomes, hidden=True)
        assert note in result.message and "hidden cases passed" in result.message


# --------------------------------------------------------------------------- overflow, flags
def test_sigmoid_overflow_is_named_and_checker_prints_no_warning(recwarn):
    result = check_sigmoid(lambda a: np.exp(a) / (1 + np.exp(a)))
    assert result.mistake == "an overflow for large |a|", result.message
    assert "use a numerically stable form" in result.message
    assert check_sigmoid(good_sigmoid)  # stable: no overflow anywhere, no warning printed
    plain = check_sigmoid(lambda a: 1.0 / (1.0 + np.exp(-a)))   # overflows in exp(-a), a < -709
    assert plain.mistake == "1 / (1 + exp(-a)) overflowing for large negative a", plain.message
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_a_mistake_with_nans_is_matched_nan_for_nan():
    def overflowing(a):
        return np.exp(a) / (1 + np.exp(a))

    spec = Spec(id="demo_nan", title="t", notebook="x", arg_names=("a",), output="s",
                make_cases=lambda seed: [Case("big", (np.array([-800.0, 0.0, 800.0]),))],
                reference=good_sigmoid, mistakes=[Mistake("overflow", "stable form", overflowing)])
    assert run_spec(spec, overflowing).mistake == "overflow"
    unnamed = run_spec(spec, lambda a: overflowing(a) * np.nan)
    assert unnamed.mistake is None and "NaN or inf" in unnamed.message


def test_inside_time_step_wraps_and_respects_the_flag():
    from course_utils.checks.recurrent import inside_time_step

    kept = Mistake("a slip", "why", _tanh_step)
    assert kept.in_sequence  # the default
    dropped = Mistake("one row", "why", lambda *a: _tanh_step(*a)[0], in_sequence=False)
    lifted = inside_time_step([kept, dropped], "rnn_cell_forward")
    assert [m.name for m in lifted] == ["a slip (inside the time step)"]
    assert lifted[0].explain == "why — check rnn_cell_forward"
    case = get_spec("rnn_forward").cases()[0]
    out, h_n = lifted[0].fn(*case.args)
    assert out.shape == (6, 3, 4) and np.array_equal(out[-1], h_n)


def test_case_outcomes_carry_the_batch_size_as_plain_data():
    d = check_rnn_cell_forward(rnn_cell_vector_style).to_dict()
    assert [c["batch"] for c in d["cases"]] == [3, 1, 2, 4]
    assert check_sigmoid(np.tanh).to_dict()["cases"][0]["batch"] is None


ENGINE_NOTEBOOKS = ("00_setup", "01_rnn_basics", "02_vanishing_gradients", "03_lstm", "04_gru",
                    "08_lstm_vs_gru", "10_attention", "11_gpu_comparison")


@pytest.mark.parametrize("seed", [None, 31])
def test_every_mistake_is_named_as_itself(seed):
    """Run as the learner's function, each catalogued mistake is reported under its own name:
    it differs from the reference on some case, and no earlier entry shadows it there."""
    from course_utils.checks import SPECS

    for spec in SPECS.values():
        if spec.notebook not in ENGINE_NOTEBOOKS:
            continue
        for mistake in spec.mistakes:
            result = run_spec(spec, mistake.fn, seed)
            assert result.mistake == mistake.name, (spec.id, mistake.name, result.message)


def test_in_place_change_inside_a_list_argument_is_reported():
    import numpy as np

    from course_utils.checks.judging import run_spec
    from course_utils.checks.spec import Case, Spec

    def make_cases(seed):
        rng = np.random.default_rng(seed)
        return [Case("three arrays", ([rng.normal(size=3) for _ in range(3)],))]

    spec = Spec(id="halve_all", title="halve", notebook="99_test", arg_names=("grads",),
                output=("a", "b", "c"), make_cases=make_cases,
                reference=lambda grads: tuple(g / 2 for g in grads))

    def in_place(grads):
        for g in grads:
            g *= 0.5
        return tuple(grads)

    result = run_spec(spec, in_place)
    assert not result.passed and "in place" in result.message and "`grads`" in result.message
    assert run_spec(spec, lambda grads: tuple(g * 0.5 for g in grads)).passed


def test_error_raised_in_case_built_code_points_at_the_learner_line():
    from course_utils.checks.judging import run_spec
    from course_utils.checks.spec import Case, Spec

    source = "def f(x):\n    raise ValueError('probe moved two entries')\nargs = (f, 1.0)\n"
    spec = Spec(id="probe", title="probe", notebook="99_test", arg_names=("f", "x"),
                output="y", make_cases=lambda seed: [Case("one", source=source)],
                reference=lambda f, x: 0.0)

    def learner(f, x):
        value = f(x)  # the learner's line
        return value

    result = run_spec(spec, learner)
    assert "probe moved two entries" in result.message
    assert "in learner" in result.message and "value = f(x)" in result.message


def test_cases_carry_their_seed_as_a_field_and_labels_never_contain_it():
    """The grader hides a hidden seed by marking cases hidden; no label may spell it out."""
    from course_utils.checks import SPECS

    secret = 987654321
    for spec in SPECS.values():
        for case in spec.cases(secret):
            assert case.seed == secret, spec.id
            assert str(secret) not in case.label, (spec.id, case.label)
            case.group = "hidden"
            assert str(secret) not in case.shown_label(), (spec.id, case.label)
        public = spec.cases()
        assert all(c.shown_label().endswith(f"seed {spec.public_seed}") for c in public), spec.id


# --------------------------------------------------------------------------- issue 24 hooks
def _demo_spec(**hooks):
    """y = softmax of a over its last axis, for 1-D and 2-D inputs (``Case.dims["ndim"]``)."""
    def softmax(a):
        e = np.exp(a - a.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def cases(seed):
        rng = np.random.default_rng(seed)
        return [Case("1-D", (rng.normal(size=4),), dims={"ndim": 1}),
                Case("2-D", (rng.normal(size=(3, 4)),), dims={"ndim": 2}),
                Case("2-D big", (rng.normal(size=(2, 4)) * 800,), dims={"ndim": 2})]

    return Spec(id="demo_softmax", title="t", notebook="x", arg_names=("a",), output="p",
                make_cases=cases, reference=softmax, **hooks)


def test_check_types_runs_on_the_value_as_returned():
    spec = _demo_spec(check_types=lambda case, v: None if isinstance(v, np.ndarray) and
                      v.dtype == np.float64 else "return float64: the reason")
    good = spec.reference
    assert run_spec(spec, good)
    r = run_spec(spec, lambda a: good(a).astype(np.float32))
    assert not r and r.message.startswith("return float64: the reason")
    assert r.mistake == "a type the notebook states"


def test_recognise_comes_before_the_catalogue_and_sees_the_inputs():
    seen = []

    def recognise(got, exp, a):
        seen.append(a.shape)
        if np.allclose(got["p"].sum(axis=0), 1.0) and a.ndim == 2:
            return "normalised along axis 0", "columns sum to 1"
        return None

    wrong = lambda a: np.exp(a) / np.exp(a).sum(axis=0, keepdims=True)  # noqa: E731
    spec = _demo_spec(recognise=recognise,
                      mistakes=[Mistake("catalogued", "should not be named", wrong)])
    r = run_spec(spec, wrong)
    assert r.mistake == "normalised along axis 0" and "columns sum to 1" in r.message
    assert (3, 4) in seen


def test_mistake_holds_gates_the_name():
    wrong = lambda a: np.exp(a) / np.exp(a).sum(axis=-1, keepdims=True) * 2  # noqa: E731
    yes = _demo_spec(mistakes=[Mistake("doubled", "x2", wrong, holds=lambda got, a: True)])
    no = _demo_spec(mistakes=[Mistake("doubled", "x2", wrong, holds=lambda got, a: False)])
    assert run_spec(yes, wrong).mistake == "doubled"
    assert run_spec(no, wrong).mistake is None


def test_nan_output_names_every_fitting_mistake_and_the_rank_note():
    naive = lambda a: np.exp(a) / np.exp(a).sum(axis=-1, keepdims=True)  # noqa: E731

    def same_nan(a):  # another explanation with the same NaN output on this case
        return naive(a) * 1.0

    spec = _demo_spec(mistakes=[Mistake("no max", "subtract it", naive),
                                Mistake("another cause", "or this", same_nan)])
    with np.errstate(all="ignore"):
        r = run_spec(spec, naive)
    assert not r
    assert "explanations fit" in r.message
    assert "no max" in r.message and "another cause" in r.message
    flat = lambda a: np.exp(a - a.max()) / np.exp(a - a.max()).sum()  # noqa: E731
    r = run_spec(_demo_spec(), flat)  # right for 1-D inputs only
    assert "passes on 1-D inputs, fails on 2-D inputs" in r.message


def test_explain_error_adds_a_hint_to_the_exception():
    spec = _demo_spec(explain_error=lambda err, a: "a hint" if "boom" in err else None)

    def raises(a):
        raise ValueError("boom")

    assert "ValueError: boom" in run_spec(spec, raises).message
    assert "a hint" in run_spec(spec, raises).message
