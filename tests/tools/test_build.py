"""The one-source build: solutions/ -> notebooks/, and `build --check`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_utils.tools.build import BuildError, build, strip_solution

ROOT = Path(__file__).resolve().parents[2]
BADGE = "# T\n[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](x)"


def test_strip_keeps_indentation_and_surroundings():
    src = ("def f(x):\n    \"\"\"doc\"\"\"\n    ### BEGIN SOLUTION\n    y = x + 1\n    return y\n"
           "    ### END SOLUTION\n\nz = 3")
    assert strip_solution(src) == ("def f(x):\n    \"\"\"doc\"\"\"\n    # YOUR CODE HERE\n"
                                   "    raise NotImplementedError()\n\nz = 3")


def test_strip_markdown_answer():
    assert strip_solution("Q?\n### BEGIN SOLUTION\nA.\n### END SOLUTION", markdown=True) == "Q?\nYOUR ANSWER HERE"


@pytest.mark.parametrize("src", ["### BEGIN SOLUTION\nx", "x\n### END SOLUTION",
                                 "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION"])
def test_strip_rejects_unbalanced_markers(src):
    with pytest.raises(BuildError):
        strip_solution(src)


def make_solution(path: Path, executed: bool = True) -> None:
    body = new_code_cell("def sigmoid(a):\n    ### BEGIN SOLUTION\n    return 1/(1+np.exp(-a))\n"
                         "    ### END SOLUTION", execution_count=2 if executed else None)
    check = new_code_cell("check_sigmoid(sigmoid)", execution_count=3 if executed else None,
                          outputs=[new_output("execute_result", {"text/plain": "ok"}, execution_count=3)]
                          if executed else [])
    nb = new_notebook(cells=[new_markdown_cell(BADGE),
                             new_code_cell("import numpy as np", execution_count=1 if executed else None),
                             body, check])
    nbformat.write(nb, path)


@pytest.fixture
def dirs(tmp_path):
    sol, stu = tmp_path / "solutions", tmp_path / "notebooks"
    sol.mkdir()
    make_solution(sol / "00_demo.ipynb")
    return sol, stu


def test_build_writes_student_version_and_metadata(dirs):
    sol, stu = dirs
    assert build(sol, stu) == []
    student = nbformat.read(stu / "00_demo.ipynb", as_version=4)
    solution = nbformat.read(sol / "00_demo.ipynb", as_version=4)
    code = [c for c in student.cells if c.cell_type == "code"]
    assert "raise NotImplementedError()" in code[1].source and "1/(1+np.exp" not in code[1].source
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert solution.cells[2].metadata["nbgrader"]["grade_id"] == "sigmoid"
    assert student.cells[2].metadata["nbgrader"]["solution"] is True
    assert "nbval-check-output" in student.cells[3].metadata["tags"]
    assert build(sol, stu, check=True) == []


def test_check_names_stale_missing_and_stray_files(dirs):
    sol, stu = dirs
    build(sol, stu)
    nb = nbformat.read(sol / "00_demo.ipynb", as_version=4)
    nb.cells[1].source = "import numpy as np  # edited"
    nbformat.write(nb, sol / "00_demo.ipynb")
    (stu / "99_stray.ipynb").write_text((stu / "00_demo.ipynb").read_text())
    problems = [str(p) for p in build(sol, stu, check=True)]
    assert any("00_demo.ipynb: out of date" in p for p in problems), problems
    assert any("99_stray.ipynb: has no source" in p for p in problems), problems
    (stu / "00_demo.ipynb").unlink()
    assert any("00_demo.ipynb: missing" in str(p) for p in build(sol, stu, check=True))


def test_check_rejects_unexecuted_solutions(tmp_path):
    sol, stu = tmp_path / "s", tmp_path / "n"
    sol.mkdir()
    make_solution(sol / "00_demo.ipynb", executed=False)
    build(sol, stu)
    problems = [str(p) for p in build(sol, stu, check=True)]
    assert any("not executed" in p for p in problems), problems


def test_unknown_exercise_function_is_an_error(tmp_path):
    sol, stu = tmp_path / "s", tmp_path / "n"
    sol.mkdir()
    nb = new_notebook(cells=[new_markdown_cell(BADGE), new_code_cell(
        "def not_an_exercise(a):\n    ### BEGIN SOLUTION\n    return a\n    ### END SOLUTION", execution_count=1)])
    nbformat.write(nb, sol / "00_x.ipynb")
    problems = [str(p) for p in build(sol, stu)]
    assert any("must define an exercise function" in p for p in problems), problems


def test_duplicate_exercise_cell_is_an_error(tmp_path):
    sol, stu = tmp_path / "s", tmp_path / "n"
    sol.mkdir()
    cell = "def sigmoid(a):\n    ### BEGIN SOLUTION\n    return a\n    ### END SOLUTION"
    nb = new_notebook(cells=[new_markdown_cell(BADGE), new_code_cell(cell, execution_count=1),
                             new_code_cell(cell, execution_count=2)])
    nbformat.write(nb, sol / "00_x.ipynb")
    assert any("already defined" in str(p) for p in build(sol, stu))


def test_repository_notebooks_are_in_step():
    """The real thing, as CI runs it (through the CLI)."""
    out = subprocess.run([sys.executable, "-m", "course_utils", "build", "--check"], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_every_exercise_has_a_solution_cell_and_a_checker_cell():
    from course_utils.exercises import all_exercises

    for ex in all_exercises():
        path = ROOT / "solutions" / f"{ex.notebook}.ipynb"
        if not path.exists():
            pytest.fail(f"exercise {ex.id} belongs to {ex.notebook}, which has no solution notebook")
        nb = nbformat.read(path, as_version=4)
        ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
        assert ex.id in ids, f"{path.name} has no exercise cell for {ex.id}"
        checks = [c for c in nb.cells if c.cell_type == "code" and f"check_{ex.id}({ex.id}" in c.source]
        assert checks, f"{path.name} never calls check_{ex.id}({ex.id})"
        assert all("nbval-check-output" in c.metadata.get("tags", []) for c in checks)


@pytest.mark.parametrize("path", sorted((ROOT / "solutions").glob("*.ipynb")), ids=lambda p: p.name)
def test_notebook_opening_conventions(path):
    """Title + badge + 'What you will learn', the Colab-aware setup cell, a grader-context cell."""
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0].source
    assert first.startswith("# ") and f"notebooks/{path.name}" in first and "What you will learn" in first
    setup = nb.cells[1].source
    assert '"google.colab" in sys.modules' in setup and "%pip install" in setup and "setup_notebook(seed=" in setup
    assert any("grader-context" in c.metadata.get("tags", []) for c in nb.cells if c.cell_type == "code")
