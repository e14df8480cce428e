"""Memory that copies: which characters of notebook 07's validation text a compressor, an LSTM and
a small Transformer predict well, split by whether they repeat earlier text.

    from course_utils.labs.attention.copying import repeat_classes, lzma_class_bits, class_bits
    labels = repeat_classes(corpus.train, corpus.valid, min_len=20, window=256)
    lz = lzma_class_bits(corpus.train, corpus.valid, labels)   # {"new text": bits/char, ...}

A validation character is *repeated* when it lies inside a passage of at least ``min_len``
characters that occurred before (in the training text or earlier in the validation text); it is
a *near* repeat when the latest earlier occurrence starts at most ``window`` characters back
(a Transformer with that context can see its source), a *far* repeat otherwise, and *new text*
when no such passage covers it.

lzma gives no per-character cost, so :func:`lzma_class_bits` compresses prefixes: the cost of a
run of same-class characters is 8 x (compressed size of train + valid up to the run's end minus
that up to its start), in bytes, so each run's cost is known to about a byte at each end
(the range coder's flush); short runs are therefore noisy, class totals much less so.

References: Ziv & Lempel (1977), copying earlier passages; Vaswani et al. (2017), attention;
Khandelwal et al. (2018), "Sharp nearby, fuzzy far away: how neural language models use context".
"""

from __future__ import annotations

import lzma
import math
from typing import Any, Callable, Sequence

import numpy as np

NEW, NEAR, FAR = 0, 1, 2
CLASS_NAMES = ("new text", "repeat within the window", "repeat from further back")
LN2 = math.log(2.0)


def repeat_classes(context: str, text: str, min_len: int = 20, window: int = 256) -> np.ndarray:
    """(len(text),) int8 labels NEW / NEAR / FAR of every character of ``text`` (see module doc);
    ``context`` (the training text) precedes ``text``. A character covered by a near and a far
    repeat counts as near."""
    if min_len < 1 or window < 1:
        raise ValueError(f"min_len and window must be positive, got {min_len}, {window}")
    full, n0 = context + text, len(context)
    latest: dict[str, int] = {}
    near = np.zeros(len(text), bool)
    far = np.zeros(len(text), bool)
    added = 0                                   # grams starting before `added` are in `latest`
    for a in range(n0, len(full) - min_len + 1):
        while added < a:
            latest[full[added: added + min_len]] = added
            added += 1
        p = latest.get(full[a: a + min_len])
        if p is not None:
            (near if a - p <= window else far)[a - n0: a - n0 + min_len] = True
    return np.where(near, NEAR, np.where(far, FAR, NEW)).astype(np.int8)


def runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """Maximal runs of equal labels as (start, end, label), end exclusive."""
    labels = np.asarray(labels)
    if labels.size == 0:
        return []
    cuts = np.r_[0, np.flatnonzero(np.diff(labels)) + 1, labels.size]
    return [(int(s), int(e), int(labels[s])) for s, e in zip(cuts[:-1], cuts[1:])]


def lzma_compress(data: bytes) -> bytes:
    """Notebook 07's lzma (preset 9, extreme): the compressor of its baseline table."""
    return lzma.compress(data, preset=9 | lzma.PRESET_EXTREME)


def lzma_class_bits(context: str, text: str, labels: np.ndarray,
                    compress: Callable[[bytes], bytes] = lzma_compress,
                    progress: bool = False) -> dict[str, Any]:
    """Per-class bits/char of lzma given ``context``, by compressing prefixes at the boundaries
    of same-class runs (one compression per run). Returns ``{"total": bits/char, "per_class":
    {name: bits/char or None}, "chars": {name: count}, "runs": number of runs}``."""
    from tqdm.auto import tqdm

    if len(labels) != len(text):
        raise ValueError(f"{len(labels)} labels for {len(text)} characters")
    cb = context.encode("utf-8")
    size = {0: len(compress(cb))}
    bits = np.zeros(3)
    chars = np.zeros(3, np.int64)
    for s, e, lab in tqdm(runs(labels), desc="lzma prefixes", disable=not progress):
        size[e] = len(compress(cb + text[:e].encode("utf-8")))
        bits[lab] += 8 * (size[e] - size[s])
        chars[lab] += e - s
    return {"total": float(bits.sum() / len(text)),
            "per_class": {n: (float(bits[i] / chars[i]) if chars[i] else None)
                          for i, n in enumerate(CLASS_NAMES)},
            "chars": {n: int(chars[i]) for i, n in enumerate(CLASS_NAMES)},
            "runs": len(runs(labels))}


