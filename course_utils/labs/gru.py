"""Helpers for notebook 04 (GRU): the other GRU conventions, a memory experiment, its plot and
widget, and the measured "seed table" (parameters, FLOPs, one timing).

numpy is the only import at module level; torch, matplotlib and ipywidgets are imported inside
the functions that need them.

References: torch.nn.GRU documentation (reset-after, gate order r, z, n); Cho et al. 2014,
arXiv:1406.1078 v3 (reset before the matmul); Chung et al. 2014, arXiv:1412.3555 and C. Olah,
"Understanding LSTM Networks" (2015) (h' = (1 - z) h + z n); NVIDIA cuDNN developer guide,
cudnnRNNMode_t CUDNN_GRU (the reset-after form it implements); J. Engel, "Optimizing RNNs with
Differentiable Graphs", Baidu SVAIL blog, svail.github.io/diff_graphs (reset after the recurrent
multiply, for speed).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..lib import counts, measure

Params = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


# --------------------------------------------------------------------------- conventions
def gru_cell_reset_before(x_t: np.ndarray, h_prev: np.ndarray, W_ih: np.ndarray,
                          W_hh: np.ndarray, b_ih: np.ndarray, b_hh: np.ndarray) -> np.ndarray:
    """Cho et al. 2014 (v3) / Keras ``reset_after=False``: n = tanh(W_in x + b_in + W_hn (r*h) + b_hn).

    Same gate order and parameters as torch.nn.GRU, so the two can be compared weight for weight.
    """
    H = h_prev.shape[1]
    gi = x_t @ W_ih.T + b_ih                                          # (B, 3H)
    rz = _sigmoid(gi[:, :2 * H] + h_prev @ W_hh[:2 * H].T + b_hh[:2 * H])  # (B, 2H): first GEMM
    r, z = rz[:, :H], rz[:, H:]
    n = np.tanh(gi[:, 2 * H:] + (r * h_prev) @ W_hh[2 * H:].T + b_hh[2 * H:])  # second GEMM, needs r
    return (1.0 - z) * n + z * h_prev


def gru_cell_z_flipped(x_t: np.ndarray, h_prev: np.ndarray, W_ih: np.ndarray, W_hh: np.ndarray,
                       b_ih: np.ndarray, b_hh: np.ndarray) -> np.ndarray:
    """PyTorch's reset-after candidate with the blend of Chung et al. 2014 / colah,
    h' = z * n + (1 - z) * h: the z swap alone (the paper's full cell is
    :func:`gru_cell_reset_before_z_flipped`)."""
    H = h_prev.shape[1]
    gi, gh = x_t @ W_ih.T + b_ih, h_prev @ W_hh.T + b_hh              # (B, 3H) each
    r = _sigmoid(gi[:, :H] + gh[:, :H])
    z = _sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
    n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
    return z * n + (1.0 - z) * h_prev


def gru_cell_reset_before_z_flipped(x_t: np.ndarray, h_prev: np.ndarray, W_ih: np.ndarray,
                                    W_hh: np.ndarray, b_ih: np.ndarray,
                                    b_hh: np.ndarray) -> np.ndarray:
    """Chung et al. 2014 / colah's GRU as written there: the reset-before candidate
    n = tanh(W_in x + b_in + W_hn (r*h) + b_hn) and the blend h' = z * n + (1 - z) * h."""
    H = h_prev.shape[1]
    gi = x_t @ W_ih.T + b_ih                                          # (B, 3H)
    rz = _sigmoid(gi[:, :2 * H] + h_prev @ W_hh[:2 * H].T + b_hh[:2 * H])  # (B, 2H)
    r, z = rz[:, :H], rz[:, H:]
    n = np.tanh(gi[:, 2 * H:] + (r * h_prev) @ W_hh[2 * H:].T + b_hh[2 * H:])
    return z * n + (1.0 - z) * h_prev


def run_cell(cell: Callable[..., np.ndarray], x: np.ndarray, h0: np.ndarray,
             *params: np.ndarray) -> np.ndarray:
    """Unroll ``cell`` over x (T, B, I) from h0 (B, H); returns the states (T, B, H)."""
    h, outs = h0, []
    for x_t in x:
        h = cell(x_t, h, *params)
        outs.append(h)
    return np.stack(outs)


def numpy_params(module: Any, layer: int = 0) -> Params:
    """(W_ih, W_hh, b_ih, b_hh) of a torch RNN / LSTM / GRU layer (or *Cell) as float64 numpy."""
    suffix = "" if hasattr(module, "weight_ih") else f"_l{layer}"
    return tuple(getattr(module, name + suffix).detach().double().numpy().copy()
                 for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))  # type: ignore[return-value]


