"""One sandbox run on its own: raw values back, and what the sandbox lets learner code see."""

from __future__ import annotations

import os

import numpy as np
import pytest

from course_utils.grade import layout, sandbox
from course_utils.grade.serialize import decode_value, encode_inputs, save_npz_bytes

from .grade_fixtures import ROOT

pytestmark = pytest.mark.skipif(layout.bwrap_path() is None,
                                reason="bubblewrap is not installed (apt-get install bubblewrap)")


def _job(cell: str, exercises: tuple[str, ...] = ("double",)) -> tuple[dict, bytes]:
    tree, arrays = encode_inputs({"args": (np.arange(3.0),), "kwargs": {}})
    job = {"context": ["import numpy as np"],
           "exercises": [{"exercise": ex, "arg_names": ["a"], "cases": [tree],
                          "cells": [{"id": "double", "source": cell}]} for ex in exercises]}
    return job, save_npz_bytes(arrays)


def _run(cell: str, timeout: float = 30, modules: tuple[str, ...] = ()) -> sandbox.ExerciseRun:
    job, npz = _job(cell)
    out = sandbox.run(job, npz, sandbox.Limits(timeout=timeout), modules=modules)
    return out.exercises["double"]


def _value(run: sandbox.ExerciseRun):
    assert run.cases is not None, run
    (case,) = run.cases
    assert "value" in case, case
    return decode_value(case["value"])


def test_one_run_returns_raw_values():
    run = _run("import os\ndef double(a):\n    return 2 * a, os.getuid()\n")
    value, uid = _value(run)
    assert value.tolist() == [0.0, 2.0, 4.0]
    (key,) = run.after[0]
    assert run.after[0][key].tolist() == [0.0, 1.0, 2.0]  # the runner's snapshot: unchanged
    assert (uid >= 200_000) if sandbox.is_root() else uid == os.getuid()


def test_in_place_modification_shows_in_the_runners_snapshot():
    """Class 2/3: the inputs live in memory the runner reads back once the learner's process
    is gone; patching numpy's comparisons in the learner's process changes nothing."""
    run = _run("import numpy\nnumpy.array_equal = lambda *a, **k: True\n"
               "def double(a):\n    a *= 2\n    return a\n")
    (arr,) = run.after[0].values()
    assert arr.tolist() == [0.0, 2.0, 4.0]
    assert "mutated" not in run.cases[0]  # nothing the learner's process says decides it


def test_timeout_kills_the_exercise_process():
    run = _run("import time\ndef double(a):\n    time.sleep(60)\n", timeout=3)
    assert run.timed_out and run.cases is None and run.progress.case == 0


def test_each_exercise_runs_in_a_fresh_process():
    """Cause 8: what one exercise's process changes (modules, globals, a daemon) is gone
    for the next; and every process left behind is killed between exercises."""
    cell = ("import json, os, sys\nPID = os.getpid()\nSEEN = hasattr(json, 'patched')\n"
            "json.patched = True\ndef double(a):\n"
            "    if os.fork() == 0:\n        import time\n        time.sleep(60)\n"
            "    return PID, SEEN, [int(p) for p in os.listdir('/proc') if p.isdigit() and\n"
            "            open(f'/proc/{p}/stat').read().rsplit(')', 1)[1].split()[0] != 'Z']\n")
    job, npz = _job(cell, ("double", "double2"))
    job["exercises"][1]["cells"][0]["source"] = cell.replace("def double(", "def double2(")
    out = sandbox.run(job, npz, sandbox.Limits(timeout=30))
    (a,), (b,) = out.exercises["double"].cases, out.exercises["double2"].cases
    pid_a, seen_a, procs_a = decode_value(a["value"])
    pid_b, seen_b, procs_b = decode_value(b["value"])
    assert pid_a != pid_b and not seen_a and not seen_b
    assert set(procs_a) & set(procs_b) <= {1, 2}, (procs_a, procs_b)  # a's daemon is gone


def test_the_whole_standard_library_and_numpy_import():
    """Cause 7: modules not pre-loaded (heapq, bisect, numpy.polynomial) import in the sandbox."""
    run = _run("import heapq, bisect, sqlite3, decimal, tempfile, numpy.polynomial, numpy.fft\n"
               "tempfile.mkstemp()  # a writable private /tmp\n"
               "def double(a):\n    return 2 * a\n")
    assert _value(run).tolist() == [0.0, 2.0, 4.0]


