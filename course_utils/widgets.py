"""ipywidgets explorers shared by the notebooks (imported on use: pulls in ipywidgets, matplotlib).

Each function builds its widget, renders the first view at once (so a notebook executed
headless, e.g. by nbval, still shows a picture) and returns the widget.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np


def rnn_stepper(x: np.ndarray, hs: np.ndarray, batch_index: int = 0) -> Any:
    """Step through time: the unrolled RNN with step t highlighted, and h_1..h_t as a heat map.

    x  : (T, B, I) the inputs;  hs : (T, B, H) the hidden states ``output`` of rnn_forward.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from .plots import draw_unrolled_rnn, heatmap

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


def function_explorer(functions: dict[str, Callable[[np.ndarray], np.ndarray]],
                      xlim: tuple[float, float] = (-6.0, 6.0)) -> Any:
    """Plot squashing functions; sliders shift and scale the input, ``f(w * a + b)``."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    a = np.linspace(*xlim, 400)

    def show(w: float = 1.0, b: float = 0.0) -> None:
        fig, ax = plt.subplots(figsize=(6.5, 3.2))
        for name, f in functions.items():
            ax.plot(a, f(w * a + b), label=f"{name}(w·a + b)")
        ax.axhline(0, color="#999", lw=0.8)
        ax.set_title(f"Squashing functions, w = {w:.1f}, b = {b:.1f}")
        ax.set_xlabel("pre-activation a (dimensionless)")
        ax.set_ylabel("output (dimensionless)")
        ax.legend(loc="upper left")
        plt.show()

    return widgets.interactive(
        show,
        w=widgets.FloatSlider(value=1.0, min=-3.0, max=3.0, step=0.1, continuous_update=False),
        b=widgets.FloatSlider(value=0.0, min=-4.0, max=4.0, step=0.1, continuous_update=False))
