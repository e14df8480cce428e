"""``scaled_dot_product_attention(q, k, v, key_padding_mask=None, causal=False) -> (out,
weights)``: the attention of the Transformer (Vaswani et al. 2017, "Attention is all you need",
eq. 1), batch-first like ``torch.nn.functional.scaled_dot_product_attention``.

Shapes: q (B, Tq, d), k (B, Tk, d), v (B, Tk, dv); key_padding_mask (B, Tk) bool, True where
the key is real (or None); causal: query i attends to keys j <= i::

    scores  = q @ k^T / sqrt(d)                                                  (B, Tq, Tk)
    weights = softmax over the keys (last axis) of the scores, disallowed keys excluded
    out     = weights @ v                                                        (B, Tq, dv)

The causal mask is torch's ``is_causal``: TOP-LEFT aligned, query i sees keys 0..i even when
Tq < Tk. (Decoding with a key/value cache needs the other alignment — the Tq new queries are the
LAST Tq positions, so query i sees keys 0..i + Tk - Tq, "bottom-right"; torch's is_causal does
not do that, and neither does this exercise.) Every case leaves each query at least one
allowed key. Masking with -inf or with a large negative constant (-1e9) both pass.

Reference: ``F.scaled_dot_product_attention`` in float64 for ``out`` (one boolean attn_mask =
padding AND causal), the explicit masked softmax for ``weights`` (checked to agree).
Cases: B, Tq, Tk, d, dv distinct where the case allows (causal ones with Tq == Tk, and one
with Tq < Tk); batch 1 and > 1; padding with and without causal; scores of about ±1000.
"""

from __future__ import annotations

import numpy as np

from ...judging import find_mistakes
from ...recurrent import rng_for
from ...spec import Case, Mistake, Spec
from .common import close, masked_softmax, weights_reading

ARGS = ("q", "k", "v", "key_padding_mask", "causal")

# (B, Tq, Tk, d, dv, padded, causal, large)
SIZES = ((3, 4, 6, 5, 7, True, False, False),
         (1, 5, 3, 4, 6, False, False, False),
         (2, 6, 6, 3, 5, False, True, False),
         (4, 5, 5, 7, 3, True, True, False),
         (2, 3, 5, 4, 6, False, True, False),       # causal with Tq < Tk: top-left aligned
         (1, 4, 4, 6, 2, True, True, False),
         (2, 3, 4, 6, 5, True, False, True))


def _allowed(key_padding_mask, causal: bool, B: int, Tq: int, Tk: int) -> np.ndarray:
    allowed = np.ones((B, Tq, Tk), dtype=bool)
    if key_padding_mask is not None:
        allowed &= np.asarray(key_padding_mask, dtype=bool)[:, None, :]
    if causal:
        allowed &= np.tril(np.ones((Tq, Tk), dtype=bool))[None]
    return allowed


def make_case(seed: int, i: int) -> Case:
    B, Tq, Tk, d, dv, padded, causal, large = SIZES[i]
    rng = rng_for(seed, 800 + i)
    q = rng.normal(0.0, 1.0, (B, Tq, d))
    k = rng.normal(0.0, 1.0, (B, Tk, d))
    v = rng.normal(0.0, 1.0, (B, Tk, dv))
    label = f"B={B}, Tq={Tq}, Tk={Tk}, d={d}, dv={dv}"
    kwargs: dict = {}
    if padded:
        lengths = rng.integers(1, Tk, B)                  # padded keys in every example ...
        if B > 1:
            lengths[rng.integers(B)] = Tk                    # ... but one full
        mask = np.arange(Tk)[None, :] < lengths[:, None]     # (B, Tk)
        kwargs["key_padding_mask"] = mask
        label += ", key lengths " + ", ".join(map(str, lengths.tolist()))
    else:
        label += ", no padding mask"
    if causal:
        kwargs["causal"] = True
        label += ", causal" + (" (Tq < Tk: top-left aligned, like torch's is_causal)"
                               if Tq < Tk else "")
    if large:
        s = q @ k.transpose(0, 2, 1) / np.sqrt(d)
        allowed = _allowed(kwargs.get("key_padding_mask"), causal, B, Tq, Tk)
        top = s.flat[int(np.argmax(np.where(allowed, np.abs(s), -1.0)))]
        scale = np.sqrt(1000.0 / abs(top))
        q, k = q * scale * np.sign(top), k * scale          # the largest allowed score is +1000
        label += ", scores of about ±1000 (exp overflows unless the maximum is subtracted)"
    return Case(label, (q, k, v), kwargs, dims={"B": B})


def make_cases(seed: int) -> list[Case]:
    return [make_case(seed, i) for i in range(len(SIZES))]


