"""Notebook 02: training experiments — the distance experiment and its longer suite, gradient
norms, and clipping with and without (several seeds)."""

from __future__ import annotations

import copy
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import numpy as np

from .jacobians import scaled_recurrent_matrix


# --------------------------------------------------------------------------- training helpers
@contextmanager
def single_thread() -> Iterator[None]:
    """Run torch on one CPU thread inside the block: for these tiny RNNs (H <= 32) thread
    hand-offs cost more than the arithmetic, and a busy machine makes it far worse. The old
    thread count comes back afterwards (:func:`course_utils.lib.measure.torch_threads`)."""
    from ...lib.measure import torch_threads

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
