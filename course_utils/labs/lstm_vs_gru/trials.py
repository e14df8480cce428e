"""Notebook 08's tasks run under the trial protocol (:mod:`course_utils.lib.protocol`).

Each ``fit_*`` trains one fresh model from a factory, at one learning rate and seed, and returns
its evaluations ``{"update", "seconds", "valid", "test", ...}`` every ``eval_every`` updates
(seconds: cumulative training time, evaluations excluded). Validation and test data are fixed
sets drawn once from their own generators (adding, copy), disjoint ranges of n (counting), or
chronological splits (the series); the training stream of seed s is its own generator.

Arms are compared at equal hidden size and at equal *total* trainable parameters, head included
(:func:`equal_total_hidden`).
"""

from __future__ import annotations

import time
from typing import Any, Callable

from ...lib.protocol import Budget, Eval

VALID_SEED, TEST_SEED = 1_000_003, 2_000_003  # generators of the fixed validation / test sets


def total_params(cell: str, input_size: int, hidden: int, output_size: int,
                 extra: int = 0) -> int:
    """Trainable parameters of one recurrent layer + a linear head (+ ``extra``, e.g. an
    embedding that every arm shares)."""
    from ...lib.counts import param_count

    return param_count(cell, input_size, hidden) + hidden * output_size + output_size + extra


def equal_total_hidden(cell: str, input_size: int, output_size: int, target: int) -> int:
    """Hidden size of ``cell`` whose total (layer + head) count is closest to ``target``."""
    best = min(range(1, 4097), key=lambda h: (abs(total_params(cell, input_size, h, output_size)
                                                  - target), h))
    return best


def arms(input_size: int, output_size: int, hidden: int,
         factory: Callable[[str, int], Callable[[], Any]],
         rnn: bool = False) -> dict[str, Callable[[], Any]]:
    """The three arms: LSTM-H, GRU-H (equal hidden size) and GRU at the LSTM's total count; with
    ``rnn`` a fourth, a plain tanh RNN at the LSTM's total count (head included)."""
    target = total_params("lstm", input_size, hidden, output_size)
    h_eq = equal_total_hidden("gru", input_size, output_size, target)
    out = {f"LSTM H={hidden}": factory("lstm", hidden), f"GRU H={hidden}": factory("gru", hidden),
           f"GRU H={h_eq} (=params)": factory("gru", h_eq)}
    if rnn:
        h_rnn = equal_total_hidden("rnn", input_size, output_size, target)
        out[f"RNN H={h_rnn} (=params)"] = factory("rnn", h_rnn)
    return out


def net_factory(input_size: int, output_size: int) -> Callable[[str, int], Callable[[], Any]]:
    """cell, hidden -> a factory of :func:`course_utils.lib.train.make_model` nets."""
    from ...lib.train import make_model

    def factory(cell: str, hidden: int) -> Callable[[], Any]:
        def make() -> Any:
            return make_model(cell, input_size, hidden, output_size)
        make.cell, make.hidden = cell, hidden  # type: ignore[attr-defined]
        return make
    return factory


def _loop(make: Callable[[], Any], lr: float, seed: int, budget: Budget, eval_every: int,
          step_loss: Callable[[Any, Any], Any], evaluate: Callable[[Any], dict[str, float]],
          clip: float = 1.0) -> list[Eval]:
    """Adam + gradient clipping, ``budget.updates`` updates (stops early past ``budget.seconds``),
    ``evaluate(model)`` every ``eval_every`` updates (and at update 0)."""
    import torch

    from ...lib.measure import torch_threads

    with torch_threads(1):
        torch.manual_seed(seed)
        model = make()
        gen = torch.Generator().manual_seed(10_000 + seed)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        evals: list[Eval] = []
        spent, step = 0.0, 0
        model.eval()
        with torch.no_grad():
            evals.append({"update": 0, "seconds": 0.0, **evaluate(model)})
        updates = budget.updates if budget.updates is not None else 10**9
        while step < updates and (budget.seconds is None or spent < budget.seconds):
            model.train()
            t0 = time.perf_counter()
            loss = step_loss(model, gen)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            spent += time.perf_counter() - t0
            step += 1
            if step % eval_every == 0 or step == updates:
                model.eval()
                with torch.no_grad():
                    evals.append({"update": step, "seconds": round(spent, 4), **evaluate(model)})
    return evals


