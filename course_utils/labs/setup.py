"""Notebook 00 (setup): the squashing-function explorer (imported on use: ipywidgets, matplotlib)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np


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
