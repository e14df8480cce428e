"""Notebook 03: one LSTM step and one GRU step drawn as PyTorch computes them (gate orders
i, f, g, o and r, z, n; the GRU in its reset-after form), side by side. Style after C. Olah,
"Understanding LSTM Networks" (2015). matplotlib is imported inside the functions."""


from __future__ import annotations

from typing import Any

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


GRU_COLOURS = {"r": "#ff7f0e", "z": "#17becf", "n": "#2ca02c"}


def _arrow(ax: Any, points: list[tuple[float, float]], colour: str = "#333", lw: float = 1.6,
           head: bool = True) -> None:
    from matplotlib.patches import FancyArrowPatch

    for k, (p, q) in enumerate(zip(points[:-1], points[1:])):
        last = head and k == len(points) - 2
        ax.add_patch(FancyArrowPatch(p, q, arrowstyle="-|>" if last else "-", mutation_scale=14,
                                     color=colour, lw=lw, shrinkA=0, shrinkB=0, zorder=1))


def _box(ax: Any, x: float, y: float, text: str, colour: str) -> None:
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x - 0.45, y - 0.3), 0.9, 0.6, boxstyle="round,pad=0.05",
                                fc=colour, ec="black", lw=1.2, alpha=0.9, zorder=3))
    ax.text(x, y, text, ha="center", va="center", color="white", fontsize=12,
            fontweight="bold", zorder=4)


def _op(ax: Any, x: float, y: float, text: str) -> None:
    from matplotlib.patches import Circle

    ax.add_patch(Circle((x, y), 0.28, fc="#fff3c4", ec="black", lw=1.2, zorder=3))
    ax.text(x, y, text, ha="center", va="center", fontsize=11, zorder=4)


def draw_gru_cell(ax: Any = None) -> Any:
    """Draw one GRU step as torch.nn.GRU computes it (gate order r, z, n; reset-after:
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)); h_t = (1 - z) * n + z * h_{t-1}), in the
    style and on the scale of :func:`draw_lstm_cell`; returns the matplotlib Axes."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    if ax is None:
        _, ax = plt.subplots(figsize=(10, 5.2))
    ax.set_xlim(-0.6, 11.4)
    ax.set_ylim(-1.3, 6.6)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.grid(False)
    ax.add_patch(FancyBboxPatch((0.8, -0.2), 9.0, 5.6, boxstyle="round,pad=0.1", fc="#f4f6fa",
                                ec="#8894a8", lw=1.5, zorder=0))
    top, bus, gy = 4.6, 0.5, 1.7
    xr, xz, xn, xh = 2.2, 3.8, 6.4, 8.6
    # the single state along the top: h_{t-1} -> (x z) -> (+ (1-z) n) -> h_t
    _arrow(ax, [(-0.4, top), (xz - 0.28, top)], lw=3.2)
    _arrow(ax, [(xz + 0.28, top), (xn - 0.28, top)], lw=3.2)
    _arrow(ax, [(xn + 0.28, top), (11.2, top)], lw=3.2)
    _op(ax, xz, top, "×")
    _op(ax, xn, top, "+")
    ax.text(-0.5, top + 0.35, r"$h_{t-1}$", fontsize=14)
    ax.text(10.7, top + 0.35, r"$h_t$", fontsize=14)
    # h_{t-1} also feeds the gates: down to the bus [x_t, h_{t-1}]
    _arrow(ax, [(1.2, top), (1.2, bus), (xn, bus)], head=False)
    _arrow(ax, [(1.6, -1.1), (1.6, bus)], head=False)
    ax.text(1.75, -1.1, r"$x_t$", fontsize=14)
    for x, name, fn in ((xr, "r", "σ"), (xz, "z", "σ"), (xn, "n", "tanh")):
        _arrow(ax, [(x, bus), (x, gy - 0.36)])
        _box(ax, x, gy, fn, GRU_COLOURS[name])
        ax.text(x + 0.52, gy + 0.42, f"${name}_t$", fontsize=13, color=GRU_COLOURS[name])
    # r scales the recurrent part of the candidate (after W_hn h + b_hn): into n's box
    _arrow(ax, [(xr, gy + 0.36), (xr, 2.55), (xn - 0.9, 2.55), (xn - 0.9, gy), (xn - 0.47, gy)],
           colour=GRU_COLOURS["r"])
    ax.text(xz + 0.15, 2.72, r"$r \odot (W_{hn} h + b_{hn})$", fontsize=9,
            color=GRU_COLOURS["r"])
    # z keeps the old state (x on the top line) and, as 1 - z, admits the candidate
    _arrow(ax, [(xz, gy + 0.36), (xz, top - 0.28)], colour=GRU_COLOURS["z"])
    _op(ax, xz + 1.2, 3.55, "1−")
    _arrow(ax, [(xz, 3.55), (xz + 0.92, 3.55)], colour=GRU_COLOURS["z"])
    _op(ax, xn, 3.55, "×")
    _arrow(ax, [(xz + 1.48, 3.55), (xn - 0.28, 3.55)], colour=GRU_COLOURS["z"])
    _arrow(ax, [(xn, gy + 0.36), (xn, 3.27)], colour=GRU_COLOURS["n"])
    _arrow(ax, [(xn, 3.83), (xn, top - 0.28)])
    # output: h_t is the state itself
    _arrow(ax, [(xh, top), (xh, -1.1)], lw=2.2)
    ax.text(xh + 0.1, -1.1, r"$h_t$ (output)", fontsize=11)
    ax.text(0.95, 6.0, r"$[r\,|\,z] = \sigma(x_t W_{i\{r,z\}}^\top + b_{i\{r,z\}} + h_{t-1} "
            r"W_{h\{r,z\}}^\top + b_{h\{r,z\}})$,  $n = \tanh(x_t W_{in}^\top + b_{in} + r \odot "
            r"(h_{t-1} W_{hn}^\top + b_{hn}))$" "\n"
            r"$h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}$   (one state; no $c$)",
            fontsize=10, va="center")
    ax.set_title("One GRU step (torch.nn.GRU, gate order r, z, n; reset-after)")
    return ax
