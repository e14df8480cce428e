"""Notebook 03: a hand-set memory LSTM (store / keep / recall), its gate trace and the gate
explorer (ipywidgets). Heavy imports (matplotlib, ipywidgets) happen inside the functions."""

from __future__ import annotations

from typing import Any

import numpy as np

# --------------------------------------------------------------------------- a hand-set memory LSTM
UNIT_NAMES = ("memory", "tracker", "integrator")
INPUT_NAMES = ("value", "store", "recall")


def memory_lstm_params(sharpness: float = 8.0) -> tuple[np.ndarray, ...]:
    """Weights (torch layout, gate order i, f, g, o) of a hand-set LSTM with 3 inputs
    (value, store flag, recall flag) and 3 units:

    * unit 0, *memory*: writes g = tanh(value) only when ``store`` = 1 (i ≈ 1, f ≈ 0 there),
      keeps it otherwise (f = σ(sharpness) ≈ 1, i ≈ 0), shows it only when ``recall`` = 1 (o ≈ 1);
    * unit 1, *tracker*: forgets everything every step (f ≈ 0, i ≈ 1, o ≈ 1): c = tanh(value);
    * unit 2, *integrator*: keeps everything and adds every input (f ≈ 1, i ≈ 1): a running sum.

    Returns ``W_ih`` (12, 3), ``W_hh`` (12, 3), ``b_ih`` (12,), ``b_hh`` (12,) (b_hh = 0).
    """
    s, H, I = sharpness, 3, 3
    W_ih = np.zeros((4 * H, I))
    b = np.zeros(4 * H)
    i, f, g, o = (slice(k * H, (k + 1) * H) for k in range(4))
    V, S, R = 0, 1, 2
    # unit 0: memory
    W_ih[i.start + 0, S], b[i.start + 0] = 2 * s, -s          # open only on store
    W_ih[f.start + 0, S], b[f.start + 0] = -2 * s, s          # keep, except on store
    W_ih[g.start + 0, V] = 1.0                                 # candidate = tanh(value)
    W_ih[o.start + 0, R], b[o.start + 0] = 2 * s, -s          # show only on recall
    # unit 1: tracker
    b[i.start + 1], b[f.start + 1], b[o.start + 1] = s, -s, s
    W_ih[g.start + 1, V] = 1.0
    # unit 2: integrator (small steps so the sum stays in tanh's linear range)
    b[i.start + 2], b[f.start + 2], b[o.start + 2] = s, s, s
    W_ih[g.start + 2, V] = 0.3
    return W_ih, np.zeros((4 * H, H)), b, np.zeros(4 * H)


def marker_sequence(T: int = 30, store_at: int = 5, value: float = 0.8, recall_at: int | None = None,
                    seed: int = 0) -> np.ndarray:
    """Inputs (T, 1, 3): random distractor values in [-1, 1] on channel 0 at every step, the
    value to remember at ``store_at`` (store flag = 1 there), recall flag = 1 at ``recall_at``
    (default: the last step)."""
    rng = np.random.default_rng(seed)
    x = np.zeros((T, 1, 3))
    x[:, 0, 0] = rng.uniform(-1.0, 1.0, T)
    x[store_at, 0, 0] = value
    x[store_at, 0, 1] = 1.0
    x[T - 1 if recall_at is None else recall_at, 0, 2] = 1.0
    return x


def trace_lstm(x: np.ndarray, W_ih: np.ndarray, W_hh: np.ndarray, b_ih: np.ndarray,
               b_hh: np.ndarray, h0: np.ndarray | None = None, c0: np.ndarray | None = None
               ) -> dict[str, np.ndarray]:
    """Run an LSTM (torch.nn.LSTM's equations, float64) and record every internal signal.

    Returns a dict of arrays (T, B, H) with keys "i", "f", "g", "o", "c", "h". The final
    ``h`` and ``c`` agree with torch.nn.LSTM (the notebook checks this).
    """
    import torch

    T, B, _ = x.shape
    H = W_hh.shape[1]
    Wi, Wh, b = (torch.from_numpy(np.asarray(a, dtype=np.float64)) for a in (W_ih, W_hh, b_ih + b_hh))
    h = torch.zeros(B, H, dtype=torch.float64) if h0 is None else torch.from_numpy(h0)
    c = torch.zeros(B, H, dtype=torch.float64) if c0 is None else torch.from_numpy(c0)
    rec: dict[str, list] = {k: [] for k in "ifgoch"}
    for t in range(T):
        a_i, a_f, a_g, a_o = (torch.from_numpy(x[t]) @ Wi.T + h @ Wh.T + b).chunk(4, dim=1)
        gates = {"i": a_i.sigmoid(), "f": a_f.sigmoid(), "g": a_g.tanh(), "o": a_o.sigmoid()}
        c = gates["f"] * c + gates["i"] * gates["g"]
        h = gates["o"] * c.tanh()
        for k, v in {**gates, "c": c, "h": h}.items():
            rec[k].append(v)
    return {k: torch.stack(v).numpy() for k, v in rec.items()}


