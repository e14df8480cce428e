"""check_sigmoid (notebook 00): stable forms pass everywhere, including the tails (|a| up to
1000, on an array that turns any overflow into NaN); exp(a) / (1 + exp(a)) (NaN in the tails)
and the plain 1 / (1 + exp(-a)) (exp(-a) overflows for a < -709 although the value rounds right)
are named. The learner code is written here independently of the spec's mistake functions."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.checks import check_sigmoid, get_spec


def by_sign(a):
    out = np.empty_like(a)
    pos = a >= 0
    out[pos] = 1 / (1 + np.exp(-a[pos]))
    e = np.exp(a[~pos])
    out[~pos] = e / (1 + e)
    return out


def via_tanh(a):
    return 0.5 * (1 + np.tanh(a / 2))


def in_float32(a):
    a = a.astype(np.float32)  # a stable form in float32 (exp of non-positive numbers only)
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


def via_logaddexp(a):
    return np.exp(-np.logaddexp(0.0, -a))


def with_torch(a):
    import torch

    return torch.sigmoid(torch.from_numpy(a))


def clipped(a):
    return 1 / (1 + np.exp(-np.clip(a, -500, 500)))


@pytest.mark.parametrize("fn", [by_sign, via_tanh, in_float32, with_torch, clipped,
                                via_logaddexp])
@pytest.mark.parametrize("seed", [None, 5])
def test_stable_forms_pass(fn, seed):
    result = check_sigmoid(fn, seed=seed)
    assert result.passed, result.message


def ratio(a):
    return np.exp(a) / (1 + np.exp(a))


def ratio_reordered(a):
    ea = np.exp(a)
    return ea / (ea + 1.0)


@pytest.mark.parametrize("fn", [ratio, ratio_reordered])
def test_overflow_for_large_a_is_named(fn):
    result = check_sigmoid(fn)
    assert not result.passed and result.n_passed == 3
    assert result.mistake == "an overflow for large |a|"
    assert "looks like an overflow for large |a|: use a numerically stable form" in result.message


def test_overflow_in_float32_still_says_overflow():
    def ratio32(a):
        return ratio(a.astype(np.float32))  # NaN from |a| > 88, where the float64 form is finite

    result = check_sigmoid(ratio32)
    assert not result.passed and "NaN or inf" in result.message and "overflow" in result.message


def test_other_mistakes_are_still_named_on_an_ordinary_case_first():
    result = check_sigmoid(lambda a: np.exp(-a) / (1 + np.exp(-a)))  # the sign error, NaN at -1000
    assert result.mistake == "a sign error in the exponent"
    assert "case shape (3, 4)" in result.message


@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_the_tail_case_reaches_1000_both_ways(seed):
    spec = get_spec("sigmoid")
    cases = spec.cases(seed)
    (a,) = cases[-1].inputs()[0]
    assert a.min() <= -1000 and a.max() >= 1000 and (np.abs(a) > 709.8).sum() >= 6
    assert all(np.abs(c.args[0]).max() < 50 for c in cases[:-1])


def textbook(a):
    return 1 / (1 + np.exp(-a))  # exp(-a) = inf for a < -709: 1 / inf = 0, right but overflowing


def textbook_float32(a):
    return 1 / (1 + np.exp(-a.astype(np.float32)))  # overflows already for a < -88


def test_the_plain_formula_overflows_in_float32_too_and_says_overflow():
    result = check_sigmoid(textbook_float32)            # NaN from |a| > 88: not the float64 slip
    assert not result.passed and result.n_passed == 3 and "overflow" in result.message


def test_the_plain_formula_overflows_in_the_tails_and_is_named():
    result = check_sigmoid(textbook)
    assert not result.passed and result.n_passed == 3
    assert result.mistake == "1 / (1 + exp(-a)) overflowing for large negative a", result.message
    assert "exponentiate only numbers <= 0" in result.message


def test_the_probe_marks_only_overflows():
    """The tail case's array: an overflowing ufunc gives NaN exactly where it overflowed; a
    division by zero, comparisons, indexing and non-overflowing ufuncs behave as on numpy."""
    (a,) = get_spec("sigmoid").cases(0)[-1].inputs()[0]
    assert type(a).__name__ == "OverflowProbe" and isinstance(a, np.ndarray)
    big = np.exp(a)
    assert np.isnan(np.asarray(big)[np.asarray(a) > 709.78]).all()
    assert np.isfinite(np.asarray(big)[np.asarray(a) < 709]).all()
    assert np.isfinite(np.asarray(np.exp(-np.abs(a)))).all()
    assert np.isinf(np.asarray(1.0 / (a * 0.0))).all()          # x / 0: not an overflow
    assert (np.asarray(a >= 0) == (np.asarray(a) >= 0)).all() and a[a > 0].size > 0
