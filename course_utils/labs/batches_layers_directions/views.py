"""Notebook 06, sections 1-2: what each output of a deep / bidirectional LSTM can see
(autograd sensitivity maps), and ``nn.LSTM``'s layouts as PyTorch itself reports them.

References: Schuster & Paliwal (1997), "Bidirectional recurrent neural networks", IEEE TSP 45(11);
PyTorch documentation of ``torch.nn.LSTM``.
"""

from __future__ import annotations

from typing import Any

import numpy as np


# --------------------------------------------------------------------------- what an output sees
def sensitivity_maps(T: int = 12, I: int = 3, H: int = 8, seed: int = 0) -> dict[str, np.ndarray]:
    """||d output[t, half] / d x[s]|| for every (t, s), by autograd, for a 1-layer and a 2-layer
    bidirectional ``nn.LSTM`` (PyTorch's default initialisation, float64, batch 1).

    Returns ``{title: (T, T) array}``; row t = output step, column s = input step.
    """
    import torch

    maps = {}
    for layers in (1, 2):
        torch.manual_seed(seed)
        lstm = torch.nn.LSTM(I, H, num_layers=layers, bidirectional=True).double()
        x = torch.randn(T, 1, I, dtype=torch.float64)
        jac = torch.autograd.functional.jacobian(lambda inp, m=lstm: m(inp)[0], x,
                                                 vectorize=True)  # (T, 1, 2H, T, 1, I)
        jac = jac[:, 0, :, :, 0, :]                                              # (T, 2H, T, I)
        for d, half in enumerate(("forward", "reverse")):
            part = jac[:, d * H:(d + 1) * H]                                     # (T, H, T, I)
            maps[f"{layers} layer{'s' * (layers > 1)}, {half} half"] = \
                part.pow(2).sum(dim=(1, 3)).sqrt().numpy()
    return maps


def plot_sensitivity(maps: dict[str, np.ndarray]) -> Any:
    """Heat maps of :func:`sensitivity_maps` (log scale; white = exactly zero)."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    # one shared y axis, labelled once, and a constrained layout: no label runs into a panel
    fig, axes = plt.subplots(1, len(maps), figsize=(3.2 * len(maps), 3.6), squeeze=False,
                             sharey=True, layout="constrained")
    positive = np.concatenate([m[m > 0] for m in maps.values()])
    norm = LogNorm(vmin=max(positive.min(), 1e-8), vmax=positive.max())
    for k, (ax, (title, m)) in enumerate(zip(axes[0], maps.items())):
        im = ax.imshow(np.ma.masked_equal(m, 0.0), norm=norm, cmap="viridis", origin="upper")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("input step s")
        if k == 0:
            ax.set_ylabel("output step t")
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8,
                 label="||d output[t] / d x[s]|| (unitless)")
    fig.suptitle("Which inputs each output depends on (bidirectional nn.LSTM, default init)")
    return fig


def lstm_layouts(num_layers: int, bidirectional: bool, I: int, H: int, T: int,
                 B: int) -> list[tuple[str, tuple[int, ...]]]:
    """(name, shape) of every parameter of ``nn.LSTM(I, H, num_layers, bidirectional)`` in
    ``_flat_weights`` order, then of ``output``, ``h_n`` and ``c_n`` for a (T, B, I) input."""
    import torch

    lstm = torch.nn.LSTM(I, H, num_layers=num_layers, bidirectional=bidirectional)
    rows = [(name, tuple(p.shape)) for name, p in zip(lstm._flat_weights_names,
                                                      lstm._flat_weights)]
    with torch.no_grad():
        out, (h_n, c_n) = lstm(torch.zeros(T, B, I))
    return rows + [("output", tuple(out.shape)), ("h_n", tuple(h_n.shape)),
                   ("c_n", tuple(c_n.shape))]
