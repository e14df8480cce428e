"""The code that runs inside the sandbox: every exercise of one submission, each in a fresh
process forked for it alone.

Copied into the sandbox as data (with :mod:`runner_exec` and :mod:`serialize`) and run by the
bare interpreter: the standard library and numpy (torch only where the job allows it), nothing
of ``course_utils`` — no checker, no reference, no spec. It decides nothing; it

1. as root (bubblewrap without a user namespace) drops to the run's fresh unprivileged uid
   (given on its command line) before it reads anything; reads ``job.json``, sets its resource
   limits and starts a watchdog that kills the sandbox when the grader goes away (stdin
   closes) or the deadline passes;
2. imports the allowed packages and runs the instructor's context cells (trusted);
3. for each exercise (the grader sends one per sandbox): copies its inputs into memory shared
   with the child (:func:`share_inputs`), forks a child that runs the learner's cells up to
   that exercise's cell and calls the function on every case (:func:`runner_exec.run_exercise`),
   writing the raw values to ``result-<exercise>.json``; waits at most the per-exercise
   timeout, then kills the child and whatever it left behind, and only then writes the shared
   memory as the learner's code left it to ``after-<exercise>.npz`` (:func:`snapshot`): the
   grader decides from it whether an input was changed in place. The runner makes itself
   non-dumpable first, so the learner's processes (same uid) cannot ptrace it or read its
   memory. In bubblewrap the runner is PID 1 of the sandbox's PID namespace, so
   learner code cannot kill it (the kernel drops such signals from inside the namespace).

Its own lines in ``progress`` (``exercise E``, ``exit E <status>``, ``timeout E``) and the
child's in ``progress-E`` (``cell X``, ``case j``) are parsed by :mod:`sandbox`.
"""

from __future__ import annotations

import builtins
import json
import os
import select
import signal
import sys
import threading
import time
import traceback


def _private_json():
    """A copy of the json package of the runner's own, so that a learner's patch of ``json``
    (``json.dumps = ...``, ``json.JSONEncoder.encode = ...``) cannot break the result file."""
    names = [k for k in sys.modules if k == "json" or k.startswith("json.")]
    public = {k: sys.modules.pop(k) for k in names}
    import json as private

    for k in [k for k in sys.modules if k == "json" or k.startswith("json.")]:
        del sys.modules[k]
    sys.modules.update(public)
    return private


_DUMPS = _private_json().dumps  # taken before any learner code runs
_REPLACE = os.replace


def drop_privileges(uid: int | None) -> None:
    """As root inside the sandbox: become the run's own uid/gid, with no groups, for good."""
    if uid is None or os.geteuid() != 0:
        return
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise OSError("could not drop privileges")


def not_dumpable() -> None:
    """``PR_SET_DUMPABLE 0``: processes of the same uid (the learner's) can neither ptrace the
    runner nor open its ``/proc/<pid>/mem`` or ``fd/`` (best effort; Linux only)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)
    except Exception:  # noqa: BLE001
        pass


def set_limits(limits: dict) -> None:
    """Resource limits (soft = hard, so learner code cannot raise them): CPU seconds, address
    space, file size, processes of this uid, no core files."""
    import resource

    for name, value in limits.items():
        cap = int(value) + (1 if name == "CPU" else 0)
        resource.setrlimit(getattr(resource, f"RLIMIT_{name}"), (int(value), cap))


_KILL_ALL = False  # True where kill(-1) reaches only the sandbox: own PID namespace or uid


def _kill_leftovers() -> None:
    """Every other process this one may signal (the sandbox's), or just its own group."""
    try:
        if _KILL_ALL:
            os.kill(-1, signal.SIGKILL)  # Linux spares the caller and PID 1
        else:
            os.killpg(0, signal.SIGKILL)
    except OSError:
        pass


_GO = threading.Event()  # the grader has taken the last exercise's outcome: go on
_REPORT_FD: int | None = None  # the pipe to the grader (the runner's stdout, moved away)


def start_watchdog(deadline_s: float) -> None:
    """Read the grader's lines on stdin (``next``: go on with the next exercise); kill the
    sandbox when stdin closes (the grader went away) or the deadline passes."""
    def watch() -> None:
        try:
            end, buf = time.monotonic() + deadline_s, b""
            while True:
                ready, _, _ = select.select([0], [], [], max(0.0, end - time.monotonic()))
                chunk = os.read(0, 1 << 12) if ready else b""
                if not chunk:
                    break
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if line == b"next":
                        _GO.set()
        except BaseException:  # noqa: BLE001 - fail closed
            pass
        _kill_leftovers()
        os._exit(70)
    threading.Thread(target=watch, daemon=True, name="watchdog").start()


def hand_over(ex: str, timeout: float) -> None:
    """Tell the grader that ``ex``'s outcome is complete (its processes are gone) and wait
    until the grader has taken it: no learner code runs before its outcome has left."""
    if _REPORT_FD is None:
        return
    _GO.clear()
    os.write(_REPORT_FD, f"ready {ex}\n".encode())
    if not _GO.wait(timeout):
        raise TimeoutError(f"the grader did not take the outcome of {ex}")


def _private_streams() -> None:
    """Move the pipe to the grader off fd 1, and make fds 0 and 1 harmless for whatever the
    context cells print (stdin stays with the watchdog)."""
    global _REPORT_FD
    _REPORT_FD = os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 1)
    os.close(null)


