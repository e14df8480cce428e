"""Checker of notebook 09's ``frame_nll``: correct styles (vectorised, loops, log-sigmoid,
float32) pass, learner-style wrong versions (written before the catalogue) fail, named by the
bug; the stated type (a Python float) is checked."""

from __future__ import annotations

import math

import numpy as np
import pytest

from course_utils.checks import SPECS, check_frame_nll

SPEC = SPECS["frame_nll"]


# =========================================================================== correct styles
def nll_logaddexp(logits, roll, mask):
    per_key = np.logaddexp(0.0, logits) - roll * logits    # (T, B, 88)
    return float(per_key.sum(-1)[mask].mean())


def nll_softplus_abs(logits, roll, mask):
    per_key = np.maximum(logits, 0) - logits * roll + np.log1p(np.exp(-np.abs(logits)))
    per_frame = per_key.sum(axis=2)
    return float((per_frame * mask).sum() / mask.sum())


def nll_loops(logits, roll, mask):
    T, B, K = logits.shape
    total, n = 0.0, 0
    for t in range(T):
        for b in range(B):
            if not mask[t, b]:
                continue
            for k in range(K):
                x, y = logits[t, b, k], roll[t, b, k]
                total += math.log1p(math.exp(-abs(x))) + max(x, 0.0) - x * y
            n += 1
    return total / n


def nll_log_sigmoid_stable(logits, roll, mask):             # returns a numpy float64
    log_p = -np.logaddexp(0.0, -logits)
    log_q = -np.logaddexp(0.0, logits)
    ll = (roll * log_p + (1 - roll) * log_q).sum(-1)
    return -ll[mask].sum() / mask.sum()


def nll_where_branches(logits, roll, mask):                 # both branches computed, one kept
    log_p = np.where(logits >= 0, -np.log1p(np.exp(-logits)), logits - np.log1p(np.exp(logits)))
    log_q = log_p - logits
    per = -(roll * log_p + (1 - roll) * log_q).sum(-1)
    return float(np.mean(per[mask]))


def nll_float32(logits, roll, mask):                        # float32 throughout, then a float
    x, y = logits.astype(np.float32), roll.astype(np.float32)
    per = (np.logaddexp(np.float32(0), x) - y * x).sum(-1)
    return np.float32(per[mask].mean())


def nll_mask_transposed(logits, roll, mask):                # (B, T) order, same frames
    per = (np.logaddexp(0, logits) - roll * logits).sum(-1).T
    return float(per[mask.T].mean())


def nll_zero_d_array(logits, roll, mask):
    per = (np.logaddexp(0, logits) - roll * logits).sum(-1)
    return np.asarray(per[mask].mean())


CORRECT = [nll_logaddexp, nll_softplus_abs, nll_loops, nll_log_sigmoid_stable,
           nll_where_branches, nll_float32, nll_mask_transposed, nll_zero_d_array]


# =========================================================================== learners' slips
def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def nll_naive(logits, roll, mask):
    p = _sig(logits)
    ll = roll * np.log(p) + (1 - roll) * np.log(1 - p)
    return float(-ll.sum(-1)[mask].mean())


def nll_clip_eps(logits, roll, mask):
    p = np.clip(_sig(logits), 1e-7, 1 - 1e-7)
    ll = roll * np.log(p) + (1 - roll) * np.log(1 - p)
    return float(-ll.sum(-1)[mask].mean())


def nll_clip_eps_12(logits, roll, mask):
    eps = 1e-12
    p = _sig(logits)
    ll = roll * np.log(np.maximum(p, eps)) + (1 - roll) * np.log(np.maximum(1 - p, eps))
    return float(-ll.sum(-1)[mask].mean())


def nll_clip_logits(logits, roll, mask):
    x = np.clip(logits, -30, 30)
    p = _sig(x)
    ll = roll * np.log(p) + (1 - roll) * np.log(1 - p)
    return float(-ll.sum(-1)[mask].mean())


def nll_mean_keys(logits, roll, mask):
    per = (np.logaddexp(0, logits) - roll * logits).mean(-1)
    return float(per[mask].mean())


def nll_ignore_mask(logits, roll, mask):
    return float((np.logaddexp(0, logits) - roll * logits).sum(-1).mean())


