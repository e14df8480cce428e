"""Notebook 02: the Jacobian lab — products of step Jacobians vs lag (and vs input drive), the explorer."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

# --------------------------------------------------------------------------- Jacobian lab
NONLINEARITIES: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]] = {
    "tanh": (np.tanh, lambda a: 1.0 - np.tanh(a) ** 2),
    "linear": (lambda a: a, lambda a: np.ones_like(a)),
    "relu": (lambda a: np.maximum(a, 0.0), lambda a: (a > 0).astype(float)),
}


def spectral_radius(W: np.ndarray) -> float:
    """max |eigenvalue| of a square matrix."""
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def scaled_recurrent_matrix(hidden: int, radius: float, seed: int = 0) -> np.ndarray:
    """A Gaussian (hidden, hidden) matrix rescaled so its spectral radius is exactly ``radius``."""
    W = np.random.default_rng(seed).normal(0.0, 1.0 / np.sqrt(hidden), (hidden, hidden))
    return W * (radius / spectral_radius(W))


def step_jacobians(W_hh: np.ndarray, length: int, nonlinearity: str = "tanh", seed: int = 0,
                   input_scale: float = 1.0, batch: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run ``h_t = f(u_t + h_{t-1} W_hh^T)`` (u_t random input drive, b folded in) from h_0 = 0
    and return the drive u (length, B, H), the states hs (length + 1, B, H; hs[0] = h_0 = 0)
    and the step Jacobians J (length, B, H, H), J[t] = d hs[t+1] / d hs[t]:

        J_t = dh_t / dh_{t-1} = diag(f'(a_t)) W_hh          (for tanh: f'(a_t) = 1 - h_t²).
    """
    f, fprime = NONLINEARITIES[nonlinearity]
    H = W_hh.shape[0]
    rng = np.random.default_rng(seed)
    u = rng.normal(0.0, input_scale, (length, batch, H))          # (T, B, H) = x_t W_ih^T + b
    hs = [np.zeros((batch, H))]
    J = np.empty((length, batch, H, H))
    for t in range(length):
        a = u[t] + hs[-1] @ W_hh.T                                # (B, H)
        hs.append(f(a))
        J[t] = fprime(a)[:, :, None] * W_hh[None]                 # (B, H, H) = diag(f') W_hh
    return u, np.stack(hs), J


def _product_norms(J: np.ndarray) -> np.ndarray:
    """||J_T J_(T-1) ... J_(T-k+1)||_2 for k = 1 .. T, geometric mean over the batch.

    J (T, B, H, H) from :func:`step_jacobians`; the product is accumulated from the end (like BPTT).
    """
    length = J.shape[0]
    prod = np.broadcast_to(np.eye(J.shape[-1]), J.shape[1:]).copy()   # (B, H, H)
    norms = np.empty(length)
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, length + 1):
            prod = prod @ J[length - k]                                 # (B, H, H)
            n = np.linalg.norm(prod, ord=2, axis=(1, 2))                # (B,)
            norms[k - 1] = float(np.exp(np.mean(np.log(np.maximum(n, 1e-300)))))
    return norms


def jacobian_norms_vs_lag(W_hh: np.ndarray, length: int, nonlinearity: str = "tanh",
                          seed: int = 0, input_scale: float = 1.0, batch: int = 8) -> dict[str, np.ndarray]:
    """Measured ||dh_T / dh_{T-k}||_2 for k = 1 .. length (mean over a batch of input
    sequences, geometric mean), and the bound (sigma_max(W_hh) * max|f'|)^k with max|f'| = 1.

    dh_T/dh_{T-k} = J_T J_{T-1} ... J_{T-k+1}, accumulated from the end (like BPTT).
    """
    _, _, J = step_jacobians(W_hh, length, nonlinearity, seed, input_scale, batch)
    norms = _product_norms(J)
    sigma = float(np.linalg.norm(W_hh, ord=2))
    lags = np.arange(1, length + 1)
    return {"lag": lags, "norm": norms, "bound": sigma ** lags.astype(float), "sigma_max": sigma,
            "radius": spectral_radius(W_hh)}