def wait_child(pid: int, timeout: float) -> int | None:
    """The child's exit code (negative: killed by that signal), or None after a timeout."""
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):  # before Linux 5.3: poll
        fd = None
    if fd is not None:
        select.select([fd], [], [], timeout)
        os.close(fd)
        done, status = os.waitpid(pid, os.WNOHANG)
    else:
        deadline = time.monotonic() + timeout
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done or time.monotonic() >= deadline:
                break
            time.sleep(0.01)
    if done == 0:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return None
    return os.waitstatus_to_exitcode(status)


def _write_atomic(name: str, text: str) -> None:
    tmp = f".{name}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    _REPLACE(tmp, name)


def _reap(timeout: float = 5.0) -> None:
    """As PID 1, collect the processes the exercise left (reparented here, then killed), and
    wait until they are gone: a SIGKILLed process on a loaded CPU may still be running for a
    moment, and nothing of one exercise may overlap the next."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                if time.monotonic() >= deadline:
                    return
                time.sleep(0.002)
        except ChildProcessError:
            return


def share_inputs(cases: list[dict], arrays: dict) -> list[dict]:
    """Per case, its input arrays copied into memory shared with the exercise's process (an
    anonymous ``MAP_SHARED`` mapping made before the fork): the learner's function gets views
    of it, and the runner reads it back after that process is gone (:func:`snapshot`)."""
    import mmap

    import numpy as np

    shared = []
    for case in cases:
        keys = sorted(_array_keys(case)) if case.get("source") is None else []
        size = sum(-(-arrays[k].nbytes // 64) * 64 for k in keys)  # each array 64-byte aligned
        mem = mmap.mmap(-1, max(size, 1))
        views, offset = {}, 0
        for k in keys:
            a = np.ascontiguousarray(arrays[k])
            if a.size == 0:
                views[k] = a.copy()
                continue
            view = np.frombuffer(mem, dtype=a.dtype, count=a.size, offset=offset).reshape(a.shape)
            view[...] = a
            views[k] = view
            offset += -(-a.nbytes // 64) * 64
        shared.append(views)
    return shared


def _remove(name: str) -> None:
    if os.path.isdir(name) and not os.path.islink(name):
        import shutil

        shutil.rmtree(name, ignore_errors=True)
    elif os.path.lexists(name):
        os.unlink(name)


def _array_keys(tree) -> set[str]:
    if isinstance(tree, dict):
        if isinstance(tree.get("array"), str):
            return {tree["array"]}
        return set().union(*[_array_keys(v) for v in tree.values()]) if tree else set()
    if isinstance(tree, list):
        return set().union(*[_array_keys(v) for v in tree]) if tree else set()
    return set()


def snapshot(ex: str, shared: list[dict]) -> None:
    """The shared input memory as the exercise left it, for the grader's in-place check
    (written by the runner once no process of the exercise is left)."""
    import numpy as np

    data = {f"{j}|{k}": np.array(v, copy=True) for j, views in enumerate(shared)
            for k, v in views.items()}
    for name in (f".after-{ex}.npz", f"after-{ex}.npz"):  # whatever learner code put there
        _remove(name)
    fd = os.open(f".after-{ex}.npz", os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as fh:
        np.savez(fh, **data)
    _REPLACE(f".after-{ex}.npz", f"after-{ex}.npz")


def _child(ex_job: dict, ns: dict, shared: list) -> None:
    """The forked process of one exercise: never returns. It holds no pipe to the grader."""
    ex = ex_job["exercise"]
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(null, fd)
    os.close(null)
    if _REPORT_FD is not None:
        os.close(_REPORT_FD)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        from runner_exec import run_exercise

        out = run_exercise(ex_job, ns, shared, f"progress-{ex}")
        _write_atomic(f"result-{ex}.json", _DUMPS({"exercise": ex, **out}))
    except BaseException:  # noqa: BLE001
        try:
            _write_atomic(f"fatal-{ex}.txt", traceback.format_exc()[-2000:])
        finally:
            os._exit(3)
    os._exit(0)  # skip atexit handlers a submission may have registered


def _dying_cell(ex: str) -> list[str]:
    """The learner cell the exercise's process was running when it died, if any."""
    try:
        with open(f"progress-{ex}", encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return []
    return [lines[-1][5:]] if lines and lines[-1].startswith("cell ") else []


def run_job(job: dict) -> None:
    from serialize import load_npz

    progress = open("progress", "a", buffering=1, encoding="utf-8")
    progress.write("started\n")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as PID 1: no signal from a child reaches it
    arrays = load_npz("inputs.npz") if os.path.exists("inputs.npz") else {}
    for mod in job.get("modules", []):
        __import__(mod)  # allowed heavy packages, imported before any learner code
    import runner_exec  # loaded once, before the forks
    ns: dict = {"__name__": "__main__", "__builtins__": builtins,
                "get_ipython": runner_exec._IPythonStub}
    for src in job["context"]:
        exec(compile(src, "<grader-context>", "exec"), ns)  # the instructor's cells
    skip: set[str] = set()  # cells whose top-level code killed an earlier exercise's process
    for ex_job in job["exercises"]:
        ex = ex_job["exercise"]
        progress.write(f"exercise {ex}\n")
        ex_job = {**ex_job, "cells": [c for c in ex_job["cells"] if c["id"] not in skip]}
        for name in (f"result-{ex}.json", f"after-{ex}.npz", f"progress-{ex}", f"fatal-{ex}.txt"):
            _remove(name)  # whatever an earlier exercise's code left under these names
        shared = share_inputs(ex_job["cases"], arrays)
        pid = os.fork()
        if pid == 0:
            _child(ex_job, dict(ns), shared)
        code = wait_child(pid, float(job.get("timeout", 60)))
        progress.write(f"timeout {ex}\n" if code is None else f"exit {ex} {code}\n")
        if not os.path.exists(f"result-{ex}.json"):
            skip.update(_dying_cell(ex))
        if _KILL_ALL:
            _kill_leftovers()  # daemons the child left: nothing reaches the next exercise
            _reap()
        snapshot(ex, shared)
        hand_over(ex, float(job.get("timeout", 60)) + 30)
    progress.write("done\n")


def main() -> None:
    """``runner.py JOB_FOLDER [UID]``: privileges are dropped before anything is read."""
    global _KILL_ALL
    drop_privileges(int(sys.argv[2]) if len(sys.argv) > 2 else None)
    not_dumpable()
    os.chdir(sys.argv[1])
    with open("job.json", encoding="utf-8") as fh:
        job = json.load(fh)
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:0] = [here, *job.get("path", [])]
    _KILL_ALL = bool(job.get("kill_all"))
    try:
        set_limits(job.get("rlimits", {}))
        if job.get("hand_over"):
            _private_streams()
        start_watchdog(float(job.get("deadline", 600)))
        run_job(job)
    except BaseException:  # noqa: BLE001 - a failure of the trusted part: tell the grader
        try:
            _write_atomic("fatal.txt", traceback.format_exc()[-2000:])
        finally:
            os._exit(3)
    os._exit(0)  # skip atexit handlers a submission may have registered


if __name__ == "__main__":
    main()
