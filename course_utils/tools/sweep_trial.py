"""``python -m course_utils sweep --suite {adding,copy,counting,series,charlm-size}``: notebook 08's
LSTM-vs-GRU trials under the protocol of :mod:`course_utils.lib.protocol`.

    python -m course_utils sweep --suite adding --out results/sweeps/trial_adding_cpu.json
    python -m course_utils sweep --suite copy --out results/sweeps/trial_copy_cpu.json
    python -m course_utils sweep --suite counting --out results/sweeps/trial_counting_cpu.json
    python -m course_utils sweep --suite series --out results/sweeps/trial_series_cpu.json
    python -m course_utils sweep --suite charlm-size --out results/sweeps/trial_charlm_size_cpu.json
    python -m course_utils sweep --suite adding --quick --out /tmp/trial.json   # seconds

Every suite runs three arms (LSTM-H, GRU-H, and a GRU with the LSTM's total parameter count,
head included) over the same learning-rate grid, seeds and budget (the adding suite adds a fourth,
a plain tanh RNN with the LSTM's total parameter count, and a grid of four rates up to 3e-2;
``--jobs 2`` runs its lengths in two processes); the JSON records the grid, the seeds, the
budget, the learning rate chosen per arm on validation, every run's evaluations, the command, the
machine and a note that the machine was shared (timings are noisy).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

SUITES = ("adding", "copy", "counting", "series", "charlm-size")
NOTE = ("shared machine, timings noisy: one torch thread per run on 2 CPU cores shared with other "
        "jobs; seconds count training updates only and are upper bounds")
# suite -> defaults: lengths / fractions, hidden, updates, eval_every, lr grid, select seeds
DEFAULTS: dict[str, dict[str, Any]] = {
    "adding": dict(values=(10, 30, 100), hidden=24, updates=1200, eval_every=100,
                   lrs=(1e-3, 3e-3, 1e-2, 3e-2), select=None, rnn=True),
    "copy": dict(values=(10,), hidden=24, updates=1200, eval_every=100, lrs=(3e-3, 1e-2, 3e-2),
                 select=None),
    "counting": dict(values=(20,), hidden=10, updates=1500, eval_every=250,
                     lrs=(3e-3, 1e-2, 3e-2), select=None),
    "series": dict(values=(20,), hidden=16, updates=400, eval_every=25, lrs=(1e-3, 3e-3, 1e-2),
                   select=None),
    "charlm-size": dict(values=(0.1, 1.0), hidden=48, updates=1500, eval_every=50,
                        lrs=(1e-3, 3e-3, 1e-2), select=(0, 1)),
}


def _arms_meta(arms: dict[str, Any], count: Any) -> dict[str, dict[str, Any]]:
    return {name: {"cell": f.cell, "hidden": f.hidden, "params": count(f)}
            for name, f in arms.items()}


def build(suite: str, value: Any, hidden: int, quick: bool) -> tuple[dict[str, Any], Any, dict]:
    """(arms, fit, task description) of one trial of ``suite`` at ``value`` (T, train_n, the
    window, or the training fraction)."""
    from ..labs.lstm_vs_gru import charlm_size as C
    from ..labs.lstm_vs_gru import trials as TR
    from ..lib import tasks

    if suite in ("adding", "copy"):
        io = (2, 1) if suite == "adding" else (tasks.COPY_CLASSES, tasks.COPY_CLASSES)
        arms = TR.arms(*io, hidden, TR.net_factory(*io), rnn=DEFAULTS[suite].get("rnn", False))
        fit = TR.synthetic_fit(suite, int(value), n_valid=64 if quick else 500,
                               n_test=64 if quick else 1000, eval_every=5 if quick else 100)
        base = tasks.ADDING_BASELINE_MSE if suite == "adding" else tasks.copy_baseline(int(value))
        return arms, fit, {"task": suite, "T": int(value), "baseline": base}
    if suite == "counting":
        arms = TR.arms(2, 3, hidden, TR.net_factory(2, 3))
        fit = (TR.counting_fit(train_n=4, valid_n=6, test_n=10, eval_every=3) if quick
               else TR.counting_fit(train_n=int(value)))
        return arms, fit, {"task": "counting", "train_n": 4 if quick else int(value),
                           "valid_n": 6 if quick else 50, "test_n": 10 if quick else 200}
    if suite == "series":
        data = tasks.stock_splits(window=int(value))
        arms = TR.arms(2, 1, hidden, TR.net_factory(2, 1))
        fit = TR.series_fit(data, eval_every=5 if quick else 25)
        base = tasks.series_baselines(data)
        return arms, fit, {"task": "series", "window": int(value), "baselines": base,
                           "n": {k: int(data[k][1].shape[0]) for k in ("train", "valid", "test")}}
    splits = C.corpus_splits()
    vocab = len(splits["chars"])
    extra = vocab * C.EMBED
    arms = TR.arms(C.EMBED, vocab, hidden, C.char_net(vocab))
    fit = C.charlm_fit(splits, float(value), eval_every=3 if quick else 50)
    return arms, fit, {"task": "charlm-size", "fraction": float(value), "embed_params": extra,
                       "valid_topics": splits["valid"], "test_topics": splits["test"],
                       "pool_topics": len(splits["pool"]), "seq": C.SEQ, "batch": C.BATCH}


def main(argv: list[str] | None = None, suite: str | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(prog=f"python -m course_utils sweep --suite {suite or '…'}",
                                description="Notebook 08's trials under the protocol.")
    p.add_argument("--suite", choices=SUITES, default=suite)
    p.add_argument("--out", required=True, help="JSON file (results/sweeps/trial_<suite>_cpu.json)")
    p.add_argument("--quick", action="store_true", help="smoke test: tiny budget, 2 seeds")
    p.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (the protocol needs >= 5)")
    p.add_argument("--values", type=float, nargs="+", help="T (adding, copy), train_n "
                   "(counting), window (series) or training fractions (charlm-size)")
    p.add_argument("--updates", type=int, help="the budget in updates (same for every arm)")
    p.add_argument("--hidden", type=int, help="the LSTM's hidden size (and the equal-H GRU's)")
    p.add_argument("--jobs", type=int, default=1, help="processes, one value (T, ...) each "
                   "(each run still uses one torch thread)")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    if args.suite is None:
        p.error("--suite is required")
    import torch

    from ..lib import protocol as P

    torch.set_num_threads(1)
    d = DEFAULTS[args.suite]
    values = args.values or d["values"]
    hidden = args.hidden or (4 if args.quick else d["hidden"])
    updates = args.updates or (10 if args.quick else d["updates"])
    seeds = tuple(range(2 if args.quick else args.seeds))
    select = None if args.quick or d["select"] is None else tuple(d["select"])
    higher = args.suite == "counting"
    budget = P.Budget(updates=updates)
    start = time.perf_counter()
    values = [int(v) if args.suite != "charlm-size" else float(v) for v in values]
    jobs = (args.suite, hidden, args.quick, seeds, budget, higher, select, not args.no_progress)
    done: dict[Any, dict[str, Any]] = {}

    def finish(value: Any, trial: dict[str, Any]) -> None:
        done[value] = trial
        print(f"{args.suite} {value}: {len(trial['records'])} runs, "
              f"{time.perf_counter() - start:.0f} s so far", flush=True)
        _write(args, argv, d, seeds, select, updates, higher, start,
               [done[v] for v in values if v in done], complete=len(done) == len(values))

    if args.jobs > 1 and len(values) > 1:  # one value per process, longest (last) first
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(min(args.jobs, len(values))) as pool:
            futures = {pool.submit(_one, v, *jobs): v for v in reversed(values)}
            for fut in as_completed(futures):
                finish(futures[fut], fut.result())
    else:
        for value in values:
            finish(value, _one(value, *jobs))
    return 0


def _one(value: Any, suite: str, hidden: int, quick: bool, seeds: tuple, budget: Any,
         higher: bool, select: Any, progress: bool) -> dict[str, Any]:
    """One trial (every arm, lr and seed) of ``suite`` at ``value``, as its JSON entry."""
    import torch

    from ..lib import protocol as P

    torch.set_num_threads(1)
    arms, fit, task = build(suite, value, hidden, quick)
    trial = P.Trial(arms, DEFAULTS[suite]["lrs"], seeds, budget, higher_is_better=higher,
                    select_seeds=select)

    def count(f: Any) -> int:
        return sum(q.numel() for q in f().parameters())
    records = P.run_trial(trial, fit, progress=progress)
    return {"task": task, "arms": _arms_meta(arms, count),
            "chosen_lr": P.choose_lrs(records, trial), "records": records}


def _write(args: Any, argv: list[str], d: dict[str, Any], seeds: tuple, select: Any, updates: int,
           higher: bool, start: float, trials: list[dict[str, Any]], complete: bool) -> None:
    """Write the JSON (after every trial, so a long sweep keeps what it has finished)."""
    from ..lib.measure import machine_info

    result = {"suite": args.suite,
              "command": "python -m course_utils sweep " + " ".join(
                  argv if "--suite" in argv else ["--suite", args.suite, *argv]),
              "machine": machine_info(), "note": NOTE,
              "wall_seconds": round(time.perf_counter() - start, 1),
              "lrs": list(d["lrs"]), "seeds": list(seeds),
              "select_seeds": list(select) if select else list(seeds),
              "budget": {"updates": updates, "seconds": None}, "higher_is_better": higher,
              "selection": "checkpoint and learning rate on validation; test read once there",
              "complete": complete, "trials": trials}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, separators=(",", ":")) + "\n")
    print(f"wrote {out}: {sum(len(t['records']) for t in trials)} runs in "
          f"{result['wall_seconds']} s" + ("" if complete else " (partial)"))