def test_the_filesystem_is_an_allow_list():
    """Walk the sandbox's whole disk: nothing of the course, wherever it is on the host."""
    probe = ("import os\nFOUND, TOPS = [], set()\n"
             "for top, dirs, files in os.walk('/'):\n"
             "    if top in ('/proc', '/dev', '/sys'):\n        dirs[:] = []\n        continue\n"
             "    TOPS.add('/'.join(top.split('/')[:3]))\n"
             "    FOUND += [os.path.join(top, n) for n in dirs + files if n in ('course_utils', "
             "'solutions', 'grading.json', '.records', '.grader-key') or n.endswith('.ipynb')]\n"
             "def double(a):\n    return FOUND, sorted(TOPS)\n")
    found, tops = _value(_run(probe, timeout=60))
    assert found == []
    assert not any(t.startswith(("/work", "/home", "/srv", "/var", "/usr/local", "/usr/share"))
                   for t in tops), tops
    assert str(ROOT) not in tops


def test_only_the_sandbox_processes_are_visible_and_killable():
    probe = ("import os, signal\nPIDS = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
             "def double(a):\n    try:\n        os.kill(-1, 0)\n    except OSError:\n        pass\n"
             "    return PIDS\n")
    pids = _value(_run(probe))
    assert len(pids) <= 4 and max(pids) < 10, pids  # bwrap's init, the runner, this process


def test_no_network():
    probe = ("import socket\ndef double(a):\n    try:\n"
             "        socket.create_connection(('1.1.1.1', 53), timeout=2)\n        return 'open'\n"
             "    except OSError as exc:\n        return type(exc).__name__\n")
    assert _value(_run(probe)) != "open"


def test_torch_is_only_there_when_the_exercise_needs_it():
    cell = "def double(a):\n    import torch\n    return torch.__name__\n"
    assert "No module named 'torch'" in _run(cell).cases[0]["exception"]["text"]
    pytest.importorskip("torch")
    assert _value(_run(cell, timeout=60, modules=("torch",))) == "torch"


def test_tmp_and_shm_are_bounded_and_the_root_is_read_only():
    """Class 7: /tmp and /dev/shm are small tmpfs (not half the host's memory); / and /dev
    cannot be written."""
    probe = ("import os\nOUT = {}\nfor d in ('/tmp', '/dev/shm'):\n"
             "    st = os.statvfs(d)\n    OUT[d] = st.f_blocks * st.f_frsize\n"
             "for d in ('/', '/dev', '/opt'):\n    try:\n"
             "        open(os.path.join(d, 'x'), 'w').write('x')\n        OUT[d] = 'written'\n"
             "    except OSError as exc:\n        OUT[d] = type(exc).__name__\n"
             "def double(a):\n    return OUT\n")
    out = _value(_run(probe))
    assert 0 < out["/tmp"] <= layout.TMP_MB << 20 and 0 < out["/dev/shm"] <= layout.SHM_MB << 20
    assert all(out[d] != "written" for d in ("/", "/dev", "/opt")), out


def test_no_user_namespace_can_be_created_inside():
    """Class 7: unshare(CLONE_NEWUSER) fails in the sandbox (seccomp / --disable-userns),
    as root and as an ordinary user; outside, the same call works (when the kernel allows)."""
    probe = ("import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
             "def double(a):\n    pid = os.fork()\n    if pid == 0:\n"
             "        os._exit(0 if libc.unshare(0x10000000) == 0 else 1)\n"
             "    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])\n")
    assert _value(_run(probe)) == 1