# --------------------------------------------------------------------------- models' costs
def recurrent_char_bits(model: Any, ids: np.ndarray, chunk: int = 1000) -> np.ndarray:
    """Bits of each of ``ids[1:]`` under a 07-style model (``model(x (T, B), state)``), read as
    ONE stream with the state carried from the first character: (len(ids) - 1,) float64."""
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(np.asarray(ids[:-1]))
    y = torch.from_numpy(np.asarray(ids[1:]))
    out, state = [], None
    model.eval()
    with torch.no_grad():
        for t in range(0, len(x), chunk):
            logits, state = model(x[t: t + chunk, None], state)           # (T, 1, V)
            out.append(F.cross_entropy(logits[:, 0], y[t: t + chunk], reduction="none"))
    return torch.cat(out).double().numpy() / LN2


def transformer_char_bits(model: Any, ids: np.ndarray, window: int = 256,
                          batch: int = 32) -> np.ndarray:
    """Bits of each of ``ids[1:]`` under a causal Transformer (``model(x (B, W)) -> (B, W, V)``)
    read in windows of ``window`` characters with stride ``window // 2``: every character is
    scored once, with between ``window // 2`` and ``window - 1`` characters of context (fewer
    only at the very start)."""
    import torch
    import torch.nn.functional as F

    n = len(ids) - 1                                   # targets ids[1:]
    L = min(window, n)
    stride = max(1, L // 2)
    starts = list(range(0, n - L + 1, stride))
    if starts[-1] + L < n:
        starts.append(n - L)
    bits = np.full(n, np.nan)
    ids_t = torch.from_numpy(np.asarray(ids))
    model.eval()
    with torch.no_grad():
        for b in range(0, len(starts), batch):
            group = starts[b: b + batch]
            x = torch.stack([ids_t[s: s + L] for s in group])              # (B, L)
            y = torch.stack([ids_t[s + 1: s + L + 1] for s in group])
            nll = F.cross_entropy(model(x).transpose(1, 2), y, reduction="none")  # (B, L)
            for s, row in zip(group, nll.double().numpy() / LN2):
                lo = 0 if s == 0 else L - stride           # score only the well-informed end
                fresh = np.isnan(bits[s + lo: s + L])
                bits[s + lo: s + L][fresh] = row[lo:][fresh]
    if np.isnan(bits).any():
        raise RuntimeError("some characters were not scored")
    return bits


def class_bits(bits: np.ndarray, labels: np.ndarray) -> dict[str, float | None]:
    """Mean bits/char of each class (labels aligned with ``bits``)."""
    return {n: (float(bits[labels == i].mean()) if (labels == i).any() else None)
            for i, n in enumerate(CLASS_NAMES)}


def gap_interval(a: np.ndarray, b: np.ndarray, labels: np.ndarray, cls: int, block: int = 500,
                 n_resamples: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """Mean of ``a - b`` (bits/char) on class ``cls`` and a block-bootstrap 95 % interval:
    blocks of ``block`` consecutive characters are resampled (neighbouring characters are not
    independent), so the interval is over *text*, not over training seeds."""
    if not (a.shape == b.shape == labels.shape):
        raise ValueError("a, b and labels must be aligned")
    nb = len(a) // block
    if nb < 2:
        raise ValueError(f"need at least two blocks of {block} characters")
    m = (labels[: nb * block] == cls).reshape(nb, block)
    d = (a - b)[: nb * block].reshape(nb, block)
    sums, counts = (d * m).sum(1), m.sum(1)
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, nb, size=(n_resamples, nb))
    c = counts[pick].sum(1)
    est = sums[pick].sum(1) / np.where(c > 0, c, 1)
    lo, hi = np.percentile(est[c > 0], [2.5, 97.5])
    return float(sums.sum() / max(counts.sum(), 1)), float(lo), float(hi)


def copy_rows(res: dict[str, Any]) -> list[list[str]]:
    """Notebook 08's ledger rows [claim, verdict (from the data), regime] from a copy result."""
    pc = {m: res["models"][m]["per_class"] for m in res["models"]}
    lz = res["lzma"]["per_class"]
    near, new = CLASS_NAMES[NEAR], CLASS_NAMES[NEW]
    tf, ls = "transformer", "lstm"
    gap = res["gaps_transformer_minus_lstm"]
    regime = (f"07's text, {res['budget']['updates']:,} updates of "
              f"{res['budget']['chars_per_update']:,} characters each, about "
              f"{res['models'][ls]['params']:,} parameters each, one training seed per model"
              + (f", the Transformer's learning rate the best on validation of "
                 f"{', '.join(res['transformer_lr_grid'])}" if res.get("transformer_lr_grid") else "")
              + "; intervals are block-bootstrap over validation text, not over seeds")

    def sep(g: Sequence[float]) -> str:
        return ("better" if g[2] < 0 else "worse" if g[1] > 0 else "not separated")

    g_near, g_new = gap[near], gap[new]
    holds = g_near[2] < 0 and g_near[0] < g_new[0]
    lead = ("holds in this run: the Transformer gains most where it can copy; " if holds else
            "not shown within this budget: the Transformer does not gain most where it can copy; ")
    rows = [[
        "a fixed-size state forgets what attention can copy",
        (lead + f"on characters inside a repeat within the {res['window']}-character window: "
         f"Transformer {pc[tf][near]:.2f} vs LSTM {pc[ls][near]:.2f} bits/char (gap "
         f"{g_near[0]:+.2f}, 95 % [{g_near[1]:+.2f}, {g_near[2]:+.2f}]: Transformer "
         f"{sep(g_near)}); on new text {pc[tf][new]:.2f} vs {pc[ls][new]:.2f} (gap "
         f"{g_new[0]:+.2f}, [{g_new[1]:+.2f}, {g_new[2]:+.2f}]: {sep(g_new)})"),
        regime]]
    rows.append([
        "lzma copies long repeated passages that the LSTM's state forgets",
        (f"lzma given the training text: {lz[near]:.2f} (near repeats), "
         f"{lz[CLASS_NAMES[FAR]]:.2f} (far repeats), {lz[new]:.2f} (new text) bits/char; LSTM "
         f"{pc[ls][near]:.2f}, {pc[ls][CLASS_NAMES[FAR]]:.2f}, {pc[ls][new]:.2f} (lzma's per-class "
         "cost estimated by compressing prefixes at run boundaries)"),
        "07's text; lzma preset 9 extreme; repeats = passages of >= "
        f"{res['min_len']} characters seen before"])
    tot = {m: res["models"][m]["bits_per_char"] for m in res["models"]}
    closes = tot[tf] <= res["lzma"]["total"]
    rows.append([
        "a small Transformer closes the LSTM's gap to lzma on 07's text",
        (f"{'closes' if closes else 'does not close'} it within the budget: Transformer "
         f"{tot[tf]:.2f}, LSTM {tot[ls]:.2f}, lzma given the training text "
         f"{res['lzma']['total']:.2f} bits/char on the validation text; "
         + res.get("seconds_note",
                   f"training took {res['models'][tf]['training_seconds']:.0f} s (Transformer) "
                   f"and {res['models'][ls]['training_seconds']:.0f} s (LSTM) for the same "
                   "updates, on a shared CPU")
         + " (a per-second budget would favour the faster one)"),
        regime])
    return rows
