"""``python -m course_utils gradescope --out autograder.zip [--seed N]``: a Gradescope autograder.

Gradescope builds one container image from the zip (running ``setup.sh`` as root) and runs
``run_autograder`` once per submission, in a fresh container: a 1,000-learner class is graded
by Gradescope's machines, by the same ``grade`` command as locally. The zip holds:

* ``course/``: the ``course_utils`` package, ``pyproject.toml`` and ``constraints.txt`` (the
  pinned versions), installed by ``setup.sh`` with bubblewrap into ``/autograder/venv``;
* ``context/<notebook>.ipynb``: ONLY the ``grader-context`` cells of each solution notebook —
  no solution code at all;
* ``seed``: the class's secret (random when the zip is built), from which each submission's
  hidden cases are derived with its code;
* ``setup.sh`` and ``run_autograder``.

``run_autograder`` grades ``/autograder/submission`` with bubblewrap; where the container
forbids the namespaces bubblewrap needs, it falls back to ``--no-sandbox`` as root, so the
learner code runs as a fresh unprivileged uid that can read the standard library and
``/opt/learner-site`` (numpy; torch only in its own folder, used by torch exercises) but not
``/autograder/source`` or ``/autograder/venv`` (mode 0700: course, checkers, torch, seed).
It writes ``/autograder/results/results.json`` (``python -m course_utils.grade.gradescope
collect``, which keeps one result per course notebook, capped at its maximum). The zip's seed
is the class's secret: each submission's hidden cases derive from it and the submission's code.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import zipfile
from pathlib import Path

from . import discover

ROOT = Path(__file__).resolve().parent.parent.parent

SETUP = """#!/usr/bin/env bash
# Gradescope image set-up (root): bubblewrap, the pinned course in a root-only venv, and the
# learner-readable site folders used only when bubblewrap cannot run in the container.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq bubblewrap python3 python3-venv python3-pip >/dev/null
SRC=/autograder/source
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install -q --extra-index-url https://download.pytorch.org/whl/cpu \\
    -c "$SRC/course/constraints.txt" "$SRC/course"
NUMPY=$(/autograder/venv/bin/python -c 'import numpy; print(numpy.__version__)')
TORCH=$(/autograder/venv/bin/python -c 'import torch; print(torch.__version__)')
/autograder/venv/bin/pip install -q --target /opt/learner-site/base "numpy==$NUMPY"
/autograder/venv/bin/pip install -q --extra-index-url https://download.pytorch.org/whl/cpu \\
    --target /opt/learner-site/torch "torch==$TORCH"
chmod -R go-rwx "$SRC" /autograder/venv
chmod -R a+rX /opt/learner-site
"""

RUN = """#!/usr/bin/env bash
# One submission: grade it with the course's own `grade` command, write Gradescope's results.
set -uo pipefail
AG=${AUTOGRADER_ROOT:-/autograder}
PY=${COURSE_PYTHON:-$AG/venv/bin/python}
WORK=$(mktemp -d)
ARGS=("$AG/submission" --out "$WORK/out" --seed "$(cat "$AG/source/seed")"
      --solutions "$AG/source/context" --timeout 120 --jobs 2)
if "$PY" -c 'import sys; from course_utils.grade.cli import sandbox_problem as p; sys.exit(bool(p()))'
then
    "$PY" -m course_utils grade "${ARGS[@]}"
else
    echo "bubblewrap cannot run here: grading as a separate unprivileged uid" >&2
    "$PY" -m course_utils grade "${ARGS[@]}" --no-sandbox --runner-site /opt/learner-site
fi
mkdir -p "$AG/results"
"$PY" -m course_utils.grade.gradescope collect "$WORK/out" "$AG/results/results.json"
"""


def context_notebook(solution: Path) -> dict:
    """A notebook holding only the grader-context cells of ``solution`` (no solution code)."""
    cells = [{"cell_type": "code", "metadata": {"tags": ["grader-context"]}, "source": src,
              "outputs": [], "execution_count": None}
             for src in discover.grader_context(solution)]
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _add(zf: zipfile.ZipFile, name: str, data: str | bytes, mode: int = 0o644) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


def build_zip(out: Path, seed: int, solutions: Path = ROOT / "solutions") -> list[str]:
    """Write the autograder zip; returns the names it holds."""
    with zipfile.ZipFile(out, "w") as zf:
        _add(zf, "setup.sh", SETUP, 0o755)
        _add(zf, "run_autograder", RUN, 0o755)
        _add(zf, "seed", f"{seed}\n")
        for path in sorted((ROOT / "course_utils").rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                _add(zf, f"course/{path.relative_to(ROOT).as_posix()}", path.read_bytes())
        for name in ("pyproject.toml", "constraints.txt", "README.md"):
            if (ROOT / name).is_file():
                _add(zf, f"course/{name}", (ROOT / name).read_bytes())
        for sol in sorted(solutions.glob("*.ipynb")):
            _add(zf, f"context/{sol.name}", json.dumps(context_notebook(sol), indent=1))
        return zf.namelist()


def collect(work: Path, results: Path) -> dict:
    """Merge the graded notebooks' ``results.json`` into Gradescope's one file: ONE result per
    course notebook (the best-scoring copy when a learner uploaded several, the others named
    in the output), each capped at that notebook's maximum; files that are no notebook of the
    course add nothing."""
    merged: dict = {"score": 0.0, "tests": [], "output": "", "visibility": "visible",
                    "stdout_visibility": "hidden"}
    files = sorted((work / "submissions").glob("*/results.json"))
    best: dict[str, list[tuple[float, str, dict]]] = {}
    for path in files:
        part = json.loads(path.read_text(encoding="utf-8"))
        extra = part.get("extra_data") if isinstance(part.get("extra_data"), dict) else {}
        name, sub = extra.get("notebook"), str(extra.get("submission") or path.parent.name)
        if not isinstance(name, str) or not name:
            if part.get("output"):
                merged["output"] += f"{sub}: {part['output']}\n"
            continue
        top = float(extra.get("max") or 0.0)
        score = min(max(float(part.get("score", 0.0)), 0.0), top)
        best.setdefault(name, []).append((score, sub, part))
    for name in sorted(best):
        copies = sorted(best[name], key=lambda c: (-c[0], c[1]))
        score, sub, part = copies[0]
        merged["score"] = round(merged["score"] + score, 2)
        merged["tests"] += part.get("tests", [])
        if part.get("output"):
            merged["output"] += part["output"] + "\n"
        if len(copies) > 1:
            others = ", ".join(c[1] for c in copies[1:])
            merged["output"] += (f"{name}: {len(copies)} copies uploaded; {sub} counts (the best "
                                 f"score), not {others}.\n")
    if not files:
        merged["output"] = "No notebook (.ipynb) of the course was found in your submission."
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(merged, indent=1), encoding="utf-8")
    return merged


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["collect"]:
        collect(Path(argv[1]), Path(argv[2]))
        return 0
    p = argparse.ArgumentParser(prog="python -m course_utils gradescope", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, metavar="ZIP")
    p.add_argument("--seed", type=int, default=None, help="hidden seed (default: random)")
    p.add_argument("--solutions", type=Path, default=ROOT / "solutions")
    args = p.parse_args(argv)
    seed = args.seed if args.seed is not None else secrets.randbits(128)
    names = build_zip(args.out, seed, args.solutions)
    print(f"wrote {args.out} ({len(names)} files; hidden seed inside; keep the zip private). "
          "Upload it as the assignment's autograder on Gradescope.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
