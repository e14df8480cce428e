"""One source, two notebook sets: ``solutions/*.ipynb`` -> ``notebooks/*.ipynb``.

``python -m course_utils build``            normalise solutions' metadata, write notebooks/
``python -m course_utils build --execute``  first execute every solution in place (nbclient),
                                            so committed outputs are what nbval compares
``python -m course_utils build --check``    fail, naming each file, when notebooks/ is out of
                                            date or a solution is unexecuted / un-normalised
``python -m course_utils build --repo-url https://github.com/you/fork``
                                            store a fork's address in pyproject.toml and
                                            write it into every notebook

The course repository's address lives in one place, ``[project.urls] Source`` of
``pyproject.toml``; the build writes it into each notebook's Colab badge (first cell) and the
Colab block of its setup cell (the first code cell, see :func:`setup_block`).

Student versions: the code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes
``# YOUR CODE HERE`` + ``raise NotImplementedError()`` at the same indentation; markdown
answers between the same markers become ``YOUR ANSWER HERE``; outputs and execution counts are
cleared. Exercise cells get nbgrader-compatible metadata (grade_id = the exercise id, the name
of the function they define); checker cells (those calling ``check_<id>(...)``) get the tag
``nbval-check-output``.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from .colab import (  # noqa: F401
    BRANCH,
    COLAB_DIR,
    PYPROJECT,
    BuildError,
    check_repo_url,
    colab_url,
    repo_url,
    set_repo_url,
    setup_block,
    write_repo_url,
)

ROOT = Path(__file__).resolve().parents[2]
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
CHECK_TAG = "nbval-check-output"
_COURSE_IMPORT = re.compile(r"^\s*(from|import)\s+course_utils\b", re.M)
_CHECK_CALL = re.compile(r"^\s*(?:\w+\s*=\s*)?check_(\w+)\(", re.M)
_DEF = re.compile(r"^\s*def\s+(\w+)\s*\(", re.M)


@dataclass
class Problem:
    path: Path
    text: str

    def __str__(self) -> str:
        try:
            shown = self.path.relative_to(ROOT)
        except ValueError:
            shown = self.path
        return f"{shown}: {self.text}"


def _read(path: Path):
    import nbformat

    return nbformat.read(path, as_version=4)


def _writes(nb) -> str:
    import nbformat

    return nbformat.writes(nb) + "\n"


def strip_solution(source: str, markdown: bool = False) -> str:
    """Replace every BEGIN/END SOLUTION block by the student placeholder."""
    out, inside = [], False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith(BEGIN):
            if inside:
                raise BuildError(f"nested {BEGIN}")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            if markdown:
                out.append(indent + "YOUR ANSWER HERE")
            else:
                out += [indent + "# YOUR CODE HERE", indent + "raise NotImplementedError()"]
        elif stripped.startswith(END):
            if not inside:
                raise BuildError(f"{END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise BuildError(f"{BEGIN} without {END}")
    return "\n".join(out)


def exercise_ids() -> set[str]:
    from ..checks import SPECS

    return set(SPECS)


def normalise(nb, path: Path, known: set[str], url: str | None = None) -> None:
    """Add nbgrader metadata to exercise cells and the nbval tag to checker cells, and write the
    repository address ``url`` (when given) into the badge and setup cell (in place)."""
    seen: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        src = cell.source
        md = cell.setdefault("metadata", {})
        if cell.cell_type == "code" and BEGIN in src:
            names = [n for n in _DEF.findall(src) if n in known]
            if not names:
                raise BuildError(f"{path.name} cell {index}: a solution cell must define an "
                                 f"exercise function (one of the registered ids); found "
                                 f"{_DEF.findall(src) or 'no def'}")
            grade_id = names[0]
            if grade_id in seen:
                raise BuildError(f"{path.name} cell {index}: exercise {grade_id!r} already defined "
                                 f"in cell {seen[grade_id]}")
            seen[grade_id] = index
            md["nbgrader"] = {"grade": False, "grade_id": grade_id, "locked": False,
                              "schema_version": 3, "solution": True, "task": False}
        elif cell.cell_type == "markdown" and BEGIN in src:
            md["nbgrader"] = {"grade": False, "grade_id": f"answer_{index}", "locked": False,
                              "schema_version": 3, "solution": True, "task": False}
        if cell.cell_type == "code" and _CHECK_CALL.search(src):
            tags = md.setdefault("tags", [])
            if CHECK_TAG not in tags:
                tags.append(CHECK_TAG)
    if url is not None:
        write_repo_url(nb, path, url)


def student_version(nb):
    """The student notebook: solutions stripped, outputs cleared."""
    out = copy.deepcopy(nb)
    for cell in out.cells:
        if cell.cell_type == "code":
            cell.source = strip_solution(cell.source)
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
        elif cell.cell_type == "markdown" and BEGIN in cell.source:
            cell.source = strip_solution(cell.source, markdown=True)
    out.metadata.pop("widgets", None)
    return out


def solution_problems(nb, path: Path) -> list[Problem]:
    """Rules a committed solution must keep: executed, checker cells with output."""
    problems = []
    first = nb.cells[0] if nb.cells else None
    if first is None or first.cell_type != "markdown" or "colab.research.google.com" not in first.source:
        problems.append(Problem(path, "the first cell must be a markdown title with the Colab badge"))
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        if cell.execution_count is None:
            problems.append(Problem(path, f"cell {index} is not executed; run "
                                          "`python -m course_utils build --execute`"))
            break
        if CHECK_TAG in cell.metadata.get("tags", []) and not cell.outputs:
            problems.append(Problem(path, f"checker cell {index} has no stored output"))
        if "grader-context" in cell.metadata.get("tags", []) and _COURSE_IMPORT.search(cell.source):
            problems.append(Problem(path, f"grader-context cell {index} imports course_utils: the "
                                          "grader runs it in a sandbox with only the standard "
                                          "library, numpy (and torch), never the checkers"))
        for output in cell.outputs:
            if output.get("output_type") == "error":
                problems.append(Problem(path, f"cell {index} stored an error ({output.get('ename')})"))
    return problems


def execute(path: Path, timeout: int = 600) -> None:
    import nbclient

    nb = _read(path)
    client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    path.write_text(_writes(nb), encoding="utf-8")


def build(solutions: Path = ROOT / "solutions", notebooks: Path = ROOT / "notebooks",
          check: bool = False, run: bool = False, only: list[str] | None = None,
          url: str | None = None) -> list[Problem]:
    """Build (or with ``check`` verify) ``notebooks/`` from ``solutions/``; returns the problems.

    ``url``: the repository address for badges and setup cells (default: pyproject.toml's)."""
    known = exercise_ids()
    url = repo_url() if url is None else url
    sources = sorted(solutions.glob("*.ipynb"))
    if only:
        sources = [p for p in sources if any(o in p.name for o in only)]
    problems: list[Problem] = []
    if not sources:
        return [Problem(solutions, "no solution notebooks found")]
    for src in sources:
        if run and not check:
            print(f"executing {src.name} ...", flush=True)
            execute(src)
        nb = _read(src)
        before = _writes(nb)
        try:
            normalise(nb, src, known, url)
            student = _writes(student_version(nb))
        except BuildError as exc:
            problems.append(Problem(src, str(exc)))
            continue
        target = notebooks / src.name
        if check:
            if _writes(nb) != before:
                problems.append(Problem(src, "metadata not normalised; run `python -m course_utils build`"))
            problems += solution_problems(nb, src)
            if not target.exists():
                problems.append(Problem(target, "missing; run `python -m course_utils build`"))
            elif target.read_text(encoding="utf-8") != student:
                problems.append(Problem(target, "out of date with solutions/; "
                                                "run `python -m course_utils build`"))
        else:
            if _writes(nb) != before:
                src.write_text(_writes(nb), encoding="utf-8")
            notebooks.mkdir(parents=True, exist_ok=True)
            if not target.exists() or target.read_text(encoding="utf-8") != student:
                target.write_text(student, encoding="utf-8")
                print(f"wrote {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
            problems += solution_problems(nb, src)
    if not only:
        names = {p.name for p in sources}
        for stray in sorted(notebooks.glob("*.ipynb")):
            if stray.name not in names:
                problems.append(Problem(stray, "has no source in solutions/ "
                                               "(edit solutions/, not notebooks/)"))
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils build", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="verify only; exit 1 if out of date")
    parser.add_argument("--execute", action="store_true",
                        help="execute each solution in place (nbclient) before building")
    parser.add_argument("--only", nargs="*", help="only notebooks whose file name contains one of these")
    parser.add_argument("--solutions", type=Path, default=ROOT / "solutions")
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks")
    parser.add_argument("--repo-url", metavar="URL",
                        help="store this GitHub address in pyproject.toml ([project.urls] Source) "
                             "and write it into every badge and setup cell")
    args = parser.parse_args(argv)
    url = None
    if args.repo_url:
        if args.check:
            parser.error("--repo-url changes files; it cannot be combined with --check")
        try:
            url = set_repo_url(args.repo_url, PYPROJECT)
        except BuildError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"pyproject.toml: [project.urls] Source = {url}")
    problems = build(args.solutions, args.notebooks, check=args.check, run=args.execute,
                     only=args.only, url=url)
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    if problems:
        return 1
    print("notebooks/ is up to date with solutions/." if args.check else "build done.")
    return 0
