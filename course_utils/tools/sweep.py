"""``python -m course_utils sweep``: notebook 08's training sweep (RNN / LSTM / GRU, adding and copy).

    python -m course_utils sweep --out results/sweeps/adding_copy_cpu.json     # ~10 min, 2 cores
    python -m course_utils sweep --quick --out /tmp/smoke.json                  # seconds
    python -m course_utils sweep --suite distance --out results/sweeps/distance_cpu.json  # ~3 min

``--suite counting`` is notebook 08's counting task (:mod:`course_utils.tools.sweep_counting`).
``--suite dates`` is notebook 10's seq2seq trial (:mod:`course_utils.tools.sweep_dates`).
``--suite charlm`` is notebook 07's char-LM sweep (:mod:`course_utils.tools.sweep_charlm`).
``--suite attention-copy`` / ``attention-deploy`` are notebook 10's runs
(:mod:`course_utils.tools.sweep_attention`).
``--suite distance`` is notebook 02's longer budget instead: the tanh RNN of its distance
experiment at T = 20 (1,500 updates, 5 seeds) and T = 40 (3,000 updates, 3 seeds), test accuracy
every 50 updates (:func:`course_utils.labs.vanishing_gradients.distance_suite`).

The sweep trains a tanh RNN, an LSTM and a GRU on the adding problem over growing T, at equal
hidden size and at (approximately) equal parameter count, an LSTM with forget-gate bias 1
(Jozefowicz et al. 2015), the three cells on the copy task, and longer LSTM runs (does it leave
the adding problem's plateau?); several seeds each. It first times forward + backward of
nn.LSTM and nn.GRU with oneDNN on and off (:func:`speed_table`). The JSON
records the command that made it, the machine, and every run's loss per update and cumulative
seconds per update (:class:`course_utils.lib.train.Run`).

References: Chung, Gulcehre, Cho & Bengio (2014), "Empirical evaluation of gated recurrent
neural networks on sequence modeling"; Jozefowicz, Zaremba & Sutskever (2015); Greff et al.
(2017), "LSTM: a search space odyssey".
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Iterable

from ..labs.lstm_vs_gru import SPEED_SIZES, speed_table
from ..lib.counts import matched_hidden, param_count
from ..lib.measure import machine_info
from ..lib.train import TrainConfig

DEFAULT_T = (10, 25, 50, 100)
DEFAULT_COPY_T = (10, 25)
DEFAULT_LONG_T = (50,)


# --------------------------------------------------------------------------- plan
def plan(T_values: Iterable[int] = DEFAULT_T, copy_T: Iterable[int] = DEFAULT_COPY_T,
         hidden: int = 48, seeds: Iterable[int] = (0, 1, 2), steps: int = 700,
         batch: int = 64, lr: float = 3e-3, long_T: Iterable[int] = DEFAULT_LONG_T,
         long_steps: int = 2000) -> list[tuple[str, TrainConfig]]:
    """The sweep as a list of (group label, config).

    Groups: ``"equal-H"`` (rnn, lstm, gru at ``hidden``), ``"equal-params"`` (gru and rnn sized
    to the LSTM's recurrent-layer parameter count), ``"forget-bias-1"`` (lstm, forget bias 1),
    ``"copy"`` (the three cells at ``hidden`` on the copy task), and ``"long"`` (the LSTM with
    default and with forget bias 1, trained ``long_steps`` updates at each of ``long_T``: does it
    leave the adding problem's plateau given more time?).
    """
    seeds = list(seeds)
    lstm_params = param_count("lstm", 2, hidden)
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
    for T in long_T:
        for seed in seeds:
            for fb in (None, 1.0):
                out.append(("long", TrainConfig(cell="lstm", T=T, hidden=hidden, seed=seed, forget_bias=fb,
                                                **dict(common, steps=long_steps))))
    return out


# --------------------------------------------------------------------------- running
def run_sweep(items: list[tuple[str, TrainConfig]], progress: bool = True) -> list[dict[str, Any]]:
    from tqdm.auto import tqdm

    from ..lib.train import train

    runs = []
    for group, cfg in tqdm(items, desc="sweep", disable=not progress):
        run = train(cfg, progress=False)
        runs.append({"group": group, **run.to_dict()})
    return runs


def distance_main(argv: list[str], out: str, quick: bool, progress: bool) -> int:
    """``--suite distance``: run :func:`~course_utils.labs.vanishing_gradients.distance_suite`
    (``--quick``: T = 5, one seed, 20 updates) and write the JSON with its command and machine."""
    import torch

    from ..labs import vanishing_gradients as G

    torch.set_num_threads(1)
    suite = ((5, (0,), 20),) if quick else G.DISTANCE_SUITE
    start = time.perf_counter()
    runs = G.distance_suite(suite, eval_every=10 if quick else 50, progress=progress)
    result = {"command": "python -m course_utils sweep " + " ".join(argv),
              "machine": {**machine_info(),
                          "cpu_capability": torch.backends.cpu.get_cpu_capability()},
              "wall_seconds": round(time.perf_counter() - start, 1),
              "plan": [{"T": T, "seeds": list(seeds), "steps": steps} for T, seeds, steps in suite],
              "solved_threshold": G.SOLVED, "runs": runs}
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, separators=(",", ":")) + "\n")
    print(f"wrote {path}: {len(runs)} runs in {result['wall_seconds']} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    suite = argparse.ArgumentParser(add_help=False)
    suite.add_argument("--suite")
    chosen, rest = suite.parse_known_args(argv)
    if chosen.suite == "chorales":  # notebook 09's replication of Chung et al. (2014)
        from .sweep_chorales import main as chorales_main

        return chorales_main(rest)
    if chosen.suite == "charlm":  # notebook 07's char-LM sweep: its own module and options
        from .sweep_charlm import main as charlm_main

        return charlm_main(rest)
    if chosen.suite in ("adding", "copy", "counting", "series", "charlm-size"):
        from .sweep_trial import main as trial_main  # notebook 08's trials under the protocol

        return trial_main(rest, suite=chosen.suite)
    if chosen.suite == "dates":  # notebook 10's seq2seq trial (attention, Transformer)
        from .sweep_dates import main as dates_main

        return dates_main(rest)
    if chosen.suite in ("attention-copy", "attention-deploy"):  # notebook 10's runs
        from .sweep_attention import main as attention_main

        return attention_main(rest, suite=chosen.suite)
    if chosen.suite == "counting-old":  # the retired counting sweep (no lr grid, no validation)
        from .sweep_counting import main as counting_main

        return counting_main(rest)
    p = argparse.ArgumentParser(prog="python -m course_utils sweep",
                                description="Notebook 08's LSTM vs GRU vs tanh RNN sweep (CPU).")
    p.add_argument("--out", required=True,
                   help="JSON file to write (e.g. results/sweeps/adding_copy_cpu.json)")
    p.add_argument("--quick", action="store_true", help="smoke test: T=10 only, 1 seed, 20 updates")
    p.add_argument("--steps", type=int, default=700, help="parameter updates per run")
    p.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1")
    p.add_argument("--T", type=int, nargs="+", default=list(DEFAULT_T), help="adding-problem lengths")
    p.add_argument("--copy-T", type=int, nargs="*", default=list(DEFAULT_COPY_T), help="copy-task delays")
    p.add_argument("--long-T", type=int, nargs="*", default=list(DEFAULT_LONG_T),
                   help="lengths of the long LSTM runs")
    p.add_argument("--long-steps", type=int, default=2000, help="updates of the long LSTM runs")
    p.add_argument("--hidden", type=int, default=48, help="hidden size of the equal-H group")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--suite", choices=("adding-copy", "distance", "charlm", "counting-old"),
                   default="adding-copy",
                   help="adding-copy: notebook 08's sweep (default); distance: notebook 02's "
                        "longer distance experiment; charlm: notebook 07's char-LM sweep "
                        "(its own options: --suite charlm --help); counting: notebook 08's "
                        "aⁿbⁿ counting task (--suite counting --help)")
    args = p.parse_args(argv)
    if args.suite == "distance":
        return distance_main(argv, args.out, args.quick, not args.no_progress)
    import torch

    torch.set_num_threads(1)
    if args.quick:
        items = plan([10], [10], hidden=args.hidden, seeds=[0], steps=20, long_T=[10], long_steps=30)
        sizes: tuple = ((10, 8, 2, 16),)
    else:
        items = plan(args.T, args.copy_T, hidden=args.hidden, seeds=range(args.seeds), steps=args.steps,
                     long_T=args.long_T, long_steps=args.long_steps)
        sizes = SPEED_SIZES
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


