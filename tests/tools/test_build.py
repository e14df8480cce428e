"""The one-source build: solutions/ -> notebooks/, and `build --check`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_utils.tools import build as build_module
from course_utils.tools.build import (
    BuildError,
    build,
    repo_url,
    set_repo_url,
    setup_block,
    strip_solution,
)

ROOT = Path(__file__).resolve().parents[2]
BADGE = "# T\n[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](x)"
OLD_URL, FORK = "https://github.com/rnn-from-scratch/course", "https://github.com/someone/fork"
SETUP = setup_block(OLD_URL) + "from course_utils.setup import setup_notebook\nsetup_notebook(seed=0)"


def test_strip_keeps_indentation_and_surroundings():
    src = ("def f(x):\n    \"\"\"doc\"\"\"\n    ### BEGIN SOLUTION\n    y = x + 1\n    return y\n"
           "    ### END SOLUTION\n\nz = 3")
    assert strip_solution(src) == ("def f(x):\n    \"\"\"doc\"\"\"\n    # YOUR CODE HERE\n"
                                   "    raise NotImplementedError()\n\nz = 3")


def test_strip_markdown_answer():
    src = "Q?\n### BEGIN SOLUTION\nA.\n### END SOLUTION"
    assert strip_solution(src, markdown=True) == "Q?\nYOUR ANSWER HERE"


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
                             new_code_cell(SETUP, execution_count=1 if executed else None),
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
    assert "raise NotImplementedError()" in code[2].source and "1/(1+np.exp" not in code[2].source
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert solution.cells[3].metadata["nbgrader"]["grade_id"] == "sigmoid"
    assert student.cells[3].metadata["nbgrader"]["solution"] is True
    assert "nbval-check-output" in student.cells[4].metadata["tags"]
    assert build(sol, stu, check=True) == []


def test_check_names_stale_missing_and_stray_files(dirs):
    sol, stu = dirs
    build(sol, stu)
    nb = nbformat.read(sol / "00_demo.ipynb", as_version=4)
    nb.cells[2].source = "import numpy as np  # edited"
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
        "def not_an_exercise(a):\n    ### BEGIN SOLUTION\n    return a\n    ### END SOLUTION",
        execution_count=1)])
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
    assert '"google.colab" in sys.modules' in setup and "%pip install" in setup
    assert "setup_notebook(seed=" in setup
    assert any("grader-context" in c.metadata.get("tags", []) for c in nb.cells if c.cell_type == "code")


def badge(name: str, url: str) -> str:
    owner_repo = url.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{owner_repo}/blob/main/notebooks/{name}"


def test_build_writes_the_repository_address_into_badge_and_setup_cell(tmp_path):
    """One address for all: badge and setup cell of solution and student version follow it."""
    sol, stu = tmp_path / "s", tmp_path / "n"
    sol.mkdir()
    make_solution(sol / "00_demo.ipynb")
    nb = nbformat.read(sol / "00_demo.ipynb", as_version=4)
    nb.cells[0].source = f"# T\n[![Open In Colab](x.svg)]({badge('00_demo.ipynb', OLD_URL)})"
    nbformat.write(nb, sol / "00_demo.ipynb")
    assert build(sol, stu, url=FORK + ".git") == []
    for path in (sol / "00_demo.ipynb", stu / "00_demo.ipynb"):
        cells = nbformat.read(path, as_version=4).cells
        assert badge("00_demo.ipynb", FORK) in cells[0].source and OLD_URL not in cells[0].source
        assert cells[1].source == setup_block(FORK) + SETUP.split("\n", 7)[-1]
        assert f"!git clone -q --depth 1 {FORK} /content/course" in cells[1].source
    assert build(sol, stu, check=True, url=FORK) == []
    assert any("out of date" in str(p) or "not normalised" in str(p)
               for p in build(sol, stu, check=True, url=OLD_URL))


def test_setup_cell_is_required_and_must_end_its_colab_block(tmp_path):
    sol, stu = tmp_path / "s", tmp_path / "n"
    sol.mkdir()
    nbformat.write(new_notebook(cells=[new_markdown_cell(BADGE)]), sol / "00_a.ipynb")
    broken = SETUP.replace('sys.path.insert(0, "/content/course")', "pass")
    nbformat.write(new_notebook(cells=[new_markdown_cell(BADGE), new_code_cell(broken)]),
                   sol / "01_b.ipynb")
    problems = [str(p) for p in build(sol, stu, url=FORK)]
    assert any("00_a.ipynb: no setup cell" in p for p in problems), problems
    assert any("01_b.ipynb cell 1: the setup cell's Colab block must end" in p
               for p in problems), problems


def test_repo_url_option_changes_pyproject_and_every_notebook(tmp_path, monkeypatch):
    """`build --repo-url URL`: one command for a fork."""
    sol, stu = tmp_path / "s", tmp_path / "n"
    sol.mkdir()
    make_solution(sol / "00_demo.ipynb")
    pyproject = tmp_path / "pyproject.toml"
    text = (ROOT / "pyproject.toml").read_text()
    pyproject.write_text(text)
    monkeypatch.setattr(build_module, "PYPROJECT", pyproject)
    code = build_module.main(["--solutions", str(sol), "--notebooks", str(stu),
                              "--repo-url", FORK + "/"])
    assert code == 0
    assert repo_url(pyproject) == FORK
    # Only the Source line changed.
    changed = [(a, b) for a, b in zip(text.splitlines(), pyproject.read_text().splitlines())
               if a != b]
    assert len(changed) == 1 and changed[0][1] == f'Source = "{FORK}"', changed
    assert FORK in nbformat.read(stu / "00_demo.ipynb", as_version=4).cells[1].source
    assert build_module.main(["--repo-url", "https://gitlab.com/a/b"]) == 1


def test_set_repo_url_adds_a_missing_urls_table(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\n')
    assert set_repo_url("https://github.com/a/b.git", pyproject) == "https://github.com/a/b"
    assert repo_url(pyproject) == "https://github.com/a/b"
    with pytest.raises(BuildError, match="not a GitHub repository"):
        set_repo_url("file:///tmp/x", pyproject)


def test_the_address_has_one_home():
    """pyproject.toml's Source is the address every committed badge and setup cell carries."""
    url = repo_url()
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        text = path.read_text()
        assert badge(path.name, url) in text, path.name
        assert f"!git clone -q --depth 1 {url} /content/course" in text, path.name
