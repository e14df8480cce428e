"""``python -m course_utils sweep --suite dates``: notebook 10's trial (seq2seq on dates).

    python -m course_utils sweep --suite dates --out results/attention/dates_cpu.json  # ~30 min, 1 core
    python -m course_utils sweep --suite dates --quick --out /tmp/dates.json            # seconds

Five arms at equal total parameters (GRU, LSTM, GRU+attn, LSTM+attn, Transformer;
:mod:`course_utils.labs.attention.trial`), the learning rate per arm chosen on validation (seed 0)
from a grid of three, five seeds at the chosen rate, the same update budget, the checkpoint chosen
on validation. The JSON records the command, the machine, the grid, seeds, budget, every run's
evaluations (update, training seconds, exact match on valid / test / longer inputs), the chosen
rates, the parameter counts and ``ledger_rows`` ([claim, verdict, regime], notebook 08's ledger).
It is rewritten after every arm, so an interrupted sweep keeps what it finished.

``--extend-lrs 3e-2`` widens the grid of a complete file for EVERY arm (the protocol: an
extension given to one is given to all): each new rate runs on the selection seed, the rate is
chosen again over the whole grid, and an arm whose choice moves runs its other seeds there.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

NOTE = ("shared machine, timings noisy: one torch thread on a 2-core machine shared with other "
        "jobs; seconds count training updates only")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(prog="python -m course_utils sweep --suite dates",
                                description="Notebook 10's seq2seq trial on dates (CPU, one thread).")
    p.add_argument("--out", required=True, help="JSON file (results/attention/dates_cpu.json)")
    p.add_argument("--quick", action="store_true", help="smoke test: tiny data, 12 updates, 2 seeds")
    p.add_argument("--updates", type=int, help="the budget in updates (same for every arm)")
    p.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (the protocol needs >= 5)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--extend-lrs", type=float, nargs="+", metavar="LR",
                   help="add these rates to the grid of a complete --out file (every arm)")
    p.add_argument("--ledger-only", action="store_true", help="recompute the ledger_rows of an "
                   "existing complete --out file from its records (no training)")
    args = p.parse_args([a for a in argv if a not in ("--suite", "dates")])
    if args.ledger_only:
        return ledger_only(args.out)
    import torch

    from ..labs.attention import train as TR
    from ..labs.attention import trial as TL
    from ..labs.attention.dates import MAX_TRAIN_LEN
    from ..lib import protocol as P
    from ..lib.measure import machine_info

    torch.set_num_threads(1)
    start = time.perf_counter()
    sizes = dict(n_train=500, n_valid=32, n_test=32, n_longer=32) if args.quick else {}
    data = TR.Data.make(0, **sizes)
    updates = args.updates or (12 if args.quick else TL.UPDATES)
    every = 4 if args.quick else TL.EVAL_EVERY
    seeds = tuple(range(2 if args.quick else args.seeds))
    factories, counts = TL.arms(data, hidden=8 if args.quick else TL.HIDDEN)
    fit = TL.make_fit(data, every, progress=not args.no_progress)
    longer = [len(s) for s, _ in data.splits["longer"].texts]
    base = {"suite": "dates", "command": "python -m course_utils sweep " + " ".join(
                argv if "--suite" in argv else ["--suite", "dates", *argv]),
            "machine": {**machine_info(), "torch_threads": torch.get_num_threads(),
                        "cpu_capability": torch.backends.cpu.get_cpu_capability()},
            "note": NOTE, "lrs": list(TL.LRS), "seeds": list(seeds),
            "select_seeds": [seeds[0]], "budget": {"updates": updates, "seconds": None},
            "batch": TR.BATCH, "eval_every": every, "higher_is_better": True,
            "metric": "exact match of the greedy output (all ten characters and the end token)",
            "selection": "learning rate on seed 0's validation; checkpoint on validation; test "
                         "and longer read once there",
            "solved_threshold": TL.SOLVED,
            "task": {"name": "dates → ISO", "data_seed": 0, "max_train_len": MAX_TRAIN_LEN,
                     "longer_lengths": [min(longer), max(longer)],
                     "n": {k: len(v.texts) for k, v in data.splits.items()},
                     "split": "train / valid / test days disjoint (80/10/10 of 1950–2049); longer "
                              "= test days rendered longer than max_train_len"},
            "arms": {a: {**c} for a, c in counts.items()}}
    if args.extend_lrs:
        return extend(args.out, args.extend_lrs, factories, fit, updates, not args.no_progress)
    records: list[dict[str, Any]] = []
    for arm, make in factories.items():
        one = P.Trial({arm: make, "_": make}, TL.LRS, seeds, P.Budget(updates=updates),
                      higher_is_better=True, select_seeds=(seeds[0],))
        one.arms = {arm: make}  # a trial of one arm (the checks need two names at construction)
        records += P.run_trial(one, fit, progress=not args.no_progress)
        done = [a for a in factories if any(r["arm"] == a for r in records)]
        chosen = {a: P.choose_lr([r for r in records if r["arm"] == a], P.Budget(updates=updates),
                                 True, seeds=(seeds[0],)) for a in done}
        result = {**base, "wall_seconds": round(time.perf_counter() - start, 1),
                  "complete": len(done) == len(factories), "chosen_lr": chosen,
                  "records": records}
        if result["complete"]:
            result["ledger_rows"] = TL.ledger_rows({**result, "file": _rel(args.out)})
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, separators=(",", ":")) + "\n")
        print(f"{arm}: done, chosen lr {chosen[arm]:g}; {time.perf_counter() - start:.0f} s so "
              f"far; wrote {out}", flush=True)
    return 0


def extend(out: str, new_lrs: list[float], factories: dict[str, Any], fit: Any, updates: int,
           progress: bool) -> int:
    """Widen a complete file's learning-rate grid for every arm (see the module docstring)."""
    from ..lib import protocol as P

    result = _complete(out)
    if set(factories) != set(result["chosen_lr"]):
        raise SystemExit(f"{out} has arms {sorted(result['chosen_lr'])}, this code "
                         f"{sorted(factories)}: not the same trial")
    added = [lr for lr in new_lrs if lr not in result["lrs"]]
    if not added:
        raise SystemExit(f"{out} already has every rate of {new_lrs}")
    start, budget = time.perf_counter(), P.Budget(updates=updates)
    sel, seeds = result["select_seeds"], result["seeds"]
    records = result["records"]
    for arm, make in factories.items():
        for lr in added:
            records.append({"arm": arm, "lr": lr, "seed": sel[0], "evals": fit(make, lr, sel[0], budget)})
        mine = [r for r in records if r["arm"] == arm]
        lr = P.choose_lr(mine, budget, True, seeds=sel)
        have = {r["seed"] for r in mine if r["lr"] == lr}
        for seed in (s for s in seeds if s not in have):
            records.append({"arm": arm, "lr": lr, "seed": seed, "evals": fit(make, lr, seed, budget)})
        result["chosen_lr"][arm] = lr
        if progress:
            print(f"{arm}: chosen lr {lr:g} of {sorted(result['lrs'] + added)}", flush=True)
    result["lrs"] = sorted(result["lrs"] + added)
    result["wall_seconds"] = round(result["wall_seconds"] + time.perf_counter() - start, 1)
    result["extended"] = {"lrs": added, "command": "python -m course_utils sweep --suite dates "
                          f"--out {_rel(out)} --extend-lrs " + " ".join(f"{x:g}" for x in added)}
    _write_with_ledger(out, result)
    print(f"extended {out}: chosen {result['chosen_lr']}")
    return 0


def ledger_only(out: str) -> int:
    """Rewrite ``ledger_rows`` of a complete results file from its own records."""
    _write_with_ledger(out, _complete(out))
    print(f"rewrote the ledger rows of {out}")
    return 0


def _complete(out: str) -> dict[str, Any]:
    """The results of a complete sweep in ``out`` (SystemExit, saying so, otherwise)."""
    result = json.loads(Path(out).read_text(encoding="utf-8"))
    if not result.get("complete"):
        raise SystemExit(f"{out} is not a complete dates sweep; run the sweep first")
    return result


def _write_with_ledger(out: str, result: dict[str, Any]) -> None:
    """Write ``result`` to ``out`` with its ledger rows generated from its own records."""
    from ..labs.attention import trial as TL

    result["ledger_rows"] = TL.ledger_rows({**result, "file": _rel(out)})
    Path(out).write_text(json.dumps(result, separators=(",", ":")) + "\n")


def _rel(out: str) -> str:
    path = Path(out)
    parts = path.parts
    return str(Path(*parts[parts.index("results"):])) if "results" in parts else str(path)
