"""Instructor grading: ``python -m course_utils grade SUBMISSION... --out DIR``.

Learners' notebooks are graded on hidden cases, each exercise in its own fresh bubblewrap
sandbox (an allow-list filesystem: interpreter, numpy, torch where needed; nothing of the
course), by a numpy-only runner; the judging happens outside, in the grader, with the same
specs as the notebook checkers. Results go to ``DIR/grades.csv``, a Gradescope
``results.json`` and a Markdown feedback file per submission. Modules, by lifecycle step:

cli        argument parsing and the batch loop (``main``)
discover   finding submissions and exercise cells (by nbgrader ``grade_id``; IPython's
           own input transformation)
plan       per notebook: cases (hidden: per submission, from the secret and its code),
           expected values, payloads, allowed modules
grading    one submission: a sandbox run per exercise, blame, scoring
verdict    one exercise's raw report -> verdict (in-place changes decided here)
hidden     what feedback may say about a hidden case
sandbox    one run: folder, limits, bubblewrap (or none), timeout, collection
layout     the sandbox's filesystem allow-list (bubblewrap arguments)
limits     the seccomp filter (no user namespaces) and per-sandbox control groups
hostfs     capped reads of a run's files, removal of what a run leaves
runner     inside the sandbox: limits, watchdog, context, a forked process per exercise
runner_exec  inside, in the forked process: learner cells, calls, raw values (stdlib + numpy)
serialize  plain-data transport (npz in, JSON out; no pickle)
record     typed data: ExerciseResult, SubmissionRecord, the fingerprint
store      atomic, incremental, HMAC-signed records
report     CSV, Gradescope JSON, feedback (collision-free folders)
selfcheck  ``python -m course_utils check``: a learner's table on the public cases
gradescope ``python -m course_utils gradescope``: the autograder zip
(benchmark: ``python benchmarks/grade_bench.py``, 100 generated submissions, timed)
"""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    from .cli import main as _main

    return _main(argv)


__all__ = ["main"]
