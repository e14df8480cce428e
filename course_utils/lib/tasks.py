"""Sequence tasks for notebook 08: two synthetic long-range benchmarks and one small real series.

All generators are seeded through a ``torch.Generator`` (pass one in, or a seed) and produce
time-major tensors ``x`` of shape (T, B, input_size), like ``torch.nn.RNN/LSTM/GRU``.

* :func:`adding_batch` — the *adding problem* (Hochreiter & Schmidhuber 1997, §5.4; in the form
  of Le, Jaitly & Hinton 2015 and Arjovsky, Shah & Bengio 2016): two channels, a random value
  in [0, 1) and a marker; exactly two steps are marked, one in each half of the sequence; the
  target is the sum of the two marked values. Always predicting 1 scores MSE = Var(u1 + u2) =
  2/12 ≈ 0.167 (:data:`ADDING_BASELINE_MSE`).
* :func:`copy_batch` — the *copy (memory) task* (Hochreiter & Schmidhuber 1997; Arjovsky et al.
  2016): 10 symbols from {1..8}, then T-1 blanks, a delimiter (9), and 10 blanks; the target is
  T+10 blanks followed by the 10 symbols. A memoryless model that outputs blanks and then a
  uniform guess scores cross entropy 10·log 8 / (T+20) per step (:func:`copy_baseline`).
* :func:`stock_windows` — Google's daily prices 2004-2008 shipped with matplotlib
  (``cbook.get_sample_data('goog.npz')``, no download): predict tomorrow's daily range
  log(high/low) — a volatility proxy, which clusters in time — from windows of the past days'
  standardised log-return and log-range, split chronologically into train / test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

ADDING_BASELINE_MSE = 1.0 / 6.0  # Var(u1 + u2) for u ~ U[0, 1): always answering 1
COPY_SYMBOLS = 8  # symbols 1..8; 0 = blank, 9 = delimiter
COPY_LENGTH = 10  # symbols to remember
COPY_CLASSES = 10  # one-hot input size and number of output classes


def _generator(rng: Any) -> Any:
    import torch

    if isinstance(rng, torch.Generator):
        return rng
    return torch.Generator().manual_seed(int(rng))


def adding_batch(T: int, batch: int, rng: Any) -> tuple[Any, Any]:
    """One batch of the adding problem.

    Returns ``x`` (T, B, 2) float32 — channel 0 the values, channel 1 the two markers — and
    ``y`` (B, 1), the sum of the two marked values. ``rng``: a torch.Generator or an int seed.
    """
    import torch

    if T < 2:
        raise ValueError("the adding problem needs T >= 2 (one marker in each half)")
    g = _generator(rng)
    values = torch.rand(T, batch, generator=g)  # (T, B)
    half = T // 2
    first = torch.randint(0, half, (batch,), generator=g)  # (B,) in the first half
    second = torch.randint(half, T, (batch,), generator=g)  # (B,) in the second half
    markers = torch.zeros(T, batch)
    cols = torch.arange(batch)
    markers[first, cols] = 1.0
    markers[second, cols] = 1.0
    x = torch.stack([values, markers], dim=-1)  # (T, B, 2)
    y = (values[first, cols] + values[second, cols]).unsqueeze(-1)  # (B, 1)
    return x, y


def copy_batch(T: int, batch: int, rng: Any) -> tuple[Any, Any]:
    """One batch of the copy task with delay ``T``.

    Returns ``x`` (T+20, B, 10) one-hot float32 and ``y`` (T+20, B) int64 class targets.
    """
    import torch

    if T < 1:
        raise ValueError("the copy task needs T >= 1")
    g = _generator(rng)
    L = T + 2 * COPY_LENGTH
    symbols = torch.randint(1, COPY_SYMBOLS + 1, (COPY_LENGTH, batch), generator=g)  # (10, B)
    inp = torch.zeros(L, batch, dtype=torch.long)
    inp[:COPY_LENGTH] = symbols
    inp[COPY_LENGTH + T - 1] = COPY_SYMBOLS + 1  # the delimiter: "now repeat"
    target = torch.zeros(L, batch, dtype=torch.long)
    target[-COPY_LENGTH:] = symbols
    x = torch.nn.functional.one_hot(inp, COPY_CLASSES).float()  # (L, B, 10)
    return x, target


def copy_baseline(T: int) -> float:
    """Cross entropy per step of the best memoryless strategy: 10·log 8 / (T + 20)."""
    return COPY_LENGTH * math.log(COPY_SYMBOLS) / (T + 2 * COPY_LENGTH)


def adding_mse_of_constant(T: int, batch: int, rng: Any, constant: float = 1.0) -> float:
    """Measured MSE of always answering ``constant`` (→ 1/6 for 1.0 as the batch grows)."""
    _, y = adding_batch(T, batch, rng)
    return float(((y - constant) ** 2).mean())


def copy_memoryless_ce(T: int, batch: int, rng: Any) -> float:
    """Measured cross entropy of the memoryless strategy (blank, then uniform over 1..8)."""
    import torch

    _, y = copy_batch(T, batch, rng)  # (L, B)
    L = y.shape[0]
    probs = torch.zeros(L, batch, COPY_CLASSES)
    probs[: L - COPY_LENGTH, :, 0] = 1.0
    probs[L - COPY_LENGTH:, :, 1:COPY_SYMBOLS + 1] = 1.0 / COPY_SYMBOLS
    logp = torch.log(probs.clamp_min(1e-30))
    nll = -logp.gather(-1, y.unsqueeze(-1)).squeeze(-1)  # (L, B)
    return float(nll.mean())


# --------------------------------------------------------------------------- real data
@dataclass
class StockData:
    """Windows of a real series, split chronologically; targets standardised with train stats."""

    x_train: Any  # (window, N_train, 2) float32
    y_train: Any  # (N_train, 1)
    x_test: Any  # (window, N_test, 2)
    y_test: Any  # (N_test, 1)
    persistence_test_mse: float  # "tomorrow's range = today's range", standardised units
    mean_test_mse: float  # "tomorrow's range = the training mean" (≈ variance of y_test)
    dates_test: Any  # numpy datetime64 of each test target


def load_goog() -> Any:
    """The structured numpy array of matplotlib's ``goog.npz`` (1047 trading days, 2004-2008)."""
    from matplotlib import cbook

    data = cbook.get_sample_data("goog.npz")
    return data["price_data"] if hasattr(data, "files") else data


