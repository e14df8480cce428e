"""``frame_nll(logits, roll, mask) -> float``: the polyphonic-music loss, in nats per frame.

Each of the 88 keys of a frame is an independent Bernoulli variable with P(on) = σ(x), x its
logit; a frame's negative log-likelihood is the SUM over its keys, and the loss is the MEAN over
the real frames (``mask`` True; False marks padding after a shorter piece ended)::

    -log p(y | x) = -[y log σ(x) + (1 - y) log(1 - σ(x))] = softplus(x) - y x,
    softplus(x) = log(1 + e^x) = max(x, 0) + log1p(e^{-|x|}) = np.logaddexp(0, x)
    frame_nll = sum over real frames (t, b) of sum_k [softplus(x) - y x] / (number of real frames)

The softplus form is exact and finite for any logit (x = ±800 included), where log(σ(x)) and
log(1 - σ(x)) give -inf / NaN as soon as σ(x) rounds to 0 or 1 (|x| > ~37 in float64). This is
the measure of Boulanger-Lewandowski et al. (2012) and of Chung, Gulcehre, Cho & Bengio (2014),
"Empirical evaluation of gated recurrent neural networks on sequence modeling", Table 2
(negative log-likelihood per time step, nats).

Shapes: logits and roll (T, B, 88) float64, mask (T, B) bool; returns a Python float (a numpy
floating scalar or a 0-d float array is accepted as one). Cases (from one seed): batch 3, 1, 4
with unequal lengths (padding holds garbage logits and keys, so a loss that ignores the mask
shows), and two tail cases, one with logits up to +800, one down to -800. Reference:
``torch.nn.functional.binary_cross_entropy_with_logits`` (reduction="none") in float64, summed
over keys, averaged over the mask.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...recurrent import rng_for
from ...spec import Case, Mistake, Spec

ARGS = ("logits", "roll", "mask")
KEYS = 88
LN2 = math.log(2.0)
SETTINGS = (  # label, lengths per piece (T = the longest), tail: None, "+" or "-"
    ("T=6, B=3, pieces of 6, 4 and 2 frames (padding after them)", (6, 4, 2), None),
    ("T=5, B=1, one piece, no padding", (5,), None),
    ("T=9, B=4, pieces of 9, 3, 7 and 1 frames (padding after them)", (9, 3, 7, 1), None),
    ("T=4, B=2, pieces of 4 and 3 frames, logits up to +40 and +800 (log(1 + e^x) overflows, "
     "σ(x) rounds to 1)", (4, 3), "+"),
    ("T=3, B=5, pieces of 3, 3, 2, 1 and 3 frames, logits down to -40 and -800, the keys at -800 "
     "sounding (e^{-x} overflows, σ(x) rounds to 0)", (3, 3, 2, 1, 3), "-"),
)


def _batch(rng: np.random.Generator, lengths: tuple[int, ...], tail: str | None):
    """logits, roll (T, B, 88) and mask (T, B): chorale-like rolls (3-5 keys on, mostly in the
    middle of the keyboard), logits that favour the keys that sound; garbage after each piece."""
    T, B = max(lengths), len(lengths)
    mask = np.arange(T)[:, None] < np.asarray(lengths)[None, :]              # (T, B)
    roll = np.zeros((T, B, KEYS))
    for t in range(T):
        for b in range(B):
            roll[t, b, rng.choice(np.arange(15, 65), int(rng.integers(3, 6)), replace=False)] = 1
    logits = rng.normal(-3.0, 1.5, (T, B, KEYS)) + 4.0 * roll * rng.random((T, B, KEYS))
    if tail is not None:
        sign = 1.0 if tail == "+" else -1.0
        big = rng.random((T, B, KEYS)) < 0.3
        size = np.where(rng.random((T, B, KEYS)) < 0.5, 40.0, 800.0)
        logits = np.where(big, sign * size * (1 + 0.05 * rng.random((T, B, KEYS))), logits)
        on = rng.random((T, B, KEYS)) < 0.5                  # tail keys both on and off ...
        if tail == "-":                                      # ... but at -800 all sound, the
            on |= size == 800.0                              # worst case (a confident miss)
        roll = np.where(big, on.astype(float), roll)
    garbage = ~mask[..., None]                                                # (T, B, 1)
    logits = np.where(garbage, rng.normal(2.0, 3.0, (T, B, KEYS)), logits)
    roll = np.where(garbage, (rng.random((T, B, KEYS)) < 0.5).astype(float), roll)
    return logits, roll, mask


def make_cases(seed: int) -> list[Case]:
    cases = []
    for i, (label, lengths, tail) in enumerate(SETTINGS):
        logits, roll, mask = _batch(rng_for(seed, 950 + i), lengths, tail)
        cases.append(Case(label, (logits, roll, mask),
                          dims={"T": max(lengths), "B": len(lengths), "K": KEYS}))
    return cases


def ref_frame_nll(logits, roll, mask) -> float:
    """binary_cross_entropy_with_logits (float64, per key), summed over keys, masked mean."""
    import torch
    import torch.nn.functional as F

    x = torch.as_tensor(np.asarray(logits, dtype=np.float64))
    y = torch.as_tensor(np.asarray(roll, dtype=np.float64))
    m = torch.as_tensor(np.asarray(mask, dtype=bool))
    per_frame = F.binary_cross_entropy_with_logits(x, y, reduction="none").sum(-1)  # (T, B)
    return float(per_frame[m].mean())


# --------------------------------------------------------------------------- mistakes
def _sigmoid(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def _per_key(x, y, form: str = "stable", eps: float = 0.0, clip: float = 0.0) -> np.ndarray:
    """-log p per key, (T, B, 88), in one of the forms learners write (default: exact)."""
    with np.errstate(all="ignore"):
        if clip:
            x = np.clip(x, -clip, clip)
        if form == "stable":
            return np.logaddexp(0.0, x) - y * x
        if form == "naive":
            p = _sigmoid(x)
            if eps:
                p = np.clip(p, eps, 1 - eps)
            return -(y * np.log(p) + (1 - y) * np.log(1 - p))
        if form == "log1p_exp":                               # softplus as log(1 + e^x)
            return np.log(1 + np.exp(x)) - y * x
        if form == "log1p_exp_neg":                           # log σ = -log1p(e^{-x})
            log_p = -np.log1p(np.exp(-x))
            return -(y * log_p + (1 - y) * (log_p - x))
        if form == "softplus_neg":                            # softplus(-x) - y x
            return np.logaddexp(0.0, -x) - y * x
        if form == "flipped":                                 # targets read as 1 - y
            return np.logaddexp(0.0, x) - (1 - y) * x
        if form == "on_only":                                 # only y log σ(x)
            return y * np.logaddexp(0.0, -x)
        if form == "softmax":                                 # one categorical over 88 keys
            m = x.max(-1, keepdims=True)
            logp = x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))
            return -y * logp
    raise ValueError(form)


def _nll(logits, roll, mask, reduce: str = "mean", **form: Any) -> float:
    per = _per_key(np.asarray(logits, float), np.asarray(roll, float), **form)   # (T, B, 88)
    per_frame = per.sum(-1)                                                        # (T, B)
    m = np.asarray(mask, bool)
    with np.errstate(all="ignore"):
        if reduce == "mean":
            return float(per_frame[m].mean())
        if reduce == "keys_mean":
            return float(per_frame[m].mean() / KEYS)
        if reduce == "all":
            return float(per_frame.mean())
        if reduce == "zeroed_all":
            return float(np.where(m, per_frame, 0.0).mean())
        if reduce == "sum":
            return float(per_frame[m].sum())
        if reduce == "per_piece":
            return float((np.where(m, per_frame, 0.0).sum(0) / m.sum(0)).mean())
        if reduce == "lengths_wrong_axis":                    # lengths = mask.sum(1): over batch
            lengths = m.sum(1)
            B = m.shape[1]
            total = sum(per_frame[: lengths[b], b].sum() for b in range(B))
            return float(total / lengths[:B].sum())
    raise ValueError(reduce)


def _variant(**switches: Any):
    def fn(logits, roll, mask):
        return _nll(logits, roll, mask, **switches)
    return fn


STABLE = ("use the softplus form, -log p = np.logaddexp(0, x) - y x (= max(x, 0) - x y + "
          "log1p(exp(-|x|))), exact and finite for every logit")
CLIP_P = Mistake("probabilities clipped away from 0 and 1", "clipping σ(x) to [eps, 1 - eps] "
                 "keeps the logs finite but caps each key's loss at -log(eps) (16 nats for eps = "
                 "1e-7), while a key at logit 40 that is off costs 40 nats and one at 800 costs "
                 "800: " + STABLE, _variant(form="naive", eps=1e-7))
CLIP_X = Mistake("logits clipped before the loss", "np.clip(logits, -c, c) keeps exp from "
                 "overflowing, but a key at logit 800 that is off costs 800 nats, not c: "
                 + STABLE, _variant(clip=30.0))
MISTAKES = [
    Mistake("log(σ(x)) and log(1 - σ(x)) computed from σ (NaN in the tails)", "σ(x) rounds to "
            "exactly 1 for x > ~37 (and to 0 for x < ~-745), so log(1 - σ) = log 0 = -inf, and "
            "0 · inf = NaN: " + STABLE, _variant(form="naive")),
    Mistake("softplus written as log(1 + exp(x)) (overflows at large logits)", "exp(800) is "
            "inf in float64, so log(1 + exp(x)) is inf: " + STABLE, _variant(form="log1p_exp")),
    Mistake("log σ(x) written as -log1p(exp(-x)) (overflows at large negative logits)",
            "exp(800) is inf, so at x = -800 that form is -inf: " + STABLE,
            _variant(form="log1p_exp_neg")),
    CLIP_P,
    *[Mistake(CLIP_P.name, CLIP_P.explain, _variant(form="naive", eps=eps))
      for eps in (1e-8, 1e-10, 1e-12, 1e-15, 1e-6, 1e-5)],
    CLIP_X,
    *[Mistake(CLIP_X.name, CLIP_X.explain, _variant(clip=c))
      for c in (10.0, 15.0, 20.0, 50.0, 88.0, 100.0, 500.0)],
    *[Mistake(CLIP_X.name, CLIP_X.explain, _variant(form="naive", clip=c))
      for c in (10.0, 15.0, 20.0, 30.0, 35.0)],
    Mistake("the mean over the 88 keys instead of their sum", "a frame's NLL is the SUM of its "
            "88 keys' Bernoulli NLLs (they are independent, so the log-likelihoods add): sum "
            "over the last axis, average over frames only (your value is the expected one / "
            "88)", _variant(reduce="keys_mean")),
    Mistake("padding counted as frames", "the padded positions (mask False) are not music: "
            "average only over the real frames, per_frame[mask].mean()", _variant(reduce="all")),
    Mistake("padding zeroed but divided by every position", "after zeroing the padding, divide "
            "by the number of real frames (mask.sum()), not by T·B", _variant(reduce="zeroed_all")),
    Mistake("the sum over frames instead of the mean", "the loss is per frame: divide the total "
            "by the number of real frames (mask.sum())", _variant(reduce="sum")),
    Mistake("the mean of each piece's mean", "average over all real frames at once (every "
            "frame weighs the same); a mean per piece first gives a short piece's frames more "
            "weight", _variant(reduce="per_piece")),
    Mistake("bits instead of nats", "the paper's NLL is in nats (natural log); yours is the "
            "expected one / ln 2, which is bits (np.log2?)", lambda *a: _nll(*a) / LN2),
    Mistake("a base-10 log", "the paper's NLL is in nats (natural log, np.log); yours is the "
            "expected one / ln 10 (np.log10?)", lambda *a: _nll(*a) / math.log(10.0)),
    Mistake("the log-likelihood instead of its negative", "your value is minus the expected "
            "one: the NLL is -log p, a positive number", lambda *a: -_nll(*a)),
    Mistake("targets flipped (1 - y)", "the term -y·x goes with the keys that sound (roll = 1): "
            "softplus(x) - y x, not softplus(x) - (1 - y) x", _variant(form="flipped")),
    Mistake("softplus(-x) - y x (a sign slip)", "-log σ(x) = softplus(-x) is the cost of a key "
            "that sounds, -log(1 - σ(x)) = softplus(x) of one that is silent; together "
            "softplus(x) - y x", _variant(form="softplus_neg")),
    Mistake("only the sounding keys scored", "each of the 88 keys is a Bernoulli variable: a "
            "silent key costs -log(1 - σ(x)) too; -[y log σ(x) + (1 - y) log(1 - σ(x))] summed "
            "over keys", _variant(form="on_only")),
    Mistake("a softmax over the 88 keys", "several keys sound at once, so the keys are 88 "
            "independent Bernoulli variables (a sigmoid each), not one categorical choice "
            "(a softmax)", _variant(form="softmax")),
    Mistake("piece lengths counted along the wrong axis", "mask is (T, B): a piece's length is "
            "mask[:, b].sum(), i.e. mask.sum(axis=0)", _variant(reduce="lengths_wrong_axis")),
]


def check_types(case: Case, value: Any) -> str | tuple[str, str] | None:
    """The notebook states a Python float (a numpy floating scalar and a 0-d float array pass)."""
    if value is None or isinstance(value, (float, np.floating)):
        return None
    kind = type(value).__name__
    if kind == "Tensor":
        return ("frame_nll returned a torch tensor: return a Python float (float(...)); the "
                "exercise is in numpy", "a tensor instead of a float")
    if isinstance(value, np.ndarray):
        if value.ndim == 0 and value.dtype.kind == "f":
            return None
        return (f"frame_nll returned a numpy array of shape {value.shape} and dtype "
                f"{value.dtype}: return one Python float, float(...) of the mean (keepdims, or "
                "a mean over some axes only?)", "an array instead of a float")
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return ("frame_nll returned an int: return a Python float (an integer division or an "
                "int() somewhere?)", "an int instead of a float")
    return (f"frame_nll returned a {kind}: return a Python float, the mean NLL per frame",
            "not a float")


SPEC = Spec(id="frame_nll", title="mean per-frame NLL of an 88-key piano roll (nats)",
            notebook="09_polyphonic_music", arg_names=ARGS, output="nll",
            make_cases=make_cases, reference=ref_frame_nll, mistakes=MISTAKES, rtol=1e-5,
            atol=1e-6, points=1, check_types=check_types)
