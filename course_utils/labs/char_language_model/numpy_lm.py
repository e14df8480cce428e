"""Part 1 of notebook 07: a character-level LSTM language model in numpy, trained live.

The learner's ``lm_train_step`` (one window: one-hot input, their ``lstm_forward``, a softmax
head, cross-entropy in bits, their ``lstm_backward``, clipping, their ``adam_step``) is driven
here over the course text (:func:`train_numpy`), the model is measured (:func:`numpy_bits`) and
made to write (:func:`sample_numpy`); the identical PyTorch model, with the same initial weights
and the same windows (:func:`train_torch_twin`), gives the speed ratio. Nothing here computes a
gradient in numpy: those are the learner's.

Parameters (PyTorch's layout and initialisation, uniform in ±1/sqrt(H), so the twin starts from
the very same numbers): ``{"W_ih" (4H, V), "W_hh" (4H, H), "b_ih", "b_hh" (4H,), "W_hy" (V, H),
"b_y" (V,)}``. References: Karpathy (2015), min-char-rnn (a numpy char-RNN in 112 lines);
Kingma & Ba (2015), Adam.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

KEYS = ("W_ih", "W_hh", "b_ih", "b_hh", "W_hy", "b_y")
LN2 = math.log(2.0)


def init_params(V: int, H: int, seed: int = 0) -> dict[str, np.ndarray]:
    """PyTorch's default initialisation of nn.LSTM(V, H) + nn.Linear(H, V): U(±1/sqrt(H))."""
    rng = np.random.default_rng(seed)
    k = 1.0 / math.sqrt(H)
    shapes = {"W_ih": (4 * H, V), "W_hh": (4 * H, H), "b_ih": (4 * H,), "b_hh": (4 * H,),
              "W_hy": (V, H), "b_y": (V,)}
    return {name: rng.uniform(-k, k, s) for name, s in shapes.items()}


def one_hot(ids: np.ndarray, V: int) -> np.ndarray:
    """(...) int -> (..., V) float64."""
    return np.eye(V)[np.asarray(ids)]


def logits_numpy(params: dict[str, np.ndarray], lstm_forward: Callable[..., Any], x: np.ndarray,
                 h: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, tuple]:
    """x (T, B) ids -> logits (T, B, V) and the final (h, c), with ``lstm_forward``."""
    V = params["W_hy"].shape[0]
    out, (h, c) = lstm_forward(one_hot(x, V), h, c, params["W_ih"], params["W_hh"],
                               params["b_ih"], params["b_hh"])                  # (T, B, H)
    return np.asarray(out) @ params["W_hy"].T + params["b_y"], (h, c)


