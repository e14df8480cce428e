"""``next_char_probs(logits, temperature=1.0, top_k=None)``: the distribution to sample from.

For logits ``z`` of shape (V,) or (B, V)::

    p = softmax(z / temperature)                  over the last axis (the characters)
    top_k: keep the k largest entries of p, set the others to 0, divide by their sum

T < 1 sharpens the distribution (T -> 0: always the most likely character), T > 1 flattens it
(T -> inf: uniform). Top-k sampling (Fan, Lewis & Dauphin 2018, "Hierarchical neural story
generation") cuts the long tail of unlikely characters. Karpathy (2015) samples char-rnn at
several temperatures, as the notebook does.

Reference: torch.softmax in float64 after masking all but the top k logits with -inf (masking
logits and renormalising probabilities give the same answer). The cases have no ties.
"""

from __future__ import annotations

import numpy as np

from ...properties import row_sums_text
from ...recurrent import rng_for
from ...spec import Case, Mistake, Spec

ARGS = ("logits", "temperature", "top_k")
OVERFLOW_LABEL = ("B=4, V=5, logits of about ±1000, T=0.6 (exp overflows unless the maximum is "
                  "subtracted first)")


def make_cases(seed: int) -> list[Case]:
    """(V,) and (B, V) logits; temperatures below, at and above 1; top-k of 3, 2 and 1."""
    specs = [((9,), 1.0, None, "V=9, T=1"), ((3, 7), 0.5, None, "B=3, V=7, T=0.5"),
             ((2, 8), 1.5, 3, "B=2, V=8, T=1.5, top_k=3"), ((6,), 0.8, 2, "V=6, T=0.8, top_k=2"),
             ((1, 10), 2.0, 1, "B=1, V=10, T=2, top_k=1")]
    cases = []
    for i, (shape, temperature, top_k, label) in enumerate(specs):
        logits = rng_for(seed, 400 + i).normal(0.0, 2.0, shape)
        kwargs = {"temperature": temperature} if top_k is None else \
            {"temperature": temperature, "top_k": top_k}
        cases.append(Case(label, (logits,), kwargs, dims={"ndim": len(shape)}))
    big = rng_for(seed, 410).normal(0.0, 1.0, (4, 5)) * 600.0
    big[0] = 1000.0 + np.arange(5)
    cases.append(Case(OVERFLOW_LABEL, (big,), {"temperature": 0.6, "top_k": 2}, dims={"ndim": 2}))
    return cases


def ref_next_char_probs(logits, temperature: float = 1.0, top_k: int | None = None) -> np.ndarray:
    """softmax(logits / temperature) over the last axis, all but the top k masked (float64)."""
    import torch

    z = torch.as_tensor(np.asarray(logits, dtype=np.float64)) / temperature
    if top_k is not None and top_k < z.shape[-1]:
        kth = torch.topk(z, top_k, dim=-1).values[..., -1:]          # the k-th largest
        z = z.masked_fill(z < kth, float("-inf"))
    return torch.softmax(z, dim=-1).numpy()


# --------------------------------------------------------------------------- mistakes
def _softmax(z: np.ndarray, stable: str = "row") -> np.ndarray:
    m = {"row": z.max(axis=-1, keepdims=True), "global": z.max(), "none": 0.0}[stable]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        e = np.exp(z - m)
        return e / e.sum(axis=-1, keepdims=True)


def _keep_top(p: np.ndarray, top_k: int | None, renorm: bool = True,
              smallest: bool = False) -> np.ndarray:
    if top_k is None or top_k >= p.shape[-1]:
        return p
    order = np.argsort(p, axis=-1)
    drop = order[..., top_k:] if smallest else order[..., :-top_k]
    q = p.copy()
    np.put_along_axis(q, drop, 0.0, axis=-1)
    return q / q.sum(axis=-1, keepdims=True) if renorm else q


def _variant(scale: str = "divide", renorm: bool = True, smallest: bool = False,
             stable: str = "row"):
    def fn(logits, temperature=1.0, top_k=None):
        z = np.asarray(logits, dtype=np.float64)
        if scale == "divide":
            p = _softmax(z / temperature, stable)
        elif scale == "multiply":
            p = _softmax(z * temperature)
        elif scale == "ignore":
            p = _softmax(z)
        elif scale == "power_after":
            p = _softmax(z) ** (1.0 / temperature)
        else:  # "divide_after"
            p = _softmax(z) / temperature
        return _keep_top(p, top_k, renorm, smallest)
    return fn


