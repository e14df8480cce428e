"""``bits_per_char(logits, targets) -> float``: a character model's mean cross-entropy, in bits.

For logits ``z`` of shape (..., V) (any leading axes: (N, V) or time-major (T, B, V)) and
integer targets of shape (...)::

    log p(y | z) = z_y - logsumexp(z),    logsumexp(z) = m + log sum_v exp(z_v - m),  m = max_v z_v
    bits/char    = mean over positions of -log p(y | z) / ln 2

Subtracting the row maximum ``m`` keeps ``exp`` from overflowing (exp(710) is inf in float64):
one case has logits of about ±1000. Bits per character is the unit of the char-rnn literature
(Graves 2013, "Generating sequences with recurrent neural networks"; Karpathy 2015); a uniform
guess over V characters costs log2 V bits.

Reference: ``torch.nn.functional.cross_entropy`` in float64, divided by ln 2.
"""

from __future__ import annotations

import math

import numpy as np

from ...recurrent import rng_for
from ...spec import Case, Mistake, Spec

ARGS = ("logits", "targets")
LN2 = math.log(2.0)
OVERFLOW_LABEL = ("N=6, V=5, logits of about ±1000 (np.exp overflows or underflows in float64 "
                  "unless each row's own maximum is subtracted first)")


def make_cases(seed: int) -> list[Case]:
    """Time-major (T, B, V) and (N, V) logits, batch 3 and batch 1, and one case at ±1000."""
    cases = []
    for i, shape in enumerate([(4, 3, 6), (7, 5), (5, 1, 4)]):
        rng = rng_for(seed, 300 + i)
        logits = rng.normal(0.0, 2.0, shape)
        targets = rng.integers(0, shape[-1], shape[:-1])
        names = ("N", "V") if len(shape) == 2 else ("T", "B", "V")
        label = ", ".join(f"{n}={v}" for n, v in zip(names, shape))
        cases.append(Case(label, (logits, targets), dims={"ndim": len(shape)}))
    rng = rng_for(seed, 310)
    logits = rng.normal(0.0, 1.0, (6, 5)) + rng.choice([-1000.0, 1000.0], (6, 5))
    logits[0] = 1000.0 + np.arange(5)                      # a row where every exp overflows
    logits[1] = -1000.0 - np.arange(5)                     # ... and one where every exp underflows
    cases.append(Case(OVERFLOW_LABEL, (logits, rng.integers(0, 5, 6)), dims={"ndim": 2}))
    return cases


def ref_bits_per_char(logits, targets) -> float:
    """torch.nn.functional.cross_entropy (float64, mean over positions) / ln 2."""
    import torch
    import torch.nn.functional as F

    z = torch.as_tensor(np.asarray(logits, dtype=np.float64))
    y = torch.as_tensor(np.asarray(targets)).long()
    return float(F.cross_entropy(z.reshape(-1, z.shape[-1]), y.reshape(-1))) / LN2


# --------------------------------------------------------------------------- mistakes
def _log_softmax(z: np.ndarray, axis: int = -1, stable: bool = True) -> np.ndarray:
    m = z.max(axis=axis, keepdims=True) if stable else 0.0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return z - m - np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


def _nll(logits, targets, axis: int = -1, stable: bool | str = True) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    if stable == "global":                                   # one maximum for the whole batch
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            logp = z - z.max() - np.log(np.exp(z - z.max()).sum(axis=axis, keepdims=True))
    elif stable == "softmax":                                # log of a stable softmax
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            e = np.exp(z - z.max(axis=axis, keepdims=True))
            logp = np.log(e / e.sum(axis=axis, keepdims=True))
    else:
        logp = _log_softmax(z, axis, bool(stable))
    y = np.asarray(targets)[..., None]
    return -np.take_along_axis(logp, y, axis=-1)[..., 0]    # (...)


MISTAKES = [
    Mistake("nats instead of bits", "the natural log gives nats; divide the mean by ln 2 "
            "(np.log(2)) to get bits", lambda z, y: float(_nll(z, y).mean())),
    Mistake("the softmax over the wrong axis", "normalise over the characters, the LAST axis "
            "(axis=-1, keepdims=True), not over time or batch",
            lambda z, y: float(_nll(z, y, axis=0).mean()) / LN2),
    Mistake("a sum instead of a mean", "bits per character is an average: divide the total by the "
            "number of predicted characters (targets.size)",
            lambda z, y: float(_nll(z, y).sum()) / LN2),
    Mistake("summed over time, averaged over the batch only", "average over every position "
            "(T·B of them), not over the batch alone",
            lambda z, y: float(_nll(z, y).sum(0).mean()) / LN2),
    Mistake("no max-subtraction (overflow)", "exp(1000) is inf: subtract each row's maximum "
            "before exp, log p = z - m - log(sum(exp(z - m)))",
            lambda z, y: float(_nll(z, y, stable=False).mean()) / LN2),
    Mistake("the maximum of the whole batch subtracted instead of each row's", "with one m for "
            "the whole batch, every exp of a row far below it underflows to 0 and log 0 = -inf: "
            "m = z.max(axis=-1, keepdims=True), one maximum per row",
            lambda z, y: float(_nll(z, y, stable="global").mean()) / LN2),
    Mistake("the log of a softmax that underflowed", "a probability below ~1e-308 is 0 in "
            "float64 and log 0 = -inf: compute log p = z - m - log(sum(exp(z - m))) directly "
            "instead of np.log(softmax)", lambda z, y: float(_nll(z, y, stable="softmax").mean())
            / LN2),
]

RATIOS = (
    ("nats instead of bits", LN2, "your value is the expected one times ln 2: that is nats "
     "(natural log); divide the mean by ln 2 (np.log(2)) to get bits"),
    ("a base-10 log", LN2 / math.log(10.0), "your value is the expected one times log10(2): "
     "that is the base-10 log; bits use log2 (np.log2, or the natural log divided by ln 2)"),
    ("the sign flipped", -1.0, "your value is the expected one with the opposite sign: bits per "
     "character is the mean of -log2 p(target), a positive number"),
    ("bits twice over", 1 / LN2, "your value is the expected one divided by ln 2 once more: "
     "already in bits (np.log2), then divided by ln 2 again?"),
)


def check_types(case, value) -> str | None:
    """The notebook says: return a Python float."""
    if isinstance(value, float):  # np.float64 is a float too
        return None
    kind = type(value).__name__
    if kind == "Tensor":
        return ("bits_per_char returned a torch tensor: return a Python float (loss.item() or "
                "float(...)) — a tensor keeps its autograd graph and device alive, and a list "
                "of them grows the memory at every step where it is logged")
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        return (f"bits_per_char returned a numpy {kind} of shape {np.shape(value)}: return a "
                "Python float, float(...) of the mean (the notebook's plots and logs expect "
                "one number; a torch tensor sent through the grader arrives as an array)")
    return None


def recognise(got: dict, exp: dict, logits, targets) -> tuple[str, str] | None:
    """A constant factor between the answer and the expected value (checked on this case)."""
    g, e = float(got["bits"]), float(exp["bits"])
    if not np.isfinite(g) or e == 0.0:
        return None
    for name, ratio, text in RATIOS:
        if abs(g - ratio * e) <= 1e-6 * (1.0 + abs(e)):
            return name, text
    return None


SPEC = Spec(id="bits_per_char", title="mean cross-entropy in bits per character",
            notebook="07_char_language_model", arg_names=ARGS, output="bits",
            make_cases=make_cases, reference=ref_bits_per_char, mistakes=MISTAKES,
            rtol=1e-4, atol=1e-5, points=1, check_types=check_types, recognise=recognise)
