"""Training and evaluation for notebook 10: teacher forcing, exact-match accuracy of greedy
decoding, exposure bias, a beam over the model's own step function, and the protocol's ``fit``.

    from course_utils.labs.attention import dates as D, models as M, train as TR
    data = TR.Data.make(seed=0)                    # encoded splits (tensors)
    evals = TR.fit_run(factory, lr=3e-3, seed=0, updates=600, data=data)

Every run: Adam, batch :data:`BATCH`, cross-entropy over the eleven output tokens (ten characters
and the end token) with **teacher forcing** (the decoder reads the true previous character), the
gradient norm clipped at 1. An evaluation decodes greedily (the model reads its *own* previous
prediction) and scores **exact match**: the whole ISO string right.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch
from torch import nn

from . import dates as D
from .models import OUT_LEN

BATCH = 64
CLIP = 1.0


# --------------------------------------------------------------------------- encoding
def encode_sources(texts: Sequence[str], vocab: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, S) int64 right-padded with PAD, and the lengths (B,)."""
    index = {c: i for i, c in enumerate(vocab)}
    S = max(len(t) for t in texts)
    ids = torch.full((len(texts), S), D.PAD, dtype=torch.long)
    for b, t in enumerate(texts):
        ids[b, : len(t)] = torch.tensor([index[c] for c in t])
    return ids, torch.tensor([len(t) for t in texts])