# --------------------------------------------------------------------------- adding / copy
def fixed_set(task: str, T: int, n: int, seed: int) -> tuple[Any, Any]:
    """A fixed batch of ``n`` sequences of the adding or copy task from generator ``seed``."""
    import torch

    from ...lib import tasks

    gen = torch.Generator().manual_seed(seed)
    return (tasks.adding_batch if task == "adding" else tasks.copy_batch)(T, n, gen)


def task_loss(task: str, model: Any, x: Any, y: Any) -> Any:
    """MSE read at the last step (adding), or cross-entropy over every step (copy)."""
    import torch.nn.functional as F

    if task == "adding":
        return F.mse_loss(model(x)[-1], y)
    logits = model(x)  # (L, B, 10)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


def synthetic_fit(task: str, T: int, batch: int = 32, eval_every: int = 100, n_valid: int = 500,
                  n_test: int = 1000) -> Callable[..., list[Eval]]:
    """``fit(make, lr, seed, budget)`` for the adding or copy task at length / delay ``T``."""
    from ...lib import tasks

    valid, test = fixed_set(task, T, n_valid, VALID_SEED), fixed_set(task, T, n_test, TEST_SEED)
    draw = tasks.adding_batch if task == "adding" else tasks.copy_batch

    def step_loss(model: Any, gen: Any) -> Any:
        x, y = draw(T, batch, gen)
        return task_loss(task, model, x, y)

    def evaluate(model: Any) -> dict[str, float]:
        return {"valid": round(float(task_loss(task, model, *valid)), 6),
                "test": round(float(task_loss(task, model, *test)), 6)}

    def fit(make: Callable[[], Any], lr: float, seed: int, budget: Budget) -> list[Eval]:
        return _loop(make, lr, seed, budget, eval_every, step_loss, evaluate)
    return fit


# --------------------------------------------------------------------------- counting
def counting_fit(train_n: int = 20, valid_n: int = 50, test_n: int = 200, batch: int = 32,
                 eval_every: int = 250) -> Callable[..., list[Eval]]:
    """aⁿbⁿ: train on n ≤ ``train_n``; ``valid`` = how far it counts within n ≤ ``valid_n``
    (checkpoint and learning rate are chosen on it), ``test`` = how far within n ≤ ``test_n``
    (the reported limit; n beyond ``valid_n`` is never seen by selection); ``train_limit``."""
    import torch
    import torch.nn.functional as F

    from .counting import IGNORE, SYMBOLS, anbn_batch, counting_limit

    def step_loss(model: Any, gen: Any) -> Any:
        x, y, _ = anbn_batch(torch.randint(1, train_n + 1, (batch,), generator=gen))
        return F.cross_entropy(model(x).reshape(-1, len(SYMBOLS)), y.reshape(-1),
                               ignore_index=IGNORE)

    def evaluate(model: Any) -> dict[str, float]:
        return {"valid": counting_limit(model, valid_n), "test": counting_limit(model, test_n),
                "train_limit": counting_limit(model, train_n)}

    def fit(make: Callable[[], Any], lr: float, seed: int, budget: Budget) -> list[Eval]:
        return _loop(make, lr, seed, budget, eval_every, step_loss, evaluate)
    return fit


# --------------------------------------------------------------------------- the real series
def series_fit(data: dict[str, Any], batch: int = 64,
               eval_every: int = 25) -> Callable[..., list[Eval]]:
    """The stock series (:func:`course_utils.lib.tasks.stock_splits`): minibatches of training
    windows, MSE of the next day's standardised range on the validation and test windows."""
    import torch
    import torch.nn.functional as F

    xtr, ytr = data["train"]
    n = xtr.shape[1]

    def step_loss(model: Any, gen: Any) -> Any:
        idx = torch.randint(0, n, (batch,), generator=gen)
        return F.mse_loss(model(xtr[:, idx])[-1], ytr[idx])

    def evaluate(model: Any) -> dict[str, float]:
        return {k: round(float(F.mse_loss(model(data[k][0])[-1], data[k][1])), 6)
                for k in ("valid", "test")}

    def fit(make: Callable[[], Any], lr: float, seed: int, budget: Budget) -> list[Eval]:
        return _loop(make, lr, seed, budget, eval_every, step_loss, evaluate)
    return fit
