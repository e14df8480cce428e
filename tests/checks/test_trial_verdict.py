"""The trial_verdict checker (notebook 08's exercise on the trial protocol).

The wrong implementations below were written first, as a learner would write them, before the
spec's catalogue of mistakes; each must fail, most must be named, none misleadingly.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("scipy")

from course_utils.checks import check_trial_verdict as check  # noqa: E402
from course_utils.lib.protocol import A_BETTER, B_BETTER, NO_DIFFERENCE, NOT_DECIDED, median_interval  # noqa: E402

SEEDS = [None, 5, 2024]


# --------------------------------------------------------------------------- correct
def with_helper(a, b, solved_below):
    """The notebook's way: median_interval from the protocol, then the rule."""
    if np.median(a) > solved_below and np.median(b) > solved_below:
        return NOT_DECIDED
    ia, ib = median_interval(a), median_interval(b)
    if ia.high < ib.low:
        return A_BETTER
    if ib.high < ia.low:
        return B_BETTER
    return NO_DIFFERENCE


def with_scipy_directly(a, b, solved_below):
    """scipy.stats.bootstrap called by hand (another resampling seed, more resamples)."""
    from scipy import stats

    a, b = np.asarray(a, float), np.asarray(b, float)
    solved = [float(np.median(v)) <= solved_below for v in (a, b)]
    if not any(solved):
        return NOT_DECIDED
    cis = []
    for v in (a, b):
        if np.ptp(v) == 0:
            cis.append((v[0], v[0]))
            continue
        r = stats.bootstrap((v,), np.median, n_resamples=9999, method="percentile",
                            rng=np.random.default_rng(123))
        cis.append((r.confidence_interval.low, r.confidence_interval.high))
    (alo, ahi), (blo, bhi) = cis
    if ahi < blo:
        return A_BETTER
    if bhi < alo:
        return B_BETTER
    return NO_DIFFERENCE


def overlap_first(a, b, solved_below):
    """Checks overlap with max/min, then decides the direction by the medians."""
    ia, ib = median_interval(list(a)), median_interval(list(b))
    if min(ia.median, ib.median) > solved_below:
        return NOT_DECIDED
    if max(ia.low, ib.low) <= min(ia.high, ib.high):
        return NO_DIFFERENCE
    return A_BETTER if ia.median < ib.median else B_BETTER


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("fn", [with_helper, with_scipy_directly, overlap_first])
def test_correct_pass(fn, seed) -> None:
    result = check(fn, seed=seed)
    assert result.passed, result.message


# --------------------------------------------------------------------------- wrong, as learners write
def medians_only(a, b, solved_below):
    if np.median(a) > solved_below and np.median(b) > solved_below:
        return NOT_DECIDED
    return A_BETTER if np.median(a) < np.median(b) else B_BETTER


def ranks_failures(a, b, solved_below):
    ia, ib = median_interval(a), median_interval(b)
    if ia.high < ib.low:
        return A_BETTER
    if ib.high < ia.low:
        return B_BETTER
    return NO_DIFFERENCE


def both_must_solve(a, b, solved_below):
    if np.median(a) > solved_below or np.median(b) > solved_below:
        return NOT_DECIDED
    return with_helper(a, b, solved_below)


def best_seed_counts(a, b, solved_below):
    if min(a) > solved_below and min(b) > solved_below:
        return NOT_DECIDED
    ia, ib = median_interval(a), median_interval(b)
    if ia.high < ib.low:
        return A_BETTER
    if ib.high < ia.low:
        return B_BETTER
    return NO_DIFFERENCE


def higher_is_better(a, b, solved_below):
    if np.median(a) > solved_below and np.median(b) > solved_below:
        return NOT_DECIDED
    ia, ib = median_interval(a), median_interval(b)
    if ia.low > ib.high:
        return A_BETTER
    if ib.low > ia.high:
        return B_BETTER
    return NO_DIFFERENCE


def median_outside_other_interval(a, b, solved_below):
    if np.median(a) > solved_below and np.median(b) > solved_below:
        return NOT_DECIDED
    ia, ib = median_interval(a), median_interval(b)
    if ia.median < ib.low:
        return A_BETTER
    if ib.median < ia.low:
        return B_BETTER
    return NO_DIFFERENCE


def seed_ranges(a, b, solved_below):
    if np.median(a) > solved_below and np.median(b) > solved_below:
        return NOT_DECIDED
    if max(a) < min(b):
        return A_BETTER
    if max(b) < min(a):
        return B_BETTER
    return NO_DIFFERENCE


def bootstrap_of_the_mean(a, b, solved_below):
    from scipy import stats

    if np.mean(a) > solved_below and np.mean(b) > solved_below:
        return NOT_DECIDED
    ra = stats.bootstrap((np.asarray(a),), np.mean, rng=np.random.default_rng(0)).confidence_interval
    rb = stats.bootstrap((np.asarray(b),), np.mean, rng=np.random.default_rng(0)).confidence_interval
    if ra.high < rb.low:
        return A_BETTER
    if rb.high < ra.low:
        return B_BETTER
    return NO_DIFFERENCE


def mean_decides_solved(a, b, solved_below):
    if np.mean(a) > solved_below and np.mean(b) > solved_below:
        return NOT_DECIDED
    ia, ib = median_interval(a), median_interval(b)
    if ia.high < ib.low:
        return A_BETTER
    if ib.high < ia.low:
        return B_BETTER
    return NO_DIFFERENCE


WRONG = [medians_only, ranks_failures, both_must_solve, best_seed_counts, higher_is_better,
         median_outside_other_interval, seed_ranges, bootstrap_of_the_mean, mean_decides_solved]
NAMES = {
    medians_only: "medians compared without intervals",
    ranks_failures: "failures ranked (no 'not decided')",
    both_must_solve: "'not decided' unless both solved it",
    best_seed_counts: "solved judged on the best seed",
    higher_is_better: "higher taken as better",
    median_outside_other_interval: "a median outside the other's interval taken as separation",
    seed_ranges: "the seeds' min–max ranges instead of bootstrap intervals",
    bootstrap_of_the_mean: "intervals of the mean instead of the median",
    mean_decides_solved: "solved judged on the mean",
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("fn", WRONG, ids=[f.__name__ for f in WRONG])
def test_wrong_fail(fn, seed) -> None:
    result = check(fn, seed=seed)
    assert not result.passed, fn.__name__
    if result.mistake is not None:  # when named, named right (never misleading)
        assert result.mistake == NAMES[fn], (fn.__name__, result.mistake)


def test_most_wrong_named() -> None:
    named = sum(check(fn).mistake == NAMES[fn] for fn in WRONG)
    assert named >= 0.8 * len(WRONG)


def test_untouched_stub_is_friendly() -> None:
    def stub(a, b, solved_below):
        raise NotImplementedError

    result = check(stub)
    assert not result.passed and "not implemented" in result.message.lower()


def test_string_answer_is_explained() -> None:
    result = check(lambda a, b, s: "no difference")
    assert not result.passed and "should be an int, got str" in result.message
