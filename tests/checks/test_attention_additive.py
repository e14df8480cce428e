"""Notebook 10: ``additive_attention`` (Bahdanau et al. 2015).

Correct implementations in several styles pass; the wrong ones below were written as a learner
would write them, before the spec's catalogue, and each must fail: named (by the catalogue or a
recognised property) or at least located (which output, which case).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from course_utils.checks import SPECS, run_spec  # noqa: E402

SPEC = SPECS["additive_attention"]


# --------------------------------------------------------------------------- right
def additive_loops(query, keys, mask, W_q, W_k, v):
    S, B, He = keys.shape
    context = np.zeros((B, He))
    weights = np.zeros((S, B))
    for b in range(B):
        scores = np.full(S, -np.inf)
        for s in range(S):
            if mask[s, b]:
                scores[s] = v @ np.tanh(W_q @ query[b] + W_k @ keys[s, b])
        e = np.exp(scores - scores.max())
        weights[:, b] = e / e.sum()
        for s in range(S):
            context[b] += weights[s, b] * keys[s, b]
    return context, weights


def additive_einsum(query, keys, mask, W_q, W_k, v):
    hidden = np.tanh(np.einsum("ah,bh->ba", W_q, query)[None] + np.einsum("ae,sbe->sba", W_k, keys))
    scores = np.einsum("sba,a->sb", hidden, v)                                      # (S, B)
    scores = np.where(mask, scores, -1e9)                                           # big negative
    scores = scores - scores.max(axis=0, keepdims=True)
    w = np.exp(scores)
    w = w / w.sum(axis=0, keepdims=True)
    return np.einsum("sb,sbe->be", w, keys), w


def additive_renormalised(query, keys, mask, W_q, W_k, v):
    """exp of the scores minus the maximum over the REAL positions, zeroed at the padding."""
    e = np.tanh(query @ W_q.T + keys @ W_k.T) @ v                                    # (S, B)
    top = np.max(np.where(mask, e, -np.inf), axis=0)
    w = np.exp(np.minimum(e - top, 0.0)) * mask
    w = w / w.sum(axis=0)
    return (w[:, :, None] * keys).sum(axis=0), w


def additive_concat_float32(query, keys, mask, W_q, W_k, v):
    """Bahdanau's form v^T tanh(W [q; k]) with W = [W_q, W_k], in float32."""
    f = np.float32
    S, B, _ = keys.shape
    W = np.concatenate([W_q, W_k], axis=1).astype(f)
    qk = np.concatenate([np.broadcast_to(query, (S,) + query.shape), keys], axis=-1).astype(f)
    e = np.tanh(qk @ W.T) @ v.astype(f)
    e = np.where(mask, e, -np.inf)
    w = np.exp(e - e.max(axis=0))
    w /= w.sum(axis=0)
    return np.einsum("sb,sbe->be", w, keys.astype(f)), w


@pytest.mark.parametrize("fn", [additive_loops, additive_einsum, additive_renormalised,
                                additive_concat_float32])
def test_correct_styles_pass(fn):
    for seed in (None, 7):
        result = run_spec(SPEC, fn, seed)
        assert result.passed, result.message


# --------------------------------------------------------------------------- wrong (learners)
def _scores(query, keys, W_q, W_k, v):
    return np.tanh(query @ W_q.T + keys @ W_k.T) @ v                                # (S, B)


def _softmax0(e):
    w = np.exp(e - e.max(axis=0, keepdims=True))
    return w / w.sum(axis=0, keepdims=True)


def softmax_over_batch(query, keys, mask, W_q, W_k, v):
    e = np.where(mask, _scores(query, keys, W_q, W_k, v), -np.inf)
    w = np.exp(e - e.max(axis=1, keepdims=True))
    w = w / w.sum(axis=1, keepdims=True)
    return np.einsum("sb,sbe->be", w, keys), w


def mask_after_softmax(query, keys, mask, W_q, W_k, v):
    w = _softmax0(_scores(query, keys, W_q, W_k, v)) * mask
    return np.einsum("sb,sbe->be", w, keys), w


def scores_times_mask(query, keys, mask, W_q, W_k, v):
    w = _softmax0(_scores(query, keys, W_q, W_k, v) * mask)
    return np.einsum("sb,sbe->be", w, keys), w


def no_max_subtraction(query, keys, mask, W_q, W_k, v):
    e = np.where(mask, _scores(query, keys, W_q, W_k, v), -np.inf)
    w = np.exp(e) / np.exp(e).sum(axis=0)
    return np.einsum("sb,sbe->be", w, keys), w


def mask_inverted(query, keys, mask, W_q, W_k, v):
    e = np.where(mask, -1e9, _scores(query, keys, W_q, W_k, v))
    w = _softmax0(e)
    return np.einsum("sb,sbe->be", w, keys), w


