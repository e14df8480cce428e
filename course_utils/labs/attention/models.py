"""Notebook 10's models: recurrent encoder–decoders with and without additive attention, and a
small Transformer, all in torch, all taking the same batches.

    from course_utils.labs.attention import models as M
    net = M.Seq2Seq("gru", n_src, n_tgt, hidden=48, attention=True)
    logits = net(src, src_len, dec_in)           # (B, T, V) with teacher forcing
    tokens, weights = net.greedy(src, src_len)   # (B, T) own predictions, (B, T, S) attention

Inputs: ``src`` (B, S) int64, right-padded with :data:`~.dates.PAD`; ``src_len`` (B,); ``dec_in``
(B, T) = BOS followed by the target without its last token.

- :class:`Seq2Seq` without attention: the encoder's final state is the decoder's initial state, the
  whole input squeezed into one vector (Sutskever, Vinyals & Le 2014; Cho et al. 2014).
- :class:`Seq2Seq` with attention: at each output step the previous decoder state scores every
  encoder state, e = v·tanh(W_q s + W_k h_s) (Bahdanau, Cho & Bengio 2015), a masked softmax over
  the real source positions gives weights, their weighted sum (the context) enters the decoder
  cell with the previous output character, and the output layer reads [state, context].
- :class:`TinyTransformer`: one encoder and one decoder layer of Vaswani et al. (2017) (post-norm,
  sinusoidal positions, no dropout), scaled dot-product attention with padding and causal masks.

:func:`matched` sizes every arm to the same total number of trainable parameters.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

from .dates import BOS, EOS, PAD, TARGET_LEN

EMBED = 16
OUT_LEN = TARGET_LEN + 1  # ten characters and the end token


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


class Seq2Seq(nn.Module):
    """A GRU or LSTM encoder–decoder, with or without additive attention (see module docstring)."""

    def __init__(self, cell: str, n_src: int, n_tgt: int, hidden: int, attention: bool,
                 embed: int = EMBED) -> None:
        super().__init__()
        if cell not in ("gru", "lstm"):
            raise ValueError(f"cell must be 'gru' or 'lstm', got {cell!r}")
        self.cell, self.hidden, self.attention = cell, hidden, attention
        rnn, step = (nn.GRU, nn.GRUCell) if cell == "gru" else (nn.LSTM, nn.LSTMCell)
        self.src_emb = nn.Embedding(n_src, embed, padding_idx=PAD)
        self.tgt_emb = nn.Embedding(n_tgt, embed, padding_idx=PAD)
        self.encoder = rnn(embed, hidden, batch_first=True)
        self.decoder = step(embed + (hidden if attention else 0), hidden)
        if attention:  # A = hidden
            self.W_q = nn.Linear(hidden, hidden, bias=False)
            self.W_k = nn.Linear(hidden, hidden, bias=False)
            self.v = nn.Linear(hidden, 1, bias=False)
        self.out = nn.Linear(hidden * (2 if attention else 1), n_tgt)

    # ------------------------------------------------------------------ pieces
    def encode(self, src: torch.Tensor, src_len: torch.Tensor):
        """Encoder states (B, S, H) (zero at padding), the decoder's initial state, the mask."""
        x = self.src_emb(src)  # (B, S, E)
        packed = nn.utils.rnn.pack_padded_sequence(x, src_len.cpu(), batch_first=True,
                                                   enforce_sorted=False)
        out, state = self.encoder(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        state = state[0] if self.cell == "gru" else (state[0][0], state[1][0])  # (B, H) each
        return out, state, src != PAD  # (B, S, H), state, (B, S) True = real

    def attend(self, s: torch.Tensor, keys: torch.Tensor, proj_keys: torch.Tensor,
               mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Additive attention of decoder state ``s`` (B, H) over ``keys`` (B, S, H)."""
        e = self.v(torch.tanh(self.W_q(s)[:, None, :] + proj_keys)).squeeze(-1)  # (B, S)
        w = torch.softmax(e.masked_fill(~mask, float("-inf")), dim=1)  # (B, S)
        return torch.bmm(w[:, None, :], keys).squeeze(1), w  # (B, H), (B, S)

    def step(self, y_prev: torch.Tensor, state, keys, proj_keys, mask):
        """One decoder step: logits (B, V), the new state, attention weights (B, S) or None."""
        h = state if self.cell == "gru" else state[0]
        x = self.tgt_emb(y_prev)  # (B, E)
        w = None
        if self.attention:
            ctx, w = self.attend(h, keys, proj_keys, mask)
            x = torch.cat([x, ctx], dim=1)
        state = self.decoder(x, state)
        h = state if self.cell == "gru" else state[0]
        feats = torch.cat([h, ctx], dim=1) if self.attention else h
        return self.out(feats), state, w

    # ------------------------------------------------------------------ whole sequences
    def forward(self, src: torch.Tensor, src_len: torch.Tensor, dec_in: torch.Tensor) -> torch.Tensor:
        """Logits (B, T, V) with teacher forcing: step t reads the true character t-1."""
        keys, state, mask = self.encode(src, src_len)
        proj = self.W_k(keys) if self.attention else None
        logits = []
        for t in range(dec_in.shape[1]):
            lg, state, _ = self.step(dec_in[:, t], state, keys, proj, mask)
            logits.append(lg)
        return torch.stack(logits, dim=1)

    @torch.no_grad()
    def greedy(self, src: torch.Tensor, src_len: torch.Tensor, steps: int = OUT_LEN
               ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Own predictions (B, steps) fed back in; attention weights (B, steps, S) or None."""
        keys, state, mask = self.encode(src, src_len)
        proj = self.W_k(keys) if self.attention else None
        y = torch.full((src.shape[0],), BOS, dtype=torch.long)
        toks, ws = [], []
        for _ in range(steps):
            lg, state, w = self.step(y, state, keys, proj, mask)
            y = lg.argmax(1)
            toks.append(y)
            ws.append(w)
        return torch.stack(toks, 1), (torch.stack(ws, 1) if self.attention else None)


def sinusoids(length: int, d: int) -> torch.Tensor:
    """Vaswani et al.'s positional encodings (length, d)."""
    pos = torch.arange(length, dtype=torch.float32)[:, None]
    div = torch.exp(torch.arange(0, d, 2, dtype=torch.float32) * (-math.log(10000.0) / d))
    pe = torch.zeros(length, d)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div)[:, : d // 2]
    return pe


class TinyTransformer(nn.Module):
    """One encoder layer, one decoder layer (Vaswani et al. 2017), post-norm, no dropout."""

    def __init__(self, n_src: int, n_tgt: int, d_model: int, heads: int = 4, ff: int | None = None,
                 max_len: int = 128) -> None:
        super().__init__()
        if d_model % heads:
            raise ValueError(f"d_model {d_model} must be divisible by heads {heads}")
        self.d_model, self.heads, self.ff = d_model, heads, ff or 2 * d_model
        self.src_emb = nn.Embedding(n_src, d_model, padding_idx=PAD)
        self.tgt_emb = nn.Embedding(n_tgt, d_model, padding_idx=PAD)
        for emb in (self.src_emb, self.tgt_emb):
            nn.init.normal_(emb.weight, 0.0, d_model ** -0.5)
            with torch.no_grad():
                emb.weight[PAD].zero_()
        self.register_buffer("pe", sinusoids(max_len, d_model), persistent=False)
        enc = nn.TransformerEncoderLayer(d_model, heads, self.ff, dropout=0.0, batch_first=True)
        dec = nn.TransformerDecoderLayer(d_model, heads, self.ff, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(enc, 1, enable_nested_tensor=False)
        self.decoder = nn.TransformerDecoder(dec, 1)
        self.out = nn.Linear(d_model, n_tgt)

    def embed(self, emb: nn.Embedding, ids: torch.Tensor) -> torch.Tensor:
        """Token embeddings plus positions (B, L, d). Vaswani et al. multiply the embeddings by
        √d because theirs start small (std d^-1/2); torch's start at std 1, so here they are
        initialised at std d^-1/2 (:meth:`__init__`) and scaled by √d: tokens and positions
        enter at the same scale instead of the tokens drowning the positions."""
        return emb(ids) * math.sqrt(self.d_model) + self.pe[: ids.shape[1]]

    def encode(self, src: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pad = src == PAD  # torch's convention: True = ignore
        return self.encoder(self.embed(self.src_emb, src), src_key_padding_mask=pad), pad

    def decode(self, memory: torch.Tensor, pad: torch.Tensor, dec_in: torch.Tensor) -> torch.Tensor:
        T = dec_in.shape[1]
        causal = torch.triu(torch.full((T, T), float("-inf")), diagonal=1)
        h = self.decoder(self.embed(self.tgt_emb, dec_in), memory, tgt_mask=causal,
                         memory_key_padding_mask=pad)
        return self.out(h)  # (B, T, V)

    def forward(self, src: torch.Tensor, src_len: torch.Tensor, dec_in: torch.Tensor) -> torch.Tensor:
        memory, pad = self.encode(src)
        return self.decode(memory, pad, dec_in)

    @torch.no_grad()
    def greedy(self, src: torch.Tensor, src_len: torch.Tensor, steps: int = OUT_LEN
               ) -> tuple[torch.Tensor, None]:
        memory, pad = self.encode(src)
        ys = torch.full((src.shape[0], 1), BOS, dtype=torch.long)
        for _ in range(steps):
            nxt = self.decode(memory, pad, ys)[:, -1].argmax(1)
            ys = torch.cat([ys, nxt[:, None]], 1)
        return ys[:, 1:], None


# --------------------------------------------------------------------------- equal parameters
ARMS = ("GRU", "LSTM", "GRU+attn", "LSTM+attn", "Transformer")


def build(arm: str, size: int, n_src: int, n_tgt: int, ff: int | None = None) -> nn.Module:
    """A fresh model of ``arm`` (one of :data:`ARMS`) at hidden size / d_model ``size``."""
    if arm == "Transformer":
        return TinyTransformer(n_src, n_tgt, size, ff=ff)
    cell = "lstm" if arm.startswith("LSTM") else "gru"
    return Seq2Seq(cell, n_src, n_tgt, size, attention=arm.endswith("+attn"))


def matched(n_src: int, n_tgt: int, reference: str = "LSTM+attn", hidden: int = 48,
            arms: tuple[str, ...] = ARMS) -> dict[str, dict[str, int]]:
    """arm -> {"size", "ff", "params"}: every arm sized to the parameter count of ``reference``
    at ``hidden`` (the nearest hidden size; the Transformer's d_model a multiple of its 4 heads,
    then its feed-forward width to close the gap). The protocol's equal-parameter rule."""
    target = n_params(build(reference, hidden, n_src, n_tgt))
    out: dict[str, dict[str, int]] = {}
    for arm in arms:
        if arm == "Transformer":
            best = 4 * _nearest(lambda k, arm=arm: n_params(build(arm, 4 * k, n_src, n_tgt)), 2, 64, target)
            a = n_params(build(arm, best, n_src, n_tgt, ff=8))
            b = n_params(build(arm, best, n_src, n_tgt, ff=9)) - a  # the count is linear in ff
            ff = max(8, 8 + round((target - a) / b))
            out[arm] = {"size": best, "ff": ff,
                        "params": n_params(build(arm, best, n_src, n_tgt, ff=ff))}
            continue
        size = hidden if arm == reference else _nearest(
            lambda h, arm=arm: n_params(build(arm, h, n_src, n_tgt)), 2, 8 * hidden, target)
        out[arm] = {"size": size, "ff": 0, "params": n_params(build(arm, size, n_src, n_tgt))}
    return out


def _nearest(count: Callable[[int], int], lo: int, hi: int, target: int) -> int:
    """The k in [lo, hi] whose (increasing) ``count(k)`` is nearest ``target`` (ties: smaller)."""
    while hi - lo > 1:  # bisection: count(lo) < target <= count(hi) once it closes
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if count(mid) < target else (lo, mid)
    return min((lo, hi), key=lambda k: (abs(count(k) - target), k))


def factory(arm: str, spec: dict[str, int], n_src: int, n_tgt: int) -> Callable[[], nn.Module]:
    """A zero-argument factory (what :class:`course_utils.lib.protocol.Trial` takes)."""
    def make() -> nn.Module:
        return build(arm, spec["size"], n_src, n_tgt, ff=spec.get("ff") or None)
    make.arm, make.size, make.params = arm, spec["size"], spec["params"]  # type: ignore[attr-defined]
    return make


__all__ = ["Seq2Seq", "TinyTransformer", "ARMS", "build", "matched", "factory", "n_params",
           "sinusoids", "EMBED", "OUT_LEN", "EOS"]
