"""Notebook 07 (a character-level language model): the model, baselines, the training driver,
sampling, and the tools for looking inside (hidden units against properties of the text).

The learner writes the pieces that matter (``bits_per_char``, ``tbptt_batches``, ``train_tbptt``,
``next_char_probs``); the helpers here take those functions as arguments and never contain
their answers. Model interface (the one ``train_tbptt`` uses)::

    logits, state = model(x, state)    # x (T, B) int64, logits (T, B, V); state None or a tuple

References: Karpathy (2015), "The unreasonable effectiveness of recurrent neural networks"
(char-rnn); Karpathy, Johnson & Fei-Fei (2015), "Visualizing and understanding recurrent
networks" (units that track quotes, brackets and line position); Williams & Peng (1990),
truncated backpropagation through time.
"""

from __future__ import annotations

import html
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

LN2 = math.log(2.0)


def char_model(vocab_size: int, cell: str = "lstm", embed: int = 64, hidden: int = 256,
               dropout: float = 0.0) -> Any:
    """Embedding -> one nn.RNN / nn.LSTM / nn.GRU layer -> linear head, as one nn.Module whose
    state is always a tuple ((h, c) for the LSTM, (h,) otherwise).

    ``dropout`` > 0 drops units of the embedding (the layer's input) and of the layer's output
    (the head's input) in training mode only: the non-recurrent connections, as in Zaremba,
    Sutskever & Vinyals (2014), "Recurrent neural network regularization"; the recurrent
    connection is left alone. It adds no parameters."""
    from torch import nn

    class CharModel(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.cell = cell
            self.embed = nn.Embedding(vocab_size, embed)
            self.rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell](embed, hidden)
            self.head = nn.Linear(hidden, vocab_size)
            self.drop = nn.Dropout(dropout)

        def forward(self, x: Any, state: tuple | None = None) -> tuple[Any, tuple]:
            if state is not None and cell != "lstm":
                state = state[0]
            out, new = self.rnn(self.drop(self.embed(x)), state)        # (T, B, H)
            return self.head(self.drop(out)), (new if cell == "lstm" else (new,))   # (T, B, V)

    return CharModel()


def count_params(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())


# --------------------------------------------------------------------------- baselines
def ngram_bits(train_ids: np.ndarray, valid_ids: np.ndarray, vocab_size: int,
               alpha: float = 0.1) -> dict[str, float]:
    """Bits/char on ``valid_ids`` of the uniform guess, and of unigram and bigram counts from
    ``train_ids`` (add-``alpha`` smoothing): the floors a language model must beat."""
    V = vocab_size
    uni = np.bincount(train_ids, minlength=V) + alpha
    uni = uni / uni.sum()
    big = np.full((V, V), alpha)
    np.add.at(big, (train_ids[:-1], train_ids[1:]), 1.0)
    big = big / big.sum(axis=1, keepdims=True)                     # P(next | previous)
    return {"uniform": math.log2(V),
            "unigram": float(-np.log2(uni[valid_ids]).mean()),
            "bigram": float(-np.log2(big[valid_ids[:-1], valid_ids[1:]]).mean())}


# --------------------------------------------------------------------------- training
def evaluate_bits(model: Any, ids: np.ndarray, seq_len: int = 100, batch: int = 32,
                  max_chars: int | None = None) -> float:
    """Bits/char of ``model`` on the stream ``ids`` (cut into ``batch`` contiguous streams,
    state carried from window to window, as in training). With ``max_chars``, the streams are
    ``max_chars // batch`` characters each, starting at evenly spaced places of the whole text,
    so that a quick estimate samples every part of it."""
    import torch
    import torch.nn.functional as F

    if max_chars and max_chars < len(ids) - 1:
        L = max_chars // batch
        starts = np.linspace(0, len(ids) - L - 1, batch).astype(np.int64)
        idx = starts[:, None] + np.arange(L)                                # (B, L)
        x, y = torch.from_numpy(ids[idx].T.copy()), torch.from_numpy(ids[idx + 1].T.copy())
    else:
        L = (len(ids) - 1) // batch
        x = torch.from_numpy(ids[:batch * L].reshape(batch, L).T.copy())   # (L, B)
        y = torch.from_numpy(ids[1:batch * L + 1].reshape(batch, L).T.copy())
    total, state = 0.0, None
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()                                      # no dropout while measuring
    try:
        with torch.no_grad():
            for t in range(0, L, seq_len):
                logits, state = model(x[t:t + seq_len], state)
                total += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                               y[t:t + seq_len].reshape(-1), reduction="sum"))
    finally:
        if was_training:
            model.train()
    return total / (batch * L) / LN2


