"""Notebook 05's experiments: the sweep command, a CPU speed micro-benchmark, and the analysis.

    python -m course_utils sweep --out results/sweeps/adding_cpu.json          # ~10 min, 2 cores
    python -m course_utils sweep --quick --out /tmp/smoke.json                  # seconds

The sweep trains a tanh RNN, an LSTM and a GRU on the adding problem over growing T, at equal
hidden size and at (approximately) equal parameter count, an LSTM with forget-gate bias 1
(Jozefowicz et al. 2015), and the three cells on the copy task; several seeds each. The JSON
records the command that made it, the machine, and every run's loss per update and cumulative
seconds per update (:class:`course_utils.train.Run`).

References: Chung, Gulcehre, Cho & Bengio (2014), "Empirical evaluation of gated recurrent
neural networks on sequence modeling"; Jozefowicz, Zaremba & Sutskever (2015); Greff et al.
(2017), "LSTM: a search space odyssey".
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Iterable

from .train import TrainConfig, matched_hidden, recurrent_params

DEFAULT_T = (10, 25, 50, 100)
DEFAULT_COPY_T = (10, 25)


# --------------------------------------------------------------------------- plan
def plan(T_values: Iterable[int] = DEFAULT_T, copy_T: Iterable[int] = DEFAULT_COPY_T,
         hidden: int = 48, seeds: Iterable[int] = (0, 1, 2), steps: int = 700,
         batch: int = 64, lr: float = 3e-3) -> list[tuple[str, TrainConfig]]:
    """The sweep as a list of (group label, config).

    Groups: ``"equal-H"`` (rnn, lstm, gru at ``hidden``), ``"equal-params"`` (gru and rnn sized
    to the LSTM's recurrent-layer parameter count), ``"forget-bias-1"`` (lstm, forget bias 1),
    and ``"copy"`` (the three cells at ``hidden`` on the copy task).
    """
    seeds = list(seeds)
    lstm_params = recurrent_params("lstm", 2, hidden)
    sized = {c: matched_hidden(c, 2, lstm_params) for c in ("gru", "rnn")}
    common = dict(steps=steps, batch=batch, lr=lr)
    out: list[tuple[str, TrainConfig]] = []
    for T in T_values:
        for seed in seeds:
            for cell in ("rnn", "lstm", "gru"):
                out.append(("equal-H", TrainConfig(cell=cell, T=T, hidden=hidden, seed=seed, **common)))
            for cell in ("gru", "rnn"):
                out.append(("equal-params", TrainConfig(cell=cell, T=T, hidden=sized[cell], seed=seed,
                                                        **common)))
            out.append(("forget-bias-1", TrainConfig(cell="lstm", T=T, hidden=hidden, seed=seed,
                                                     forget_bias=1.0, **common)))
    copy_cfg = dict(common, lr=1e-2)
    for T in copy_T:
        for seed in seeds:
            for cell in ("rnn", "lstm", "gru"):
                out.append(("copy", TrainConfig(cell=cell, task="copy", T=T, hidden=hidden, seed=seed,
                                                **copy_cfg)))
    return out


# --------------------------------------------------------------------------- machine & speed
def machine_info() -> dict[str, Any]:
    """Where and when a result was measured."""
    import torch

    return {"platform": platform.platform(), "machine": platform.machine(),
            "processor": platform.processor(), "cpu_count": os.cpu_count(),
            "python": platform.python_version(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "mkldnn_available": bool(torch.backends.mkldnn.is_available()),
            "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}


def time_fwd_bwd(cell: str, T: int, batch: int, input_size: int, hidden: int, reps: int = 5,
                 mkldnn: bool = True, seed: int = 0) -> float:
    """Median seconds of one forward + backward pass of torch.nn.{RNN,LSTM,GRU} on CPU, float32.

    ``mkldnn=False`` runs it under ``torch.backends.mkldnn.flags(enabled=False)``: on CPU,
    PyTorch sends float32 ``nn.LSTM`` (and ``nn.RNN``) through oneDNN when it is enabled;
    ``nn.GRU`` has no oneDNN path, so the flag changes the LSTM's backend, not the GRU's.
    """
    import warnings

    import torch

    torch.manual_seed(seed)
    kind = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    module = kind(input_size, hidden)
    x = torch.randn(T, batch, input_size, requires_grad=True)  # (T, B, I)
    times = []
    with warnings.catch_warnings():  # flags() warns about Intel-GPU TF32 on CPU-only builds
        warnings.simplefilter("ignore")
        ctx = torch.backends.mkldnn.flags(enabled=mkldnn)
        ctx.__enter__()
    try:
        for i in range(reps + 1):
            start = time.perf_counter()
            out, _ = module(x)  # (T, B, H)
            out.sum().backward()
            if i:  # the first call warms up (allocation, oneDNN primitive creation)
                times.append(time.perf_counter() - start)
            module.zero_grad(set_to_none=True)
            x.grad = None
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ctx.__exit__(None, None, None)
    return statistics.median(times)


def speed_table(sizes: Iterable[tuple[int, int, int, int]] = ((50, 64, 2, 48), (50, 64, 32, 128),
                                                            (100, 32, 32, 256)),
                reps: int = 5, progress: bool = True) -> list[dict[str, Any]]:
    """fwd+bwd seconds of LSTM and GRU (oneDNN on and off) for each (T, B, I, H)."""
    from tqdm.auto import tqdm

    rows = []
    for T, B, I, H in tqdm(list(sizes), desc="speed", disable=not progress, leave=False):
        row: dict[str, Any] = {"T": T, "B": B, "I": I, "H": H}
        for cell in ("lstm", "gru"):
            for flag in (True, False):
                key = f"{cell}_{'mkldnn' if flag else 'native'}_s"
                row[key] = time_fwd_bwd(cell, T, B, I, H, reps=reps, mkldnn=flag)
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- running
def run_sweep(items: list[tuple[str, TrainConfig]], progress: bool = True) -> list[dict[str, Any]]:
    from tqdm.auto import tqdm

    from .train import train

    runs = []
    for group, cfg in tqdm(items, desc="sweep", disable=not progress):
        run = train(cfg, progress=False)
        runs.append({"group": group, **run.to_dict()})
    return runs


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(prog="python -m course_utils sweep",
                                description="Notebook 05's LSTM vs GRU vs tanh RNN sweep (CPU).")
    p.add_argument("--out", required=True, help="JSON file to write (e.g. results/sweeps/adding_cpu.json)")
    p.add_argument("--quick", action="store_true", help="smoke test: T=10 only, 1 seed, 20 updates")
    p.add_argument("--steps", type=int, default=700, help="parameter updates per run")
    p.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1")
    p.add_argument("--T", type=int, nargs="+", default=list(DEFAULT_T), help="adding-problem lengths")
    p.add_argument("--copy-T", type=int, nargs="*", default=list(DEFAULT_COPY_T), help="copy-task delays")
    p.add_argument("--hidden", type=int, default=48, help="hidden size of the equal-H group")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    if args.quick:
        items = plan([10], [10], hidden=args.hidden, seeds=[0], steps=20)
        sizes: tuple = ((10, 8, 2, 16),)
    else:
        items = plan(args.T, args.copy_T, hidden=args.hidden, seeds=range(args.seeds), steps=args.steps)
        sizes = ((50, 64, 2, 48), (50, 64, 32, 128), (100, 32, 32, 256))
    start = time.perf_counter()
    speed = speed_table(sizes, reps=2 if args.quick else 5, progress=not args.no_progress)
    runs = run_sweep(items, progress=not args.no_progress)
    result = {"command": "python -m course_utils sweep " + " ".join(argv),
              "machine": machine_info(), "wall_seconds": round(time.perf_counter() - start, 1),
              "speed": speed, "runs": runs}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, separators=(",", ":")) + "\n")
    print(f"wrote {out}: {len(runs)} runs in {result['wall_seconds']} s")
    return 0