def ref_scaled_dot_product_attention(q, k, v, key_padding_mask=None, causal=False):
    """torch, float64: F.scaled_dot_product_attention for out, the masked softmax for weights."""
    import torch
    import torch.nn.functional as F

    qt, kt, vt = (torch.as_tensor(np.asarray(a, dtype=np.float64)) for a in (q, k, v))
    B, Tq, d = qt.shape
    Tk = kt.shape[1]
    allowed = torch.as_tensor(_allowed(key_padding_mask, bool(causal), B, Tq, Tk))
    scores = (qt @ kt.transpose(1, 2) / d ** 0.5).masked_fill(~allowed, float("-inf"))
    weights = torch.softmax(scores, dim=-1)                                       # (B, Tq, Tk)
    out = F.scaled_dot_product_attention(qt, kt, vt, attn_mask=allowed)           # (B, Tq, dv)
    if not torch.allclose(out, weights @ vt, rtol=1e-10, atol=1e-12):
        raise AssertionError("F.scaled_dot_product_attention and the explicit softmax disagree")
    return out.numpy(), weights.numpy()


# --------------------------------------------------------------------------- mistakes
def _variant(scale: str = "sqrt_d", axis: int = -1, causal_kind: str = "tril",
             pad_kind: str = "keys", combine: str = "and", mask_mode: str = "fill",
             stable: bool = True, weights_t: bool = False, values: str = "v",
             fill: float = -np.inf):
    def fn(q, k, v, key_padding_mask=None, causal=False):
        d, dv = q.shape[-1], v.shape[-1]
        s = q @ np.swapaxes(k, 1, 2)
        s = s / {"sqrt_d": np.sqrt(d), "d": d, "none": 1.0, "sqrt_dv": np.sqrt(dv)}[scale]
        B, Tq, Tk = s.shape
        pad = np.ones((B, Tq, Tk), dtype=bool)
        if key_padding_mask is not None:
            m = np.asarray(key_padding_mask, dtype=bool)
            pad = {"keys": lambda: np.broadcast_to(m[:, None, :], s.shape),
                   "inverted": lambda: np.broadcast_to(~m[:, None, :], s.shape),
                   "queries": lambda: np.broadcast_to(m[:, :, None], s.shape),
                   "ignored": lambda: pad}[pad_kind]()
        cm = np.ones((Tq, Tk), dtype=bool)
        if causal:
            ones = np.ones((Tq, Tk), dtype=bool)
            cm = {"tril": np.tril(ones), "triu": np.triu(ones), "strict": np.tril(ones, -1),
                  "bottom_right": np.tril(ones, Tk - Tq), "ignored": ones}[causal_kind]
        allowed = (pad & cm) if combine == "and" else (pad | cm)
        if mask_mode == "multiply":
            w = masked_softmax(s * allowed, None, axis)
        else:
            w = masked_softmax(s, allowed, axis, fill, stable, after=mask_mode == "after")
        out = w @ (v if values == "v" else k)
        return out, (np.swapaxes(w, 1, 2) if weights_t else w)
    return fn


MISTAKES = [
    Mistake("scaled by d instead of sqrt(d)", "divide the scores by sqrt(d) (d = q.shape[-1]): "
            "dot products of d unit-variance terms have a standard deviation of sqrt(d)",
            _variant(scale="d")),
    Mistake("no 1/sqrt(d) scaling", "divide q @ k^T by sqrt(d), or the softmax saturates as d "
            "grows (Vaswani et al. 2017, section 3.2.1)", _variant(scale="none")),
    Mistake("scaled by sqrt(dv) instead of sqrt(d)", "the scale comes from the dimension of "
            "the queries and keys, d = q.shape[-1], not of the values", _variant(scale="sqrt_dv")),
    Mistake("the softmax over the queries axis", "each query's weights are a distribution over "
            "the KEYS: softmax along the last axis (axis=-1) of the (B, Tq, Tk) scores",
            _variant(axis=1)),
    Mistake("the causal mask transposed (upper triangle)", "query i may look at keys j <= i: "
            "keep the LOWER triangle, np.tril(np.ones((Tq, Tk), bool))",
            _variant(causal_kind="triu")),
    Mistake("the causal mask without the diagonal (j < i)", "a query may attend to its own "
            "position: keep j <= i (np.tril with k=0); with j < i, query 0 has no key at all",
            _variant(causal_kind="strict")),
    Mistake("the causal mask without the diagonal (j < i)", "a query may attend to its own "
            "position: keep j <= i (np.tril with k=0); with j < i, query 0 has no key left and "
            "a -1e9 fill spreads its weight evenly over all keys",
            _variant(causal_kind="strict", fill=-1e9)),
    Mistake("the causal mask aligned bottom-right", "torch's is_causal (and this exercise) is "
            "top-left aligned: query i sees keys 0..i even when Tq < Tk, np.tril(np.ones((Tq, "
            "Tk))). Seeing keys up to i + Tk - Tq is the alignment a key/value cache needs when "
            "decoding, but not what is_causal does", _variant(causal_kind="bottom_right")),
    Mistake("causal ignored", "with causal=True, query i must not see the keys after it: "
            "mask the scores where j > i", _variant(causal_kind="ignored")),
    Mistake("the padding mask inverted", "True in key_padding_mask marks a REAL key; exclude "
            "the keys where it is False", _variant(pad_kind="inverted")),
    Mistake("the padding mask ignored", "padded keys get weight: exclude the keys where "
            "key_padding_mask is False (their score -inf before the softmax); combining it "
            "with an all-True causal mask by | (OR) ignores it too: a key takes part only if "
            "it is real AND allowed by causality (&)", _variant(pad_kind="ignored")),
    Mistake("masked after the softmax without renormalising", "zeroing weights after the "
            "softmax leaves rows that sum to less than 1: set the excluded SCORES to -inf (or "
            "-1e9) before the softmax", _variant(mask_mode="after")),
    Mistake("the scores multiplied by the mask", "a masked score of 0 still gets weight "
            "exp(0 - max) > 0: excluded keys need a score of -inf (or -1e9)",
            _variant(mask_mode="multiply")),
    Mistake("no max-subtraction (overflow)", "np.exp of a score above ~709 is inf and inf / inf "
            "is NaN: subtract each row's maximum (over the allowed keys) before exp",
            _variant(stable=False)),
    Mistake("weights returned as (B, Tk, Tq)", "return the weights as (B, Tq, Tk): one row per "
            "query, like the scores q @ k^T", _variant(weights_t=True)),
    Mistake("the weights applied to the keys instead of the values", "out = weights @ v "
            "(B, Tq, dv): the values carry what is read, the keys only decide where",
            _variant(values="k")),
]


