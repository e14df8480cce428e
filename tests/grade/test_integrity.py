"""Records and outputs: only what the grader signed is trusted; folders never collide; a killed
grader leaves no sandbox behind; grader-context cells never import the checkers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from course_utils.grade import layout
from course_utils.grade.record import ExerciseResult, SubmissionRecord, fingerprint
from course_utils.grade.report import submission_folder
from course_utils.grade.store import RecordStore
from tests.grade.grade_fixtures import CELL_OK, FWD_ALONE, ROOT, grade, rnn_nb, rows, write

needs_bwrap = pytest.mark.skipif(layout.bwrap_path() is None,
                                 reason="bubblewrap is not installed (apt-get install bubblewrap)")


def _record(total: float = 5.0) -> SubmissionRecord:
    return SubmissionRecord(id="a/01.ipynb", path="x", key="k", notebook="01_rnn_basics",
                            exercises=[ExerciseResult("rnn_forward", "t", "passed", "", 3, 3)],
                            total=total, max=5.0)


def test_a_record_round_trips_and_only_a_signed_one_is_trusted(tmp_path):
    store = RecordStore(tmp_path)
    store.save(_record())
    assert store.load("a/01.ipynb", "k") == _record()
    assert store.load("a/01.ipynb", "other key") is None
    (path,) = (tmp_path / ".records").glob("*.json")
    wrapper = json.loads(path.read_text())
    wrapper["record"]["total"] = 99.0  # edited by someone without the key
    path.write_text(json.dumps(wrapper))
    assert store.load("a/01.ipynb", "k") is None
    forged = {"record": _record(99.0).to_json(), "mac": "0" * 64}
    path.write_text(json.dumps(forged))
    assert store.load("a/01.ipynb", "k") is None
    assert oct((tmp_path / ".grader-key").stat().st_mode & 0o777) == "0o600"


def test_a_record_signed_in_another_output_folder_is_not_trusted(tmp_path):
    RecordStore(tmp_path / "one").save(_record())
    other = RecordStore(tmp_path / "two")
    (src,) = (tmp_path / "one" / ".records").glob("*.json")
    (other.dir / src.name).write_bytes(src.read_bytes())
    assert other.load("a/01.ipynb", "k") is None


def test_the_fingerprint_covers_the_grader_and_the_context():
    assert fingerprint({"n": ["import numpy as np"]}) != fingerprint({"n": ["import math"]})
    assert len(fingerprint({})) == 64


@pytest.mark.parametrize("a,b", [("collide a/x.ipynb", "collide_a/x.ipynb"),
                                 ("x" * 150 + "1", "x" * 150 + "2"), ("a/b", "a__b")])
def test_output_folders_never_collide(tmp_path, a, b):
    assert submission_folder(tmp_path, a) != submission_folder(tmp_path, b)
    assert len(submission_folder(tmp_path, a).name) < 120


@needs_bwrap
def test_a_forged_record_is_regraded(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    write(subs / "l" / "01_rnn_basics.ipynb", rnn_nb(cell=CELL_OK.replace(" + b_hh", ""),
                                                      fwd=FWD_ALONE))
    assert grade(str(subs), "--out", str(out), "--seed", "7").returncode == 0
    assert rows(out)["l/01_rnn_basics.ipynb"]["total"] == "3"
    (path,) = (out / ".records").glob("*.json")
    wrapper = json.loads(path.read_text())
    wrapper["record"]["total"] = 5.0
    path.write_text(json.dumps(wrapper))
    again = grade(str(subs), "--out", str(out))
    assert "grading 1 submission(s) (0 already graded)" in again.stderr
    assert rows(out)["l/01_rnn_basics.ipynb"]["total"] == "3"


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            if "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text():
                alive.add(pid)
        except OSError:
            pass
    return alive


@needs_bwrap
def test_a_killed_grader_leaves_no_sandbox_running(tmp_path):
    """Cause 6: the sandbox dies with the grader (--die-with-parent, the runner's watchdog)."""
    subs = tmp_path / "subs"
    write(subs / "l" / "01_rnn_basics.ipynb",
          rnn_nb(cell="import time\ntime.sleep(600)\n" + CELL_OK))
    proc = subprocess.Popen([sys.executable, "-m", "course_utils", "grade", str(subs), "--out",
                             str(tmp_path / "out"), "--timeout", "300"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline, sandbox = time.monotonic() + 120, set()
    while time.monotonic() < deadline and not any(
            b"runner.py" in Path(f"/proc/{p}/cmdline").read_bytes() for p in _alive(sandbox)):
        time.sleep(0.2)
        sandbox = _descendants(proc.pid)
    assert sandbox, "no sandbox started"
    os.kill(proc.pid, signal.SIGKILL)  # the grader alone; its sandbox is in other sessions
    proc.wait()
    deadline = time.monotonic() + 10
    while _alive(sandbox) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(sandbox)


def test_build_check_rejects_checker_imports_in_grader_context(tmp_path):
    import nbformat

    from course_utils.tools.build import solution_problems

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# t [colab](https://colab.research.google.com/x)"),
                nbformat.v4.new_code_cell("import numpy as np\nfrom course_utils.checks import "
                                          "check_sigmoid", metadata={"tags": ["grader-context"]},
                                          execution_count=1)]
    problems = [str(p) for p in solution_problems(nb, tmp_path / "x.ipynb")]
    assert any("grader-context cell 1 imports course_utils" in p for p in problems), problems


def test_solutions_grader_context_cells_import_no_course_code():
    from course_utils.grade.discover import grader_context

    for sol in sorted((ROOT / "solutions").glob("*.ipynb")):
        for src in grader_context(sol):
            assert "course_utils" not in src, sol.name