def stock_windows(window: int = 20, train_fraction: float = 0.7) -> StockData:
    """Windows of (log-return, log-range) of GOOG; target: the next day's log-range.

    Features and target are standardised with the training part's mean and std only.
    """
    import numpy as np
    import torch

    p = load_goog()
    close = p["adj_close"].astype(np.float64)
    log_ret = np.diff(np.log(close))  # (D-1,) return of day d vs d-1
    log_range = np.log(p["high"] / p["low"])[1:]  # (D-1,) same days
    dates = p["date"][1:]
    feats = np.stack([log_ret, log_range], axis=1)  # (D-1, 2)
    n = len(feats) - window  # windows feats[i:i+window] -> target log_range[i+window]
    split = int(n * train_fraction)
    train_end = split + window  # days used by training windows and targets
    mu, sd = feats[:train_end].mean(0), feats[:train_end].std(0)
    z = (feats - mu) / sd  # (D-1, 2)
    target = z[:, 1]
    idx = np.arange(n)
    xs = np.stack([z[i:i + window] for i in idx], axis=1)  # (window, n, 2)
    ys = target[idx + window][:, None]  # (n, 1)
    today = target[idx + window - 1][:, None]
    test = slice(split, n)
    persistence = float(np.mean((today[test] - ys[test]) ** 2))
    mean_mse = float(np.mean(ys[test] ** 2))  # the train mean of z is 0
    return StockData(torch.tensor(xs[:, :split], dtype=torch.float32),
                     torch.tensor(ys[:split], dtype=torch.float32),
                     torch.tensor(xs[:, test], dtype=torch.float32),
                     torch.tensor(ys[test], dtype=torch.float32),
                     persistence, mean_mse, dates[idx[test] + window])


