"""The data-size question under the trial protocol: is the LSTM ahead of the GRU on more text?

The pydoc_data corpus (:mod:`course_utils.lib.text`) is split by *random* topics (seed
``SPLIT_SEED``) into validation (15 % of the characters), test (15 %) and a training pool; each
run trains on a random subset of the pool's topics holding ``fraction`` of its characters (drawn
with the run's seed: a different sample per seed). A small character model (embedding 16, one
recurrent layer, a linear head) learns next-character prediction on random windows of 64
characters, 32 per update, Adam + clipping; every ``eval_every`` updates it records bits per
character on fixed windows of the validation and the test text, and stops early when the
validation figure has not improved for ``patience`` evaluations (the budget is then what it
used). The run records its training characters, so both budgets can be read from the same runs:
**equal updates** (every fraction the same cap) and **equal epochs** (the cap scaled by the
training text's size: :func:`epoch_budget`).

References: Jozefowicz, Zaremba & Sutskever (2015) found the LSTM ahead on language modelling;
Chung et al. (2014) compared at equal parameters on music and speech; Karpathy (2015), char-rnn.
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable

from ...lib.protocol import Budget, Eval

SPLIT_SEED = 0
SHARES = (0.15, 0.15)  # validation, test (characters); the rest is the training pool
EMBED, SEQ, BATCH = 16, 64, 32
EVAL_CHARS = 12_800  # characters of validation / test read at each evaluation (200 windows)


def corpus_splits() -> dict[str, Any]:
    """``{"valid", "test", "pool"}`` topic names, the vocabulary ``chars`` and the ``topics``."""
    from ...lib.text import load_topics, random_topic_subsets

    topics = load_topics()
    valid, test = random_topic_subsets(topics, SHARES, SPLIT_SEED)
    pool = sorted(set(topics) - set(valid) - set(test))
    chars = "".join(sorted(set("".join(topics.values()))))
    return {"valid": valid, "test": test, "pool": pool, "chars": chars, "topics": topics}


def char_net(vocab: int) -> Callable[[str, int], Callable[[], Any]]:
    """cell, hidden -> factory of an embedding + recurrent layer + head character model."""
    def factory(cell: str, hidden: int) -> Callable[[], Any]:
        def make() -> Any:
            from torch import nn

            class CharNet(nn.Module):
                def __init__(self) -> None:
                    super().__init__()
                    self.embed = nn.Embedding(vocab, EMBED)
                    self.rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell](EMBED, hidden)
                    self.head = nn.Linear(hidden, vocab)

                def forward(self, ids: Any) -> Any:  # ids (T, B)
                    out, _ = self.rnn(self.embed(ids))  # (T, B, H)
                    return self.head(out)  # (T, B, V)
            return CharNet()
        make.cell, make.hidden = cell, hidden  # type: ignore[attr-defined]
        return make
    return factory


def epoch_updates(train_chars: int) -> float:
    """Updates per pass over ``train_chars`` characters (32 windows of 64 per update)."""
    return train_chars / (BATCH * SEQ)


def epoch_budget(epochs: float, train_chars: int) -> Budget:
    """The equal-epochs budget of a run that trained on ``train_chars`` characters."""
    return Budget(updates=max(1, int(math.ceil(epochs * epoch_updates(train_chars)))))


def charlm_fit(splits: dict[str, Any], fraction: float, eval_every: int = 50,
               patience: int = 6) -> Callable[..., list[Eval]]:
    """``fit(make, lr, seed, budget)`` for one training fraction; each evaluation also carries
    the run's ``train_chars``."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    from ...lib.measure import torch_threads
    from ...lib.text import random_topic_subsets

    topics, chars = splits["topics"], splits["chars"]
    index = {c: i for i, c in enumerate(chars)}

    def encode(names: list[str]) -> Any:
        text = "".join(topics[n] + "\n\n" for n in names)
        return torch.tensor([index[c] for c in text], dtype=torch.long)

    def windows(ids: Any) -> Any:
        n = min(len(ids) - 1, EVAL_CHARS) // SEQ * SEQ
        return ids[:n].view(-1, SEQ).T, ids[1:n + 1].view(-1, SEQ).T  # (SEQ, W)

    held = {k: windows(encode(splits[k])) for k in ("valid", "test")}
    pool = {n: topics[n] for n in splits["pool"]}

    def bits(model: Any, xy: tuple[Any, Any]) -> float:
        logits = model(xy[0])
        return float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), xy[1].reshape(-1))) \
            / math.log(2)

    def fit(make: Callable[[], Any], lr: float, seed: int, budget: Budget) -> list[Eval]:
        names = (sorted(pool) if fraction >= 1.0
                 else random_topic_subsets(pool, (fraction,), 1000 + seed)[0])
        ids = encode(names)
        with torch_threads(1):
            torch.manual_seed(seed)
            model = make()
            gen = torch.Generator().manual_seed(10_000 + seed)
            opt = torch.optim.Adam(model.parameters(), lr=lr)
            evals: list[Eval] = []
            spent, best, since = 0.0, math.inf, 0
            updates = budget.updates or 10**9
            for step in range(1, updates + 1):
                model.train()
                t0 = time.perf_counter()
                start = torch.randint(0, len(ids) - SEQ - 1, (BATCH,), generator=gen)
                pos = start[None, :] + torch.arange(SEQ)[:, None]  # (SEQ, B)
                logits = model(ids[pos])
                loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                       ids[pos + 1].reshape(-1))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                spent += time.perf_counter() - t0
                if step % eval_every == 0 or step == updates:
                    model.eval()
                    with torch.no_grad():
                        v, t = bits(model, held["valid"]), bits(model, held["test"])
                    evals.append({"update": step, "seconds": round(spent, 3),
                                  "valid": round(v, 4), "test": round(t, 4),
                                  "train_chars": int(len(ids)), "topics": len(names)})
                    best, since = (v, 0) if v < best - 1e-4 else (best, since + 1)
                    if since >= patience or not np.isfinite(v):
                        break
                if budget.seconds is not None and spent >= budget.seconds:
                    break
        return evals
    return fit
