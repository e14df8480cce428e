"""Helpers of notebook 05 (backprop through the gates).

* :func:`init_params` — PyTorch's default initialisation (uniform in ±1/sqrt(H)) in numpy, with
  the bias of one gate block set by hand (the LSTM's forget gate, the GRU's update gate z);
* :func:`lstm_trace` / :func:`gru_trace` — the forward pass with every gate recorded
  (torch.nn's equations, computed with torch in float64; the numpy forward is notebook 03's
  and 04's exercise, so it does not ship here);
* :func:`state_gradients` — **with the learner's own backward** (``lstm_backward`` or
  ``gru_backward``), the gradient of ``L = u · h_T`` with respect to every intermediate state:
  running the backward on the suffix ``x[t:]`` from the states after step t gives
  ``dL/dc_t`` (``dc0``) and ``dL/dh_t`` (``dh0``). Beside it, the part that travels only along
  the carousel (the product of forget gates, Hochreiter & Schmidhuber 1997; for the GRU the
  product of update gates z) and the one-step identity
  ``dL/dc_t = f_{t+1} dL/dc_{t+1} + o_t tanh'(c_t) dL/dh_t`` as a consistency check;
* :func:`plot_state_gradients` — those norms against the lag, log scale;
* :func:`gradient_check` — a learner's ``numerical_gradient`` against a learner's backward,
  relative error per argument (CS231n notes, "Gradient checks").

References: Hochreiter & Schmidhuber, "Long Short-Term Memory", Neural Computation 1997;
Greff et al., "LSTM: A Search Space Odyssey", IEEE TNNLS 2017 (the LSTM gradients);
Cho et al. 2014 (GRU). numpy at module level; torch and matplotlib inside the functions.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

GATES = {"lstm": 4, "gru": 3}
KEYS = {"lstm": ("x", "h0", "c0", "W_ih", "W_hh", "b_ih", "b_hh"),
        "gru": ("x", "h0", "W_ih", "W_hh", "b_ih", "b_hh")}


def init_params(kind: str, input_size: int, hidden: int, seed: int = 0,
                gate_bias: float | None = None) -> tuple[np.ndarray, ...]:
    """``W_ih, W_hh, b_ih, b_hh`` as torch.nn.LSTM / GRU initialise them (uniform in
    ±1/sqrt(hidden)), float64. ``gate_bias`` sets block 1 of ``b_ih`` (the LSTM's forget gate
    f, the GRU's update gate z) to that value and the same block of ``b_hh`` to 0."""
    G, k = GATES[kind], 1.0 / np.sqrt(hidden)
    rng = np.random.default_rng(seed)
    W_ih = rng.uniform(-k, k, (G * hidden, input_size))
    W_hh = rng.uniform(-k, k, (G * hidden, hidden))
    b_ih, b_hh = rng.uniform(-k, k, G * hidden), rng.uniform(-k, k, G * hidden)
    if gate_bias is not None:
        b_ih[hidden:2 * hidden] = gate_bias
        b_hh[hidden:2 * hidden] = 0.0
    return W_ih, W_hh, b_ih, b_hh


def lstm_trace(x: np.ndarray, h0: np.ndarray, c0: np.ndarray, W_ih: np.ndarray,
               W_hh: np.ndarray, b_ih: np.ndarray, b_hh: np.ndarray) -> dict[str, np.ndarray]:
    """torch.nn.LSTM's forward (float64) with the gates recorded: ``h``, ``c`` (T + 1, B, H),
    index 0 the initial state; ``i``, ``f``, ``g``, ``o`` (T, B, H) of steps 1 .. T."""
    import torch

    H = W_hh.shape[1]
    Wi, Wh = torch.from_numpy(W_ih), torch.from_numpy(W_hh)
    b = torch.from_numpy(b_ih + b_hh)
    h, c = torch.from_numpy(h0), torch.from_numpy(c0)
    rec: dict[str, list] = {"h": [h], "c": [c], "i": [], "f": [], "g": [], "o": []}
    for t in range(x.shape[0]):
        a = torch.from_numpy(x[t]) @ Wi.T + h @ Wh.T + b                   # (B, 4H)
        i, f = a[:, :H].sigmoid(), a[:, H:2 * H].sigmoid()
        g, o = a[:, 2 * H:3 * H].tanh(), a[:, 3 * H:].sigmoid()
        c = f * c + i * g
        h = o * c.tanh()
        for k, v in zip("hcifgo", (h, c, i, f, g, o)):
            rec[k].append(v)
    return {k: torch.stack(v).numpy() for k, v in rec.items()}


def gru_trace(x: np.ndarray, h0: np.ndarray, W_ih: np.ndarray, W_hh: np.ndarray,
              b_ih: np.ndarray, b_hh: np.ndarray) -> dict[str, np.ndarray]:
    """torch.nn.GRU's forward (float64, reset-after) with the gates recorded: ``h``
    (T + 1, B, H), index 0 the initial state; ``r``, ``z``, ``n`` (T, B, H)."""
    import torch

    H = W_hh.shape[1]
    Wi, Wh = torch.from_numpy(W_ih), torch.from_numpy(W_hh)
    bi, bh = torch.from_numpy(b_ih), torch.from_numpy(b_hh)
    h = torch.from_numpy(h0)
    rec: dict[str, list] = {"h": [h], "r": [], "z": [], "n": []}
    for t in range(x.shape[0]):
        gi = torch.from_numpy(x[t]) @ Wi.T + bi                            # (B, 3H)
        gh = h @ Wh.T + bh                                                 # (B, 3H)
        r = (gi[:, :H] + gh[:, :H]).sigmoid()
        z = (gi[:, H:2 * H] + gh[:, H:2 * H]).sigmoid()
        n = (gi[:, 2 * H:] + r * gh[:, 2 * H:]).tanh()
        h = (1 - z) * n + z * h
        for k, v in zip("hrzn", (h, r, z, n)):
            rec[k].append(v)
    return {k: torch.stack(v).numpy() for k, v in rec.items()}


def state_gradients(backward: Callable[..., dict], kind: str, x: np.ndarray,
                    params: tuple[np.ndarray, ...], u: np.ndarray) -> dict[str, Any]:
    """Norms of ``dL/d state_t`` for ``L = u · h_T``, from ``backward`` (the exercise's
    signature) run on every suffix ``x[t:]`` from the states after step t.

    Returns norms indexed by lag k = T - t (k = 1 .. T - 1, states t = T-1 .. 1):

    * LSTM: the suffix's ``dc0`` is dL/dc_t with h_t held fixed: the part that arrives
      **along the cell** from c_{t+1} (``along_c``); ``through_h`` = o_t tanh'(c_t) dL/dh_t
      (``dh0``) the part that arrives **through h_t**; ``full`` = their sum, dL/dc_t;
      ``carousel`` = ||dL/dc_T * prod_{s>t} f_s|| (the cell path alone, notebook 03), and
      ``identity_error`` = max |along_c_t - f_{t+1} dL/dc_{t+1}| (0 up to rounding when the
      backward is right);
    * GRU: ``full`` = ||dL/dh_t|| (``dh0``), ``carousel`` = ||u * prod_{s>t} z_s|| (the
      direct path h_{t-1} -> h_t alone), ``identity_error`` absent;
    * ``gate_mean``: the mean of f (LSTM) or z (GRU) over all steps and units.
    """
    T, B, _ = x.shape
    H = params[1].shape[1]
    go = np.zeros((T, B, H))
    go[-1] = u                                                             # L = u . h_T
    if kind == "lstm":
        tr = lstm_trace(x, np.zeros((B, H)), np.zeros((B, H)), *params)
        along, dh = np.empty((T + 1, B, H)), np.empty((T + 1, B, H))
        for t in range(1, T):
            d = backward(x[t:], tr["h"][t], tr["c"][t], *params, go[t:])
            along[t], dh[t] = np.asarray(d["c0"]), np.asarray(d["h0"])   # h_t held fixed
        along[T], dh[T] = 0.0, u
        # h_t = o_t tanh(c_t): the part of dL/dc_t that arrives through h_t (o_t: index t-1)
        via_h = np.zeros((T + 1, B, H))
        via_h[1:] = tr["o"] * (1 - np.tanh(tr["c"][1:]) ** 2) * dh[1:]
        full = along + via_h                                               # dL/dc_t, total
        f = tr["f"]                                                        # f[s-1] = f_s
        carousel = np.empty((T + 1, B, H))
        carousel[T] = full[T]
        for t in range(T - 1, -1, -1):
            carousel[t] = carousel[t + 1] * f[t]
        ident = np.array([np.abs(along[t] - f[t] * full[t + 1]).max() for t in range(1, T)])
        out = {"full": full, "along_c": along, "through_h": via_h, "carousel": carousel}
        gate = f
    else:
        tr = gru_trace(x, np.zeros((B, H)), *params)
        dh = np.empty((T + 1, B, H))
        for t in range(1, T):
            dh[t] = np.asarray(backward(x[t:], tr["h"][t], *params, go[t:])["h0"])
        dh[T] = u
        carousel = np.empty((T + 1, B, H))
        carousel[T] = u
        for t in range(T - 1, -1, -1):
            carousel[t] = carousel[t + 1] * tr["z"][t]
        out, ident, gate = {"full": dh, "carousel": carousel}, None, tr["z"]
    res: dict[str, Any] = {"lag": np.arange(1, T), "gate_mean": float(gate.mean())}
    for k, v in out.items():                       # states t = T-1 .. 1, i.e. lags 1 .. T-1
        res[k] = np.linalg.norm(v[1:T].reshape(T - 1, -1), axis=1)[::-1]
    if ident is not None:
        res["identity_error"] = float(ident.max())
    return res


def plot_state_gradients(results: dict[str, dict[str, Any]], title: str, ylabel: str,
                         ax: Any = None, dashed: str = "carousel path only") -> Any:
    """Semilog plot of ``full`` (solid) and ``carousel`` (dashed, labelled ``dashed``) against
    the lag; the legend sits to the right of the axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for i, (label, r) in enumerate(results.items()):
        ax.semilogy(r["lag"], r["full"], color=f"C{i}", lw=2, label=f"{label}: full gradient")
        ax.semilogy(r["lag"], r["carousel"], color=f"C{i}", ls="--", lw=1.2,
                    label=f"{label}: {dashed}")
    ax.set_xlabel("lag T - t (time steps between the state and the loss)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


# --------------------------------------------------------------------------- gradient check
def sequence_loss(kind: str, x: np.ndarray, *rest: np.ndarray) -> float:
    """``L = sum(output * grad_output)`` of torch.nn.LSTM / GRU (float64) on numpy arguments
    ``(x, h0, [c0,] W_ih, W_hh, b_ih, b_hh, grad_output)``."""
    import torch

    n_state = 2 if kind == "lstm" else 1
    states, (W_ih, W_hh, b_ih, b_hh, g) = rest[:n_state], rest[n_state:]
    H, I = W_hh.shape[1], W_ih.shape[1]
    module = (torch.nn.LSTM if kind == "lstm" else torch.nn.GRU)(I, H).double()
    with torch.no_grad():
        for name, value in zip(("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"),
                               (W_ih, W_hh, b_ih, b_hh)):
            getattr(module, name).copy_(torch.from_numpy(np.asarray(value, dtype=np.float64)))
        st = tuple(torch.from_numpy(np.asarray(s, dtype=np.float64))[None] for s in states)
        out, _ = module(torch.from_numpy(np.asarray(x, dtype=np.float64)),
                        st if kind == "lstm" else st[0])
    return float((out.numpy() * g).sum())


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """||a - b|| / (||a|| + ||b||): 0 when equal, 1 when opposite or one is zero."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    den = float(np.linalg.norm(a) + np.linalg.norm(b))
    return float(np.linalg.norm(a - b)) / den if den > 0 else 0.0


def gradient_check(numerical_gradient: Callable[..., np.ndarray], backward: Callable[..., dict],
                   kind: str, args: tuple[np.ndarray, ...], eps: float = 1e-6
                   ) -> dict[str, float]:
    """Relative error between ``backward(*args)`` and ``numerical_gradient`` of the loss with
    respect to each argument, one entry of the dict per gradient name."""
    keys = KEYS[kind]
    analytic = backward(*(np.array(a) for a in args))
    errors = {}
    for j, name in enumerate(keys):
        def f(value: np.ndarray, j: int = j) -> float:
            return sequence_loss(kind, *args[:j], value, *args[j + 1:])
        numeric = numerical_gradient(f, np.array(args[j], dtype=np.float64), eps)
        errors[name] = relative_error(analytic[name], numeric)
    return errors
