"""Helpers of notebook 02 (vanishing and exploding gradients).

* :func:`numerical_gradient_check` — central differences against your analytic gradients;
* the Jacobian lab: :func:`step_jacobians`, :func:`jacobian_norms_vs_lag`,
  :func:`plot_norms_vs_lag`, :func:`gradient_explorer` (ipywidgets);
* :func:`train_with_grad_norms` — a training loop recording loss and gradient norm, with or
  without norm clipping (Pascanu, Mikolov & Bengio 2013, "On the difficulty of training
  recurrent neural networks", ICML);
* :func:`first_token_task` / :func:`distance_experiment` / :func:`distance_suite` — a tanh RNN
  asked to remember the first token's sign over T steps (Bengio, Simard & Frasconi 1994,
  "Learning long-term dependencies with gradient descent is difficult", IEEE TNN 5(2));
* :func:`clipping_experiment` / :func:`blow_up_step` — the same training with and without
  gradient-norm clipping, several seeds.

numpy is imported at module level; torch, matplotlib, ipywidgets and tqdm only inside the
functions that use them, so ``import course_utils`` stays light.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

GRAD_KEYS = ("x", "h0", "W_ih", "W_hh", "b_ih", "b_hh")


# --------------------------------------------------------------------------- numerical check
def rnn_forward_numpy(x: np.ndarray, h0: np.ndarray, W_ih: np.ndarray, W_hh: np.ndarray,
                      b_ih: np.ndarray, b_hh: np.ndarray) -> np.ndarray:
    """The tanh RNN of notebook 01: returns ``output`` (T, B, H) = h_1 ... h_T."""
    h, outs = h0, []
    for t in range(x.shape[0]):
        h = np.tanh(x[t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh)    # (B, H)
        outs.append(h)
    return np.stack(outs)


@dataclass
class GradCheckReport:
    """Relative errors of analytic vs central-difference gradients, one row per argument.

    ``rel_error[name]`` is max |analytic - numeric| / max(|analytic| + |numeric|, 1e-12) over
    the probed entries; a correct float64 backward gives about 1e-8 or less.
    """

    rel_error: dict[str, float]
    probes: dict[str, int]
    eps: float
    tol: float = 1e-6
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(e < self.tol for e in self.rel_error.values()) and not self.notes

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        lines = [f"numerical gradient check (central differences, eps={self.eps:g}):"]
        for name in self.probes:
            if name in self.notes:
                lines.append(f"  d{name:<5} {self.notes[name]}")
                continue
            err = self.rel_error[name]
            verdict = "ok" if err < self.tol else "MISMATCH"
            lines.append(f"  d{name:<5} max relative error {err:.1e} over {self.probes[name]:>3} "
                         f"entries  {verdict}")
        return "\n".join(lines)

    __repr__ = __str__


def numerical_gradient_check(backward: Callable[..., dict], x: np.ndarray, h0: np.ndarray,
                             W_ih: np.ndarray, W_hh: np.ndarray, b_ih: np.ndarray,
                             b_hh: np.ndarray, grad_output: np.ndarray,
                             forward: Callable[..., np.ndarray] = rnn_forward_numpy,
                             eps: float = 1e-5, max_probes: int = 20, seed: int = 0,
                             tol: float = 1e-6) -> GradCheckReport:
    """Compare ``backward(x, h0, W_ih, W_hh, b_ih, b_hh, grad_output)`` with central differences.

    The loss is ``L = sum(forward(...) * grad_output)``. For each argument, up to ``max_probes``
    random entries ``i`` are nudged: ``dL/dθ_i ≈ (L(θ + eps e_i) - L(θ - eps e_i)) / (2 eps)``,
    whose error is O(eps²) (CS231n notes, "Gradient checks"). Work in float64.
    """
    args = {k: np.array(v, dtype=np.float64) for k, v in
            zip(GRAD_KEYS, (x, h0, W_ih, W_hh, b_ih, b_hh))}
    g = np.asarray(grad_output, dtype=np.float64)

    def loss(a: dict[str, np.ndarray]) -> float:
        return float(np.sum(np.asarray(forward(*(a[k] for k in GRAD_KEYS))) * g))

    analytic = backward(*(a.copy() for a in args.values()), g.copy())
    rng = np.random.default_rng(seed)
    rel, probes, notes = {}, {}, {}
    for name, value in args.items():
        n = min(max_probes, value.size)
        probes[name] = n
        got = analytic.get(name) if isinstance(analytic, dict) else None
        if got is None:
            notes[name] = "missing from the returned dict"
            continue
        got = np.asarray(got, dtype=np.float64)
        if got.shape != value.shape:
            notes[name] = f"has shape {got.shape}, expected {value.shape}"
            continue
        worst = 0.0
        for flat in rng.choice(value.size, size=n, replace=False):
            idx = np.unravel_index(flat, value.shape)
            plus = {**args, name: value.copy()}
            plus[name][idx] += eps
            minus = {**args, name: value.copy()}
            minus[name][idx] -= eps
            num = (loss(plus) - loss(minus)) / (2 * eps)
            ana = float(got[idx])
            worst = max(worst, abs(ana - num) / max(abs(ana) + abs(num), 1e-12))
        rel[name] = worst
    return GradCheckReport(rel, probes, eps, tol, notes)


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


def jacobian_norms_vs_lag(W_hh: np.ndarray, length: int, nonlinearity: str = "tanh",
                          seed: int = 0, input_scale: float = 1.0, batch: int = 8) -> dict[str, np.ndarray]:
    """Measured ||dh_T / dh_{T-k}||_2 for k = 1 .. length (mean over a batch of input
    sequences, geometric mean), and the bound (sigma_max(W_hh) * max|f'|)^k with max|f'| = 1.

    dh_T/dh_{T-k} = J_T J_{T-1} ... J_{T-k+1}, accumulated from the end (like BPTT).
    """
    _, _, J = step_jacobians(W_hh, length, nonlinearity, seed, input_scale, batch)
    prod = np.broadcast_to(np.eye(W_hh.shape[0]), J.shape[1:]).copy()   # (B, H, H)
    norms = np.empty(length)
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, length + 1):
            prod = prod @ J[length - k]                                 # (B, H, H)
            n = np.linalg.norm(prod, ord=2, axis=(1, 2))                # (B,)
            norms[k - 1] = float(np.exp(np.mean(np.log(np.maximum(n, 1e-300)))))
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
    ax.legend(fontsize=8, ncol=2, loc="lower left")
    return ax


def explorer_figure(radius: float, length: int, nonlinearity: str, hidden: int = 32,
                    seed: int = 0) -> Any:
    """One frame of the explorer: measured norms and bound for one setting; returns the figure."""
    import matplotlib.pyplot as plt

    r = jacobian_norms_vs_lag(scaled_recurrent_matrix(hidden, radius, seed), length, nonlinearity, seed)
    fig, ax = plt.subplots(figsize=(7.5, 4.0))
    plot_norms_vs_lag({f"ρ={radius:.2f}, {nonlinearity}": r}, ax=ax,
                      title=f"{nonlinearity} RNN, H={hidden}: ||dh_T/dh_(T-k)|| at k={length} "
                            f"is {r['norm'][-1]:.2e}")
    return fig


def gradient_explorer(hidden: int = 32, seed: int = 0) -> Any:
    """Sliders (spectral radius, sequence length) and a nonlinearity menu that redraw the
    norm-vs-lag plot (one fresh W_hh per setting, rescaled from the same Gaussian draw).
    Returns the widget box: make it the cell's last expression to display it."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    radius = widgets.FloatSlider(value=1.0, min=0.2, max=2.0, step=0.05, description="radius ρ",
                                 continuous_update=False)
    length = widgets.IntSlider(value=50, min=5, max=150, step=5, description="length T",
                               continuous_update=False)
    nonlin = widgets.Dropdown(options=list(NONLINEARITIES), value="tanh", description="f")

    def draw(rho: float, T: int, f: str) -> None:
        explorer_figure(rho, T, f, hidden, seed)
        plt.show()

    out = widgets.interactive_output(draw, {"rho": radius, "T": length, "f": nonlin})
    return widgets.VBox([widgets.HBox([radius, length, nonlin]), out])


