"""``additive_attention(query, keys, mask, W_q, W_k, v) -> (context, weights)``: Bahdanau
attention for a batch (Bahdanau, Cho & Bengio 2015, "Neural machine translation by jointly
learning to align and translate", eq. 6 and appendix A.1.2).

Shapes (time-major, like the rest of the course): query (B, Hd) the decoder state; keys
(S, B, He) the encoder outputs; mask (S, B) bool, True where the source position is real (every
column has at least one True); W_q (A, Hd), W_k (A, He), v (A,)::

    e[s, b]       = v · tanh(W_q q_b + W_k k_{s,b})                  scores          (S, B)
    weights[:, b] = softmax over s of e[:, b], masked positions excluded (weight exactly 0)
    context[b]    = sum_s weights[s, b] keys[s, b]                                    (B, He)

returns (context (B, He), weights (S, B)). The softmax must be stable for large scores
(subtract the maximum over the allowed positions). Masking the scores with -inf or with a large
negative constant (-1e9) both pass: in float64 either gives weights of exactly 0.

Reference: torch in float64 (masked_fill with -inf, torch.softmax over the source axis).
Cases: all of S, B, Hd, He, A distinct; batch 1 and > 1; padding in some columns and none in
others (one column with a single real position); one case with scores of about ±1000.
"""

from __future__ import annotations

import numpy as np

from ...judging import find_mistakes
from ...recurrent import rng_for
from ...spec import Case, Mistake, Spec
from .common import close, masked_softmax, weights_reading

ARGS = ("query", "keys", "mask", "W_q", "W_k", "v")

# (S, B, Hd, He, A, lengths of the columns at the public seed or None for no padding, large)
SIZES = ((6, 3, 4, 5, 7, (6, 4, 2), False),
         (5, 1, 3, 7, 4, None, False),
         (7, 4, 6, 3, 5, (5, 7, 1, 3), False),
         (4, 1, 5, 2, 6, (2,), False),
         (5, 2, 3, 4, 6, (5, 3), True))


def _lengths(rng: np.random.Generator, S: int, B: int, public: tuple[int, ...] | None,
             seed: int) -> np.ndarray:
    if public is None:
        return np.full(B, S)
    if seed == 0:
        return np.array(public)
    lengths = rng.integers(1, S, B)                        # every column padded ...
    if B > 1:
        lengths[rng.integers(B)] = S                       # ... but one full column
        lengths[(int(np.argmax(lengths)) + 1) % B] = 1     # ... and one of a single position
    return lengths


def make_case(seed: int, i: int) -> Case:
    S, B, Hd, He, A, public, large = SIZES[i]
    rng = rng_for(seed, 700 + i)
    lengths = _lengths(rng, S, B, public, seed)
    mask = np.arange(S)[:, None] < lengths[None, :]                               # (S, B)
    query = rng.normal(0.0, 1.0, (B, Hd))
    keys = rng.normal(0.0, 1.0, (S, B, He))
    W_q = rng.normal(0.0, 0.6, (A, Hd))
    W_k = rng.normal(0.0, 0.6, (A, He))
    v = rng.normal(0.0, 1.0, A)
    label = f"S={S}, B={B}, Hd={Hd}, He={He}, A={A}"
    if large:
        W_q, W_k = 4 * W_q, 4 * W_k                       # tanh saturates
        e = np.tanh(query @ W_q.T + keys @ W_k.T) @ v      # (S, B)
        top = e.flat[int(np.argmax(np.where(mask, np.abs(e), -1.0)))]
        v = v * (1000.0 / top)                             # the largest allowed score is +1000
        label += ", scores of about ±1000 (exp overflows unless the maximum is subtracted)"
    if public is None:
        label += ", no padding"
    else:
        label += ", source lengths " + ", ".join(map(str, lengths.tolist()))
    return Case(label, (query, keys, mask, W_q, W_k, v), dims={"B": B})


def make_cases(seed: int) -> list[Case]:
    return [make_case(seed, i) for i in range(len(SIZES))]


def ref_additive_attention(query, keys, mask, W_q, W_k, v) -> tuple[np.ndarray, np.ndarray]:
    """torch, float64: scores, masked_fill(-inf), softmax over the source axis, weighted sum."""
    import torch

    t = {n: torch.as_tensor(np.asarray(a, dtype=np.float64))
         for n, a in zip(("q", "k", "W_q", "W_k", "v"), (query, keys, W_q, W_k, v))}
    allowed = torch.as_tensor(np.asarray(mask, dtype=bool))
    hidden = torch.tanh(t["q"] @ t["W_q"].T + t["k"] @ t["W_k"].T)                 # (S, B, A)
    scores = (hidden @ t["v"]).masked_fill(~allowed, float("-inf"))                # (S, B)
    weights = torch.softmax(scores, dim=0)
    context = torch.einsum("sb,sbe->be", weights, t["k"])                          # (B, He)
    return context.numpy(), weights.numpy()


# --------------------------------------------------------------------------- mistakes
def _variant(score: str = "right", mask_mode: str = "fill", axis: int = 0, stable: bool = True,
             context: str = "right", weights_t: bool = False):
    def fn(query, keys, mask, W_q, W_k, v):
        pre = query @ W_q.T + keys @ W_k.T                                          # (S, B, A)
        e = {"right": np.tanh(pre) @ v, "no_tanh": pre @ v, "sum": np.tanh(pre).sum(-1),
             "sqrt_a": np.tanh(pre) @ v / np.sqrt(len(v))}[score]                   # (S, B)
        m = np.asarray(mask, dtype=bool)
        if mask_mode == "fill":
            w = masked_softmax(e, m, axis, stable=stable)
        elif mask_mode == "after":
            w = masked_softmax(e, m, axis, after=True)
        elif mask_mode == "multiply":
            w = masked_softmax(e * m, None, axis)
        elif mask_mode == "inverted":
            w = masked_softmax(e, ~m, axis)
        else:  # "ignored"
            w = masked_softmax(e, None, axis)
        ctx = {"right": lambda: np.einsum("sb,sbe->be", w, keys),
               "over_batch": lambda: np.einsum("sb,sbe->se", w, keys),
               "projected": lambda: np.einsum("sb,sba->ba", w, keys @ W_k.T)}[context]()
        return ctx, (w.T if weights_t else w)
    return fn


