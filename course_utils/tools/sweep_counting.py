"""``python -m course_utils sweep --suite counting``: notebook 08's counting task (claim 9).

    python -m course_utils sweep --suite counting --out results/sweeps/counting_cpu.json  # ~20 min
    python -m course_utils sweep --suite counting --quick --out /tmp/counting.json        # seconds

LSTM and GRU language models on aⁿbⁿ (:mod:`course_utils.labs.lstm_vs_gru.counting`): the
``main`` group trains an LSTM and a GRU with 10 hidden units, and a GRU with the LSTM's parameter
count, on n ≤ 20 for 3,000 updates (Adam, learning rate 1e-2 annealed to 1e-4), several seeds;
the ``long`` group gives two GRU seeds 6,000 updates (is its limit a plateau or a wall?). Every
250 updates each run records how far it counts, within the training range and up to n = 200.
One torch thread; the JSON records the command, the machine and the wall time.

Reference: Weiss, Goldberg & Yahav (2018), "On the practical computational power of finite
precision RNNs for language recognition", ACL.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from ..labs.lstm_vs_gru.counting import CountingConfig, train_counting

LR_FINAL = 1e-4  # Adam's 1e-2 annealed to this (cosine), so the final model is a settled one


def plan(seeds: int = 5, steps: int = 3000, long_steps: int = 6000, hidden: int = 10,
         quick: bool = False) -> list[tuple[str, CountingConfig]]:
    """(group, config) of every run: LSTM-H and GRU-H on ``seeds`` seeds, the parameter-matched
    GRU on min(seeds, 3), and the long GRU runs on 2 seeds (none when ``long_steps`` is 0)."""
    from ..lib.counts import matched_hidden, param_count

    if quick:
        return [("main", CountingConfig(cell=c, hidden=4, steps=6, eval_every=3, test_n=12))
                for c in ("lstm", "gru")]
    h_gru = matched_hidden("gru", 2, param_count("lstm", 2, hidden))
    out = [("main", CountingConfig(cell=c, hidden=h, seed=s, steps=steps, lr_final=LR_FINAL))
           for c, h, n in (("lstm", hidden, seeds), ("gru", hidden, seeds),
                           ("gru", h_gru, min(seeds, 3))) for s in range(n)]
    if long_steps:
        out += [("long", CountingConfig(cell="gru", hidden=hidden, seed=s, steps=long_steps,
                                        lr_final=LR_FINAL))
                for s in range(2)]
    return out


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(prog="python -m course_utils sweep --suite counting",
                                description="Notebook 08's counting task: LSTM vs GRU on aⁿbⁿ.")
    p.add_argument("--out", required=True, help="JSON file (results/sweeps/counting_cpu.json)")
    p.add_argument("--quick", action="store_true", help="smoke test: tiny models, 6 updates")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--steps", type=int, default=3000, help="updates of the main group")
    p.add_argument("--long-steps", type=int, default=6000, help="updates of the long group")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    from tqdm.auto import tqdm

    from ..lib.measure import machine_info

    items = plan(args.seeds, args.steps, args.long_steps, quick=args.quick)
    start = time.perf_counter()
    runs: list[dict[str, Any]] = []
    for group, cfg in tqdm(items, desc="counting", disable=args.no_progress):
        runs.append({"group": group, **train_counting(cfg)})
    result = {"command": "python -m course_utils sweep --suite counting " + " ".join(argv),
              "machine": machine_info(), "wall_seconds": round(time.perf_counter() - start, 1),
              "note": "one torch thread per run, on a CPU shared with other jobs", "runs": runs}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, separators=(",", ":")) + "\n")
    print(f"wrote {out}: {len(runs)} runs in {result['wall_seconds']} s")
    return 0