MISTAKES = [
    Mistake("multiplying by the temperature", "divide the logits by T: T < 1 must sharpen the "
            "distribution and T > 1 flatten it", _variant("multiply")),
    Mistake("top-k without renormalising", "after zeroing all but the k largest probabilities, "
            "divide by their sum so that they add up to 1", _variant(renorm=False)),
    Mistake("the temperature applied after the softmax without renormalising", "scale the "
            "LOGITS: softmax(logits / T); p ** (1 / T) or p / T no longer sums to 1",
            _variant("power_after")),
    Mistake("the probabilities divided by the temperature", "scale the LOGITS: softmax(logits / "
            "T); p / T no longer sums to 1", _variant("divide_after")),
    Mistake("the temperature ignored", "divide the logits by `temperature` before the softmax",
            _variant("ignore")),
    Mistake("top-k keeping the k SMALLEST probabilities", "np.argsort sorts in increasing order: "
            "the k largest are the LAST k indices", _variant(smallest=True)),
    Mistake("no max-subtraction (overflow)", "np.exp of a logit / T above ~709 is inf and inf / "
            "inf is NaN: subtract each row's maximum before exp", _variant(stable="none")),
    Mistake("the maximum of the whole batch subtracted instead of each row's", "a row far below "
            "the batch's largest logit underflows to exp = 0 everywhere and 0 / 0 is NaN: "
            "m = z.max(axis=-1, keepdims=True), one maximum per row", _variant(stable="global")),
]


def recognise(got: dict, exp: dict, logits, temperature=1.0, top_k=None):
    """Rows that do not sum to 1 (normalised along the wrong axis), and the number of entries
    kept per row against top_k — both read off the learner's probabilities."""
    p = got["probs"]
    if p.shape != exp["probs"].shape:
        return None
    if top_k is not None and p.ndim > 1 and not np.all(np.isfinite(p)):
        dead = np.isnan(p).all(axis=-1).reshape(-1)
        live = p.reshape(-1, p.shape[-1])[~dead]
        full = _softmax(np.asarray(logits, dtype=np.float64) / temperature).reshape(-1)
        chosen = np.zeros(full.size, dtype=bool)
        chosen[np.argsort(full)[-top_k:]] = True                   # the k largest of the batch
        chosen = chosen.reshape(-1, p.shape[-1])
        if dead.any() and np.all(np.isfinite(live)) and np.array_equal(live > 0, chosen[~dead]) \
                and not chosen[dead].any():
            rows = ", ".join(str(int(i)) for i in np.nonzero(dead)[0])
            return ("top-k over the whole batch", f"the other rows keep {top_k} entries in all "
                    f"and row(s) {rows} none (so 0 / 0 = NaN there after renormalising), "
                    f"top_k={top_k}: pick the k largest in EACH row (sort or argpartition along "
                    "axis=-1), not in the flattened array")
    if not np.all(np.isfinite(p)):
        return None
    text = row_sums_text(p)
    if text:
        return "normalised along the wrong axis", text
    if top_k is None or top_k >= p.shape[-1]:
        return None
    kept = (p > 0).sum(axis=-1).reshape(-1)                       # per row
    V = p.shape[-1]
    if (kept == top_k).all():
        return None
    if p.ndim > 1 and (kept != kept[0]).any() and int(kept.sum()) == top_k:
        return ("top-k over the whole batch", f"{top_k} entries are kept in the whole batch "
                f"(per row: {', '.join(map(str, kept))}), top_k={top_k}: pick the k largest in "
                "EACH row (sort or argpartition along axis=-1), not in the flattened array")
    if (kept == kept[0]).all():
        c = int(kept[0])
        if c == V:
            return ("top_k ignored", f"every row keeps all {V} entries although top_k={top_k}: "
                    "set all but the k largest probabilities of each row to 0, then renormalise")
        return ("top-k keeping the wrong number of entries", f"each row keeps {c} non-zero "
                f"entries, top_k={top_k}: keep exactly the k largest (an off-by-one in the "
                "slice or in the comparison with the k-th largest?)")
    return None


SPEC = Spec(id="next_char_probs", title="sampling distribution with temperature and top-k",
            notebook="07_char_language_model", arg_names=ARGS, output="probs",
            make_cases=make_cases, reference=ref_next_char_probs, mistakes=MISTAKES,
            rtol=1e-4, atol=1e-5, points=2, recognise=recognise)
