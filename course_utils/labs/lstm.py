"""Pictures for notebook 03 (LSTM): the cell diagram and the gate explorer.

* :func:`draw_lstm_cell` draws the LSTM cell of ``torch.nn.LSTM`` with matplotlib (no image
  file ships with the course): the cell-state "carousel" along the top, the four gate
  pre-activations from ``[x_t, h_{t-1}]``, and the point-wise operations.
* :func:`memory_lstm_params` hand-sets a 3-unit LSTM that stores a marked value until a recall
  signal; :func:`marker_sequence` makes its inputs; :func:`trace_lstm` records i, f, g, o, c, h
  at every step; :func:`plot_gates` draws them as heat maps; :func:`gate_explorer` wraps the
  plot in ipywidgets sliders (it renders once when the cell runs, so it works without a
  frontend, e.g. under nbval).

References: Hochreiter & Schmidhuber, "Long Short-Term Memory", Neural Computation 1997;
Gers, Schmidhuber & Cummins, "Learning to Forget", 2000; C. Olah, "Understanding LSTM
Networks", 2015 (the style of the diagram). Heavy imports (matplotlib, torch, ipywidgets) happen
inside the functions, so ``import course_utils`` stays light.
"""

from __future__ import annotations

from typing import Any

import numpy as np

GATE_COLOURS = {"i": "#1f77b4", "f": "#d62728", "g": "#2ca02c", "o": "#9467bd"}


# --------------------------------------------------------------------------- the diagram
def draw_lstm_cell(ax: Any = None) -> Any:
    """Draw one LSTM step as torch.nn.LSTM computes it; returns the matplotlib Axes."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

    if ax is None:
        _, ax = plt.subplots(figsize=(10, 5.2))
    ax.set_xlim(-0.6, 11.4)
    ax.set_ylim(-1.3, 6.6)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.grid(False)

    def arrow(points: list[tuple[float, float]], colour: str = "#333", lw: float = 1.6,
              head: bool = True) -> None:
        for k, (p, q) in enumerate(zip(points[:-1], points[1:])):
            last = head and k == len(points) - 2
            ax.add_patch(FancyArrowPatch(p, q, arrowstyle="-|>" if last else "-",
                                         mutation_scale=14, color=colour, lw=lw,
                                         shrinkA=0, shrinkB=0, zorder=1))

    def box(x: float, y: float, text: str, colour: str) -> None:
        ax.add_patch(FancyBboxPatch((x - 0.45, y - 0.3), 0.9, 0.6, boxstyle="round,pad=0.05",
                                    fc=colour, ec="black", lw=1.2, alpha=0.9, zorder=3))
        ax.text(x, y, text, ha="center", va="center", color="white", fontsize=12,
                fontweight="bold", zorder=4)

    def op(x: float, y: float, text: str) -> None:
        ax.add_patch(Circle((x, y), 0.28, fc="#fff3c4", ec="black", lw=1.2, zorder=3))
        ax.text(x, y, text, ha="center", va="center", fontsize=12, zorder=4)

    # the cell's outline
    ax.add_patch(FancyBboxPatch((0.8, -0.2), 9.0, 5.6, boxstyle="round,pad=0.1", fc="#f4f6fa",
                                ec="#8894a8", lw=1.5, zorder=0))
    top, bus = 4.6, 0.5
    xf, xi, xg, xo = 2.6, 4.2, 5.4, 7.2
    # cell-state carousel along the top: c_{t-1} -> (x f) -> (+ i*g) -> c_t
    arrow([(-0.4, top), (xf - 0.28, top)], lw=3.2)
    arrow([(xf + 0.28, top), (xg - 0.28, top)], lw=3.2)
    arrow([(xg + 0.28, top), (11.2, top)], lw=3.2)
    op(xf, top, "×")
    op(xg, top, "+")
    ax.text(-0.5, top + 0.35, r"$c_{t-1}$", fontsize=14)
    ax.text(10.7, top + 0.35, r"$c_t$", fontsize=14)
    # inputs: h_{t-1} from the left, x_t from below, joined into the bus [x_t, h_{t-1}]
    arrow([(-0.4, bus), (xo, bus)], head=False)
    arrow([(1.6, -1.1), (1.6, bus)], head=False)
    ax.text(-0.5, bus - 0.45, r"$h_{t-1}$", fontsize=14)
    ax.text(1.75, -1.1, r"$x_t$", fontsize=14)
    gy = 1.7
    for x, name, fn in ((xf, "f", "σ"), (xi, "i", "σ"), (xg, "g", "tanh"), (xo, "o", "σ")):
        arrow([(x, bus), (x, gy - 0.36)])
        box(x, gy, fn, GATE_COLOURS[name])
        ax.text(x + 0.52, gy + 0.42, f"${name}_t$", fontsize=13, color=GATE_COLOURS[name])
    # f -> x on the carousel
    arrow([(xf, gy + 0.36), (xf, top - 0.28)], colour=GATE_COLOURS["f"])
    # i, g -> (x) -> + on the carousel
    yig = 3.1
    op(xg, yig, "×")
    arrow([(xi, gy + 0.36), (xi, yig), (xg - 0.28, yig)], colour=GATE_COLOURS["i"])
    arrow([(xg, gy + 0.36), (xg, yig - 0.28)], colour=GATE_COLOURS["g"])
    arrow([(xg, yig + 0.28), (xg, top - 0.28)], colour="#333")
    # c_t -> tanh -> (x o) -> h_t
    xh = 8.6
    arrow([(xh, top), (xh, 3.5)])
    ax.add_patch(FancyBboxPatch((xh - 0.42, 2.95), 0.84, 0.5, boxstyle="round,pad=0.05",
                                fc="#fff3c4", ec="black", lw=1.2, zorder=3))
    ax.text(xh, 3.2, "tanh", ha="center", va="center", fontsize=11, zorder=4)
    op(xh, 1.7, "×")
    arrow([(xh, 2.95), (xh, 1.98)])
    arrow([(xo + 0.45, gy), (xh - 0.28, 1.7)], colour=GATE_COLOURS["o"])
    arrow([(xh, 1.42), (xh, bus), (11.2, bus)], lw=2.2)
    arrow([(xh + 0.9, bus), (xh + 0.9, -1.1)], lw=2.2)
    ax.text(10.7, bus + 0.2, r"$h_t$", fontsize=14)
    ax.text(xh + 1.0, -1.1, r"$h_t$ (output)", fontsize=11)
    # the equations, in torch's gate order
    ax.text(0.95, 6.0, r"$[i\,|\,f\,|\,g\,|\,o] = x_t W_{ih}^\top + b_{ih} + h_{t-1} W_{hh}^\top"
            r" + b_{hh}$  (then σ, σ, tanh, σ)" "\n"
            r"$c_t = f_t \odot c_{t-1} + i_t \odot g_t$,    $h_t = o_t \odot \tanh(c_t)$",
            fontsize=11, va="center")
    ax.set_title("One LSTM step (torch.nn.LSTM, gate order i, f, g, o)")
    return ax


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
