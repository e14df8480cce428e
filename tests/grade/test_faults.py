"""The grader against hostile and broken submissions: every fault gets a row, a verdict and a
reason; none stops the batch or changes another submission's result.

One batch (module fixture) grades all the submissions below with --jobs 2 and a short
--timeout, so the whole module takes about a minute on two cores.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest

from tests.grade.grade_fixtures import (
    CELL_OK,
    FWD_ALONE,
    FWD_OK,
    ROOT,
    SIGMOID_OK,
    code,
    grade,
    markdown,
    notebook,
    record,
    rnn_nb,
    rows,
    users,
    write,
)

TIMEOUT = "20"  # generous: CI runs this beside other tests on 2 cores, and a starved
#                  sandbox must not turn a MemoryError into a timeout
TAG = secrets.token_hex(4)  # names of files that hostile submissions try to create


def fwd(body: str) -> str:
    """An rnn_forward whose body starts with ``body`` (learner code), then answers correctly."""
    indented = "\n".join("    " + line for line in body.strip().splitlines())
    return f"def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):\n{indented}\n" + \
        "\n".join(FWD_ALONE.splitlines()[1:]) + "\n"


def _subs(out: Path) -> dict[str, object]:
    grades_csv = out / "grades.csv"
    return {
        "ok": rnn_nb(),
        "infinite_loop": rnn_nb(fwd=fwd("while True:\n    pass")),
        "top_level_sleep": rnn_nb(cell="import time\ntime.sleep(10_000)\n" + CELL_OK, fwd=FWD_ALONE),
        "os_exit": rnn_nb(fwd=fwd("import os\nos._exit(0)")),
        "sys_exit": rnn_nb(fwd=fwd("import sys\nsys.exit(3)")),
        "top_level_exit": rnn_nb(cell="import sys\nsys.exit('bye')\n" + CELL_OK, fwd=FWD_ALONE),
        "kill_parent": rnn_nb(fwd=fwd("import os, signal\ntry:\n"
                                      "    os.kill(os.getppid(), signal.SIGKILL)\n"
                                      "    os.kill(1, signal.SIGKILL)\n"
                                      "except OSError:\n    pass")),
        "kill_group": rnn_nb(fwd=fwd("import os, signal\nos.killpg(0, signal.SIGKILL)")),
        "kill_self": rnn_nb(fwd=fwd("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")),
        "memory_bomb": rnn_nb(fwd=fwd("hog = []\nwhile True:\n    hog.append(bytearray(50_000_000))")),
        "fork_bomb": rnn_nb(fwd=fwd("import os, time\nfor _ in range(200):\n"
                                    "    if os.fork() == 0:\n        time.sleep(1000)")),
        "monkeypatch": rnn_nb(fwd=(
            "import builtins, numpy\n"
            "try:\n    import course_utils.checks.spec as spec\n"
            "    spec._all_close = lambda *a, **k: True\n    spec.judge = lambda *a, **k: None\n"
            "except ImportError:\n    pass\n"
            "numpy.allclose = lambda *a, **k: True\nnumpy.isclose = lambda *a, **k: True\n"
            "builtins.isinstance = lambda *a: True\nbuiltins.len = lambda x: 3\n"
            "def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):\n"
            "    return numpy.zeros((x.shape[0],) + h0.shape), numpy.zeros(h0.shape)\n")),
        "calls_reference": rnn_nb(fwd=(
            "def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):\n"
            "    from course_utils.checks import SPECS\n"
            "    return SPECS['rnn_forward'].reference(x, h0, W_ih, W_hh, b_ih, b_hh)\n")),
        "uses_torch": rnn_nb(fwd=(
            "def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):\n    import torch\n"
            "    rnn = torch.nn.RNN(x.shape[2], h0.shape[1]).double()\n"
            "    return rnn(torch.from_numpy(x))\n")),
        "eq_always_true": rnn_nb(fwd=(
            "class Anything:\n    def __eq__(self, other): return True\n"
            "    def __array__(self, *a, **k): raise TypeError('no')\n"
            "def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):\n    return Anything(), Anything()\n")),
        "ndarray_subclass": rnn_nb(fwd=(
            "class Liar(np.ndarray):\n    def __eq__(self, o): return np.ones(np.shape(o), bool)\n"
            "    def __array__(self, *a, **k): return REF\n    def tolist(self): return REF.tolist()\n"
            "    def tobytes(self, *a): return REF.tobytes()\n"
            "REF = None\n"
            "def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):\n"
            "    z = np.zeros((x.shape[0],) + h0.shape).view(Liar)\n    return z, z[-1]\n")),
        "class_lies": rnn_nb(fwd=(
            "class Fake:\n    @property\n    def __class__(self): return np.ndarray\n"
            "    shape = property(lambda self: (6, 3, 4))\n"
            "def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):\n    return Fake(), Fake()\n")),
        "fake_passed_print": rnn_nb(fwd=(
            "import os\ndef rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):\n"
            "    print('✔ rnn_forward: hidden checks passed (3 cases).')\n"
            "    os.write(1, b'{\"score\": 100}\\n')\n"
            "    return np.zeros((x.shape[0],) + h0.shape), h0\n")),
        "writes_outside": rnn_nb(fwd=fwd(
            f"for p in [{str(grades_csv)!r}, {str(out / '.records' / 'x.json')!r},\n"
            f"          {str(ROOT / f'hacked-{TAG}.txt')!r}, '/tmp/hacked-{TAG}.txt',\n"
            f"          '../hacked-{TAG}.txt']:\n"
            "    try:\n        open(p, 'w').write('pwned')\n    except OSError:\n        pass")),
        "reads_neighbour": rnn_nb(fwd=(
            f"SRC = open({str(out.parent / 'subs' / 'ok' / '01_rnn_basics.ipynb')!r}).read()\n" + FWD_ALONE)),
        "reads_solutions": rnn_nb(fwd=(
            f"SRC = open({str(ROOT / 'solutions' / '01_rnn_basics.ipynb')!r}).read()\n" + FWD_ALONE)),
        "huge_output": rnn_nb(fwd=fwd(
            "import sys, os\nfor _ in range(50):\n    print('x' * 1_000_000)\n"
            "    sys.stderr.write('y' * 1_000_000)\n    os.write(2, b'z' * 1_000_000)")),
        "huge_return": rnn_nb(fwd="def rnn_forward(x, h0, *p):\n    return np.zeros((3000, 3000)), h0\n"),
        "cell_deleted": notebook([code(CELL_OK, "rnn_cell_forward")]),
        "duplicated": notebook([code(CELL_OK, "rnn_cell_forward"),
                                code("def rnn_forward(*a):\n    return None\n", "rnn_forward"),
                                code(FWD_OK, "rnn_forward")]),
        "markdown_cell": notebook([code(CELL_OK, "rnn_cell_forward"), markdown(FWD_OK, "rnn_forward")]),
        "metadata_stripped": notebook([code(CELL_OK), code(FWD_OK)]),
        "kernel_changed": rnn_nb(kernel="julia-1.9"),
        "magics": rnn_nb(cell="%time x = 1\n!ls /\n" + CELL_OK),
        "float32": rnn_nb(cell=CELL_OK.replace("return np.tanh(pre)",
                                               "return np.tanh(pre.astype(np.float32))")),
        "not_json": b"this is not { json",
        "empty_file": b"",
        "no_cells": {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5},
        "ok_again": rnn_nb(),
    }


SUBS = list(_subs(Path("/x")))


pytestmark = users.grading_marks()


@pytest.fixture(scope="module", params=["grader", "ordinary user"])
def batch(request, tmp_path_factory):
    """The whole class graded once by the test's own user (root in CI), once by an ordinary one."""
    prefix, base = users.grading_base(request.param, tmp_path_factory, "grade")
    subs, out = base / "subs", base / "out"
    for name, nb in _subs(out).items():
        write(subs / f"{name}" / "01_rnn_basics.ipynb", nb)
    write(subs / "setup_ok" / "00_setup.ipynb",
          {"cells": [code("import numpy as np", None, tags=["grader-context"]),
                     code(SIGMOID_OK, "sigmoid")],
           "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    if prefix:
        users.chown_tree(base)
    proc = grade(str(subs), "--out", str(out), "--jobs", "2", "--timeout", TIMEOUT,
                 "--memory", "1024", "--seed", "4242", prefix=prefix)
    return proc, out, rows(out)


def sid(name: str) -> str:
    return f"{name}/01_rnn_basics.ipynb"


def ex(out: Path, name: str, exercise: str) -> dict:
    return next(e for e in record(out, sid(name))["exercises"] if e["id"] == exercise)


def test_batch_exits_zero_with_a_row_per_submission(batch):
    proc, out, table = batch
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert set(table) == {sid(n) for n in SUBS} | {"setup_ok/00_setup.ipynb"}
    for r in table.values():
        assert r["status"], r
    assert table["setup_ok/00_setup.ipynb"]["total"] == "1"


@pytest.mark.parametrize("name", ["ok", "ok_again", "kernel_changed", "magics", "float32",
                                  "huge_output", "writes_outside", "metadata_stripped", "duplicated",
                                  "kill_parent"])
def test_correct_work_gets_full_marks_despite_noise(batch, name):
    _, out, table = batch
    assert table[sid(name)]["total"] == "5", record(out, sid(name))


@pytest.mark.parametrize("name,status,words", [
    ("infinite_loop", "timeout", f"stopped after {TIMEOUT} s while calling `rnn_forward`"),
    ("os_exit", "crashed", "os._exit"),
    ("kill_self", "crashed", "SIGKILL"),
    ("kill_group", "crashed", "SIGKILL"),
    ("sys_exit", "failed", "SystemExit"),
    ("memory_bomb", "failed", "MemoryError"),
    ("fork_bomb", "failed", "BlockingIOError"),
    ("monkeypatch", "failed", "wrong values"),
    ("calls_reference", "failed", "No module named 'course_utils'"),
    ("uses_torch", "failed", "No module named 'torch'"),
    ("eq_always_true", "failed", "got Anything"),
    ("ndarray_subclass", "failed", "wrong values"),
    ("class_lies", "failed", "got Fake"),
    ("fake_passed_print", "failed", "wrong values"),
    ("reads_solutions", "failed", "FileNotFoundError"),
    ("reads_neighbour", "failed", "FileNotFoundError"),
    ("huge_return", "failed", "array too large"),
])
def test_fault_in_rnn_forward_costs_only_rnn_forward(batch, name, status, words):
    _, out, table = batch
    fwd_entry = ex(out, name, "rnn_forward")
    assert fwd_entry["status"] == status, fwd_entry
    assert words in fwd_entry["message"], fwd_entry
    assert fwd_entry["score"] == 0
    assert ex(out, name, "rnn_cell_forward")["score"] == 2
    assert table[sid(name)]["rnn_forward"] == "0"


@pytest.mark.parametrize("name,status,words", [
    ("top_level_sleep", "timeout", "while running the cell of `rnn_cell_forward`"),
    ("top_level_exit", "failed", "SystemExit (in the cell's top level, line 2"),
])
def test_fault_at_top_level_of_a_cell_costs_only_that_exercise(batch, name, status, words):
    _, out, table = batch
    entry = ex(out, name, "rnn_cell_forward")
    assert entry["status"] == status and words in entry["message"], entry
    assert ex(out, name, "rnn_forward")["score"] == 3
    assert table[sid(name)]["total"] == "3"


@pytest.mark.parametrize("name,row_status,words", [
    ("not_json", "unreadable", "not valid JSON"),
    ("empty_file", "unreadable", "empty"),
    ("no_cells", "empty", "no cells"),
])
def test_unreadable_files_get_a_row_with_a_reason(batch, name, row_status, words):
    _, _, table = batch
    r = table[sid(name)]
    assert r["status"] == row_status and words in r["note"], r
    assert r["total"] == "0" and r["max"] == "5" and r["notebook"] == "01_rnn_basics"


@pytest.mark.parametrize("name,words", [
    ("cell_deleted", "no exercise cell for 'rnn_forward'"),
    ("markdown_cell", "is a markdown cell"),
])
def test_missing_exercise_cells(batch, name, words):
    _, out, _ = batch
    entry = ex(out, name, "rnn_forward")
    assert entry["status"] == "missing" and words in entry["message"], entry
    assert ex(out, name, "rnn_cell_forward")["score"] == 2


@pytest.mark.parametrize("name,words", [
    ("duplicated", "appears in 2 code cells"),
    ("metadata_stripped", "lost its grading metadata"),
    ("magics", "magic / shell line"),
])
def test_repaired_notebooks_say_what_was_done(batch, name, words):
    _, out, _ = batch
    notes = [n for e in record(out, sid(name))["exercises"] for n in e["notes"]]
    assert any(words in n for n in notes), notes


def test_kernel_change_is_noted(batch):
    _, out, _ = batch
    assert "julia" in record(out, sid("kernel_changed"))["note"]


def test_nothing_was_written_outside_the_sandbox(batch):
    _, out, table = batch
    assert not (ROOT / f"hacked-{TAG}.txt").exists()
    assert not Path(f"/tmp/hacked-{TAG}.txt").exists()
    assert not (out / ".records" / "x.json").exists()
    assert "pwned" not in (out / "grades.csv").read_text()


def test_other_submissions_are_unaffected(batch, tmp_path):
    """The control notebook graded alone (same seed) gets exactly the row it got in the batch."""
    _, out, table = batch
    write(tmp_path / "s" / "ok" / "01_rnn_basics.ipynb", rnn_nb())
    proc = grade(str(tmp_path / "s"), "--out", str(tmp_path / "o"), "--seed", "4242", "--timeout", TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    alone = rows(tmp_path / "o")[sid("ok")]
    keys = ["rnn_cell_forward", "rnn_forward", "total", "max", "status", "note"]
    assert [alone[k] for k in keys] == [table[sid("ok")][k] for k in keys] \
        == [table[sid("ok_again")][k] for k in keys] == ["2", "3", "5", "5", "graded", ""]


def test_feedback_never_shows_hidden_values_or_seed(batch):
    _, out, _ = batch
    texts = [p.read_text() for p in (out / "submissions").rglob("*") if p.is_file()]
    assert texts and all("4242" not in t for t in texts)
    assert any("hidden" in t for t in texts) and all("seed 4242" not in t for t in texts)


def test_no_sandbox_process_survives(batch):
    import time

    _, out, table = batch
    # only this batch's sandbox uids: other tests may be grading in parallel (pytest -n)
    uids = {u for s in table for u in record(out, s).get("sandbox_uids", [])}
    if not uids:
        pytest.skip("an ordinary user's sandboxes share its uid (their PID namespace ends them)")

    def alive() -> list[str]:  # live processes with one of this batch's uids (zombies run no code)
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if os.stat(f"/proc/{pid}").st_uid in uids:
                    status = Path(f"/proc/{pid}/status").read_text()
                    if "\nState:\tZ" not in status:
                        found.append(f"{pid}: {Path(f'/proc/{pid}/cmdline').read_bytes()[:80]!r}")
            except OSError:
                pass
        return found

    deadline = time.monotonic() + 5  # SIGKILL is asynchronous: give the kernel a moment
    while alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert alive() == []


def test_sandbox_is_bubblewrap_with_own_uid_when_root(batch):
    proc, out, _ = batch
    iso = record(out, sid("ok"))["isolation"]
    as_root = "uid=0" in proc.args[0] or (os.geteuid() == 0 and proc.args[0] != "unshare")
    assert iso == ("bubblewrap + own uid" if as_root else "bubblewrap"), iso
