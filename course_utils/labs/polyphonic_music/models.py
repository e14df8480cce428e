"""The nets of Chung et al. (2014) on piano rolls, their sizes, and one training run.

    net = ChoraleNet("gru", 46)                     # 88 keys in, one GRU layer, 88 logits out
    total_params("gru", 46), matched_sizes()        # the paper's sizes and equal-total sizes
    evals = fit(ChoraleNet.factory("lstm", 36), lr=1e-3, seed=0, budget=Budget(updates=600),
                data=padded_splits(ch), recipe="paper")

The model reads frames 0..t-1 (a zero frame before the first) and outputs 88 logits for frame t:
the frame's NLL is the sum of 88 independent Bernoulli NLLs (Boulanger-Lewandowski et al. 2012's
"RNN" baseline; Chung et al. 2014, section 4.1), reported in nats per frame, averaged over every
frame of every piece of a split.

Recipes. ``"paper"`` (Chung et al. 2014, section 4.2): RMSProp, the gradient rescaled to norm 1
when larger, and weight noise (a Gaussian of standard deviation 0.075 added to every weight for
each update, Graves 2011), the learning rate chosen on validation. ``"adam"``: plain Adam (Kingma
& Ba 2015), no clipping, no noise. Both: minibatches of :data:`BATCH` whole pieces, early
stopping on validation (the protocol's best checkpoint).
"""

from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np

from ...lib.counts import matched_hidden, param_count
from ...lib.measure import onednn, time_interleaved
from .data import N_KEYS

PAPER_SIZES = {"rnn": 100, "lstm": 36, "gru": 46}  # Chung et al. (2014), Table 1 (music)
CELL_NAMES = {"rnn": "tanh", "lstm": "LSTM", "gru": "GRU"}
RECIPES = ("paper", "adam")
WEIGHT_NOISE = 0.075
BATCH = 16


def total_params(cell: str, hidden: int, keys: int = N_KEYS) -> int:
    """Recurrent layer (PyTorch's two bias vectors) + the (keys x hidden) output layer and bias."""
    return param_count(cell, keys, hidden) + hidden * keys + keys


def matched_sizes(anchor: str = "lstm", anchor_hidden: int = 36) -> dict[str, int]:
    """Hidden sizes with the total parameter count closest to the anchor's (output layer
    included: it grows with the hidden size too, so search the total)."""
    target = total_params(anchor, anchor_hidden)
    out = {}
    for cell in PAPER_SIZES:
        if cell == anchor:
            out[cell] = anchor_hidden
            continue
        out[cell] = min(range(1, 4 * matched_hidden(cell, N_KEYS, target)),
                        key=lambda h: (abs(total_params(cell, h) - target), h))
    return out


def arm_name(cell: str, hidden: int) -> str:
    return f"{CELL_NAMES[cell]} H={hidden}"


def _torch() -> Any:
    import torch

    return torch


class ChoraleNet:  # built lazily so importing this module does not import torch
    """Factory wrapper: ``ChoraleNet.factory(cell, hidden)()`` is a fresh torch module."""

    def __init__(self, cell: str, hidden: int) -> None:
        if cell not in PAPER_SIZES:
            raise ValueError(f"cell must be one of {tuple(PAPER_SIZES)}, got {cell!r}")
        self.cell, self.hidden = cell, int(hidden)

    @classmethod
    def factory(cls, cell: str, hidden: int) -> ChoraleNet:
        return cls(cell, hidden)

    def __call__(self) -> Any:
        return make_module(self.cell, self.hidden)

    def __repr__(self) -> str:
        return f"ChoraleNet({self.cell!r}, {self.hidden})"


def make_module(cell: str, hidden: int) -> Any:
    torch = _torch()
    rnn_cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = rnn_cls(N_KEYS, hidden)
            self.head = torch.nn.Linear(hidden, N_KEYS)

        def forward(self, x: Any) -> Any:  # x (T, B, 88) -> logits (T, B, 88) for frames 0..T-1
            prev = torch.cat([torch.zeros_like(x[:1]), x[:-1]])  # (T, B, 88): frames shifted by 1
            h, _ = self.rnn(prev)  # (T, B, H)
            return self.head(h)  # (T, B, 88)

    return Net()


# --------------------------------------------------------------------------- data on tensors
def pad(rolls: Sequence[np.ndarray]) -> tuple[Any, Any]:
    """(T_max, B, 88) float32 rolls (zeros after a piece ends) and a (T_max, B) bool mask."""
    torch = _torch()
    T = max(len(r) for r in rolls)
    x = np.zeros((T, len(rolls), N_KEYS), dtype=np.float32)
    m = np.zeros((T, len(rolls)), dtype=bool)
    for b, r in enumerate(rolls):
        x[: len(r), b] = r
        m[: len(r), b] = True
    return torch.from_numpy(x), torch.from_numpy(m)


def eval_batches(rolls: Sequence[np.ndarray], size: int = 32) -> list[tuple[Any, Any]]:
    """Pieces sorted by length in chunks of ``size`` (little padding), padded."""
    order = sorted(range(len(rolls)), key=lambda i: len(rolls[i]))
    return [pad([rolls[i] for i in order[k:k + size]]) for k in range(0, len(order), size)]


def padded_splits(ch: Any) -> dict[str, Any]:
    """What :func:`fit` reads: the training rolls and the padded evaluation batches."""
    return {"train_rolls": ch.split("train"),
            **{s: eval_batches(ch.split(s)) for s in ("train", "valid", "test")}}