# --------------------------------------------------------------------------- training helpers
@contextmanager
def single_thread() -> Iterator[None]:
    """Run torch on one CPU thread inside the block: for these tiny RNNs (H <= 32) thread
    hand-offs cost more than the arithmetic, and a busy machine makes it far worse. The old
    thread count comes back afterwards (:func:`course_utils.lib.measure.torch_threads`)."""
    from ..lib.measure import torch_threads

    with torch_threads(1):
        yield


def first_token_task(T: int, n: int, seed: int = 0, noise: float = 1.0) -> tuple[Any, Any]:
    """Sequences (T, n, 1): x_0 = ±1 (the label's sign), x_1..x_{T-1} ~ N(0, noise²) distractors.
    Target: 1 if x_0 > 0 else 0. Returns torch float32 tensors (x, y)."""
    import torch

    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = noise * torch.randn(T, n, 1, generator=g)
    x[0, :, 0] = 2.0 * y.float() - 1.0
    return x, y.float()


def make_sign_rnn(hidden: int = 16, seed: int = 0, radius: float | None = None) -> Any:
    """A tanh ``torch.nn.RNN`` (input size 1) and a linear readout of its last state, as a
    ``ModuleDict`` with keys "rnn" and "head". With ``radius``, W_hh is replaced by a Gaussian
    matrix rescaled to that spectral radius (see :func:`scaled_recurrent_matrix`)."""
    import torch

    torch.manual_seed(seed)
    rnn = torch.nn.RNN(1, hidden, nonlinearity="tanh")
    head = torch.nn.Linear(hidden, 1)
    if radius is not None:
        W = scaled_recurrent_matrix(hidden, radius, seed)
        with torch.no_grad():
            rnn.weight_hh_l0.copy_(torch.from_numpy(W).float())
    return torch.nn.ModuleDict({"rnn": rnn, "head": head})


