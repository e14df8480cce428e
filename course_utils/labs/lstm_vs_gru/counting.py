"""The counting task aⁿbⁿ: can the cell learn to count, and count past what it was trained on?

A language model reads ``a…a b…b`` (n of each) one symbol at a time and predicts the next one
(``a``, ``b`` or the end ``$``). While it reads a's the next symbol is a guess; once the first b
arrives everything is determined: exactly n - 1 more b's, then ``$``. A model that gets every
determined prediction right for n has *counted to n*. Train on n ≤ ``train_n``, then test every
n up to ``test_n``: the **limit** is the largest n such that every string up to it is right.

Weiss, Goldberg & Yahav (2018), "On the practical computational power of finite precision RNNs
for language recognition" (ACL), prove that an LSTM can count with its cell state (a counter
that adds a constant per step) and a GRU cannot (its state is an interpolation, bounded in
(-1, 1)); trained on aⁿbⁿ, their LSTM generalised far past the training lengths, their GRU did
not. Gers & Schmidhuber (2001) first showed LSTMs learning aⁿbⁿ and aⁿbⁿcⁿ.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any, Iterable

SYMBOLS = "ab$"  # output classes; inputs are one-hot a / b
IGNORE = -100  # target of the padding (cross_entropy's ignore_index)


def anbn_batch(ns: Iterable[int]) -> tuple[Any, Any, Any]:
    """Strings aⁿbⁿ for each n in ``ns``, time-major, padded to the longest (2·max n steps).

    Returns ``x`` (L, B, 2) one-hot float32 (zeros on padding), ``y`` (L, B) int64 next-symbol
    targets (0 a, 1 b, 2 $; :data:`IGNORE` on padding) and ``determined`` (L, B) bool, the
    steps whose target follows from the input (from the first b on).
    """
    import torch
    import torch.nn.functional as F

    n = torch.as_tensor(list(ns), dtype=torch.long)[None, :]  # (1, B)
    if n.numel() == 0 or int(n.min()) < 1:
        raise ValueError("every n must be >= 1")
    t = torch.arange(int(2 * n.max()))[:, None]  # (L, 1)
    valid = t < 2 * n  # (L, B)
    x = F.one_hot(torch.where(t < n, 0, 1), 2).float() * valid[..., None]  # (L, B, 2)
    nxt = torch.where(t + 1 < n, 0, torch.where(t + 1 < 2 * n, 1, 2))  # (L, B)
    y = torch.where(valid, nxt, IGNORE)
    return x, y, valid & (t >= n)


def counting_limit(model: Any, test_n: int) -> int:
    """Largest n ≤ ``test_n`` such that ``model`` predicts every determined symbol of every
    aᵐbᵐ with m ≤ n (0: it already fails at n = 1). ``model(x)`` returns (L, B, 3) logits."""
    import torch

    x, y, det = anbn_batch(range(1, test_n + 1))
    with torch.no_grad():
        right = ((model(x).argmax(-1) == y) | ~det).all(0)  # (test_n,)
    wrong = (~right).nonzero()
    return int(wrong[0]) if len(wrong) else test_n


@dataclass
class CountingConfig:
    """One run of the counting task (recorded next to its results)."""

    cell: str = "lstm"
    hidden: int = 10
    seed: int = 0
    steps: int = 3000  # parameter updates (the budget)
    train_n: int = 20  # training strings have n = 1 … train_n, uniformly
    test_n: int = 200
    batch: int = 32
    lr: float = 1e-2  # Adam, annealed (cosine) to lr_final over the run when lr_final is set
    lr_final: float | None = None
    clip: float = 1.0
    eval_every: int = 250


def train_counting(cfg: CountingConfig, progress: bool = False) -> dict[str, Any]:
    """Train one next-symbol model on aⁿbⁿ (one torch thread, Adam, optionally a cosine learning
    rate schedule that ends at ``lr_final`` so the last evaluation is not taken mid-oscillation;
    Loshchilov & Hutter 2017); every ``eval_every`` updates
    record the mean loss since the last record, the limit within the training range and the
    limit up to ``test_n``. Returns ``{"config", "params", "evals", "seconds"}``."""
    import torch
    import torch.nn.functional as F
    from tqdm.auto import tqdm

    from ...lib.measure import torch_threads
    from ...lib.train import count_params, make_model

    with torch_threads(1):
        torch.manual_seed(cfg.seed)
        gen = torch.Generator().manual_seed(10_000 + cfg.seed)
        model = make_model(cfg.cell, 2, cfg.hidden, len(SYMBOLS))
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        sched = (torch.optim.lr_scheduler.CosineAnnealingLR(opt, cfg.steps, cfg.lr_final)
                 if cfg.lr_final is not None else None)
        evals, acc, start = [], 0.0, time.perf_counter()
        for step in tqdm(range(1, cfg.steps + 1), disable=not progress, leave=False,
                         desc=f"{cfg.cell} H={cfg.hidden} seed {cfg.seed}"):
            x, y, _ = anbn_batch(torch.randint(1, cfg.train_n + 1, (cfg.batch,), generator=gen))
            loss = F.cross_entropy(model(x).reshape(-1, len(SYMBOLS)), y.reshape(-1),
                                   ignore_index=IGNORE)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            opt.step()
            if sched is not None:
                sched.step()
            acc += loss.item()
            if step % cfg.eval_every == 0 or step == cfg.steps:
                evals.append({"update": step, "loss": round(acc / (step - (evals[-1]["update"]
                                                                         if evals else 0)), 5),
                              "train_limit": counting_limit(model, cfg.train_n),
                              "limit": counting_limit(model, cfg.test_n)})
                acc = 0.0
    return {"config": asdict(cfg), "params": count_params(model), "evals": evals,
            "seconds": round(time.perf_counter() - start, 2)}


def label(config: dict[str, Any]) -> str:
    """"LSTM H=10" from a run's config."""
    return f"{config['cell'].upper()} H={config['hidden']}"


def summarise_counting(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """label -> per-seed final ``limit``, ``fits`` (counted the whole training range), the
    ``best`` limit seen at any evaluation, ``train_n``, ``steps`` and ``params``."""
    out: dict[str, dict[str, Any]] = {}
    for r in runs:
        c, last = r["config"], r["evals"][-1]
        s = out.setdefault(label(c), {"limit": [], "fits": [], "best": [], "seeds": [],
                                      "train_n": c["train_n"], "test_n": c["test_n"],
                                      "steps": c["steps"], "params": r["params"]})
        s["limit"].append(last["limit"])
        s["fits"].append(last["train_limit"] == c["train_n"])
        s["best"].append(max(e["limit"] for e in r["evals"]))
        s["seeds"].append(c["seed"])
    return out


def plot_limits(ax: Any, runs: list[dict[str, Any]], color: str | None = None) -> None:
    """Median limit over seeds against updates, with the min–max band, for runs of one label;
    a dotted line at the training range."""
    import numpy as np

    updates = [e["update"] for e in runs[0]["evals"]]
    lims = np.array([[e["limit"] for e in r["evals"]] for r in runs])  # (seeds, evals)
    (line,) = ax.plot(updates, np.median(lims, 0), marker="o", ms=3, color=color,
                      label=f"{label(runs[0]['config'])} (n={len(runs)})")
    ax.fill_between(updates, lims.min(0), lims.max(0), color=line.get_color(), alpha=0.2,
                    linewidth=0)
    ax.axhline(runs[0]["config"]["train_n"], color="grey", linestyle=":", linewidth=1)
