"""Notebook 06, sections 4 and 6: sentences of Python's documentation as padded character
batches, a small character model, and the loss bias of means that ignore the mask.

References: PyTorch documentation of ``torch.nn.utils.rnn`` (``pack_padded_sequence``,
``pad_packed_sequence``).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

PAD = 0  # token id of the padding symbol; characters are 1..V-1


# --------------------------------------------------------------------------- sentences, batches
def load_sentences(max_chars: int = 200) -> list[str]:
    """Sentences of Python's own documentation (``pydoc_data``, no download), whitespace
    collapsed, at most ``max_chars`` characters, in a fixed order."""
    from pydoc_data.topics import topics

    text = re.sub(r"\s+", " ", " ".join(topics[k] for k in sorted(topics)))
    sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z])", text)
    return [s for s in sentences if 2 <= len(s) <= max_chars]


def vocabulary(sentences: list[str]) -> dict[str, int]:
    """Character -> id, ids from 1 (0 is :data:`PAD`)."""
    return {ch: k + 1 for k, ch in enumerate(sorted(set("".join(sentences))))}


def pad_batch(sentences: list[str], vocab: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Time-major token ids (T, B) padded with :data:`PAD`, and the lengths (B,)."""
    lengths = np.array([len(s) for s in sentences])
    tokens = np.full((lengths.max(), len(sentences)), PAD, dtype=np.int64)
    for b, s in enumerate(sentences):
        tokens[:len(s), b] = [vocab[ch] for ch in s]
    return tokens, lengths


def batches(sentences: list[str], batch: int, bucketed: bool, seed: int = 0) -> list[list[str]]:
    """Random batches, or length-bucketed ones (sorted by length, then cut), in random order."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(sentences))
    if bucketed:
        order = sorted(order, key=lambda k: len(sentences[k]))
    groups = [[sentences[k] for k in order[i:i + batch]]
              for i in range(0, len(order) - batch + 1, batch)]
    return [groups[k] for k in rng.permutation(len(groups))]


# --------------------------------------------------------------------------- a character model
def char_model(vocab_size: int, hidden: int = 64, emb: int = 16, seed: int = 0) -> Any:
    """Embedding -> one-layer nn.LSTM -> linear read-out, for next-character prediction."""
    import torch

    torch.manual_seed(seed)
    return torch.nn.ModuleDict({"emb": torch.nn.Embedding(vocab_size, emb),
                                "lstm": torch.nn.LSTM(emb, hidden),
                                "out": torch.nn.Linear(hidden, vocab_size)})


def token_losses(model: Any, tokens: np.ndarray, lengths: np.ndarray) -> Any:
    """Cross-entropy (nats) of predicting tokens[t + 1] from tokens[..t] at *every* position of
    the padded batch, shape (T - 1, B): padded positions are scored against the PAD target."""
    import torch

    x = torch.from_numpy(tokens)
    h, _ = model["lstm"](model["emb"](x[:-1]))                   # (T-1, B, H)
    logits = model["out"](h)                                      # (T-1, B, V)
    return torch.nn.functional.cross_entropy(logits.transpose(1, 2), x[1:], reduction="none")


def real_mask(lengths: np.ndarray, steps: int) -> np.ndarray:
    """(steps, B) float mask of the positions that predict a real character."""
    return (np.arange(steps)[:, None] < (np.asarray(lengths) - 1)[None, :]).astype(np.float64)


def loss_variants(losses: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """The masked mean (correct) and the two usual wrong means of per-position losses."""
    return {"masked mean (correct)": float((losses * mask).sum() / mask.sum()),
            "mean over all positions": float(losses.mean()),
            "(losses * mask).mean()": float((losses * mask).mean())}


def train_masked(model: Any, groups: list[list[str]], vocab: dict[str, int], steps: int,
                 lr: float = 0.01) -> list[float]:
    """Adam on the *masked* mean loss over ``steps`` batches (cycling); the loss per step."""
    import torch

    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for k in range(steps):
        tokens, lengths = pad_batch(groups[k % len(groups)], vocab)
        losses = token_losses(model, tokens, lengths)
        mask = torch.from_numpy(real_mask(lengths, losses.shape[0])).float()
        loss = (losses * mask).sum() / mask.sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(loss.item())
    return history


def bias_table(model: Any, groups: list[list[str]], vocab: dict[str, int]) -> list[dict]:
    """Per batch: its padding fraction and the three loss means (no gradients)."""
    import torch

    rows = []
    with torch.no_grad():
        for group in groups:
            tokens, lengths = pad_batch(group, vocab)
            losses = token_losses(model, tokens, lengths).double().numpy()
            mask = real_mask(lengths, losses.shape[0])
            rows.append({"padding": 1.0 - mask.mean(), **loss_variants(losses, mask)})
    return rows