@dataclass
class History:
    """What :func:`fit` records: per-chunk training and validation bits/char, updates, seconds."""

    updates: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)   # training time only (no evaluation)
    train_bits: list[float] = field(default_factory=list)
    valid_bits: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)          # the learning rate of each chunk
    best_state: dict | None = None   # with keep_best: the weights at the lowest valid_bits

    def to_dict(self) -> dict[str, list]:
        return {"updates": self.updates, "seconds": [round(s, 3) for s in self.seconds],
                "train_bits": [round(b, 4) for b in self.train_bits],
                "valid_bits": [round(b, 4) for b in self.valid_bits],
                "lr": [float(f"{v:.4g}") for v in self.lr]}


def fit(model: Any, train_fn: Callable[..., list], x: np.ndarray, y: np.ndarray,
        valid_ids: np.ndarray, *, updates: int | None = None, seconds: float | None = None,
        chunk: int = 25, lr: float = 3e-3, max_norm: float = 1.0, valid_chars: int | None = None,
        progress: bool = True, desc: str = "training",
        lr_schedule: Callable[[float], float] | None = None, keep_best: bool = False) -> History:
    """Train with ``train_fn`` (the learner's ``train_tbptt``) on the windows ``x``, ``y``
    (K, T, B), in order and round again, ``chunk`` windows per call, until ``updates`` updates
    or ``seconds`` seconds of training; validation bits/char after every chunk.

    Each call of ``train_fn`` starts from a zero state, so the state is reset every ``chunk``
    windows (and at the end of the text). ``lr_schedule(progress)`` multiplies ``lr`` before each
    chunk, with ``progress`` the fraction of the budget (updates or seconds) used so far (e.g.
    ``lambda p: 0.5 * (1 + math.cos(math.pi * p))``, cosine decay, Loshchilov & Hutter 2017).
    ``keep_best`` copies the weights whenever validation reaches a new low (early stopping:
    ``model.load_state_dict(history.best_state)`` gives the best model back)."""
    import torch
    from tqdm.auto import tqdm

    if updates is None and seconds is None:
        raise ValueError("give updates or seconds")
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    if hasattr(model, "train"):
        model.train()
    xs, ys = torch.from_numpy(np.asarray(x)), torch.from_numpy(np.asarray(y))
    hist, done, k, elapsed = History(), 0, 0, 0.0
    total = updates if updates is not None else None
    bar = tqdm(total=total, desc=desc, disable=not progress, leave=True)
    while (updates is None or done < updates) and (seconds is None or elapsed < seconds):
        n = min(chunk, len(xs) - k) if updates is None else min(chunk, len(xs) - k, updates - done)
        batches = [(xs[i], ys[i]) for i in range(k, k + n)]
        rate = lr
        if lr_schedule is not None:
            used = done / updates if updates is not None else 0.0
            used = max(used, elapsed / seconds) if seconds is not None else used
            rate = lr * float(lr_schedule(min(1.0, used)))
            for group in opt.param_groups:
                group["lr"] = rate
        start = time.perf_counter()
        losses = train_fn(model, batches, opt, max_norm)
        elapsed += time.perf_counter() - start
        done, k = done + n, (k + n) % len(xs)
        hist.updates.append(done)
        hist.seconds.append(elapsed)
        hist.train_bits.append(float(np.mean([float(v) for v in losses])) / LN2)
        hist.valid_bits.append(evaluate_bits(model, valid_ids, max_chars=valid_chars))
        hist.lr.append(rate)
        if keep_best and hist.valid_bits[-1] <= min(hist.valid_bits):
            hist.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        bar.update(n)
        bar.set_postfix(valid=f"{hist.valid_bits[-1]:.3f} bits/char")
    bar.close()
    return hist


# --------------------------------------------------------------------------- sampling
def generate(model: Any, encode: Callable[[str], np.ndarray], decode: Callable[..., str],
             probs_fn: Callable[..., np.ndarray], prompt: str = "The ", n: int = 300,
             temperature: float = 1.0, top_k: int | None = None, seed: int = 0) -> str:
    """Read ``prompt``, then draw ``n`` characters one at a time from
    ``probs_fn(logits, temperature, top_k)`` (the learner's ``next_char_probs``)."""
    import torch

    rng = np.random.default_rng(seed)
    out: list[int] = []
    if hasattr(model, "eval"):
        model.eval()
    with torch.no_grad():
        logits, state = model(torch.from_numpy(encode(prompt))[:, None], None)   # (P, 1, V)
        for _ in range(n):
            p = np.asarray(probs_fn(logits[-1, 0].double().numpy(), temperature, top_k))
            nxt = int(rng.choice(len(p), p=p / p.sum()))
            out.append(nxt)
            logits, state = model(torch.tensor([[nxt]]), state)
    return prompt + decode(out)


