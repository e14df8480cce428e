"""The decoders notebook 10 deploys: a small causal Transformer with a key/value cache, and GRU /
LSTM decoders that carry a fixed-size state.

    from course_utils.labs.attention.deploy_models import transformer_lm, recurrent_lm
    tf = transformer_lm(vocab=64, d=64, layers=2, heads=4)
    logits = tf(x)                                   # x (B, T) int64 -> (B, T, V), causal
    cache = tf.new_cache(batch=1, max_len=2048)
    logits, cache = tf.step(tok, cache)              # tok (B,) -> (B, V); the cache grows by 1
    rnn = recurrent_lm("gru", vocab=64, embed=32, hidden=160)
    logits, state = rnn.step(tok, state)             # state: fixed size, whatever the length

The Transformer is pre-LayerNorm (Xiong et al. 2020) with sinusoidal positions (Vaswani et al.
2017, no parameters, so any output length fits) and ``F.scaled_dot_product_attention``. Its
cache holds, per layer, the keys and values of every token so far: 2 x layers x t x d numbers
per sequence after t tokens; a recurrent decoder holds H (GRU) or 2H (LSTM) numbers, always.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


def sinusoid(positions: torch.Tensor, d: int) -> torch.Tensor:
    """(N,) int positions -> (N, d) sinusoidal encodings (Vaswani et al. 2017, section 3.5)."""
    half = torch.arange(0, d, 2, dtype=torch.float32)
    freq = torch.exp(-math.log(10000.0) * half / d)                     # (d/2,)
    ang = positions.to(torch.float32)[:, None] * freq[None, :]          # (N, d/2)
    out = torch.zeros(len(positions), d)
    out[:, 0::2], out[:, 1::2] = torch.sin(ang), torch.cos(ang[:, : d // 2])
    return out


class KVCache:
    """Preallocated keys and values, per layer (B, heads, max_len, d_head); ``length`` used."""

    def __init__(self, layers: int, batch: int, heads: int, d_head: int, max_len: int) -> None:
        shape = (batch, heads, max_len, d_head)
        self.k = [torch.zeros(shape) for _ in range(layers)]
        self.v = [torch.zeros(shape) for _ in range(layers)]
        self.length = 0
        self.max_len = max_len

    def live_bytes(self) -> int:
        """Bytes of the keys and values actually held (the first ``length`` positions)."""
        return sum(t[:, :, : self.length].numel() * t.element_size() for t in self.k + self.v)


class Block(nn.Module):
    def __init__(self, d: int, heads: int, mlp: int) -> None:
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, mlp * d), nn.GELU(), nn.Linear(mlp * d, d))

    def _split(self, t: torch.Tensor) -> torch.Tensor:
        B, T, d = t.shape
        return t.view(B, T, self.heads, d // self.heads).transpose(1, 2)  # (B, h, T, dh)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv(self.ln1(x)).chunk(3, dim=-1)                 # (B, T, d) each
        a = F.scaled_dot_product_attention(self._split(q), self._split(k), self._split(v),
                                           is_causal=True)                # (B, h, T, dh)
        x = x + self.proj(a.transpose(1, 2).reshape(x.shape))
        return x + self.mlp(self.ln2(x))

    def step(self, x: torch.Tensor, cache: KVCache, layer: int) -> torch.Tensor:
        """x (B, 1, d): one new token; writes its key and value at ``cache.length``."""
        q, k, v = self.qkv(self.ln1(x)).chunk(3, dim=-1)                 # (B, 1, d)
        t = cache.length
        cache.k[layer][:, :, t: t + 1] = self._split(k)
        cache.v[layer][:, :, t: t + 1] = self._split(v)
        a = F.scaled_dot_product_attention(self._split(q), cache.k[layer][:, :, : t + 1],
                                           cache.v[layer][:, :, : t + 1])  # (B, h, 1, dh)
        x = x + self.proj(a.transpose(1, 2).reshape(x.shape))
        return x + self.mlp(self.ln2(x))


class TransformerLM(nn.Module):
    """Token embedding + sinusoidal positions -> ``layers`` pre-LN blocks -> LayerNorm -> head."""

    def __init__(self, vocab: int, d: int, layers: int, heads: int, mlp: int = 4) -> None:
        super().__init__()
        if d % heads or d % 2:
            raise ValueError(f"d={d} must be even and divisible by heads={heads}")
        self.d, self.heads = d, heads
        self.embed = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList(Block(d, heads, mlp) for _ in range(layers))
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T) int64 -> logits (B, T, V); position t sees tokens 0..t only."""
        h = self.embed(x) + sinusoid(torch.arange(x.shape[1]), self.d)    # (B, T, d)
        for block in self.blocks:
            h = block(h)
        return self.head(self.ln(h))

    def new_cache(self, batch: int, max_len: int) -> KVCache:
        return KVCache(len(self.blocks), batch, self.heads, self.d // self.heads, max_len)

    def step(self, tok: torch.Tensor, cache: KVCache) -> tuple[torch.Tensor, KVCache]:
        """tok (B,) int64 -> logits (B, V) of the next token; the cache grows by one position."""
        if cache.length >= cache.max_len:
            raise ValueError(f"the cache is full ({cache.max_len} positions)")
        h = self.embed(tok)[:, None] + sinusoid(torch.tensor([cache.length]), self.d)  # (B,1,d)
        for i, block in enumerate(self.blocks):
            h = block.step(h, cache, i)
        cache.length += 1
        return self.head(self.ln(h))[:, 0], cache


class RecurrentLM(nn.Module):
    """Embedding -> one GRU / LSTM layer -> head. ``forward`` runs nn.GRU / nn.LSTM over a whole
    sequence (training); ``step`` runs the same weights one token at a time (generation)."""

    def __init__(self, cell: str, vocab: int, embed: int, hidden: int) -> None:
        super().__init__()
        if cell not in ("gru", "lstm"):
            raise ValueError(f"cell must be 'gru' or 'lstm', got {cell!r}")
        self.cell, self.hidden = cell, hidden
        self.embed = nn.Embedding(vocab, embed)
        self.rnn = (nn.GRU if cell == "gru" else nn.LSTM)(embed, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T) int64 -> logits (B, T, V)."""
        out, _ = self.rnn(self.embed(x))                                   # (B, T, H)
        return self.head(out)

    def new_state(self, batch: int) -> Any:
        h = torch.zeros(1, batch, self.hidden)
        return h if self.cell == "gru" else (h, torch.zeros_like(h))

    def step(self, tok: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        """tok (B,) -> logits (B, V), the new state (same size as the old)."""
        out, state = self.rnn(self.embed(tok)[:, None], state)             # (B, 1, H)
        return self.head(out[:, 0]), state

    @staticmethod
    def state_bytes(state: Any) -> int:
        tensors = (state,) if isinstance(state, torch.Tensor) else state
        return sum(t.numel() * t.element_size() for t in tensors)


def transformer_lm(vocab: int, d: int = 64, layers: int = 2, heads: int = 4,
                   mlp: int = 4) -> TransformerLM:
    return TransformerLM(vocab, d, layers, heads, mlp)


def recurrent_lm(cell: str, vocab: int, embed: int = 32, hidden: int = 128) -> RecurrentLM:
    return RecurrentLM(cell, vocab, embed, hidden)


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def matched_recurrent(cell: str, vocab: int, embed: int, target: int) -> tuple[int, int]:
    """The hidden size whose :func:`recurrent_lm` has the parameter count closest to ``target``
    (counted exactly: embedding, layer, head); returns (hidden, parameters)."""
    G = 3 if cell == "gru" else 4

    def count(H: int) -> int:
        return vocab * embed + G * H * (embed + H) + 2 * G * H + (H + 1) * vocab

    best = min(range(1, 4096), key=lambda H: abs(count(H) - target))
    return best, count(best)