def masked_nll(logits: Any, x: Any, mask: Any) -> tuple[Any, int]:
    """(sum over real frames of the 88-key Bernoulli NLL, number of real frames)."""
    torch = _torch()
    per_key = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none")
    per_frame = per_key.sum(-1)  # (T, B)
    return (per_frame * mask).sum(), int(mask.sum())


def evaluate(net: Any, batches: Sequence[tuple[Any, Any]]) -> float:
    """Mean NLL per frame (nats) over every real frame of the batches."""
    torch = _torch()
    total, frames = 0.0, 0
    was = net.training
    net.eval()
    with torch.no_grad():
        for x, m in batches:
            s, n = masked_nll(net(x), x, m)
            total += float(s)
            frames += n
    net.train(was)
    return total / frames


# --------------------------------------------------------------------------- one run
def fit(factory: Any, lr: float, seed: int, budget: Any, data: dict[str, Any],
        recipe: str = "paper", eval_every: int = 50, mkldnn: bool = True,
        batch: int = BATCH, progress: bool = False, keep: list | None = None
        ) -> list[dict[str, Any]]:
    """Train a fresh ``factory()`` for ``budget.updates`` updates; evaluate train / valid / test
    NLL every ``eval_every`` updates (and at update 0). ``seconds`` counts training updates only
    (not evaluations). ``mkldnn=False`` turns oneDNN off for the run (``torch.backends.mkldnn``).
    ``keep``: a list that receives the trained net (its final weights)."""
    torch = _torch()
    from tqdm.auto import tqdm

    if recipe not in RECIPES:
        raise ValueError(f"recipe must be one of {RECIPES}, got {recipe!r}")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = factory()
    params = list(net.parameters())
    opt = (torch.optim.RMSprop(params, lr=lr) if recipe == "paper"
           else torch.optim.Adam(params, lr=lr))
    train_rolls = data["train_rolls"]
    updates = int(budget.updates)
    evals: list[dict[str, Any]] = []
    seconds = 0.0

    def record(u: int) -> None:
        evals.append({"update": u, "seconds": round(seconds, 4),
                      **{s: evaluate(net, data[s]) for s in ("train", "valid", "test")}})

    order: list[int] = []
    name = (arm_name(factory.cell, factory.hidden) if isinstance(factory, ChoraleNet)
            else repr(factory))
    with onednn(mkldnn):
        record(0)
        for u in tqdm(range(1, updates + 1), desc=f"{name} ({recipe})", disable=not progress,
                      leave=False):
            if len(order) < batch:
                order += list(rng.permutation(len(train_rolls)))
            idx, order = order[:batch], order[batch:]
            x, m = pad([train_rolls[i] for i in idx])
            start = time.perf_counter()
            if recipe == "paper":
                with torch.no_grad():
                    noise = [WEIGHT_NOISE * torch.randn_like(p) for p in params]
                    for p, n in zip(params, noise):
                        p.add_(n)
            total, frames = masked_nll(net(x), x, m)
            loss = total / frames  # mean NLL per real frame of the batch
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if recipe == "paper":
                with torch.no_grad():
                    for p, n in zip(params, noise):
                        p.sub_(n)
                torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            seconds += time.perf_counter() - start
            if not torch.isfinite(loss):
                record(u)
                break
            if u % eval_every == 0 or u == updates:
                record(u)
    if keep is not None:
        keep.append(net)
    return evals


def predict_numpy(net: Any, rolls: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(logits (T, B, 88) float64, roll (T, B, 88) float64, mask (T, B) bool) for ``rolls``
    padded into one batch: the inputs of the notebook's ``frame_nll``."""
    torch = _torch()
    x, m = pad(rolls)
    was = net.training
    net.eval()
    with torch.no_grad():
        logits = net(x)
    net.train(was)
    return logits.double().numpy(), x.double().numpy(), m.numpy()


def update_speed(rolls: Sequence[np.ndarray], arms: Sequence[tuple[str, int]] | None = None,
                 batch: int = BATCH, repeats: int = 5) -> list[dict[str, Any]]:
    """Milliseconds per training update (forward, backward, Adam step on ``batch`` pieces) of
    each (cell, hidden), oneDNN on and off, timed interleaved (one of each per round, so a burst
    of load hits all alike; :func:`course_utils.lib.measure.time_interleaved`). One row per arm:
    ``{"arm", "on_ms", "off_ms"}`` (the fastest round)."""
    torch = _torch()
    arms = list(arms or [(c, PAPER_SIZES[c]) for c in ("rnn", "lstm", "gru")])
    x, m = pad(list(rolls[:batch]))
    calls = {}
    for cell, hidden in arms:
        torch.manual_seed(0)
        net = make_module(cell, hidden)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        for flag in (True, False):
            def step(net: Any = net, opt: Any = opt, flag: bool = flag) -> None:
                with onednn(flag):
                    total, frames = masked_nll(net(x), x, m)
                    opt.zero_grad(set_to_none=True)
                    (total / frames).backward()
                    opt.step()
            calls[(arm_name(cell, hidden), flag)] = step
    best = time_interleaved({f"{a}|{f}": fn for (a, f), fn in calls.items()}, warmup=1,
                            repeats=repeats)
    return [{"arm": arm_name(c, h), "on_ms": best[f"{arm_name(c, h)}|True"].min_ms,
             "off_ms": best[f"{arm_name(c, h)}|False"].min_ms} for c, h in arms]