MISTAKES = [
    Mistake("the softmax over the batch axis", "the weights of one example are a distribution "
            "over its SOURCE positions: softmax along axis 0 of the (S, B) scores "
            "(max and sum with axis=0, keepdims=True), not along axis 1", _variant(axis=1)),
    Mistake("masked after the softmax without renormalising", "zeroing the padded positions' "
            "weights after the softmax leaves weights that sum to less than 1: set the padded "
            "SCORES to -inf (or -1e9) before the softmax, or divide by the new sum",
            _variant(mask_mode="after")),
    Mistake("the scores multiplied by the mask", "a masked score of 0 still gets weight "
            "exp(0 - max) > 0: excluded positions need a score of -inf (or -1e9), e.g. "
            "np.where(mask, e, -np.inf)", _variant(mask_mode="multiply")),
    Mistake("the mask ignored", "the padded positions of a short source get weight and leak "
            "into the context: set their scores to -inf before the softmax",
            _variant(mask_mode="ignored")),
    Mistake("the mask inverted", "True in `mask` marks a REAL source position; the scores to "
            "exclude are where the mask is False", _variant(mask_mode="inverted")),
    Mistake("no max-subtraction (overflow)", "np.exp of a score above ~709 is inf and inf / "
            "inf is NaN: subtract each column's maximum (over the allowed positions) before "
            "exp", _variant(stable=False)),
    Mistake("weights returned batch-first (B, S)", "return the weights time-major, (S, B), "
            "like the keys and the mask", _variant(weights_t=True)),
    Mistake("tanh missing", "the score is v · tanh(W_q q + W_k k): the tanh makes it an MLP "
            "with one hidden layer, not a bilinear form", _variant(score="no_tanh")),
    Mistake("a sum over the attention units instead of the dot product with v", "the score is "
            "v · tanh(...) — weight the A units by v (tanh(...) @ v), do not just add them up",
            _variant(score="sum")),
    Mistake("the scores divided by sqrt(A)", "additive attention has no 1/sqrt(d) scaling "
            "(that belongs to scaled dot-product attention): e = v · tanh(W_q q + W_k k)",
            _variant(score="sqrt_a")),
    Mistake("the context summed over the batch axis", "context[b] = sum over the SOURCE "
            "positions s of weights[s, b] * keys[s, b] (axis 0), giving (B, He)",
            _variant(context="over_batch")),
    Mistake("the context built from the projected keys", "the context is a weighted sum of "
            "the encoder outputs themselves (keys, He features), not of W_k k",
            _variant(context="projected")),
]


def recognise(got: dict, exp: dict, query, keys, mask, W_q, W_k, v):
    """Readings of the weights (mask inverted, wrong axis, not renormalised, leaking) and of a
    context that is wrong although the weights are right; silent where the catalogue names the
    output (so a catalogued mistake is reported under its own name)."""
    leaves = list(got.items())
    if find_mistakes(SPEC, Case("", (query, keys, mask, W_q, W_k, v)), leaves, list(exp.items())):
        return None
    w, ew = got["weights"], exp["weights"]
    allowed = np.asarray(mask, dtype=bool)
    if w.shape == ew.shape and np.all(np.isfinite(w)) and not close(w, ew):
        said = weights_reading(w, ew, allowed, 0, "the source positions (axis 0)", "the batch")
        if said and said[0] == "masked after the softmax without renormalising":
            renorm = w / np.where(w.sum(0) > 0, w.sum(0), 1.0)
            if not close(renorm, ew):
                said = ("weights that do not sum to 1", "the weights are 0 at the padded "
                        "positions but do not sum to 1 over the source positions, and they "
                        "are not the expected weights scaled either: use a softmax over the "
                        "allowed scores (exp(e - max) / sum)")
        return said
    c, ec = got["context"], exp["context"]
    if close(w, ew) and c.shape == ec.shape and not close(c, ec):
        return ("the context from the right weights, wrongly combined", "the weights are right "
                "but the context is not: context[b] = sum_s weights[s, b] * keys[s, b] (e.g. "
                "np.einsum('sb,sbe->be', weights, keys))")
    return None


def explain_error(error: str, query, keys, mask, W_q, W_k, v) -> str | None:
    if any(w in error for w in ("shape", "broadcast", "matmul", "aligned")):
        S, B, He = np.shape(keys)
        A, Hd = np.shape(W_q)
        return (f"here S={S}, B={B}, Hd={Hd}, He={He}, A={A}: query @ W_q.T is (B, A), "
                "keys @ W_k.T is (S, B, A) and their sum broadcasts to (S, B, A); the scores "
                "(S, B) are that @ v")
    return None


SPEC = Spec(id="additive_attention", title="additive (Bahdanau) attention over a padded batch: "
            "context (B, He) and weights (S, B)", notebook="10_attention", arg_names=ARGS,
            output=("context", "weights"), make_cases=make_cases,
            reference=ref_additive_attention, mistakes=MISTAKES, rtol=1e-4, atol=1e-5,
            points=2, recognise=recognise, explain_error=explain_error)
