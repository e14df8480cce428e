"""``python -m course_utils check`` (a learner's self-check) and ``gradescope`` (the bundle)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from course_utils.grade import gradescope, layout
from tests.grade.grade_fixtures import CELL_OK, FWD_ALONE, ROOT, grade, rnn_nb, write

needs_bwrap = pytest.mark.skipif(layout.bwrap_path() is None,
                                 reason="bubblewrap is not installed (apt-get install bubblewrap)")


@pytest.mark.parametrize("sandboxed", [True, False])
def test_check_prints_a_table_of_exercises(tmp_path, sandboxed):
    if sandboxed and layout.bwrap_path() is None:
        pytest.skip("bubblewrap is not installed")
    write(tmp_path / "mine" / "01_rnn_basics.ipynb", rnn_nb(cell=CELL_OK.replace(" + b_hh", ""),
                                                            fwd=FWD_ALONE))
    write(tmp_path / "mine" / "00_setup.ipynb", ROOT.joinpath("notebooks", "00_setup.ipynb")
          .read_text(encoding="utf-8"))
    args = [str(tmp_path / "mine")] + ([] if sandboxed else ["--no-sandbox"])
    proc = grade(*args, command="check")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:4] == ["notebook", "exercise", "status", "cases"]
    table = {ln.split()[1] if not ln.startswith(" ") else ln.split()[0]: ln for ln in lines[2:]
             if ln.strip() and not ln.startswith(("-", "\n")) and "exercises pass" not in ln}
    assert "failed" in table["rnn_cell_forward"] and "missing bias" in table["rnn_cell_forward"]
    assert "passed" in table["rnn_forward"] and "3/3" in table["rnn_forward"]
    assert "not implemented" in table["sigmoid"]
    assert "1 of 3 exercises pass" in proc.stdout


def test_check_names_a_missing_path(tmp_path):
    proc = grade(str(tmp_path / "nowhere"), command="check")
    assert proc.returncode == 2 and "no notebooks" in proc.stderr


def test_the_bundle_holds_no_solution_code(tmp_path):
    out = tmp_path / "autograder.zip"
    proc = grade("--out", str(out), "--seed", "31337", command="gradescope")
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        assert {"setup.sh", "run_autograder", "seed"} <= set(names)
        assert (zf.getinfo("run_autograder").external_attr >> 16) & stat.S_IXUSR
        texts = {n: zf.read(n).decode("utf-8", "replace") for n in names}
    assert not any(n.startswith("solutions/") for n in names)
    assert not any("BEGIN SOLUTION" in t for n, t in texts.items() if n.startswith("context/"))
    assert any(n.startswith("course/course_utils/checks/") for n in names)
    assert "apt-get install" in texts["setup.sh"] and "bubblewrap" in texts["setup.sh"]
    assert texts["seed"].strip() == "31337"


def _fake_autograder(tmp_path: Path, notebooks: dict[str, Path]) -> Path:
    root = tmp_path / "autograder"
    with zipfile.ZipFile(tmp_path / "autograder.zip") as zf:
        zf.extractall(root / "source")
    for name, src in notebooks.items():
        write(root / "submission" / name, src.read_text(encoding="utf-8"))
    return root


@needs_bwrap
def test_run_autograder_grades_a_fake_autograder_tree(tmp_path):
    gradescope.build_zip(tmp_path / "autograder.zip", seed=777)
    root = _fake_autograder(tmp_path, {"01_rnn_basics.ipynb": ROOT / "solutions" / "01_rnn_basics.ipynb",
                                       "00_setup.ipynb": ROOT / "notebooks" / "00_setup.ipynb"})
    script = root / "source" / "run_autograder"
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "COURSE_PYTHON": sys.executable}
    proc = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads((root / "results" / "results.json").read_text())
    scores = {t["name"].split(":")[0]: t["score"] for t in results["tests"]}
    assert scores == {"rnn_cell_forward": 2, "rnn_forward": 3, "sigmoid": 0}
    assert results["score"] == 5


def test_no_sandbox_with_a_runner_site_offers_only_that_site(tmp_path):
    """The Gradescope fallback: learner code gets only DIR/base (numpy), no torch, no course."""
    import numpy

    site = tmp_path / "site" / "base"
    site.mkdir(parents=True)
    for name in ("numpy", "numpy.libs"):
        src = Path(numpy.__file__).parent.parent / name
        if src.exists():
            (site / name).symlink_to(src)
    fwd = ("def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):\n    import torch\n")
    write(tmp_path / "subs" / "a" / "01_rnn_basics.ipynb", rnn_nb(fwd=fwd))
    write(tmp_path / "subs" / "b" / "01_rnn_basics.ipynb", rnn_nb())
    proc = grade(str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--no-sandbox",
                 "--runner-site", str(tmp_path / "site"))
    assert proc.returncode == 0 and "--no-sandbox" in proc.stderr, proc.stderr
    out = tmp_path / "out"
    from tests.grade.grade_fixtures import record, rows

    assert rows(out)["b/01_rnn_basics.ipynb"]["total"] == "5"
    assert "No module named 'torch'" in record(out, "a/01_rnn_basics.ipynb")["exercises"][1]["message"]


def test_grade_refuses_without_bubblewrap_and_says_how_to_install(tmp_path, monkeypatch, capsys):
    from course_utils.grade import cli

    monkeypatch.setattr(layout, "bwrap_path", lambda: None)
    write(tmp_path / "subs" / "a" / "01_rnn_basics.ipynb", rnn_nb())
    assert cli.main([str(tmp_path / "subs"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "apt-get install bubblewrap" in err and "--no-sandbox" in err
    assert not (tmp_path / "out" / "grades.csv").exists()
