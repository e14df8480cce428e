"""``python -m course_utils check NOTEBOOK_OR_FOLDER...``: a learner's progress at a glance.

Runs the exercise cells of each notebook exactly as the grader does (:mod:`.grading`: each
exercise in a fresh sandbox, judged outside by the notebook checkers' specs) but on the
**public** cases, and prints one table: notebook, exercise, status, cases passed. It takes the
``grader-context`` cells from the course's ``solutions/`` where the checkout has them, else
from the learner's notebook itself; it writes nothing. Where bubblewrap is missing (macOS,
Colab) it runs the code without a sandbox — it is the learner's own code, on the learner's own
machine — and says so.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import discover
from .grading import Batch, course_notebooks, grade_notebook
from .plan import PlanCache, make_plan
from .record import ExerciseResult
from .sandbox import Limits

SOLUTIONS = Path(__file__).resolve().parent.parent.parent / "solutions"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m course_utils check", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="+", type=Path, metavar="NOTEBOOK_OR_FOLDER")
    p.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                   help="wall-clock limit of one exercise's run (default 60)")
    p.add_argument("--no-sandbox", action="store_true", help="run without bubblewrap")
    return p


def check_notebook(path: Path, batch: Batch, notebooks: dict[str, list[str]],
                   plans: dict) -> tuple[str | None, list[ExerciseResult], str]:
    """(course notebook, results, note) for one learner notebook, on the public cases."""
    try:
        nb = discover.read_notebook(path.read_bytes())
    except (OSError, discover.NotebookError) as exc:
        return None, [], str(exc)
    name = discover.identify(nb, path.name, notebooks)
    if name is None:
        return None, [], "not a notebook of the course"
    solution = SOLUTIONS / f"{name}.ipynb"
    context = discover.grader_context(solution) if solution.is_file() else [
        discover.strip_magics(c["source"])[0] for c in nb["cells"]
        if c["cell_type"] == "code" and "grader-context" in (c["metadata"].get("tags") or [])]
    context = context or ["import numpy as np"]
    key = (name, tuple(context))
    if key not in plans:
        plans[key] = make_plan(name, None, context)
    return name, grade_notebook(nb, plans[key], batch, []), ""


def _row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()


def format_table(rows: list[tuple[str, str, str, str, str]]) -> str:
    head = ("notebook", "exercise", "status", "cases", "what to look at")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)] + [0]
    lines = [_row(list(head), widths), _row(["-" * w for w in widths[:4]] + ["-" * 15], widths)]
    lines += [_row(list(r), widths) for r in rows]
    return "\n".join(lines)


def _summary(result: ExerciseResult) -> str:
    if result.status in ("passed", "not_implemented"):
        return ""
    text = result.mistake and f"looks like {result.mistake}" or result.message
    return " ".join(str(text).split())[:90]


def main(argv: list[str] | None = None) -> int:
    from .cli import sandbox_problem

    args = build_parser().parse_args(argv)
    found = discover.find_submissions([p for p in args.paths if p.exists()])
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing or not found:
        print(f"error: no notebooks found in {', '.join(missing or map(str, args.paths))}",
              file=sys.stderr)
        return 2
    problem = None if args.no_sandbox else sandbox_problem()
    if problem:
        print("note: running your code without a sandbox (bubblewrap is not available here).",
              file=sys.stderr)
    batch = Batch(PlanCache(None, Path(".")), Limits(timeout=args.timeout),
                  "none" if args.no_sandbox or problem else "bwrap")
    notebooks, plans, rows = course_notebooks(), {}, []
    for sub in found:
        _, results, note = check_notebook(sub.path, batch, notebooks, plans)
        if not results:
            rows.append((sub.id, "-", "skipped", "", note))
        for k, r in enumerate(results):
            cases = f"{r.n_passed}/{r.n_cases}" if r.n_cases else ""
            rows.append((sub.id if k == 0 else "", r.id, r.status.replace("_", " "), cases,
                         _summary(r)))
    print(format_table(rows))
    done = sum(r[2] == "passed" for r in rows)
    print(f"\n{done} of {len(rows)} exercises pass their public checks.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
