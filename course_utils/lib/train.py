"""A training harness small enough to read: torch.nn.RNN / LSTM / GRU + a linear head.

    from course_utils.lib.train import TrainConfig, train
    run = train(TrainConfig(cell="gru", task="adding", T=50, hidden=48, steps=300, seed=0))
    run.losses          # training loss after every update (fresh batch each update)
    run.seconds         # cumulative wall-clock seconds of training at every update

Every batch of the synthetic tasks is fresh, so the training loss *is* an unbiased estimate of
the loss on unseen data. Timing counts only the update (batch generation, forward, backward,
clipping, optimizer step), measured with :class:`course_utils.lib.measure.Stopwatch`. Training
runs on ``config.threads`` torch threads and restores the previous count afterwards.

The forget-gate bias option follows Gers, Schmidhuber & Cummins (2000) and Jozefowicz,
Zaremba & Sutskever (2015, "An empirical exploration of recurrent network architectures"):
initialise the LSTM forget gate's bias to 1 (PyTorch's gate order is i, f, g, o; the bias is
split in ``bias_ih`` + ``bias_hh``, we set ``bias_ih[f] = value`` and ``bias_hh[f] = 0``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .measure import Stopwatch, torch_threads

CELLS = ("rnn", "lstm", "gru")
TASKS = ("adding", "copy")


@dataclass
class TrainConfig:
    """Everything a run depends on (recorded next to its results)."""

    cell: str = "lstm"  # "rnn" (tanh), "lstm" or "gru"
    task: str = "adding"  # "adding" or "copy"
    T: int = 50  # sequence length (adding) or delay (copy)
    hidden: int = 48
    forget_bias: float | None = None  # LSTM only; None keeps PyTorch's default init
    lr: float = 3e-3  # Adam
    steps: int = 300  # parameter updates
    batch: int = 64
    seed: int = 0
    clip: float | None = 1.0  # max gradient norm; None: no clipping
    threads: int | None = 1  # torch threads during training (restored after); None: as is

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Run:
    """The record of one training run."""

    config: TrainConfig
    params: int
    losses: list[float] = field(default_factory=list)  # per update
    seconds: list[float] = field(default_factory=list)  # cumulative, per update
    baseline: float = float("nan")  # the loss of the trivial strategy for this task

    def final_loss(self, last: float = 0.1) -> float:
        """Mean loss over the last ``last`` fraction of updates (less noisy than the last one)."""
        k = max(1, int(len(self.losses) * last))
        return sum(self.losses[-k:]) / k

    def to_dict(self) -> dict[str, Any]:
        return {"config": self.config.to_dict(), "params": self.params, "baseline": self.baseline,
                "losses": [round(v, 6) for v in self.losses],
                "seconds": [round(v, 5) for v in self.seconds]}


def make_model(cell: str, input_size: int, hidden: int, output_size: int,
               forget_bias: float | None = None) -> Any:
    """A one-layer recurrent net (time-major) and a linear head, as one nn.Module."""
    import torch
    from torch import nn

    if cell not in CELLS:
        raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")

    class Recurrent(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            kind = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
            self.rnn = kind(input_size, hidden)  # torch defaults: 1 layer, bias=True, tanh
            self.head = nn.Linear(hidden, output_size)
            if forget_bias is not None:
                if cell != "lstm":
                    raise ValueError("forget_bias applies to the LSTM only")
                with torch.no_grad():  # gate order i, f, g, o
                    self.rnn.bias_ih_l0[hidden:2 * hidden].fill_(forget_bias)
                    self.rnn.bias_hh_l0[hidden:2 * hidden].zero_()

        def forward(self, x: Any) -> Any:  # x (T, B, I)
            out, _ = self.rnn(x)  # (T, B, H)
            return self.head(out)  # (T, B, output_size)

    return Recurrent()


def count_params(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())


def task_spec(task: str, T: int) -> tuple[int, int, float]:
    """(input_size, output_size, baseline loss) of a task."""
    from . import tasks

    if task == "adding":
        return 2, 1, tasks.ADDING_BASELINE_MSE
    if task == "copy":
        return tasks.COPY_CLASSES, tasks.COPY_CLASSES, tasks.copy_baseline(T)
    raise ValueError(f"task must be one of {TASKS}, got {task!r}")


def batch_and_loss(task: str, model: Any, T: int, batch: int, gen: Any) -> Any:
    """Draw a fresh batch, run the model, return the scalar training loss."""
    import torch.nn.functional as F

    from . import tasks

    if task == "adding":
        x, y = tasks.adding_batch(T, batch, gen)  # (T, B, 2), (B, 1)
        return F.mse_loss(model(x)[-1], y)  # read out at the last step
    x, y = tasks.copy_batch(T, batch, gen)  # (T+20, B, 10), (T+20, B)
    logits = model(x)  # (T+20, B, 10)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


def train(config: TrainConfig, progress: bool = True, desc: str | None = None) -> Run:
    """Train one model on a synthetic task with Adam; returns its :class:`Run`."""
    with torch_threads(config.threads):
        return _train(config, progress, desc)


def _train(config: TrainConfig, progress: bool, desc: str | None) -> Run:
    import torch
    from tqdm.auto import tqdm

    torch.manual_seed(config.seed)  # the model's initial weights
    gen = torch.Generator().manual_seed(10_000 + config.seed)  # the data stream
    input_size, output_size, baseline = task_spec(config.task, config.T)
    model = make_model(config.cell, input_size, config.hidden, output_size, config.forget_bias)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    run = Run(config, count_params(model), baseline=baseline)
    watch = Stopwatch()
    bar = tqdm(range(config.steps), desc=desc or f"{config.cell} H={config.hidden} T={config.T}",
               disable=not progress, leave=False)
    for _ in bar:
        with watch:
            loss = batch_and_loss(config.task, model, config.T, config.batch, gen)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if config.clip is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip)
            opt.step()
        run.losses.append(loss.item())
        run.seconds.append(watch.elapsed)
    return run


def fit_regressor(cell: str, x_train: Any, y_train: Any, x_test: Any, y_test: Any,
                  hidden: int = 32, steps: int = 300, batch: int = 64, lr: float = 3e-3,
                  seed: int = 0, progress: bool = True, threads: int | None = 1) -> dict[str, Any]:
    """Train on fixed (window, N, I) -> (N, 1) data (the stock series), MSE loss, on
    ``threads`` torch threads (restored afterwards).

    Returns ``{"params", "train_losses", "test_mse", "seconds"}``.
    """
    with torch_threads(threads):
        return _fit(cell, (x_train, y_train, x_test, y_test), hidden, steps, batch, lr, seed,
                    progress)


def _fit(cell: str, data: tuple[Any, Any, Any, Any], hidden: int, steps: int, batch: int,
         lr: float, seed: int, progress: bool) -> dict[str, Any]:
    import torch
    import torch.nn.functional as F
    from tqdm.auto import tqdm

    x_train, y_train, x_test, y_test = data  # (window, N, I), (N, 1), (window, M, I), (M, 1)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(10_000 + seed)
    model = make_model(cell, x_train.shape[-1], hidden, 1)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    n = x_train.shape[1]
    losses, watch = [], Stopwatch()
    for _ in tqdm(range(steps), desc=f"{cell} H={hidden}", disable=not progress, leave=False):
        with watch:
            idx = torch.randint(0, n, (batch,), generator=gen)
            loss = F.mse_loss(model(x_train[:, idx])[-1], y_train[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        losses.append(loss.item())
    with torch.no_grad():
        test_mse = float(F.mse_loss(model(x_test)[-1], y_test))
    return {"params": count_params(model), "train_losses": losses, "test_mse": test_mse,
            "seconds": watch.elapsed}