def recognise(got: dict, exp: dict, q, k, v, key_padding_mask=None, causal=False):
    """Readings of the weights (mask inverted, wrong axis, not renormalised, leaking) and an
    output that is wrong although the weights are right; silent where the catalogue names it."""
    kwargs = {"key_padding_mask": key_padding_mask, "causal": causal}
    if find_mistakes(SPEC, Case("", (q, k, v), kwargs), list(got.items()), list(exp.items())):
        return None
    w, ew = got["weights"], exp["weights"]
    B, Tq, Tk = ew.shape
    allowed = _allowed(key_padding_mask, bool(causal), B, Tq, Tk)
    if w.shape == ew.shape and np.all(np.isfinite(w)) and not close(w, ew):
        said = weights_reading(w, ew, allowed, 2, "the keys (the last axis)", "the queries")
        if said and said[0] == "masked after the softmax without renormalising":
            total = w.sum(-1, keepdims=True)
            if not close(w / np.where(total > 0, total, 1.0), ew):
                said = ("weights that do not sum to 1", "the excluded keys have weight 0 but "
                        "the rows do not sum to 1 and are not the expected weights scaled "
                        "either: use a softmax over the allowed scores (exp(s - max) / sum)")
        return said
    out, eout = got["out"], exp["out"]
    if close(w, ew) and out.shape == eout.shape and not close(out, eout):
        return ("the output from the right weights, wrongly combined", "the weights are right "
                "but out is not: out = weights @ v, (B, Tq, Tk) @ (B, Tk, dv)")
    return None


def explain_error(error: str, q, k, v, key_padding_mask=None, causal=False
                  ) -> str | tuple[str, str] | None:
    B, Tq, d = np.shape(q)
    Tk, dv = np.shape(v)[1], np.shape(v)[2]
    if key_padding_mask is not None and Tq != Tk and f"({B},{Tk},1)" in error.replace(" ", ""):
        return (f"an array of shape (B, Tk, 1) = ({B}, {Tk}, 1) — key_padding_mask[:, :, None]? "
                "— lines the mask up with the QUERY axis (it only fits when Tq = Tk); the mask "
                "says which KEYS are real: key_padding_mask[:, None, :], shape (B, 1, Tk), "
                "broadcasts over the queries", "the key padding mask applied to the queries")
    if any(w in error for w in ("shape", "broadcast", "matmul", "aligned")):
        return (f"here B={B}, Tq={Tq}, Tk={Tk}, d={d}, dv={dv}: q @ k.transpose(0, 2, 1) is "
                "(B, Tq, Tk); key_padding_mask (B, Tk) broadcasts over the queries as "
                "mask[:, None, :]; the causal mask is (Tq, Tk); weights @ v is (B, Tq, dv)")
    return None


SPEC = Spec(id="scaled_dot_product_attention", title="scaled dot-product attention with a key "
            "padding mask and a causal (top-left, like torch's is_causal) mask: out (B, Tq, "
            "dv) and weights (B, Tq, Tk)", notebook="10_attention", arg_names=ARGS,
            output=("out", "weights"), make_cases=make_cases,
            reference=ref_scaled_dot_product_attention, mistakes=MISTAKES, rtol=1e-4,
            atol=1e-5, points=2, recognise=recognise, explain_error=explain_error)
