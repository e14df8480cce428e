"""Notebook 01 (RNN basics): drawings of the unrolled RNN and the step-through explorer.

Imported on use (pulls in matplotlib; the explorer also ipywidgets). The explorer renders its
first view at once, so a notebook executed headless (nbval) still shows a picture.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch


def _box(ax: Any, xy: tuple[float, float], text: str, color: str, w: float = 0.8, h: float = 0.5) -> None:
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.03",
                                fc=color, ec="#333", lw=1))
    ax.text(x, y, text, ha="center", va="center", fontsize=9)


def _arrow(ax: Any, a: tuple[float, float], b: tuple[float, float], color: str = "#333") -> None:
    ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=10, color=color, lw=1.2))


def draw_unrolled_rnn(ax: Any, steps: int, current: int | None = None,
                      values: np.ndarray | None = None) -> Any:
    """The RNN unrolled over ``steps`` time steps: x_t -> [cell] -> h_t, h_{t-1} -> cell.

    ``current`` highlights one step; ``values`` (T, H) prints each h_t's norm under its box.
    One set of weights (W_ih, W_hh, b) is shared by every box: that is parameter sharing.
    """
    ax.set_xlim(-1.0, steps + 0.2)
    ax.set_ylim(-0.9, 2.3)
    ax.axis("off")
    _box(ax, (-0.45, 1.0), "h0", "#eeeeee", w=0.5)
    for t in range(steps):
        active = current is None or t <= current
        cell_color = "#ffcc80" if t == current else ("#fff3e0" if active else "#f5f5f5")
        _box(ax, (t + 0.5, 1.0), "RNN cell", cell_color)
        _box(ax, (t + 0.5, -0.3), f"x{t + 1}", "#e3f2fd" if active else "#f5f5f5", w=0.5, h=0.4)
        _box(ax, (t + 0.5, 2.0), f"h{t + 1}", "#e8f5e9" if active else "#f5f5f5", w=0.5, h=0.4)
        _arrow(ax, (t + 0.5, -0.1), (t + 0.5, 0.75))
        _arrow(ax, (t + 0.5, 1.25), (t + 0.5, 1.8))
        _arrow(ax, (t - 0.1 if t else -0.2, 1.0), (t + 0.1, 1.0), "#c62828")
        if values is not None and active:
            ax.text(t + 0.5, 2.3, f"|h|={np.linalg.norm(values[t]):.2f}", ha="center", fontsize=7)
    ax.set_title("The RNN unrolled in time: one cell, the same weights at every step "
                 "(red: the state h carried forward)", fontsize=9)
    return ax


def heatmap(ax: Any, data: np.ndarray, title: str, xlabel: str, ylabel: str,
            cmap: str = "RdBu_r", vmin: float = -1.0, vmax: float = 1.0, colorbar_label: str = "") -> Any:
    """A labelled heat map, ``data`` indexed (row, column)."""
    im = ax.imshow(data, aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(False)
    cb = plt.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    if colorbar_label:
        cb.set_label(colorbar_label)
    return im


def rnn_stepper(x: np.ndarray, hs: np.ndarray, batch_index: int = 0) -> Any:
    """Step through time: the unrolled RNN with step t highlighted, and h_1..h_t as a heat map.

    x  : (T, B, I) the inputs;  hs : (T, B, H) the hidden states ``output`` of rnn_forward.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    T = hs.shape[0]

    def show(t: int) -> None:
        fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(8, 5.2), gridspec_kw={"height_ratios": [1.1, 1]})
        draw_unrolled_rnn(ax0, T, current=t - 1, values=hs[:, batch_index])
        shown = np.full((hs.shape[2], T), np.nan)
        shown[:, :t] = hs[:t, batch_index].T
        heatmap(ax1, shown, f"hidden state after step {t} of {T} (sequence {batch_index})",
                "time step t", "hidden unit", colorbar_label="h value (tanh range -1..1)")
        ax1.set_xticks(range(T), [str(i + 1) for i in range(T)])
        fig.tight_layout()
        plt.show()

    slider = widgets.IntSlider(value=T, min=1, max=T, step=1, description="step t",
                               continuous_update=False)
    return widgets.interactive(show, t=slider)
