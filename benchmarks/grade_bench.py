"""Benchmark of the grader: N generated learner submissions, graded with ``--jobs J``.

    python benchmarks/grade_bench.py [--n 100] [--jobs 2] [--timeout 10] [--out DIR]

The class is made from the course's own notebooks: half copies of ``solutions/00_setup``, half
of ``solutions/01_rnn_basics``, whose exercise cells are replaced in turn by a correct answer,
the untouched student stub, and realistic mistakes (a missing bias, ReLU for tanh, the state
not carried, a sign error); two submissions of the class are hostile (an infinite loop, an
``os._exit``) so the timing includes the sandbox's fault handling. Every submission runs in
its own bubblewrap sandbox, each exercise in a process forked there whose outcome the grader
takes before the next one starts (100 sandboxes, 150 exercise processes, plus re-runs after
faults); every submission has its own hidden cases (derived from the class's secret and its
code), so expected values are computed per submission. Prints
one JSON line: wall time, submissions per second, the score histogram and the median start-up
cost of one sandbox run, and the CPU seconds the whole grading used (on a shared machine the
wall time says more about the other users than about the grader). Not a test: nothing is
asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STUB = "    # YOUR CODE HERE\n    raise NotImplementedError()"
VARIANTS = {
    "sigmoid": {
        "correct": "    e = np.exp(-np.abs(a))\n    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
        "stub": STUB,
        "overflowing": "    return 1.0 / (1.0 + np.exp(-a))",
        "sign error": "    return 1.0 / (1.0 + np.exp(a))",
        "tanh": "    return np.tanh(a)",
    },
    "rnn_cell_forward": {
        "correct": "    return np.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)",
        "stub": STUB,
        "missing bias": "    return np.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T)",
        "relu": "    return np.maximum(0, x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)",
    },
    "rnn_forward": {
        "correct": ("    h, outs = h0, []\n    for t in range(x.shape[0]):\n"
                    "        h = np.tanh(x[t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh)\n"
                    "        outs.append(h)\n    return np.stack(outs), h"),
        "stub": STUB,
        "state not carried": ("    outs = [np.tanh(x[t] @ W_ih.T + b_ih + h0 @ W_hh.T + b_hh)"
                              " for t in range(x.shape[0])]\n    return np.stack(outs), outs[-1]"),
        "batch first": ("    h, outs = h0, []\n    for t in range(x.shape[0]):\n"
                        "        h = np.tanh(x[t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh)\n"
                        "        outs.append(h)\n    return np.stack(outs, axis=1), h"),
    },
}
HOSTILE = {"infinite loop": "    while True:\n        pass", "os._exit": "    import os\n    os._exit(0)"}
_BODY = re.compile(r"^[ \t]*### BEGIN SOLUTION\n.*?### END SOLUTION", re.S | re.M)


def make_class(folder: Path, n: int) -> dict[str, str]:
    """Write ``n`` submissions below ``folder``; returns id -> description."""
    import nbformat

    sources = {name: nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
               for name in ("00_setup", "01_rnn_basics")}
    made = {}
    for i in range(n):
        name = "00_setup" if i % 2 == 0 else "01_rnn_basics"
        nb = nbformat.from_dict(json.loads(json.dumps(sources[name])))
        picks = []
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid in VARIANTS:
                options = list(VARIANTS[gid].items())
                label, body = options[(i // 2 // len(options) ** len(picks)) % len(options)]
                if i in (7, 13) and gid == "rnn_forward":
                    label, body = list(HOSTILE.items())[i == 13]
                cell.source = _BODY.sub(lambda _m, body=body: body, cell.source)
                picks.append(f"{gid}: {label}")
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        path = folder / f"learner{i:03d}" / f"{name}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(nb, path)
        made[f"learner{i:03d}/{name}.ipynb"] = "; ".join(picks)
    return made


def sandbox_start_cost(n: int = 10) -> float:
    """Median wall time of one sandbox run that only defines and calls a trivial function
    (bubblewrap + interpreter + numpy import + one result): the per-exercise fixed cost."""
    import statistics

    sys.path.insert(0, str(ROOT))
    from course_utils.grade import sandbox

    job = {"context": ["import numpy as np"],
           "exercises": [{"exercise": "f", "arg_names": ["a"],
                          "cells": [{"id": "f", "source": "def f(a):\n    return a\n"}],
                          "cases": [{"source": "args = (np.zeros(3),)"}]}]}
    times = []
    for _ in range(n):
        start = time.monotonic()
        sandbox.run(job, b"", sandbox.Limits(timeout=30))
        times.append(time.monotonic() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--timeout", type=float, default=10)
    p.add_argument("--out", type=Path, default=None, help="keep the class and the results here")
    args = p.parse_args(argv)
    base = args.out or Path(tempfile.mkdtemp(prefix="grade-bench-"))
    subs, out = base / "class", base / "graded"
    shutil.rmtree(subs, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    made = make_class(subs, args.n)
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "course_utils", "grade", str(subs), "--out", str(out),
                           "--jobs", str(args.jobs), "--timeout", str(args.timeout), "--seed", "2024"],
                          cwd=ROOT, capture_output=True, text=True)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    import csv

    with open(out / "grades.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    print(json.dumps({
        "submissions": len(made), "rows": len(table), "jobs": args.jobs, "timeout_s": args.timeout,
        "exit_status": proc.returncode, "wall_s": round(wall, 1),
        "submissions_per_s": round(len(made) / wall, 2),
        # CPU seconds of the grader and every sandbox (less sensitive to a busy machine than
        # the wall time; cpu_s / min(jobs, cpus) is what an idle machine's wall time tends to)
        "cpu_s": round(cpu, 1),
        "scores": dict(sorted(Counter(f"{r['total']}/{r['max']}" for r in table).items())),
        "statuses": dict(Counter(e for r in table for e in [r["status"]])),
        "cpus": os.cpu_count(), "load_avg_1min": round(os.getloadavg()[0], 2),
        "python": platform.python_version(), "root": os.geteuid() == 0,
        "sandbox_start_s": round(sandbox_start_cost(), 3),
        "output": str(out) if args.out else None,
    }))
    if not args.out:
        shutil.rmtree(base, ignore_errors=True)
    return 0 if proc.returncode == 0 and len(table) == len(made) else 1


if __name__ == "__main__":
    sys.exit(main())