def numpy_bits(params: dict[str, np.ndarray], lstm_forward: Callable[..., Any], ids: np.ndarray,
               streams: int = 16, seq_len: int = 100) -> float:
    """Bits/char of the numpy model on ``ids``: ``streams`` contiguous streams, state carried."""
    H = params["W_hh"].shape[1]
    L = (len(ids) - 1) // streams
    x = ids[:streams * L].reshape(streams, L).T                                 # (L, B)
    y = ids[1:streams * L + 1].reshape(streams, L).T
    h = c = np.zeros((streams, H))
    total = 0.0
    for t in range(0, L, seq_len):
        z, (h, c) = logits_numpy(params, lstm_forward, x[t:t + seq_len], h, c)  # (T, B, V)
        z = z - z.max(-1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
        total -= float(np.take_along_axis(logp, y[t:t + seq_len, :, None], -1).sum())
    return total / (streams * L) / LN2


def sample_numpy(params: dict[str, np.ndarray], lstm_forward: Callable[..., Any],
                 encode: Callable[[str], np.ndarray], decode: Callable[..., str],
                 prompt: str = "The ", n: int = 200, temperature: float = 0.7,
                 seed: int = 0) -> str:
    """Read ``prompt``, then draw ``n`` characters from softmax(logits / temperature)."""
    H = params["W_hh"].shape[1]
    rng = np.random.default_rng(seed)
    z, (h, c) = logits_numpy(params, lstm_forward, encode(prompt)[:, None], np.zeros((1, H)),
                             np.zeros((1, H)))
    out = []
    for _ in range(n):
        logit = z[-1, 0] / temperature
        p = np.exp(logit - logit.max())
        nxt = int(rng.choice(len(p), p=p / p.sum()))
        out.append(nxt)
        z, (h, c) = logits_numpy(params, lstm_forward, np.array([[nxt]]), h, c)
    return prompt + decode(out)


@dataclass
class NumpyRun:
    """Losses (bits) per update and cumulative training seconds, and the final parameters."""

    losses: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    params: dict[str, np.ndarray] = field(default_factory=dict)


def train_numpy(step: Callable[..., Any], fns: tuple[Callable[..., Any], ...],
                params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, lr: float,
                max_norm: float, updates: int, seconds: float | None = None,
                progress: bool = True) -> NumpyRun:
    """``updates`` calls of ``step`` (the learner's ``lm_train_step``) on the windows ``x``,
    ``y`` (K, T, B) in order (round again), carrying (h, c) and the optimizer state, stopping
    early after ``seconds`` of training. ``fns`` = (lstm_forward, lstm_backward, adam_step)."""
    from tqdm.auto import tqdm

    B, H = x.shape[2], params["W_hh"].shape[1]
    h = c = np.zeros((B, H))
    state, run, elapsed = None, NumpyRun(), 0.0
    for k in tqdm(range(updates), desc="numpy LSTM", disable=not progress, leave=True):
        if seconds is not None and elapsed >= seconds:
            break
        i = k % len(x)
        if i == 0:
            h = c = np.zeros((B, H))                       # the text starts again
        start = time.perf_counter()
        loss, params, state, (h, c) = step(params, state, x[i], y[i], h, c, lr, max_norm, *fns)
        elapsed += time.perf_counter() - start
        run.losses.append(float(loss))
        run.seconds.append(elapsed)
    run.params = params
    return run


def train_torch_twin(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, lr: float,
                     max_norm: float, updates: int, dtype: str = "float64") -> NumpyRun:
    """The identical PyTorch model (nn.LSTM on one-hot input + nn.Linear, loss in bits,
    clip_grad_norm_, Adam) from the same weights on the same windows: losses and seconds."""
    import torch
    import torch.nn.functional as F

    V, H = params["W_hy"].shape
    dt = getattr(torch, dtype)
    lstm, head = torch.nn.LSTM(V, H).to(dt), torch.nn.Linear(H, V).to(dt)
    ps = [lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0, head.weight,
          head.bias]
    with torch.no_grad():
        for p, k in zip(ps, KEYS):
            p.copy_(torch.tensor(params[k]))
    opt = torch.optim.Adam(ps, lr=lr)
    B = x.shape[2]
    state = (torch.zeros(1, B, H, dtype=dt), torch.zeros(1, B, H, dtype=dt))
    run, elapsed = NumpyRun(), 0.0
    xs, ys = torch.from_numpy(np.asarray(x)), torch.from_numpy(np.asarray(y))
    for k in range(updates):
        i = k % len(xs)
        if i == 0:
            state = tuple(torch.zeros_like(s) for s in state)
        start = time.perf_counter()
        out, state = lstm(F.one_hot(xs[i], V).to(dt), state)                   # (T, B, H)
        loss = F.cross_entropy(head(out).reshape(-1, V), ys[i].reshape(-1)) / LN2
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(ps, max_norm)
        opt.step()
        state = tuple(s.detach() for s in state)
        elapsed += time.perf_counter() - start
        run.losses.append(float(loss.detach()))
        run.seconds.append(elapsed)
    run.params = {k: p.detach().double().numpy().copy() for k, p in zip(KEYS, ps)}
    return run
