"""Instructor grading: ``python -m course_utils grade SUBMISSION... --out DIR``.

Learners' notebooks are graded on hidden cases, in a sandboxed child process per submission,
with the same specs as the notebook checkers; results go to ``DIR/grades.csv``, a Gradescope
``results.json`` and a Markdown feedback file per submission. Modules:

cli        argument parsing and the batch loop (``main``)
discover   finding submissions and exercise cells (by nbgrader ``grade_id``)
grading    hidden cases, the sandbox round trip, judging and scoring
sandbox    the child process: session, rlimits, uid drop, timeout, cleanup
worker     the code that runs inside the sandbox
serialize  plain-data transport (npz in, JSON out; no pickle)
store      atomic, incremental per-submission records
report     CSV, Gradescope JSON, feedback
(benchmark: ``python benchmarks/grade_bench.py``, 100 generated submissions, timed)
"""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    from .cli import main as _main

    return _main(argv)


__all__ = ["main"]
