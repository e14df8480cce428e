"""Notebook 08's CPU speed micro-benchmark and the summary of the committed adding/copy sweep.

The sweep itself (which runs to train, the command that writes the JSON) is
:mod:`course_utils.tools.sweep`; run records are read with :mod:`course_utils.lib.runs`.

References: Chung, Gulcehre, Cho & Bengio (2014), arXiv:1412.3555 (equal-parameter
comparison); PyTorch ``torch.backends.mkldnn`` (oneDNN, the LSTM's default CPU backend).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from ...lib.measure import onednn, time_interleaved, torch_threads
from ...lib.runs import final_loss, seconds_per_update, seconds_to, select, updates_to

SPEED_SIZES = ((50, 64, 2, 48), (50, 32, 32, 128), (50, 32, 32, 256))  # (T, B, I, H)
SPEED_TOL = 0.05  # a GRU/LSTM time ratio within 1 ± this is read as "on par"
CONFIGS = {  # the sweep's configurations: label -> (group, cell)
    "tanh RNN H=48": ("equal-H", "rnn"), "LSTM H=48": ("equal-H", "lstm"),
    "GRU H=48": ("equal-H", "gru"), "GRU H=56 (=params)": ("equal-params", "gru"),
    "tanh RNN H=98 (=params)": ("equal-params", "rnn"),
    "LSTM H=48, forget bias 1": ("forget-bias-1", "lstm"),
}


def _fwd_bwd(module: Any, x: Any, mkldnn: bool) -> Callable[[], None]:
    """One forward + backward pass under the oneDNN switch; gradients cleared afterwards."""
    def call() -> None:
        with onednn(mkldnn):
            out, _ = module(x)  # (T, B, H)
            out.sum().backward()
        module.zero_grad(set_to_none=True)
        x.grad = None
    return call


def speed_table(sizes: Iterable[tuple[int, int, int, int]] | None = None, reps: int = 5,
                progress: bool = True, threads: int | None = 1) -> list[dict[str, Any]]:
    """fwd+bwd seconds of LSTM and GRU, oneDNN on and off, for each (T, B, I, H), on
    ``threads`` torch threads (restored afterwards).

    ``nn.GRU`` has no oneDNN path, so the switch changes the LSTM's backend, not the GRU's.
    The four variants are timed *interleaved* (:func:`~course_utils.lib.measure.
    time_interleaved`: one pass of each per round, ``reps`` rounds) and each keeps its fastest
    pass, so a burst of load from other jobs hits all of them alike.
    """
    import torch
    from tqdm.auto import tqdm

    rows = []
    with torch_threads(threads):
        for T, B, I, H in tqdm(list(sizes or SPEED_SIZES), desc="speed", disable=not progress,
                               leave=False):
            torch.manual_seed(0)
            x = torch.randn(T, B, I, requires_grad=True)  # (T, B, I)
            modules = {"lstm": torch.nn.LSTM(I, H), "gru": torch.nn.GRU(I, H)}
            calls = {f"{cell}_{'mkldnn' if flag else 'native'}_s":
                     _fwd_bwd(modules[cell], x, flag)
                     for cell in ("lstm", "gru") for flag in (True, False)}
            best = time_interleaved(calls, warmup=1, repeats=reps)
            rows.append({"T": T, "B": B, "I": I, "H": H,
                         **{name: t.min_s for name, t in best.items()}})
    return rows


def speed_ratios(speed: list[dict[str, Any]]) -> tuple[list[float], list[float]]:
    """GRU/LSTM time per size: (oneDNN on, PyTorch's default; oneDNN off, same backend)."""
    return ([r["gru_mkldnn_s"] / r["lstm_mkldnn_s"] for r in speed],
            [r["gru_native_s"] / r["lstm_native_s"] for r in speed])


def sides(ratios: list[float], Hs: list[int], tol: float = SPEED_TOL) -> dict[str, list[int]]:
    """Hidden sizes where the GRU is ``faster`` (ratio < 1 - tol), ``slower`` (> 1 + tol) or
    ``on par``: a noisy ratio near 1 is not read as a winner."""
    out: dict[str, list[int]] = {"faster": [], "on par": [], "slower": []}
    for r, H in zip(ratios, Hs):
        out["faster" if r < 1 - tol else "slower" if r > 1 + tol else "on par"].append(H)
    return out


def speed_reading(speed: list[dict[str, Any]]) -> str:
    """One sentence that reads the live speed table qualitatively (which cell is faster
    where, with each backend), for the notebook to print under the table."""
    on, off = speed_ratios(speed)
    Hs = [r["H"] for r in speed]
    parts = []
    for name, ratios in (("with PyTorch's defaults (oneDNN on)", on),
                         ("on the same backend (oneDNN off)", off)):
        s = {k: v for k, v in sides(ratios, Hs).items() if v}
        parts.append(f"{name} the GRU is " + ", ".join(
            f"{k} at H = {', '.join(map(str, v))}" for k, v in s.items()))
    return ("Reading: " + "; ".join(parts) + f" (on par: within ±{SPEED_TOL:.0%}, "
            "the order of the noise on a shared CPU).")


def summarise(runs: list[dict[str, Any]], T_values: Iterable[int], threshold: float,
              configs: dict[str, tuple[str, str]] | None = None) -> dict[tuple[str, int], Any]:
    """(label, T) -> per-seed ``final`` loss, ``updates`` and ``seconds`` to ``threshold``,
    ``ms`` per update and ``params``, for every adding-problem configuration of the sweep."""
    out = {}
    for label, (group, cell) in (configs or CONFIGS).items():
        for T in T_values:
            rs = select(runs, group, cell=cell, T=T, task="adding")
            out[label, T] = {"final": [final_loss(r) for r in rs],
                             "updates": [updates_to(r, threshold) for r in rs],
                             "seconds": [seconds_to(r, threshold) for r in rs],
                             "ms": [1000 * seconds_per_update(r) for r in rs],
                             "params": rs[0]["params"]}
    return out
