"""Notebook 02: the tanh RNN unrolled into its computational graph, with the forward pass and
the gradients of backpropagation through time on the same picture (Werbos 1990; Goodfellow,
Bengio & Courville 2016, *Deep Learning*, §10.2.2, fig. 10.3). matplotlib is imported inside."""

from __future__ import annotations

from typing import Any

FORWARD, BACKWARD = "#333333", "#c62828"


def _node(ax: Any, x: float, y: float, text: str, colour: str) -> None:
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x - 0.38, y - 0.24), 0.76, 0.48, boxstyle="round,pad=0.04",
                                fc=colour, ec="#333", lw=1.1, zorder=3))
    ax.text(x, y, text, ha="center", va="center", fontsize=11, zorder=4)


def _edge(ax: Any, a: tuple[float, float], b: tuple[float, float], colour: str,
          dashed: bool = False, label: str = "", offset: tuple[float, float] = (0.0, 0.0)) -> None:
    from matplotlib.patches import FancyArrowPatch

    ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=12, color=colour, lw=1.4,
                                 ls="--" if dashed else "-", shrinkA=13, shrinkB=13, zorder=2))
    if label:
        ax.text((a[0] + b[0]) / 2 + offset[0], (a[1] + b[1]) / 2 + offset[1], label, fontsize=8.5,
                color=colour, ha="center", va="center", zorder=5,
                bbox={"fc": "white", "ec": "none", "alpha": 0.8, "pad": 0.5})


def draw_bptt_graph(T: int = 3, ax: Any = None) -> Any:
    """The unrolled graph of ``T`` steps: x_t -> a_t -> h_t -> loss (black, forward), and the
    backward messages (red, dashed): g_t into h_t, delta a_{t+1} W_hh from the next step,
    delta a_t = delta h_t * (1 - h_t^2), and delta a_t W_ih into x_t. Returns the Axes."""
    import matplotlib.pyplot as plt

    if T < 2:
        raise ValueError(f"draw at least 2 steps (got T={T}) so that a step has a successor")
    if ax is None:
        _, ax = plt.subplots(figsize=(2.9 * T + 2.2, 5.0))
    dx, ya, yh, yl, yx = 2.9, 1.4, 2.9, 4.3, 0.0
    ax.set_xlim(-0.8, dx * T + 0.9)
    ax.set_ylim(-0.9, 5.0)
    ax.axis("off")
    ax.grid(False)
    _node(ax, 0.0, yh, "$h_0$", "#eeeeee")
    for t in range(1, T + 1):
        x = dx * t
        _node(ax, x, yx, f"$x_{t}$", "#e3f2fd")
        _node(ax, x, ya, f"$a_{t}$", "#fff3e0")
        _node(ax, x, yh, f"$h_{t}$", "#e8f5e9")
        _node(ax, x, yl, f"$L_{t}$", "#f3e5f5")
        # forward
        _edge(ax, (x - 0.12, yx), (x - 0.12, ya), FORWARD)
        _edge(ax, (x - 0.12, ya), (x - 0.12, yh), FORWARD, label="tanh", offset=(-0.42, 0))
        _edge(ax, (x - 0.12, yh), (x - 0.12, yl), FORWARD)
        _edge(ax, (x - dx, yh - 0.05), (x - 0.1, ya + 0.1), FORWARD, label="$W_{hh}$",
              offset=(-0.55, 0.3))
        # backward
        _edge(ax, (x + 0.12, yl), (x + 0.12, yh), BACKWARD, True, f"$g_{t}$", (0.3, 0))
        _edge(ax, (x + 0.12, yh), (x + 0.12, ya), BACKWARD, True, f"$\\odot(1-h_{t}^2)$", (0.62, 0))
        _edge(ax, (x + 0.12, ya), (x + 0.12, yx), BACKWARD, True, "$\\delta a\\,W_{ih}$", (0.52, 0))
        _edge(ax, (x + 0.15, ya - 0.1), (x - dx + 0.15, yh - 0.2), BACKWARD, True,
              f"$\\delta a_{t} W_{{hh}}$", (0.45, -0.42))
    ax.text(-0.7, yl + 0.55, "forward: black\nbackward (BPTT): red, dashed\n"
            r"$\delta h_t = g_t + \delta a_{t+1} W_{hh}$" "\n" r"$\delta a_t = \delta h_t \odot (1-h_t^2)$",
            fontsize=9, va="top", ha="left", color=BACKWARD)
    ax.text(dx * (T + 1) / 2, -0.75, "one set of weights for every step: "
            r"$\partial L/\partial W_{hh} = \sum_t \delta a_t^\top h_{t-1}$, "
            r"$\partial L/\partial W_{ih} = \sum_t \delta a_t^\top x_t$",
            fontsize=9.5, ha="center")
    ax.set_title(f"A tanh RNN unrolled over {T} steps: the forward graph and the gradients of BPTT")
    return ax