def encode_targets(texts: Sequence[str], vocab: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Decoder inputs (B, 11) = BOS + text, and targets (B, 11) = text + EOS."""
    index = {c: i for i, c in enumerate(vocab)}
    tgt = torch.tensor([[index[c] for c in t] + [D.EOS] for t in texts])
    dec_in = torch.cat([torch.full((len(texts), 1), D.BOS), tgt[:, :-1]], 1)
    return dec_in, tgt


def decode_targets(tokens: torch.Tensor, vocab: Sequence[str]) -> list[str]:
    """Token rows -> strings, cut at the first end token."""
    out = []
    for row in tokens.tolist():
        chars = []
        for t in row:
            if t == D.EOS:
                break
            chars.append(vocab[t] if t >= len(D.SPECIALS) else "?")
        out.append("".join(chars))
    return out


@dataclass
class Split:
    texts: list[tuple[str, str]]
    src: torch.Tensor
    src_len: torch.Tensor
    dec_in: torch.Tensor
    tgt: torch.Tensor


@dataclass
class Data:
    """The encoded splits and the vocabularies (see :func:`.dates.make_splits`)."""

    splits: dict[str, Split]
    src_vocab: list[str]
    tgt_vocab: list[str]

    @classmethod
    def make(cls, seed: int = 0, **sizes: int) -> Data:
        raw = D.make_splits(seed, **sizes)
        sv, tv = D.source_vocab([p for v in raw.values() for p in v]), D.target_vocab()
        splits = {}
        for name, pairs in raw.items():
            src, n = encode_sources([s for s, _ in pairs], sv)
            dec_in, tgt = encode_targets([t for _, t in pairs], tv)
            splits[name] = Split(pairs, src, n, dec_in, tgt)
        return cls(splits, sv, tv)

    @property
    def sizes(self) -> tuple[int, int]:
        return len(self.src_vocab), len(self.tgt_vocab)


# --------------------------------------------------------------------------- evaluation
@torch.no_grad()
def exact_match(model: nn.Module, split: Split, chunk: int = 1000) -> float:
    """Fraction of inputs whose greedy output is exactly the target (all eleven tokens)."""
    model.eval()
    right = 0
    for i in range(0, len(split.texts), chunk):
        toks, _ = model.greedy(split.src[i:i + chunk], split.src_len[i:i + chunk])
        right += int((toks == split.tgt[i:i + chunk]).all(1).sum())
    model.train()
    return right / len(split.texts)


@torch.no_grad()
def exposure(model: nn.Module, split: Split) -> dict[str, float]:
    """Exposure bias: token accuracy and cross-entropy (nats per token) of the true next token
    when the decoder reads the **true** prefix (teacher forcing, as in training) vs its **own**
    greedy prefix (as at test time), and the greedy exact match."""
    model.eval()
    tf_logits = model(split.src, split.src_len, split.dec_in)  # (B, T, V)
    own, _ = model.greedy(split.src, split.src_len)
    own_in = torch.cat([torch.full_like(own[:, :1], D.BOS), own[:, :-1]], 1)
    free_logits = model(split.src, split.src_len, own_in)
    model.train()

    def ce(lg: torch.Tensor) -> float:
        return float(nn.functional.cross_entropy(lg.flatten(0, 1), split.tgt.flatten()))

    return {"teacher-forced token accuracy": float((tf_logits.argmax(-1) == split.tgt).float().mean()),
            "free-running token accuracy": float((own == split.tgt).float().mean()),
            "teacher-forced cross-entropy": ce(tf_logits),
            "free-running cross-entropy": ce(free_logits),
            "exact match": float((own == split.tgt).all(1).float().mean())}


def step_fn(model: nn.Module, source: str, vocab: Sequence[str]) -> Callable[[tuple], Any]:
    """A step function for beam search over one input: prefix (tuple of target ids starting with
    BOS) -> numpy (V,) log-probabilities of the next token (the decoder re-run on the prefix)."""
    src, n = encode_sources([source], vocab)

    @torch.no_grad()
    def step(prefix: tuple) -> Any:
        model.eval()
        logits = model(src, n, torch.tensor([list(prefix)]))[0, -1]
        return torch.log_softmax(logits.double(), -1).numpy()
    return step


def beam_decode(step: Callable[[tuple], Any], beam_width: int, max_len: int = OUT_LEN
                ) -> tuple[list[int], float]:
    """The lab's own beam search (summed log-probabilities, no length normalisation; a
    hypothesis ends at EOS or after ``max_len`` tokens): (tokens without BOS, log-probability)."""
    beams: list[tuple[float, tuple]] = [(0.0, (D.BOS,))]
    done: list[tuple[float, tuple]] = []
    for _ in range(max_len):
        cand = []
        for lp, pre in beams:
            logp = step(pre)
            for tok in range(len(logp)):
                cand.append((lp + float(logp[tok]), pre + (tok,)))
        cand.sort(key=lambda c: (-c[0], c[1]))
        beams = []
        for lp, seq in cand[:beam_width]:
            (done if seq[-1] == D.EOS or len(seq) - 1 == max_len else beams).append((lp, seq))
        if not beams:
            break
    lp, seq = min(done, key=lambda c: (-c[0], c[1]))
    return list(seq[1:]), lp


# --------------------------------------------------------------------------- the protocol's fit
def _update(model: nn.Module, opt: torch.optim.Optimizer, tr: Split, gen: torch.Generator,
            batch: int) -> float:
    """One teacher-forced Adam update on a random batch; returns the loss."""
    idx = torch.randint(len(tr.texts), (batch,), generator=gen)
    n = tr.src_len[idx]
    logits = model(tr.src[idx, : int(n.max())], n, tr.dec_in[idx])  # (B, T, V)
    loss = nn.functional.cross_entropy(logits.flatten(0, 1), tr.tgt[idx].flatten())
    opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), CLIP)
    opt.step()
    return loss.item()


def fit_run(make: Callable[[], nn.Module], lr: float, seed: int, updates: int, data: Data,
            eval_every: int = 100, batch: int = BATCH, progress: bool = False,
            desc: str = "") -> list[dict[str, Any]]:
    """Train a fresh ``make()`` for ``updates`` Adam steps at ``lr`` (seed fixes the weights and
    the batches); every ``eval_every`` updates record exact match on valid / test / longer and the
    training seconds so far (training steps only). Returns the protocol's evaluations."""
    from tqdm.auto import tqdm

    torch.manual_seed(seed)
    model = make()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    tr = data.splits["train"]
    gen = torch.Generator().manual_seed(10_000 + seed)
    evals: list[dict[str, Any]] = []
    seconds, loss_sum, loss_n = 0.0, 0.0, 0
    bar = tqdm(total=updates, desc=desc or "train", disable=not progress, leave=False)
    for u in range(1, updates + 1):
        t0 = time.perf_counter()
        loss = _update(model, opt, tr, gen, batch)
        seconds += time.perf_counter() - t0
        loss_sum, loss_n = loss_sum + loss, loss_n + 1
        bar.update()
        if u % eval_every == 0 or u == updates:
            ev = {"update": u, "seconds": round(seconds, 3),
                  "train_loss": loss_sum / loss_n if math.isfinite(loss_sum) else float("nan")}
            for name, key in (("valid", "valid"), ("test", "test"), ("longer", "longer")):
                ev[key] = exact_match(model, data.splits[name])
            evals.append(ev)
            loss_sum, loss_n = 0.0, 0
    bar.close()
    return evals


def trained(make: Callable[[], nn.Module], lr: float, seed: int, updates: int, data: Data,
            progress: bool = True, desc: str = "") -> tuple[nn.Module, list[dict[str, Any]]]:
    """Like :func:`fit_run` but keeps the model (the checkpoint with the best validation exact
    match) for the notebook's live run; evaluations every ``updates // 4`` updates."""
    import copy

    from tqdm.auto import tqdm

    torch.manual_seed(seed)
    model = make()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    tr = data.splits["train"]
    gen = torch.Generator().manual_seed(10_000 + seed)
    evals, best, best_valid, seconds = [], None, -1.0, 0.0
    every = max(1, updates // 4)
    for u in tqdm(range(1, updates + 1), desc=desc or "train", leave=False):
        t0 = time.perf_counter()
        _update(model, opt, tr, gen, BATCH)
        seconds += time.perf_counter() - t0
        if u % every == 0:
            ev = {"update": u, "seconds": seconds, "valid": exact_match(model, data.splits["valid"])}
            evals.append(ev)
            if ev["valid"] > best_valid:
                best_valid, best = ev["valid"], copy.deepcopy(model.state_dict())
    if best is not None:
        model.load_state_dict(best)
    model.eval()
    return model, evals