# --------------------------------------------------------------------------- inside the model
def text_properties(text: str) -> dict[str, np.ndarray]:
    """Simple properties of every character, as floats (N,): inside double quotes, inside
    parentheses, inside square brackets, and the position in the line (characters since the
    last newline) — the kinds of state Karpathy, Johnson & Fei-Fei (2015) found units for."""
    quote = paren = bracket = pos = 0
    props = {k: np.zeros(len(text)) for k in
             ("inside quotes", "inside parentheses", "inside brackets", "position in line")}
    for i, ch in enumerate(text):
        if ch == '"':
            quote ^= 1
        paren = max(0, paren + (ch == "(") - (ch == ")"))
        bracket = max(0, bracket + (ch == "[") - (ch == "]"))
        pos = 0 if ch == "\n" else pos + 1
        props["inside quotes"][i] = quote
        props["inside parentheses"][i] = paren > 0
        props["inside brackets"][i] = bracket > 0
        props["position in line"][i] = pos
    return props


def hidden_states(model: Any, ids: np.ndarray) -> np.ndarray:
    """The hidden units after every character of ``ids`` (one stream): (N, H) for h, and the
    cell state c appended for an LSTM ((N, 2H): columns H.. are c)."""
    import torch

    model.eval()
    with torch.no_grad():
        emb = model.embed(torch.from_numpy(ids)[:, None])                # (N, 1, E)
        if model.cell != "lstm":
            out, _ = model.rnn(emb)
            return out[:, 0].double().numpy()
        hs, cs, state = [], [], None
        for t in range(len(ids)):                                        # one step: c_t too
            _, state = model.rnn(emb[t:t + 1], state)
            hs.append(state[0][0, 0])
            cs.append(state[1][0, 0])
        return torch.cat([torch.stack(hs), torch.stack(cs)], dim=1).double().numpy()


def correlations(acts: np.ndarray, prop: np.ndarray) -> np.ndarray:
    """Pearson correlation of every unit (column of ``acts`` (N, U)) with ``prop`` (N,)."""
    a = acts - acts.mean(0)
    p = prop - prop.mean()
    denom = np.sqrt((a ** 2).sum(0) * (p ** 2).sum()) + 1e-12
    return (a * p[:, None]).sum(0) / denom


def best_units(acts: np.ndarray, props: dict[str, np.ndarray], split: float = 0.5,
               hidden: int | None = None) -> list[dict[str, Any]]:
    """For every property: the unit most correlated with it on the first part of the text, and
    its correlation measured again on the rest (held out, so the choice cannot flatter it)."""
    n = int(len(acts) * split)
    rows = []
    for name, prop in props.items():
        if prop[:n].std() == 0 or prop[n:].std() == 0:
            continue
        r_fit = correlations(acts[:n], prop[:n])
        unit = int(np.nanargmax(np.abs(r_fit)))
        label = f"c[{unit - hidden}]" if hidden is not None and unit >= hidden else f"h[{unit}]"
        rows.append({"property": name, "unit": unit, "label": label,
                     "r_select": float(r_fit[unit]),
                     "r_heldout": float(correlations(acts[n:, unit:unit + 1], prop[n:])[0])})
    return rows


def coloured_html(text: str, values: np.ndarray, title: str = "") -> str:
    """``text`` with every character's background coloured by ``values`` (blue < 0 < red)."""
    scale = float(np.max(np.abs(values))) or 1.0
    spans = []
    for ch, v in zip(text, values):
        a = min(1.0, abs(float(v)) / scale)
        rgb = "214,39,40" if v > 0 else "31,119,180"
        shown = "↵<br>" if ch == "\n" else html.escape(ch).replace(" ", "&nbsp;")
        spans.append(f'<span style="background:rgba({rgb},{a:.2f})">{shown}</span>')
    head = f"<b>{html.escape(title)}</b><br>" if title else ""
    return (f'<div style="font-family:monospace;font-size:12px;line-height:1.5">{head}'
            + "".join(spans) + "</div>")


def top_p_filter(probs: np.ndarray, p: float) -> np.ndarray:
    """Nucleus (top-p) sampling's distribution (Holtzman et al. 2020, "The curious case of neural
    text degeneration"): keep the most likely characters until their total reaches ``p``, zero the
    rest, renormalise. Unlike top-k, the number kept adapts: few where the model is sure, many
    where it is not. ``probs`` (V,) sums to 1."""
    if not 0.0 < p <= 1.0:
        raise ValueError(f"p must be in (0, 1], got {p}")
    probs = np.asarray(probs, dtype=np.float64)
    order = np.argsort(-probs)
    keep = int(np.searchsorted(np.cumsum(probs[order]), p) + 1)      # smallest set reaching p
    out = np.zeros_like(probs)
    out[order[:keep]] = probs[order[:keep]]
    return out / out.sum()