def stock_splits(window: int = 20, fractions: tuple[float, float] = (0.6, 0.2)) -> dict[str, Any]:
    """GOOG windows (as :func:`stock_windows`) split chronologically into train / valid / test
    (``fractions`` of the windows for train and valid, the rest test), standardised with the
    training days' statistics only. Returns ``{"train": (x, y), "valid": (x, y), "test": (x, y),
    "dates": {split: dates of targets}, "window": window}``; x (window, N, 2), y (N, 1)."""
    import numpy as np
    import torch

    p = load_goog()
    close = p["adj_close"].astype(np.float64)
    feats = np.stack([np.diff(np.log(close)), np.log(p["high"] / p["low"])[1:]], axis=1)
    dates = p["date"][1:]
    n = len(feats) - window
    a = int(n * fractions[0])
    b = a + int(n * fractions[1])
    mu, sd = feats[:a + window].mean(0), feats[:a + window].std(0)
    z = (feats - mu) / sd  # (D-1, 2)
    xs = np.stack([z[i:i + window] for i in range(n)], axis=1)  # (window, n, 2)
    ys = z[np.arange(n) + window, 1][:, None]  # (n, 1)
    out: dict[str, Any] = {"window": window, "dates": {}}
    for name, sl in (("train", slice(0, a)), ("valid", slice(a, b)), ("test", slice(b, n))):
        out[name] = (torch.tensor(xs[:, sl], dtype=torch.float32),
                     torch.tensor(ys[sl], dtype=torch.float32))
        out["dates"][name] = dates[np.arange(n)[sl] + window]
    return out


def series_baselines(data: dict[str, Any], spans: tuple[int, ...] = (2, 3, 5, 10, 20),
                     alphas: tuple[float, ...] = (0.1, 1.0, 10.0, 100.0, 1000.0)) -> dict[str, Any]:
    """The baselines a skeptic tries first on :func:`stock_splits`, each tuned on validation:
    ``mean`` (0, the training mean), ``persistence`` (tomorrow's range = today's), ``ewma`` (an
    exponentially weighted average of the window's ranges, span chosen on validation) and
    ``ridge`` (ridge regression on all lags of both features, penalty chosen on validation).
    Returns ``{name: {"valid": mse, "test": mse, "choice": ...}}``."""
    import numpy as np

    def xy(split: str) -> tuple[np.ndarray, np.ndarray]:
        x, y = data[split]
        return x.numpy().astype(np.float64), y.numpy()[:, 0].astype(np.float64)

    def mse(pred: np.ndarray, split: str) -> float:
        return float(np.mean((pred - xy(split)[1]) ** 2))

    out: dict[str, Any] = {}
    out["mean"] = {s: mse(np.zeros_like(xy(s)[1]), s) for s in ("valid", "test")} | {"choice": None}
    out["persistence"] = {s: mse(xy(s)[0][-1, :, 1], s) for s in ("valid", "test")} | {"choice": None}

    def ewma(x: np.ndarray, span: int) -> np.ndarray:
        a = 2.0 / (span + 1.0)
        w = (1 - a) ** np.arange(x.shape[0])[::-1]  # oldest .. newest
        return (w[:, None] * x[:, :, 1]).sum(0) / w.sum()

    span = min(spans, key=lambda s: mse(ewma(xy("valid")[0], s), "valid"))
    out["ewma"] = {s: mse(ewma(xy(s)[0], span), s) for s in ("valid", "test")} | {"choice": span}

    def flat(split: str) -> np.ndarray:
        x = xy(split)[0]  # (window, N, 2)
        return np.concatenate([x.transpose(1, 0, 2).reshape(x.shape[1], -1),
                               np.ones((x.shape[1], 1))], axis=1)

    A, y = flat("train"), xy("train")[1]

    def ridge(alpha: float) -> np.ndarray:
        reg = alpha * np.eye(A.shape[1])
        reg[-1, -1] = 0.0  # no penalty on the intercept
        return np.linalg.solve(A.T @ A + reg, A.T @ y)

    alpha = min(alphas, key=lambda al: mse(flat("valid") @ ridge(al), "valid"))
    w = ridge(alpha)
    out["ridge"] = {s: mse(flat(s) @ w, s) for s in ("valid", "test")} | {"choice": alpha}
    return out
