"""``python -m course_utils sweep --suite chorales``: notebook 09's replication of Chung et al. (2014)
on the Bach chorales, under the trial protocol of :mod:`course_utils.lib.protocol`.

    python -m course_utils sweep --suite chorales --out results/chorales/replication_cpu.json
    python -m course_utils sweep --suite chorales --quick --out /tmp/chorales.json   # seconds

On a shared machine two processes can split it: ``--recipes paper --out A``, ``--recipes adam
--out B``, then ``--merge A B --out results/chorales/replication_cpu.json`` (each run is seeded
by itself, so the split changes only the timings).

Two trials, one per recipe (``paper``: RMSProp + clipping at 1 + weight noise; ``adam``), each
over five arms: the paper's sizes (tanh 100, LSTM 36, GRU 46 units) and a tanh RNN and a GRU with
the LSTM's total parameter count (output layer included). Each arm: every learning rate of the
recipe's grid on seed 0 (selection), then seeds 1..4 at the rate chosen on validation; early
stopping on validation. Then the LSTM and the GRU at the paper's sizes again with oneDNN off
(``torch.backends.mkldnn``), Adam recipe, the chosen rate, every seed: the same cells on the same
kernel family, so their seconds compare the cells, while oneDNN on compares kernels too. One torch
thread per run. The JSON records the command, machine, budget, grids, seeds, chosen rates, every
run's evaluations, the baselines and the data's checksum; it is rewritten after each trial.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

NOTE = ("shared machine, timings noisy: one torch thread per run on 2 CPU cores shared with other "
        "jobs; seconds count training updates only (evaluations excluded)")
LRS = {"paper": (3e-3, 1e-2, 3e-2), "adam": (3e-3, 1e-2, 3e-2)}
UPDATES, EVAL_EVERY, SEEDS, SELECT = 800, 40, (0, 1, 2, 3, 4), (0,)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(prog="python -m course_utils sweep --suite chorales",
                                description="Notebook 09: Chung et al. (2014) on Bach chorales.")
    p.add_argument("--suite", choices=("chorales",), default="chorales")
    p.add_argument("--out", required=True, help="JSON (results/chorales/replication_cpu.json)")
    p.add_argument("--quick", action="store_true", help="smoke test: 6 updates, 2 seeds")
    p.add_argument("--updates", type=int, default=UPDATES, help="budget per run (every arm)")
    p.add_argument("--recipes", nargs="+", choices=("paper", "adam"), default=["paper", "adam"],
                   help="run these trials only (the oneDNN-off runs come with adam): two "
                        "processes can share the work, then --merge joins their files")
    p.add_argument("--merge", nargs="+", metavar="JSON",
                   help="join the files of runs with different --recipes into --out")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    if args.merge:
        return merge(args.merge, args.out)
    import torch

    from ..labs.polyphonic_music import baselines as BL
    from ..labs.polyphonic_music import data as D
    from ..labs.polyphonic_music import models as M
    from ..lib import protocol as P
    from ..lib.measure import machine_info

    torch.set_num_threads(1)
    start = time.perf_counter()
    ch = D.load_chorales(progress=not args.no_progress)
    data = M.padded_splits(ch)
    updates = 6 if args.quick else args.updates
    every = 3 if args.quick else EVAL_EVERY
    seeds = (0, 1) if args.quick else SEEDS
    budget = P.Budget(updates=updates)
    sizes = M.matched_sizes()
    cells = [(c, M.PAPER_SIZES[c]) for c in ("rnn", "lstm", "gru")]
    cells += [(c, sizes[c]) for c in ("rnn", "gru") if sizes[c] != M.PAPER_SIZES[c]]
    arms = {M.arm_name(c, h): M.ChoraleNet(c, h) for c, h in cells}
    meta = {name: {"cell": f.cell, "hidden": f.hidden, "params": M.total_params(f.cell, f.hidden),
                   "group": "paper size" if f.hidden == M.PAPER_SIZES[f.cell] else "equal total"}
            for name, f in arms.items()}
    result: dict[str, Any] = {
        "suite": "chorales", "command": "python -m course_utils sweep " + " ".join(
            argv if "--suite" in argv else ["--suite", "chorales", *argv]),
        "machine": {**machine_info(), "cpu_capability": torch.backends.cpu.get_cpu_capability()},
        "note": NOTE, "budget": {"updates": updates, "seconds": None}, "eval_every": every,
        "batch": M.BATCH, "weight_noise": M.WEIGHT_NOISE, "lrs": {k: list(v) for k, v in LRS.items()},
        "seeds": list(seeds), "select_seeds": [0],
        "selection": "checkpoint and learning rate on validation (seed 0 for the rate); test "
                     "read once at the chosen checkpoint",
        "data": {"checksum_all": ch.checksum(), "stats": ch.stats()},
        "baselines": BL.baselines(ch), "arms": meta, "trials": {}, "mkldnn_off": None,
        "complete": False}

    def write() -> None:
        result["wall_seconds"] = round(time.perf_counter() - start, 1)
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, separators=(",", ":")) + "\n")
        print(f"wrote {out} after {result['wall_seconds']} s", flush=True)

    for recipe in [r for r in M.RECIPES if r in args.recipes]:
        trial = P.Trial(arms, LRS[recipe], seeds, budget, select_seeds=(0,))

        def fit(factory: Any, lr: float, seed: int, b: Any, recipe: str = recipe) -> list:
            return M.fit(factory, lr, seed, b, data, recipe=recipe, eval_every=every)
        records = P.run_trial(trial, fit, progress=not args.no_progress)
        result["trials"][recipe] = {"chosen_lr": P.choose_lrs(records, trial), "records": records}
        write()
    if "adam" not in args.recipes:
        result["complete"] = True
        write()
        return 0
    # oneDNN off: the paper-size LSTM and GRU, Adam recipe, chosen rate, every seed
    chosen = result["trials"]["adam"]["chosen_lr"]
    off = []
    for c in ("lstm", "gru"):
        name = M.arm_name(c, M.PAPER_SIZES[c])
        for seed in seeds:
            off.append({"arm": name, "lr": chosen[name], "seed": seed, "mkldnn": False,
                        "evals": M.fit(arms[name], chosen[name], seed, budget, data,
                                       recipe="adam", eval_every=every, mkldnn=False)})
    result["mkldnn_off"] = {"recipe": "adam", "records": off}
    result["complete"] = True
    write()
    return 0


def merge(paths: list[str], out: str) -> int:
    """One file from sweeps that ran different ``--recipes`` with the same data, budget and
    grids: their trials, the oneDNN-off runs, every command, the longest wall time."""
    parts = [json.loads(Path(p).read_text()) for p in paths]
    first = parts[0]
    for other in parts[1:]:
        for key in ("budget", "lrs", "seeds", "arms", "data", "eval_every", "batch"):
            if other[key] != first[key]:
                raise ValueError(f"{paths[0]} and another file differ in {key!r}: not mergeable")
    result = dict(first)
    result["trials"] = {k: v for p in parts for k, v in p["trials"].items()}
    result["mkldnn_off"] = next((p["mkldnn_off"] for p in parts if p.get("mkldnn_off")), None)
    result["command"] = " ; ".join(p["command"] for p in parts)
    result["merged_from"] = [{"command": p["command"], "wall_seconds": p["wall_seconds"],
                              "trials": list(p["trials"])} for p in parts]
    result["wall_seconds"] = max(p["wall_seconds"] for p in parts)
    # a file cut short after a whole trial still counts for that trial
    result["complete"] = set(result["trials"]) == set(LRS) and result["mkldnn_off"] is not None
    Path(out).write_text(json.dumps(result, separators=(",", ":")) + "\n")
    print(f"wrote {out} from {len(parts)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
