"""Notebook 10: ``scaled_dot_product_attention`` (Vaswani et al. 2017), batch-first like
``torch.nn.functional.scaled_dot_product_attention``.

Correct implementations in several styles pass; the wrong ones below were written as a learner
would write them, before the spec's catalogue, and each must fail: named or located.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from course_utils.checks import SPECS, run_spec  # noqa: E402

SPEC = SPECS["scaled_dot_product_attention"]


# --------------------------------------------------------------------------- right
def sdpa_inf(q, k, v, key_padding_mask=None, causal=False):
    d = q.shape[-1]
    scores = q @ k.transpose(0, 2, 1) / np.sqrt(d)                         # (B, Tq, Tk)
    Tq, Tk = scores.shape[1:]
    if key_padding_mask is not None:
        scores = np.where(key_padding_mask[:, None, :], scores, -np.inf)
    if causal:
        scores = np.where(np.tril(np.ones((Tq, Tk), dtype=bool)), scores, -np.inf)
    scores = scores - scores.max(axis=-1, keepdims=True)
    w = np.exp(scores)
    w = w / w.sum(axis=-1, keepdims=True)
    return w @ v, w


def sdpa_loops_big_negative(q, k, v, key_padding_mask=None, causal=False):
    B, Tq, d = q.shape
    Tk = k.shape[1]
    out = np.zeros((B, Tq, v.shape[-1]))
    weights = np.zeros((B, Tq, Tk))
    for b in range(B):
        for i in range(Tq):
            s = np.array([q[b, i] @ k[b, j] for j in range(Tk)]) / np.sqrt(d)
            for j in range(Tk):
                if (key_padding_mask is not None and not key_padding_mask[b, j]) or (causal and j > i):
                    s[j] = -1e9
            e = np.exp(s - s.max())
            weights[b, i] = e / e.sum()
            out[b, i] = weights[b, i] @ v[b]
    return out, weights


def sdpa_einsum_float32(q, k, v, key_padding_mask=None, causal=False):
    q, k, v = (a.astype(np.float32) for a in (q, k, v))
    s = np.einsum("bid,bjd->bij", q, k) * np.float32(q.shape[-1] ** -0.5)
    allowed = np.ones(s.shape, dtype=bool)
    if key_padding_mask is not None:
        allowed &= key_padding_mask[:, None, :]
    if causal:
        i = np.arange(s.shape[1])[:, None]
        j = np.arange(s.shape[2])[None, :]
        allowed &= j <= i
    s = np.where(allowed, s, np.finfo(np.float32).min)
    w = np.exp(s - s.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    return np.einsum("bij,bjd->bid", w, v), w


@pytest.mark.parametrize("fn", [sdpa_inf, sdpa_loops_big_negative, sdpa_einsum_float32])
def test_correct_styles_pass(fn):
    for seed in (None, 7):
        result = run_spec(SPEC, fn, seed)
        assert result.passed, result.message


# --------------------------------------------------------------------------- wrong (learners)
def _variant(scale="sqrt_d", axis=-1, causal_kind="tril", pad_kind="keys", combine="and",
             after=False, stable=True, fill=-np.inf, weights_t=False, values="v"):
    def fn(q, k, v, key_padding_mask=None, causal=False):
        d, dv = q.shape[-1], v.shape[-1]
        s = q @ np.swapaxes(k, 1, 2)
        s = {"sqrt_d": s / np.sqrt(d), "d": s / d, "none": s, "sqrt_dv": s / np.sqrt(dv)}[scale]
        B, Tq, Tk = s.shape
        pad = np.ones((B, Tq, Tk), dtype=bool)
        if key_padding_mask is not None and pad_kind != "ignored":
            if pad_kind == "keys":
                pad = np.broadcast_to(key_padding_mask[:, None, :], s.shape)
            elif pad_kind == "inverted":
                pad = np.broadcast_to(~key_padding_mask[:, None, :], s.shape)
            elif pad_kind == "queries":
                pad = np.broadcast_to(key_padding_mask[:, :, None], s.shape)
        cm = np.ones((Tq, Tk), dtype=bool)
        if causal:
            cm = {"tril": np.tril(np.ones((Tq, Tk), bool)), "triu": np.triu(np.ones((Tq, Tk), bool)),
                  "strict": np.tril(np.ones((Tq, Tk), bool), -1),
                  "bottom_right": np.tril(np.ones((Tq, Tk), bool), Tk - Tq),
                  "ignored": np.ones((Tq, Tk), bool)}[causal_kind]
        allowed = pad & cm if combine == "and" else pad | cm
        if not after:
            s = np.where(allowed, s, fill)
        m = s.max(axis=axis, keepdims=True) if stable else 0.0
        w = np.exp(s - m)
        w = w / w.sum(axis=axis, keepdims=True)
        if after:
            w = w * allowed
        out = w @ (v if values == "v" else k)
        return out, (np.swapaxes(w, 1, 2) if weights_t else w)
    return fn


scaled_by_d = _variant(scale="d")
not_scaled = _variant(scale="none")
scaled_by_sqrt_dv = _variant(scale="sqrt_dv")
softmax_over_queries = _variant(axis=1)
causal_upper = _variant(causal_kind="triu")
causal_strict = _variant(causal_kind="strict")
causal_strict_big_negative = _variant(causal_kind="strict", fill=-1e9)
causal_bottom_right = _variant(causal_kind="bottom_right")
causal_ignored = _variant(causal_kind="ignored")
padding_inverted = _variant(pad_kind="inverted", fill=-1e9)
padding_ignored = _variant(pad_kind="ignored")
padding_on_queries = _variant(pad_kind="queries")
masks_or = _variant(combine="or")
mask_after_softmax = _variant(after=True)
no_max_subtraction = _variant(stable=False)
weights_transposed = _variant(weights_t=True)
values_are_keys = _variant(values="k")


# (learner's function, the mistake name the checker must give, or None: only located, with a
# phrase the message must hold)
WRONG = [
    (scaled_by_d, "scaled by d instead of sqrt(d)"),
    (not_scaled, "no 1/sqrt(d) scaling"),
    (scaled_by_sqrt_dv, "scaled by sqrt(dv) instead of sqrt(d)"),
    (softmax_over_queries, "the softmax over the queries axis"),
    (causal_upper, "the causal mask transposed (upper triangle)"),
    (causal_strict, "the causal mask without the diagonal (j < i)"),
    (causal_strict_big_negative, "the causal mask without the diagonal (j < i)"),
    (causal_bottom_right, "the causal mask aligned bottom-right"),
    (causal_ignored, "causal ignored"),
    (padding_inverted, "the mask inverted"),
    (padding_ignored, "the padding mask ignored"),
    (masks_or, "the padding mask ignored"),          # its explanation names | (OR) too
    (mask_after_softmax, "masked after the softmax without renormalising"),
    (no_max_subtraction, "no max-subtraction (overflow)"),
    (weights_transposed, "weights returned as (B, Tk, Tq)"),
    (values_are_keys, "the weights applied to the keys instead of the values"),
    (padding_on_queries, "the key padding mask applied to the queries"),  # raises if Tq != Tk
]


@pytest.mark.parametrize("fn,name", WRONG, ids=[getattr(f, "__name__", "fn") + str(i)
                                                for i, (f, _) in enumerate(WRONG)])
def test_wrong_implementations_fail_named_or_located(fn, name):
    for seed in (None, 7):
        result = run_spec(SPEC, fn, seed)
        assert not result.passed
        if name is not None:
            assert result.mistake == name, result.message
        assert "[case B=" in result.message


def test_most_wrong_implementations_are_named():
    assert sum(name is not None for _, name in WRONG) >= 0.8 * len(WRONG)


def test_or_of_the_masks_is_mentioned_where_it_looks_like_ignored_padding():
    assert "| (OR)" in run_spec(SPEC, masks_or).message


def test_mask_on_the_queries_gets_a_precise_hint():
    message = run_spec(SPEC, padding_on_queries).message
    assert "key_padding_mask[:, None, :]" in message and "QUERY axis" in message


def test_the_reference_agrees_with_torch_sdpa_on_every_case():
    import torch
    import torch.nn.functional as F

    for case in SPEC.cases() + SPEC.cases(seed=99):
        (q, k, v), kw = case.inputs()
        out, w = SPEC.reference(q, k, v, **kw)
        assert np.allclose(w.sum(-1), 1.0)
        if "key_padding_mask" not in kw:                     # torch's own flags, no mask built
            want = F.scaled_dot_product_attention(*(torch.as_tensor(a) for a in (q, k, v)),
                                                  is_causal=kw.get("causal", False))
            assert np.allclose(out, want.numpy(), rtol=1e-9, atol=1e-12)
        allowed = w > 0
        assert allowed.any(-1).all()                         # every query keeps a key


@pytest.mark.parametrize("seed", [3, 4242])
def test_the_overflow_case_overflows_at_every_seed(seed):
    """The large case's largest allowed score is +1000 (not -1000, which would only underflow
    harmlessly), so a softmax without max-subtraction fails at any seed."""
    for spec, fn in ((SPEC, no_max_subtraction), (SPECS["additive_attention"], None)):
        if fn is None:
            fn = next(m.fn for m in spec.mistakes if m.name == "no max-subtraction (overflow)")
        result = run_spec(spec, fn, seed)
        assert result.mistake == "no max-subtraction (overflow)", result.message