def plot_convention_gap(gaps: dict[str, np.ndarray], title: str) -> Any:
    """Max |difference| to torch.nn.GRU per time step, one line per convention (log scale)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    for k, (name, gap) in enumerate(gaps.items()):    # marker and dash tell overlapping lines apart
        ax.semilogy(np.arange(1, len(gap) + 1), np.maximum(gap, 1e-17), marker="os^xd"[k % 5],
                    ms=4, ls=("-", "--", "-.", ":")[k % 4], label=name)
    ax.set(title=title, xlabel="time step t (steps)",
           ylabel="max |h_t − h_t(nn.GRU)| (state units)")
    ax.legend()
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- memory experiment
def memory_curves(z_biases: Sequence[float], r_bias: float = 0.0, T: int = 40, H: int = 16,
                  I: int = 8, B: int = 64, seed: int = 0) -> dict[float, np.ndarray]:
    """How long a GRU remembers its initial state, as a function of the update-gate bias.

    For each value b, a torch.nn.GRU (float64, default init, seed ``seed``) gets b added to the
    update-gate bias b_iz (and ``r_bias`` to b_ir). Two initial states h0 and h0' run on the same
    input x (T, B, I); the curve is ||h_t - h_t'|| / ||h0 - h0'|| (mean over the batch): 1 means
    the initial state is fully remembered, 0 forgotten.
    """
    import torch

    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(T, B, I, generator=gen, dtype=torch.float64)
    h0 = torch.randn(1, B, H, generator=gen, dtype=torch.float64)
    h0b = torch.randn(1, B, H, generator=gen, dtype=torch.float64)
    out: dict[float, np.ndarray] = {}
    for b in z_biases:
        torch.manual_seed(seed)
        gru = torch.nn.GRU(I, H).double()
        with torch.no_grad():
            gru.bias_ih_l0[H:2 * H] += b
            gru.bias_ih_l0[:H] += r_bias
            ya, _ = gru(x, h0)                                         # (T, B, H)
            yb, _ = gru(x, h0b)
        gap = (ya - yb).norm(dim=-1) / (h0 - h0b).norm(dim=-1)         # (T, B)
        out[float(b)] = gap.mean(dim=1).numpy()
    return out


def half_life(curve: np.ndarray) -> float | None:
    """Steps until the curve first crosses 0.5, interpolated geometrically between the two steps
    around the crossing (the ratio is 1 at t = 0), so a ratio of 0.25 at t = 1 gives 0.5 steps,
    not "1 step"; None if it never falls below 0.5 within the curve."""
    full = np.concatenate([[1.0], np.asarray(curve, dtype=float)])      # full[t] = ratio at t
    below = np.nonzero(full < 0.5)[0]
    if not below.size:
        return None
    t = int(below[0])
    hi, lo = np.log(full[t - 1]), np.log(max(full[t], 1e-300))
    return float(t - 1 + (hi - np.log(0.5)) / (hi - lo))


def format_half_life(curve: np.ndarray) -> str:
    """"0.5 steps", "> 40 steps" (the curve's length), for printing."""
    hl = half_life(curve)
    return f"{hl:.1f} steps" if hl is not None else f"> {len(curve)} steps"


def plot_memory(curves: dict[float, np.ndarray], ax: Any = None, title: str | None = None) -> Any:
    """The memory curves on a log axis (an exponential decay is a straight line there)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(9.5, 4.2))
    for b, curve in curves.items():
        ax.semilogy(np.arange(0, len(curve) + 1), np.concatenate([[1.0], curve]), marker=".",
                    ms=3, label=f"update-gate bias shift {b:+g} (mean of 64 sequences)")
    ax.axhline(0.5, color="grey", lw=0.8, ls="--", label="1/2 (half-life)")
    ax.set(title=title or "How long a GRU remembers its initial state",
           xlabel="time step t (steps)",
           ylabel="||h_t − h'_t|| / ||h_0 − h'_0|| (ratio, log scale)", ylim=(1e-6, 2.0))
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))   # beside, not over
    ax.figure.tight_layout()
    return ax.figure


def memory_explorer() -> Any:
    """Sliders for the update- and reset-gate bias shifts; redraws the memory curve."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    def show(z_bias: float = 2.0, r_bias: float = 0.0) -> None:
        curves = memory_curves([z_bias], r_bias=r_bias)
        fig, ax = plt.subplots(figsize=(9.5, 4.2))
        plot_memory(curves, ax=ax, title=f"Memory with update-gate bias {z_bias:+.1f}, "
                                         f"reset-gate bias {r_bias:+.1f}")
        ax.text(0.98, 0.92, f"half-life: {format_half_life(curves[z_bias])}",
                transform=ax.transAxes, ha="right")
        plt.show()

    return widgets.interactive(
        show,
        z_bias=widgets.FloatSlider(value=2.0, min=-4.0, max=6.0, step=0.5,
                                   description="b_z shift", continuous_update=False),
        r_bias=widgets.FloatSlider(value=0.0, min=-6.0, max=6.0, step=0.5,
                                   description="b_r shift", continuous_update=False))


# --------------------------------------------------------------------------- the seed table
# gate blocks G and element-wise operations per unit and step, by torch.nn class name; the
# counts themselves (and how they are counted) live in course_utils.lib.counts
GATES = {k.upper(): v for k, v in counts.GATE_BLOCKS.items()}
ELEMENTWISE_PER_UNIT = {k.upper(): v for k, v in counts.ELEMENTWISE_PER_UNIT.items()}
# sigmoid gates proper: none (RNN), i, f, o (LSTM), r, z (GRU); the candidate is not a gate
TRUE_GATES = {"RNN": 0, "LSTM": 3, "GRU": 2}


def flops_per_step(kind: str, B: int, I: int, H: int) -> dict[str, int]:
    """FLOPs of one time step: the two matmuls 2*G*B*H*(I + H) and the element-wise part
    (:func:`course_utils.lib.counts.step_flops`)."""
    return counts.step_flops(kind, B, I, H)


def torch_param_count(kind: str, I: int, H: int, **kwargs: Any) -> int:
    """Parameters of ``torch.nn.<kind>(I, H, **kwargs)`` counted from the module itself."""
    import torch

    return int(sum(p.numel() for p in getattr(torch.nn, kind)(I, H, **kwargs).parameters()))


def time_forward(module: Any, x: Any, onednn: bool = True, min_run_time: float = 0.3,
                 threads: int = 1) -> float:
    """Median seconds of one forward pass (no grad), timed for about ``min_run_time`` s
    (:func:`course_utils.lib.measure.time_call`) on ``threads`` torch threads."""
    import torch

    def forward() -> Any:
        with torch.no_grad():
            return module(x)

    with measure.torch_threads(threads), measure.onednn(onednn):
        return measure.time_call(forward, warmup=2, repeats=1000, budget_s=min_run_time).median_s


def seed_table(I: int = 64, H: int = 128, B: int = 32, T: int = 50, seed: int = 0,
               min_run_time: float = 0.3) -> list[dict[str, Any]]:
    """Rows for RNN, LSTM (oneDNN on and off) and GRU: gates (sigmoid gates: 0, 3, 2), gate
    blocks (weight blocks G, gates + candidate: 1, 4, 3), cell state, parameters (torch),
    FLOPs per step, and the measured time of one forward pass over (T, B, I) on this CPU."""
    import torch

    torch.manual_seed(seed)
    x = torch.randn(T, B, I)
    rows = []
    for kind, onednn in (("RNN", True), ("LSTM", True), ("LSTM", False), ("GRU", True)):
        module = getattr(torch.nn, kind)(I, H)
        flops = flops_per_step(kind, B, I, H)
        seconds = time_forward(module, x, onednn=onednn, min_run_time=min_run_time)
        label = kind + (" (oneDNN off)" if kind == "LSTM" and not onednn else "")
        rows.append({"model": label, "gates": TRUE_GATES[kind], "gate blocks": GATES[kind],
                     "cell state": kind == "LSTM",
                     "parameters": torch_param_count(kind, I, H), **{f"{k} FLOPs/step": v
                     for k, v in flops.items()}, "ms/forward": seconds * 1e3,
                     "GFLOP/s": flops["total"] * T / seconds / 1e9})
    return rows


def format_table(rows: list[dict[str, Any]]) -> str:
    """A plain-text table of dict rows (numbers with thousands separators)."""
    cols = list(rows[0])

    def fmt(v: Any) -> str:
        if isinstance(v, bool):
            return "yes" if v else "no"
        if isinstance(v, int):
            return f"{v:,}"
        if isinstance(v, float):
            return f"{v:.2f}"
        return str(v)

    cells = [[fmt(r[c]) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(cols, widths))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)