def plot_gates(x: np.ndarray, trace: dict[str, np.ndarray], title: str = "", batch: int = 0,
               unit_names: tuple[str, ...] = UNIT_NAMES, input_names: tuple[str, ...] = INPUT_NAMES
               ) -> Any:
    """Heat maps (unit × time step) of the inputs and of i, f, o, c, plus h over time."""
    import matplotlib.pyplot as plt

    rows = [("input x_t", x[:, batch].T, "coolwarm", (-1, 1), input_names),
            ("input gate i", trace["i"][:, batch].T, "Blues", (0, 1), unit_names),
            ("forget gate f", trace["f"][:, batch].T, "Reds", (0, 1), unit_names),
            ("output gate o", trace["o"][:, batch].T, "Purples", (0, 1), unit_names),
            ("cell state c", trace["c"][:, batch].T, "coolwarm", None, unit_names)]
    T = x.shape[0]
    fig, axes = plt.subplots(len(rows) + 1, 1, figsize=(9, 9.5), sharex=True,
                             gridspec_kw={"height_ratios": [1] * len(rows) + [1.4]})
    for ax, (name, data, cmap, lim, labels) in zip(axes, rows):
        if lim is None:
            m = max(float(np.abs(data).max()), 1e-9)
            lim = (-m, m)
        im = ax.imshow(data, aspect="auto", cmap=cmap, vmin=lim[0], vmax=lim[1],
                       interpolation="nearest", extent=(-0.5, T - 0.5, len(labels) - 0.5, -0.5))
        ax.set_yticks(range(len(labels)), labels)
        ax.set_title(name, loc="left", fontsize=10)
        ax.grid(False)
        fig.colorbar(im, cax=ax.inset_axes([1.01, 0.0, 0.015, 1.0]), label="(unitless)")
    ax = axes[-1]
    for k, name in enumerate(unit_names):
        ax.plot(trace["h"][:, batch, k], marker=".", label=f"h[{name}]")
    ax.set_title("hidden state h = o * tanh(c)", loc="left", fontsize=10)
    ax.set_ylabel("h (unitless)")
    ax.set_xlabel("time step t")
    # above the axes, right of the title: inside, it would hide the curves it names
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=8, ncol=3, frameon=False,
              borderaxespad=0.2)
    fig.suptitle(title or "LSTM gates over time")
    fig.subplots_adjust(left=0.11, right=0.9, top=0.93, bottom=0.06, hspace=0.45)
    return fig


def gate_explorer(params: tuple[np.ndarray, ...] | None = None, T: int = 30, store_at: int = 5,
                  value: float = 0.8, recall_at: int | None = None, seed: int = 0) -> Any:
    """Sliders (store position, value, recall position, distractor seed) over
    :func:`plot_gates` for the hand-set memory LSTM (or ``params``), starting at the given
    settings. Renders once at creation; returns the widget box (display it, or let it be the
    cell's last expression)."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    params = memory_lstm_params() if params is None else params
    store = widgets.IntSlider(store_at, 0, T - 1, description="store at t")
    value = widgets.FloatSlider(value, min=-1.0, max=1.0, step=0.05, description="value")
    recall = widgets.IntSlider(T - 1 if recall_at is None else recall_at, 0, T - 1,
                               description="recall at t")
    seed = widgets.IntSlider(seed, 0, 20, description="distractors")

    def render(store_at: int, value: float, recall_at: int, seed: int) -> None:
        x = marker_sequence(T, store_at, value, recall_at, seed)
        tr = trace_lstm(x, *params)
        recalled = tr["h"][recall_at, 0, 0]
        plot_gates(x, tr, title=f"stored {value:+.2f} at t={store_at}; at recall t={recall_at} "
                                f"h[memory] = {recalled:+.3f} (tanh(tanh(value)) = "
                                f"{np.tanh(np.tanh(value)):+.3f})")
        plt.show()

    out = widgets.interactive_output(render, {"store_at": store, "value": value,
                                              "recall_at": recall, "seed": seed})
    return widgets.VBox([widgets.HBox([store, value]), widgets.HBox([recall, seed]), out])
