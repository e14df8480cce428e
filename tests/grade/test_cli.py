"""The grade command's contract: usage errors, output formats, resuming, regrading, genericity."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from course_utils.grade.report import submission_folder
from tests.grade.grade_fixtures import CELL_OK, ROOT, grade, record, rnn_nb, rows, write


@pytest.mark.parametrize("args,words", [
    ([], "required"),
    (["nowhere.ipynb", "--out", "o"], "does not exist"),
    (["tests", "--out", "o", "--jobs", "0"], "must be positive"),
    (["tests", "--out", "o", "--timeout", "abc"], "expected a number"),
])
def test_usage_errors_exit_2_with_a_message(args, words, tmp_path):
    proc = grade(*[a if a != "o" else str(tmp_path / "o") for a in args])
    assert proc.returncode == 2 and words in proc.stderr, proc.stderr


def test_folder_without_notebooks_is_a_usage_error(tmp_path):
    (tmp_path / "empty").mkdir()
    proc = grade(str(tmp_path / "empty"), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2 and "no notebooks" in proc.stderr


def _class(tmp_path: Path, n: int) -> Path:
    subs = tmp_path / "subs"
    for i in range(n):
        cell = CELL_OK if i % 2 == 0 else CELL_OK.replace(" + b_hh", "")  # odd ones miss b_hh
        write(subs / f"learner{i:02d}" / "01_rnn_basics.ipynb", rnn_nb(cell=cell))
    return subs


def test_outputs_csv_gradescope_and_feedback(tmp_path):
    subs, out = _class(tmp_path, 2), tmp_path / "out"
    proc = grade(str(subs), "--out", str(out), "--seed", "99")
    assert proc.returncode == 0, proc.stderr
    table = rows(out)
    assert list(table["learner00/01_rnn_basics.ipynb"]) == [
        "submission", "notebook", "rnn_cell_forward", "rnn_forward", "total", "max", "status", "note"]
    assert table["learner00/01_rnn_basics.ipynb"]["total"] == "5"
    bad = table["learner01/01_rnn_basics.ipynb"]
    assert (bad["rnn_cell_forward"], bad["rnn_forward"], bad["total"]) == ("0", "0", "0")
    gs = json.loads((submission_folder(out, "learner01/01_rnn_basics.ipynb") / "results.json").read_text())
    assert gs["score"] == 0 and [t["max_score"] for t in gs["tests"]] == [2.0, 3.0]
    assert {"name", "score", "max_score", "status", "output"} <= set(gs["tests"][0])
    assert "looks like a missing bias b_hh" in gs["tests"][0]["output"]
    assert "rnn_cell_forward: failed (looks like a missing bias b_hh)" in bad["note"]
    assert gs["tests"][0]["status"] == "failed"
    fb = (submission_folder(out, "learner01/01_rnn_basics.ipynb") / "feedback.md").read_text()
    assert "a missing bias b_hh" in fb and "0 / 2" in fb and "99" not in fb
    assert json.loads((out / "grading.json").read_text())["seed"] == 99


def test_interrupted_batch_resumes_without_regrading(tmp_path):
    subs, out = _class(tmp_path, 6), tmp_path / "out"
    cmd = [sys.executable, "-m", "course_utils", "grade", str(subs), "--out", str(out), "--jobs", "1"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((out / ".records").glob("*.json"))
                                                if (out / ".records").exists() else []) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the grader dies mid-batch
    proc.wait()
    done = {p.name: p.stat().st_mtime_ns for p in (out / ".records").glob("*.json")}
    assert 2 <= len(done) < 6 and not (out / "grades.csv").exists()
    seed = json.loads((out / "grading.json").read_text())["seed"]

    again = grade(str(subs), "--out", str(out), "--jobs", "2")
    assert again.returncode == 0, again.stderr
    assert f"({len(done)} already graded)" in again.stderr
    table = rows(out)
    assert len(table) == 6 and [table[f"learner{i:02d}/01_rnn_basics.ipynb"]["total"] for i in range(6)] \
        == ["5", "0", "5", "0", "5", "0"]
    for name, mtime in done.items():  # records of the first run were kept, not regraded
        assert (out / ".records" / name).stat().st_mtime_ns == mtime
    assert json.loads((out / "grading.json").read_text())["seed"] == seed

    # a changed submission is regraded; the others are not (unless --force)
    write(subs / "learner01" / "01_rnn_basics.ipynb", rnn_nb())
    third = grade(str(subs), "--out", str(out))
    assert "grading 1 submission(s) (5 already graded)" in third.stderr
    assert rows(out)["learner01/01_rnn_basics.ipynb"]["total"] == "5"
    forced = grade(str(subs), "--out", str(out), "--force", "--jobs", "2")
    assert "grading 6 submission(s) (0 already graded)" in forced.stderr


def test_every_course_solution_gets_full_marks_and_student_notebooks_zero(tmp_path):
    """Generic over every spec in the registry (arrays, tuples, dicts, Int leaves, tensors)."""
    out = tmp_path / "out"
    proc = grade(str(ROOT / "solutions"), str(ROOT / "notebooks"), "--out", str(out), "--jobs", "2")
    assert proc.returncode == 0, proc.stderr
    table = rows(out)
    solutions = sorted(p.name for p in (ROOT / "solutions").glob("*.ipynb"))
    assert solutions
    for name in solutions:
        r = table[f"solutions/{name}"]
        assert r["status"] == "graded" and r["total"] == r["max"] and float(r["max"]) > 0, r
        student = table.get(f"notebooks/{name}")
        if student is not None:
            assert student["total"] == "0", student
            assert all(e["status"] == "not_implemented"
                       for e in record(out, f"notebooks/{name}")["exercises"]), student