def plot_norms_vs_lag(results: dict[str, dict[str, np.ndarray]], ax: Any = None,
                      title: str | None = None, bound: bool = True) -> Any:
    """Log-scale plot of measured Jacobian-product norms (solid) and bounds (dotted) vs lag."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 4.0))
    for i, (label, r) in enumerate(results.items()):
        color = f"C{i}"
        ax.semilogy(r["lag"], r["norm"], color=color, lw=2, label=f"{label} measured")
        if bound:
            ax.semilogy(r["lag"], r["bound"], color=color, ls=":", lw=1.2)
    if bound:
        ax.plot([], [], color="gray", ls=":", lw=1.2, label="bound σ_max^k (same colour)")
    ax.set_xlabel("lag k = T - t (time steps)")
    ax.set_ylabel("||dh_T / dh_t||₂ (dimensionless)")
    ax.set_title(title or "How much gradient reaches k steps back (dotted: σ_max^k bound)")
    ax.set_ylim(1e-12, 1e12)
    # below the axes, never over a curve
    ax.legend(fontsize=8, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.16))
    return ax


def drive_sweep(drives: tuple[float, ...], radii: tuple[float, ...],
                seeds: tuple[int, ...] = (0, 1, 2, 3, 4), lag: int = 60, hidden: int = 32,
                batch: int = 8) -> dict[tuple[float, float], dict[str, float]]:
    """The tanh Jacobian lab over input drive x spectral radius, several seeds.

    For every (drive, radius) and seed: a fresh W_hh (seed) rescaled to the radius, random drive
    u_t ~ N(0, drive²) per unit, and ||dh_T/dh_(T-lag)||_2 (geometric mean over ``batch``
    sequences, :func:`jacobian_norms_vs_lag`). Also the mean-field gain per step

        chi = rho² · mean over t, units, sequences of tanh'(a_t)² = rho² · <(1 - h_t²)²>,

    the quantity whose side of 1 separates order (products shrink) from chaos (they grow) in
    random tanh networks (Sompolinsky, Crisanti & Sommers 1988, PRL 61; Poole et al. 2016,
    "Exponential expressivity in deep neural networks through transient chaos", NeurIPS; for
    RNNs: Chen, Pennington & Schoenholz 2018, ICML). An input drive saturates the units, lowers
    <tanh'²> and so suppresses chaos (Rajan, Abbott & Sompolinsky 2010, PRE 82).

    Returns {(drive, radius): {"median", "low", "high", "chi"}} — the median, smallest and largest
    norm at ``lag`` over the seeds, and the median chi.
    """
    out: dict[tuple[float, float], dict[str, float]] = {}
    for drive in drives:
        for rho in radii:
            norms, chis = [], []
            for s in seeds:
                W = scaled_recurrent_matrix(hidden, rho, seed=s)
                _, hs, J = step_jacobians(W, lag, "tanh", seed=s, input_scale=drive, batch=batch)
                norms.append(_product_norms(J)[-1])
                chis.append(rho ** 2 * float(np.mean((1.0 - hs[1:] ** 2) ** 2)))
            out[(drive, rho)] = {"median": float(np.median(norms)), "low": float(np.min(norms)),
                                 "high": float(np.max(norms)), "chi": float(np.median(chis))}
    return out


def explorer_figure(radius: float, length: int, nonlinearity: str, hidden: int = 32,
                    seed: int = 0, drive: float = 1.0) -> Any:
    """One frame of the explorer: measured norms and bound for one setting; returns the figure.

    ``drive`` is the standard deviation of the random input drive u_t per unit."""
    import matplotlib.pyplot as plt

    r = jacobian_norms_vs_lag(scaled_recurrent_matrix(hidden, radius, seed), length, nonlinearity, seed,
                              input_scale=drive)
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    plot_norms_vs_lag({f"ρ={radius:.2f}, {nonlinearity}, drive {drive:.2f}": r}, ax=ax,
                      title=f"{nonlinearity} RNN, H={hidden}, input drive σ_u={drive:.2f}: "
                            f"||dh_T/dh_(T-k)|| at k={length} is {r['norm'][-1]:.2e}")
    fig.tight_layout()
    return fig


def gradient_explorer(hidden: int = 32, seed: int = 0) -> Any:
    """Sliders (spectral radius, input drive, sequence length) and a nonlinearity menu that redraw
    the norm-vs-lag plot (one fresh W_hh per setting, rescaled from the same Gaussian draw).
    Returns the widget box (rows: [radius, drive], [length, f], plot): make it the cell's last
    expression to display it."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    radius = widgets.FloatSlider(value=1.0, min=0.2, max=2.0, step=0.05, description="radius ρ",
                                 continuous_update=False)
    drive = widgets.FloatSlider(value=1.0, min=0.05, max=2.0, step=0.05, description="drive σ_u",
                                continuous_update=False)
    length = widgets.IntSlider(value=50, min=5, max=150, step=5, description="length T",
                               continuous_update=False)
    nonlin = widgets.Dropdown(options=list(NONLINEARITIES), value="tanh", description="f")

    def draw(rho: float, T: int, f: str, d: float) -> None:
        explorer_figure(rho, T, f, hidden, seed, drive=d)
        plt.show()

    out = widgets.interactive_output(draw, {"rho": radius, "T": length, "f": nonlin, "d": drive})
    return widgets.VBox([widgets.HBox([radius, drive]), widgets.HBox([length, nonlin]), out])