def mask_inverted_inf(query, keys, mask, W_q, W_k, v):
    e = _scores(query, keys, W_q, W_k, v)
    e[mask] = -np.inf
    w = _softmax0(e)
    return np.einsum("sb,sbe->be", w, keys), w


def weights_batch_first(query, keys, mask, W_q, W_k, v):
    w = _softmax0(np.where(mask, _scores(query, keys, W_q, W_k, v), -np.inf))
    return np.einsum("sb,sbe->be", w, keys), w.T


def no_tanh(query, keys, mask, W_q, W_k, v):
    e = (query @ W_q.T + keys @ W_k.T) @ v
    w = _softmax0(np.where(mask, e, -np.inf))
    return np.einsum("sb,sbe->be", w, keys), w


def sum_instead_of_v(query, keys, mask, W_q, W_k, v):
    e = np.tanh(query @ W_q.T + keys @ W_k.T).sum(axis=-1)
    w = _softmax0(np.where(mask, e, -np.inf))
    return np.einsum("sb,sbe->be", w, keys), w


def mask_ignored(query, keys, mask, W_q, W_k, v):
    w = _softmax0(_scores(query, keys, W_q, W_k, v))
    return np.einsum("sb,sbe->be", w, keys), w


def scaled_by_sqrt_a(query, keys, mask, W_q, W_k, v):
    e = _scores(query, keys, W_q, W_k, v) / np.sqrt(len(v))
    w = _softmax0(np.where(mask, e, -np.inf))
    return np.einsum("sb,sbe->be", w, keys), w


def sigmoid_weights(query, keys, mask, W_q, W_k, v):
    w = 1 / (1 + np.exp(-_scores(query, keys, W_q, W_k, v))) * mask
    return np.einsum("sb,sbe->be", w, keys), w


def context_over_batch(query, keys, mask, W_q, W_k, v):
    w = _softmax0(np.where(mask, _scores(query, keys, W_q, W_k, v), -np.inf))
    return (w[:, :, None] * keys).sum(axis=1), w


def context_from_projected_keys(query, keys, mask, W_q, W_k, v):
    w = _softmax0(np.where(mask, _scores(query, keys, W_q, W_k, v), -np.inf))
    return np.einsum("sb,sba->ba", w, keys @ W_k.T), w


# (learner's function, the mistake name the checker must give; None: not named, only located)
WRONG = [
    (softmax_over_batch, "the softmax over the batch axis"),
    (mask_after_softmax, "masked after the softmax without renormalising"),
    (scores_times_mask, "the scores multiplied by the mask"),
    (no_max_subtraction, "no max-subtraction (overflow)"),
    (mask_inverted, "the mask inverted"),           # -1e9 fill: read off the weights
    (mask_inverted_inf, "the mask inverted"),       # -inf fill: NaN columns, the catalogue
    (weights_batch_first, "weights returned batch-first (B, S)"),
    (no_tanh, "tanh missing"),
    (sum_instead_of_v, "a sum over the attention units instead of the dot product with v"),
    (mask_ignored, "the mask ignored"),
    (scaled_by_sqrt_a, "the scores divided by sqrt(A)"),
    (context_over_batch, "the context summed over the batch axis"),
    (context_from_projected_keys, "the context built from the projected keys"),
    (sigmoid_weights, None),
]


@pytest.mark.parametrize("fn,name", WRONG, ids=[f.__name__ for f, _ in WRONG])
def test_wrong_implementations_fail_named_or_located(fn, name):
    for seed in (None, 7):
        result = run_spec(SPEC, fn, seed)
        assert not result.passed
        if name is not None:
            assert result.mistake == name, result.message
        assert "[case S=" in result.message            # located: which case


def test_most_wrong_implementations_are_named():
    assert sum(name is not None for _, name in WRONG) >= 0.8 * len(WRONG)


def test_sigmoid_is_said_precisely_not_misnamed():
    message = run_spec(SPEC, sigmoid_weights).message
    assert "do not sum to 1" in message and "not the expected weights scaled" in message
    assert "renormalis" not in message.split("[")[0].replace("use a softmax", "")


def test_right_weights_wrong_context_is_said():
    def weights_right_context_wrong(query, keys, mask, W_q, W_k, v):
        context, w = additive_einsum(query, keys, mask, W_q, W_k, v)
        return context * 2, w

    result = run_spec(SPEC, weights_right_context_wrong)
    assert result.mistake == "the context from the right weights, wrongly combined", result.message


def test_shape_error_gets_the_shapes_of_the_case():
    def swapped_projections(query, keys, mask, W_q, W_k, v):
        return additive_einsum(query, keys, mask, W_k, W_q, v)

    message = run_spec(SPEC, swapped_projections).message
    assert "your function raised" in message and "query @ W_q.T is (B, A)" in message
