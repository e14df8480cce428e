"""Notebook 06 (real batches): what each output of a deep / bidirectional LSTM can see, PyTorch's
layouts, a padded batch of real sentences, the loss bias of forgetting the mask, and packed vs
padded timing.

The exercises' answers are not here: the notebook's ``lstm_stack_forward`` and
``lstm_forward_padded`` are the learner's; this module only uses ``torch.nn.LSTM``.

References: PyTorch documentation of ``torch.nn.LSTM`` and ``torch.nn.utils.rnn``
(``pack_padded_sequence``, ``pad_packed_sequence``); Schuster & Paliwal (1997), "Bidirectional
recurrent neural networks"; Graves, Mohamed & Hinton (2013), "Speech recognition with deep
recurrent neural networks".
"""

from __future__ import annotations

import re
from typing import Any, Callable

import numpy as np

from ..lib.measure import Timing, time_interleaved, torch_threads

PAD = 0  # token id of the padding symbol; characters are 1..V-1


# --------------------------------------------------------------------------- what an output sees
def sensitivity_maps(T: int = 12, I: int = 3, H: int = 8, seed: int = 0) -> dict[str, np.ndarray]:
    """||d output[t, half] / d x[s]|| for every (t, s), by autograd, for a 1-layer and a 2-layer
    bidirectional ``nn.LSTM`` (PyTorch's default initialisation, float64, batch 1).

    Returns ``{title: (T, T) array}``; row t = output step, column s = input step.
    """
    import torch

    maps = {}
    for layers in (1, 2):
        torch.manual_seed(seed)
        lstm = torch.nn.LSTM(I, H, num_layers=layers, bidirectional=True).double()
        x = torch.randn(T, 1, I, dtype=torch.float64)
        jac = torch.autograd.functional.jacobian(lambda inp, m=lstm: m(inp)[0], x,
                                                 vectorize=True)  # (T, 1, 2H, T, 1, I)
        jac = jac[:, 0, :, :, 0, :]                                              # (T, 2H, T, I)
        for d, half in enumerate(("forward", "reverse")):
            part = jac[:, d * H:(d + 1) * H]                                     # (T, H, T, I)
            maps[f"{layers} layer{'s' * (layers > 1)}, {half} half"] = \
                part.pow(2).sum(dim=(1, 3)).sqrt().numpy()
    return maps


def plot_sensitivity(maps: dict[str, np.ndarray]) -> Any:
    """Heat maps of :func:`sensitivity_maps` (log scale; white = exactly zero)."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    fig, axes = plt.subplots(1, len(maps), figsize=(3.2 * len(maps), 3.3), squeeze=False)
    positive = np.concatenate([m[m > 0] for m in maps.values()])
    norm = LogNorm(vmin=max(positive.min(), 1e-8), vmax=positive.max())
    for ax, (title, m) in zip(axes[0], maps.items()):
        im = ax.imshow(np.ma.masked_equal(m, 0.0), norm=norm, cmap="viridis", origin="upper")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("input step s")
        ax.set_ylabel("output step t")
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8,
                 label="||d output[t] / d x[s]|| (unitless)")
    fig.suptitle("Which inputs each output depends on (bidirectional nn.LSTM, default init)")
    return fig


def lstm_layouts(num_layers: int, bidirectional: bool, I: int, H: int, T: int,
                 B: int) -> list[tuple[str, tuple[int, ...]]]:
    """(name, shape) of every parameter of ``nn.LSTM(I, H, num_layers, bidirectional)`` in
    ``_flat_weights`` order, then of ``output``, ``h_n`` and ``c_n`` for a (T, B, I) input."""
    import torch

    lstm = torch.nn.LSTM(I, H, num_layers=num_layers, bidirectional=bidirectional)
    rows = [(name, tuple(p.shape)) for name, p in zip(lstm._flat_weights_names,
                                                      lstm._flat_weights)]
    with torch.no_grad():
        out, (h_n, c_n) = lstm(torch.zeros(T, B, I))
    return rows + [("output", tuple(out.shape)), ("h_n", tuple(h_n.shape)),
                   ("c_n", tuple(c_n.shape))]


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


# --------------------------------------------------------------------------- packed vs padded
def packed_vs_padded(groupings: dict[str, list[list[str]]], vocab: dict[str, int],
                     hidden: int = 64, emb: int = 16, repeats: int = 3, threads: int | None = 1,
                     seed: int = 0) -> dict[str, Timing]:
    """Forward + backward of one ``nn.LSTM`` (float32) over every batch of a grouping, on the
    padded tensors and on ``pack_padded_sequence``; all timed interleaved.

    ``groupings`` maps a name to its batches (lists of sentences); keys of the result are
    ``"padded: <name>"`` and ``"packed: <name>"``.
    """
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence

    torch.manual_seed(seed)
    embed, lstm = torch.nn.Embedding(len(vocab) + 1, emb), torch.nn.LSTM(emb, hidden)

    def run(inputs: list[tuple[Any, Any]], packed: bool) -> Callable[[], None]:
        def call() -> None:
            for x, lengths in inputs:
                inp = pack_padded_sequence(x, lengths, enforce_sorted=False) if packed else x
                _, (h_n, _) = lstm(inp)
                h_n.sum().backward()
            lstm.zero_grad()
        return call

    fns = {}
    for name, groups in groupings.items():
        inputs = []
        for group in groups:
            tokens, lengths = pad_batch(group, vocab)
            with torch.no_grad():
                inputs.append((embed(torch.from_numpy(tokens)), torch.as_tensor(lengths)))
        fns[f"padded: {name}"] = run(inputs, packed=False)
        fns[f"packed: {name}"] = run(inputs, packed=True)
    with torch_threads(threads):
        return time_interleaved(fns, warmup=1, repeats=repeats)
