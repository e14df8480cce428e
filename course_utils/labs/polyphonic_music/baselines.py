"""The baselines a skeptic tries before praising a recurrent net on piano rolls.

* **independent keys**: each key on with its training frequency, whatever came before;
* **per-key Markov chain**: each key's P(on | was it on in the previous frame), from training
  counts (the first frame follows an all-off frame, as the nets see it).

Both with add-one (Laplace) smoothing, scored as the nets are: the mean over test frames of the
sum of 88 Bernoulli NLLs, in nats. Boulanger-Lewandowski et al. (2012) report such frame-level
baselines beside their RNN-RBM.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def _bernoulli_nll(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Per-frame sum over keys of -log P(x | p); x, p (N, 88) -> (N,)."""
    return -(x * np.log(p) + (1 - x) * np.log1p(-p)).sum(-1)


def independent_keys(train: Sequence[np.ndarray]) -> np.ndarray:
    """(88,) P(key on), add-one smoothed."""
    x = np.concatenate(train)
    return (x.sum(0) + 1.0) / (len(x) + 2.0)


def markov_keys(train: Sequence[np.ndarray]) -> np.ndarray:
    """(2, 88): row a is P(key on at t | key was a at t-1), add-one smoothed."""
    on = np.ones((2, train[0].shape[1]))
    n = np.full((2, train[0].shape[1]), 2.0)
    for r in train:
        prev = np.vstack([np.zeros((1, r.shape[1])), r[:-1]])  # (T, 88)
        for a in (0, 1):
            sel = prev == a
            on[a] += (r * sel).sum(0)
            n[a] += sel.sum(0)
    return on / n


def nll_independent(p: np.ndarray, rolls: Sequence[np.ndarray]) -> float:
    x = np.concatenate(rolls)
    return float(_bernoulli_nll(x, np.broadcast_to(p, x.shape)).mean())


def nll_markov(P: np.ndarray, rolls: Sequence[np.ndarray]) -> float:
    per_frame = []
    for r in rolls:
        prev = np.vstack([np.zeros((1, r.shape[1])), r[:-1]]).astype(int)  # (T, 88)
        p = np.where(prev == 1, P[1], P[0])  # (T, 88)
        per_frame.append(_bernoulli_nll(r, p))
    return float(np.concatenate(per_frame).mean())


def baselines(ch: Any) -> dict[str, dict[str, float]]:
    """``{"independent keys": {"train", "valid", "test"}, "per-key Markov chain": {...}}``."""
    train = ch.split("train")
    p, P = independent_keys(train), markov_keys(train)
    return {"independent keys": {s: nll_independent(p, ch.split(s))
                                 for s in ("train", "valid", "test")},
            "per-key Markov chain": {s: nll_markov(P, ch.split(s))
                                     for s in ("train", "valid", "test")}}