def nll_mask_zero_mean_all(logits, roll, mask):
    per = (np.logaddexp(0, logits) - roll * logits).sum(-1)
    return float((per * mask).mean())


def nll_sum_frames(logits, roll, mask):
    per = (np.logaddexp(0, logits) - roll * logits).sum(-1)
    return float(per[mask].sum())


def nll_log2(logits, roll, mask):
    per = (np.logaddexp(0, logits) - roll * logits).sum(-1) / np.log(2)
    return float(per[mask].mean())


def nll_log10(logits, roll, mask):
    p = 1 / (1 + np.exp(-np.clip(logits, -700, 700)))
    with np.errstate(divide="ignore"):
        ll = roll * np.log10(p) + (1 - roll) * np.log10(1 - p)
    return float(-ll.sum(-1)[mask].mean())


def nll_sign(logits, roll, mask):
    per = (np.logaddexp(0, logits) - roll * logits).sum(-1)
    return float(-per[mask].mean())


def nll_swapped_target(logits, roll, mask):
    per = (np.logaddexp(0, logits) - (1 - roll) * logits).sum(-1)
    return float(per[mask].mean())


def nll_mask_per_key(logits, roll, mask):
    m = np.broadcast_to(mask[..., None], logits.shape).astype(float)
    per_key = np.logaddexp(0, logits) - roll * logits
    return float((per_key * m).sum() / m.sum())


def nll_mean_of_means(logits, roll, mask):
    per = (np.logaddexp(0, logits) - roll * logits).sum(-1)
    m = mask.astype(float)
    return float(((per * m).sum(0) / m.sum(0)).mean())


def nll_softplus_overflow(logits, roll, mask):
    per = (np.log(1 + np.exp(logits)) - roll * logits).sum(-1)
    return float(per[mask].mean())


def nll_log1p_exp_neg(logits, roll, mask):
    log_p = -np.log1p(np.exp(-logits))
    log_q = -logits + log_p
    ll = (roll * log_p + (1 - roll) * log_q).sum(-1)
    return float(-ll[mask].mean())


def nll_wrong_sign_logaddexp(logits, roll, mask):
    per = (np.logaddexp(0, -logits) - roll * logits).sum(-1)
    return float(per[mask].mean())


def nll_returns_array(logits, roll, mask):
    per = (np.logaddexp(0, logits) - roll * logits).sum(-1)
    return per[mask].mean(keepdims=True)


def nll_per_frame_array(logits, roll, mask):                 # forgot the final mean
    return (np.logaddexp(0, logits) - roll * logits).sum(-1)


def nll_inplace(logits, roll, mask):
    np.clip(logits, -30, 30, out=logits)
    return float((np.logaddexp(0, logits) - roll * logits).sum(-1)[mask].mean())


def nll_sum_over_batch_mean_over_steps(logits, roll, mask):
    per = np.where(mask, (np.logaddexp(0, logits) - roll * logits).sum(-1), 0.0)
    return float((per.sum(1) / mask.shape[1]).sum() / mask.any(1).sum())


def nll_on_keys_only(logits, roll, mask):                     # categorical habit: -sum y log p
    log_p = -np.logaddexp(0, -logits)
    return float(-(roll * log_p).sum(-1)[mask].mean())


def nll_softmax(logits, roll, mask):                           # one softmax over the 88 keys
    z = logits - logits.max(-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(-1, keepdims=True))
    return float(-(roll * log_p).sum(-1)[mask].mean())


def nll_lengths_wrong_axis(logits, roll, mask):
    per = (np.logaddexp(0, logits) - roll * logits).sum(-1)
    lengths = mask.sum(axis=1)
    total = 0.0
    for b in range(mask.shape[1]):
        total += per[: lengths[b], b].sum()
    return float(total / lengths[: mask.shape[1]].sum())