def _logits(model: Any, x: Any) -> Any:
    out, _ = model["rnn"](x)                                       # (T, B, H)
    return model["head"](out[-1]).squeeze(-1)                     # (B,)


def train_first_token(T: int, seed: int, steps: int = 100, hidden: int = 8, batch: int = 32,
                      lr: float = 1e-2, n_test: int = 500,
                      eval_every: int | None = None) -> dict[str, Any]:
    """Train one fresh tanh RNN (Adam, BCE on the last state) to output the sign of the first of
    ``T`` tokens (:func:`first_token_task`), ``steps`` updates of ``batch`` sequences.

    Returns ``losses`` (steps,), the final test ``accuracy`` on ``n_test`` new sequences, the
    initial ``grad_ratio`` ||dL/dx_0|| / ||dL/dx_{T-1}|| (float64, at initialisation) and, with
    ``eval_every``, ``checkpoints`` (updates done: 0, eval_every, ..., steps) and the test
    ``accuracy_curve`` at each. The batches depend only on (T, seed, step), so a longer run
    repeats a shorter one's first updates exactly.
    """
    import torch

    model = make_sign_rnn(hidden, seed)
    x, y = first_token_task(T, batch, seed=10_000 * seed + T)
    x = x.double().requires_grad_(True)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(
        _logits(copy.deepcopy(model).double(), x), y.double())
    loss.backward()
    g = x.grad.norm(dim=(1, 2))                                        # (T,)
    ratio = float(g[0] / g[-1])
    x_test, y_test = first_token_task(T, n_test, seed=10_000_000 + 100 * seed + T)

    def accuracy() -> float:
        with torch.no_grad():
            return float(((_logits(model, x_test) > 0).float() == y_test).float().mean())

    opt = torch.optim.Adam(model.parameters(), lr=lr)
    curve = np.empty(steps)
    checkpoints, acc_curve = [], []
    for step in range(steps):
        if eval_every and step % eval_every == 0:
            checkpoints.append(step)
            acc_curve.append(accuracy())
        x, y = first_token_task(T, batch, seed=1_000_000 * (seed + 1) + 1000 * T + step)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(_logits(model, x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        curve[step] = loss.item()
    final = accuracy()
    out: dict[str, Any] = {"losses": curve, "accuracy": final, "grad_ratio": ratio}
    if eval_every:
        out["checkpoints"] = np.array(checkpoints + [steps])
        out["accuracy_curve"] = np.array(acc_curve + [final])
    return out


def distance_experiment(lengths: tuple[int, ...] = (5, 10, 20, 40),
                        seeds: tuple[int, ...] = (0, 1, 2, 3, 4),
                        steps: int = 100, hidden: int = 8, batch: int = 32, lr: float = 1e-2,
                        n_test: int = 500, progress: bool = True) -> dict[int, dict[str, Any]]:
    """For each length T and seed, :func:`train_first_token` for ``steps`` updates; per T the
    test accuracies (seeds,), loss curves (seeds, steps), and the initial gradient ratio
    ||dL/dx_0|| / ||dL/dx_{T-1}|| (geometric mean over seeds)."""
    from tqdm.auto import tqdm

    results: dict[int, dict[str, Any]] = {}
    bar = tqdm(total=len(lengths) * len(seeds), desc="training", disable=not progress)
    with single_thread():
        for T in lengths:
            runs = []
            for seed in seeds:
                runs.append(train_first_token(T, seed, steps, hidden, batch, lr, n_test))
                bar.update(1)
            results[T] = {"accuracy": np.array([r["accuracy"] for r in runs]),
                          "losses": np.stack([r["losses"] for r in runs]),
                          "grad_ratio": float(np.exp(np.mean(np.log(
                              [r["grad_ratio"] for r in runs]))))}
    bar.close()
    return results


# (T, seeds, updates) of the committed longer run: ``python -m course_utils sweep --suite
# distance`` writes results/sweeps/distance_cpu.json
DISTANCE_SUITE: tuple[tuple[int, tuple[int, ...], int], ...] = (
    (20, (0, 1, 2, 3, 4), 1500),
    (40, (0, 1, 2), 3000),
)
SOLVED = 0.95   # test accuracy from which a run counts as having learnt the dependency


def distance_suite(plan: tuple[tuple[int, tuple[int, ...], int], ...] = DISTANCE_SUITE,
                   eval_every: int = 50, progress: bool = True,
                   **kwargs: Any) -> list[dict[str, Any]]:
    """The longer budget of notebook 02's distance experiment: for each (T, seeds, updates) of
    ``plan``, :func:`train_first_token` with test accuracy every ``eval_every`` updates.
    Returns one JSON-ready dict per run (T, seed, steps, accuracy, grad_ratio, checkpoints,
    accuracy_curve, losses rounded to 5 decimals); ``kwargs`` go to :func:`train_first_token`.
    """
    from tqdm.auto import tqdm

    runs = []
    bar = tqdm(total=sum(len(seeds) for _, seeds, _ in plan), desc="distance",
               disable=not progress)
    with single_thread():
        for T, seeds, steps in plan:
            for seed in seeds:
                r = train_first_token(T, seed, steps, eval_every=eval_every, **kwargs)
                runs.append({"T": T, "seed": seed, "steps": steps,
                             "accuracy": round(r["accuracy"], 4),
                             "grad_ratio": r["grad_ratio"],
                             "checkpoints": r["checkpoints"].tolist(),
                             "accuracy_curve": [round(a, 4) for a in r["accuracy_curve"]],
                             "losses": [round(float(v), 5) for v in r["losses"]]})
                bar.update(1)
    bar.close()
    return runs


def first_solved(run: dict[str, Any], threshold: float = SOLVED) -> int | None:
    """The first checkpoint (updates done) at which a :func:`distance_suite` run's test accuracy
    reaches ``threshold``, or None when it never does within its budget."""
    for step, acc in zip(run["checkpoints"], run["accuracy_curve"]):
        if acc >= threshold:
            return int(step)
    return None


def grad_norm(parameters: Any) -> float:
    """The global L2 norm of the gradients, the quantity clip_grad_norm_ caps."""
    import torch

    grads = [p.grad.detach().flatten() for p in parameters if p.grad is not None]
    return float(torch.linalg.vector_norm(torch.cat(grads))) if grads else 0.0


def train_with_grad_norms(model: Any, task: Callable[[int], tuple[Any, Any]], steps: int,
                          lr: float, clip: float | None = None, progress: bool = True,
                          desc: str = "training") -> dict[str, np.ndarray]:
    """Plain SGD on ``loss = MSE(head(last state), y)`` recording loss and the gradient norm
    (before clipping) each step; with ``clip``, ``torch.nn.utils.clip_grad_norm_`` caps it."""
    import torch
    from tqdm.auto import tqdm

    opt = torch.optim.SGD(model.parameters(), lr=lr)
    losses, norms = np.empty(steps), np.empty(steps)
    with single_thread():
        for step in tqdm(range(steps), desc=desc, disable=not progress):
            x, y = task(step)
            loss = torch.nn.functional.mse_loss(_logits(model, x), y)
            opt.zero_grad()
            loss.backward()
            norms[step] = grad_norm(model.parameters())
            if clip is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            losses[step] = loss.item()
    return {"loss": losses, "grad_norm": norms}


def clipping_experiment(seeds: tuple[int, ...] = (0, 1, 2, 3, 4), clips: tuple[float | None, ...]
                        = (None, 1.0), T: int = 20, hidden: int = 16, radius: float = 1.5,
                        lr: float = 0.3, steps: int = 300, batch: int = 32,
                        progress: bool = True) -> dict[float | None, list[dict[str, np.ndarray]]]:
    """Notebook 02's clipping experiment: for each seed, the same tanh RNN (W_hh rescaled to
    spectral radius ``radius``) and the same batches of :func:`first_token_task` (T steps),
    trained by :func:`train_with_grad_norms` once per entry of ``clips`` (None: no clipping).
    Returns ``{clip: [run of seed 0, run of seed 1, ...]}``."""
    from tqdm.auto import tqdm

    runs: dict[float | None, list[dict[str, np.ndarray]]] = {c: [] for c in clips}
    bar = tqdm(total=len(seeds) * len(clips), desc="clipping", disable=not progress)
    for seed in seeds:
        def task(step: int, seed: int = seed) -> tuple[Any, Any]:
            return first_token_task(T, batch, seed=1000 * seed + step)

        for c in clips:
            with np.errstate(over="ignore", invalid="ignore"):
                runs[c].append(train_with_grad_norms(make_sign_rnn(hidden, seed, radius), task,
                                                     steps, lr, clip=c, progress=False))
            bar.update(1)
    bar.close()
    return runs


def blow_up_step(run: dict[str, np.ndarray], factor: float = 100.0) -> int | None:
    """The first step whose loss is not finite or exceeds ``factor`` times the first step's
    loss, or None when the run never blows up."""
    loss = run["loss"]
    bad = ~np.isfinite(loss) | (loss > factor * loss[0])
    return int(np.argmax(bad)) if bad.any() else None