def test_memory_is_capped_for_the_whole_sandbox_where_cgroups_can_be_made():
    """Class 7: four processes of 200 MB each, under a 512 MB sandbox: without a control group
    each one is within its own RLIMIT_AS and all four hold their memory at once; with one, the
    sandbox as a whole cannot (processes die or fail to allocate)."""
    from course_utils.grade.limits import cgroups_available

    if not cgroups_available():
        pytest.skip("no control groups here: the documented bound is RLIMIT_NPROC x RLIMIT_AS")
    # Each child holds its 200 MB until the parent lets go, so "held at once" does not depend on
    # how the children happen to be scheduled on a loaded machine.
    cell = (
        "import os, select, time\n"
        "def double(a):\n"
        "    r, w = os.pipe()\n"
        "    release_r, release_w = os.pipe()\n"
        "    pids = []\n"
        "    for k in range(4):\n"
        "        pid = os.fork()\n"
        "        if pid == 0:\n"
        "            try:\n"
        "                os.close(release_w)\n"
        "                b = bytearray(200 << 20)\n"
        "                b[::4096] = b'x' * len(b[::4096])\n"
        "                os.write(w, bytes([k]))\n"
        "                os.read(release_r, 1)\n"
        "            finally:\n"
        "                os._exit(0)\n"
        "        pids.append(pid)\n"
        "    os.close(w)\n"
        "    reported, gone, deadline = set(), set(), time.time() + 20\n"
        "    while len(reported | gone) < 4 and time.time() < deadline:\n"
        "        if select.select([r], [], [], 0.05)[0]:\n"
        "            reported |= {pids[k] for k in os.read(r, 16)}\n"
        "        for pid in set(pids) - gone:\n"
        "            if os.waitpid(pid, os.WNOHANG)[0]:\n"
        "                gone.add(pid)\n"
        "    held = len(reported - gone)\n"
        "    os.close(release_w)\n"
        "    for pid in set(pids) - gone:\n"
        "        os.waitpid(pid, 0)\n"
        "    return held\n")
    job, npz = _job(cell)
    out = sandbox.run(job, npz, sandbox.Limits(timeout=30, memory_mb=512))
    case = out.exercises["double"].cases
    held = decode_value(case[0]["value"]) if case and "value" in case[0] else 0
    assert held <= 2, held


def test_multiprocessing_and_pools_work():
    """Class 6: semaphores in /dev/shm, functions of the cell pickled from __main__."""
    cell = ("import multiprocessing as mp\nfrom concurrent.futures import ProcessPoolExecutor, "
            "ThreadPoolExecutor\ndef sq(v):\n    return v * v\n"
            "def double(a):\n    with mp.Pool(2) as pool:\n        p = pool.map(sq, [1, 2, 3])\n"
            "    with ProcessPoolExecutor(2) as ex:\n        q = list(ex.map(sq, [4, 5]))\n"
            "    with ThreadPoolExecutor(3) as ex:\n        t = list(ex.map(sq, [6]))\n"
            "    return p + q + t\n")
    assert _value(_run(cell, timeout=60)) == [1, 4, 9, 16, 25, 36]


def test_a_read_only_folder_left_by_learner_code_is_removed(tmp_path):
    """Class 7: the run's folder goes, whatever modes learner code left in it."""
    cell = ("import os\nos.makedirs('/job/ro/deep')\nopen('/job/ro/deep/f', 'w').write('x')\n"
            "os.chmod('/job/ro/deep', 0o500)\nos.chmod('/job/ro', 0o000)\n"
            "def double(a):\n    return 2 * a\n")
    before = set(os.listdir(sandbox._base_dir()))
    _value(_run(cell))
    assert set(os.listdir(sandbox._base_dir())) <= before
    folder = tmp_path / "t"
    (folder / "a" / "b").mkdir(parents=True)
    (folder / "a" / "b" / "f").write_text("x")
    (folder / "a" / "b").chmod(0o500)
    (folder / "a").chmod(0o000)
    mode = tmp_path.stat().st_mode
    assert sandbox.remove_tree(str(folder)) and not folder.exists()
    assert sandbox.remove_tree(str(folder))  # already gone: nothing else is touched
    assert tmp_path.stat().st_mode == mode and os.stat("/tmp").st_mode & 0o7777 == 0o1777


def test_the_seccomp_filter_is_well_formed():
    from course_utils.grade.limits import seccomp_program

    for machine in ("x86_64", "aarch64"):
        prog = seccomp_program(machine)
        assert prog is not None and len(prog) % 8 == 0 and len(prog) // 8 == 14
    assert seccomp_program("sparc") is None


def test_progress_lines_parse():
    p = sandbox.parse_progress("started\ncell a\ncell b\ncase 3\n")
    assert p.started and p.cell is None and p.case == 3 and not p.done
    assert sandbox.parse_progress("started\ncell x\n").cell == "x"
    p = sandbox.parse_progress("started\nexercise a\nexit a -9\nexercise b\ntimeout b\n"
                               "exercise c\nexit c nonsense\n")
    assert p.ended == {"a": -9, "b": None} and p.current == "c"