EXPECTED = {
    nll_naive: "log(σ(x)) and log(1 - σ(x)) computed from σ (NaN in the tails)",
    nll_clip_eps: "probabilities clipped away from 0 and 1",
    nll_clip_eps_12: "probabilities clipped away from 0 and 1",
    nll_clip_logits: "logits clipped before the loss",
    nll_mean_keys: "the mean over the 88 keys instead of their sum",
    nll_ignore_mask: "padding counted as frames",
    nll_mask_zero_mean_all: "padding zeroed but divided by every position",
    nll_sum_frames: "the sum over frames instead of the mean",
    nll_log2: "bits instead of nats",
    nll_log10: "a base-10 log",
    nll_sign: "the log-likelihood instead of its negative",
    nll_swapped_target: "targets flipped (1 - y)",
    nll_mask_per_key: "the mean over the 88 keys instead of their sum",
    nll_mean_of_means: "the mean of each piece's mean",
    nll_softplus_overflow: "softplus written as log(1 + exp(x)) (overflows at large logits)",
    nll_log1p_exp_neg: "log σ(x) written as -log1p(exp(-x)) (overflows at large negative logits)",
    nll_wrong_sign_logaddexp: "softplus(-x) - y x (a sign slip)",
    nll_returns_array: "an array instead of a float",
    nll_per_frame_array: "an array instead of a float",
    nll_inplace: "modified an input in place",
    # the same arithmetic as zeroing the padding and dividing by T·B (the longest piece has T)
    nll_sum_over_batch_mean_over_steps: "padding zeroed but divided by every position",
    nll_on_keys_only: "only the sounding keys scored",
    nll_softmax: "a softmax over the 88 keys",
    nll_lengths_wrong_axis: "piece lengths counted along the wrong axis",
}
WRONG = list(EXPECTED)


# =========================================================================== tests
@pytest.mark.parametrize("seed", [None, 31])
@pytest.mark.parametrize("fn", CORRECT, ids=lambda f: f.__name__)
def test_correct_styles_pass(fn, seed):
    result = check_frame_nll(fn, seed)
    assert result.passed, result.message


@pytest.mark.parametrize("seed", [None, 31])
@pytest.mark.parametrize("fn", WRONG, ids=lambda f: f.__name__)
def test_learner_slips_fail_and_are_named(fn, seed):
    result = check_frame_nll(fn, seed)
    assert not result.passed
    assert result.mistake == EXPECTED[fn], result.message
    assert "[case " in result.message


def test_at_least_80_percent_of_the_slips_are_named():
    """Each expectation is asserted above; every catalogue entry named as itself: test_engine."""
    named = sum(name is not None for name in EXPECTED.values())
    assert len(WRONG) >= 10 and named >= 0.8 * len(WRONG)


def test_a_torch_tensor_is_refused_with_its_own_message():
    torch = pytest.importorskip("torch")

    def as_tensor(logits, roll, mask):
        return torch.tensor(nll_logaddexp(logits, roll, mask))

    result = check_frame_nll(as_tensor)
    assert result.mistake == "a tensor instead of a float" and "Python float" in result.message


def test_an_uncatalogued_slip_is_located():
    def half_the_batch(logits, roll, mask):                  # drops the last piece
        return nll_logaddexp(logits[:, :-1], roll[:, :-1], mask[:, :-1]) if mask.shape[1] > 1 \
            else nll_logaddexp(logits, roll, mask)

    result = check_frame_nll(half_the_batch)
    assert result.mistake is None and "wrong values" in result.message
    assert "passes at batch 1, fails at batch" in result.message


def test_cases_have_padding_garbage_batch_1_and_both_tails():
    for seed in (None, 5):
        cases = SPEC.cases(seed)
        assert {c.dims["B"] for c in cases} >= {1, 3} and all(
            len({c.dims["T"], c.dims["B"], 88}) == 3 for c in cases)
        padded = [c for c in cases if not c.args[2].all()]
        assert len(padded) >= 3
        for c in padded:
            logits, roll, mask = c.args
            assert mask.dtype == bool and mask.any(0).all()
            # the garbage after a piece changes the loss when the mask is ignored
            assert abs(nll_ignore_mask(*c.args) - SPEC.reference(*c.args)) > 0.1
        tails = [c.args[0] for c in cases]
        assert any(x.max() >= 800 for x in tails) and any(x.min() <= -800 for x in tails)
        for c in cases:
            assert np.isfinite(SPEC.reference(*c.args))
            assert math.isclose(SPEC.reference(*c.args), nll_logaddexp(*c.args), rel_tol=1e-12)
