"""Run the runner (:mod:`.runner`) on one job, in a fresh bubblewrap sandbox, and collect.

Each run gets its own folder (mode 0700; owned by the run's fresh uid when the grader is root),
mounted at ``/job`` in a sandbox whose filesystem is built from nothing (:mod:`.layout`), with
its own PID, IPC, UTS, network (none) and — without root — user namespace, ``--new-session``
and ``--die-with-parent``. Limits: a wall-clock timeout (the grader kills bubblewrap, whose
death ends the whole PID namespace; the runner's own watchdog does the same if the grader
vanishes), and ``RLIMIT_CPU``, ``RLIMIT_AS``, ``RLIMIT_FSIZE``, ``RLIMIT_NPROC``, no core files,
set by the runner on itself before any learner code runs; an empty environment. As root, the
runner drops to a fresh random uid first (``RLIMIT_NPROC`` then bites).

``mode="none"`` (``grade --no-sandbox``, or ``check`` where bubblewrap is missing) runs the
same runner as a plain child process: same limits, no filesystem isolation.

stdout and stderr are discarded; the runner reports through files in its folder, which are
read with ``O_NOFOLLOW`` and a size cap, and then validated as untrusted data.
"""

from __future__ import annotations

import atexit
import json
import os
import secrets
import select
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

from . import layout
from . import limits as _limits
from .hostfs import read_capped, remove_stale_runs, remove_tree
from .limits import Cgroup, cgroups_available, remove_stale, seccomp_fd

MAX_RESULT_BYTES = 32 << 20
_BASE: str | None = None


@dataclass
class Limits:
    timeout: float = 60.0       # wall clock seconds per run
    memory_mb: int = 2048       # RLIMIT_AS
    file_mb: int = 64           # RLIMIT_FSIZE
    nproc: int = 32             # RLIMIT_NPROC (threads count too)


@dataclass
class Progress:
    """What progress lines say: the runner's (``started``, ``exercise E``, ``exit E code``,
    ``timeout E``, ``done``) and an exercise child's (``cell X``, ``case j``)."""

    started: bool = False
    current: str | None = None   # the exercise whose process was started last
    ended: dict[str, int | None] = field(default_factory=dict)  # exit code; None: timed out
    cell: str | None = None      # the learner cell being run (None once the calls began)
    case: int | None = None      # the case being called
    done: bool = False


def parse_progress(text: str) -> Progress:
    """The one parser of progress lines (untrusted text: unknown lines are ignored)."""
    p = Progress()
    for line in text.splitlines():
        word, _, rest = line.partition(" ")
        parts = rest.split(" ")
        if word == "started":
            p.started = True
        elif word == "exercise" and rest:
            p.current = rest[:200]
        elif word == "timeout" and rest:
            p.ended[rest[:200]] = None
        elif word == "exit" and len(parts) == 2 and parts[1].lstrip("-").isdigit():
            p.ended[parts[0][:200]] = int(parts[1])
        elif word == "cell":
            p.cell, p.case = rest[:200], None
        elif word == "case" and rest.isdigit():
            p.cell, p.case = None, int(rest)
        elif word == "done":
            p.done = True
    return p


@dataclass
class ExerciseRun:
    """What one exercise's process left behind."""

    cases: list[Any] | None = None  # raw outcome per case (untrusted); None if none came back
    late_error: Any = None          # a later statement of its own cell failed (untrusted)
    after: dict[int, dict[str, Any]] | None = None  # case -> input arrays after the call
    started: bool = False           # the runner forked its process
    ended: bool = False             # ... and saw it end (or time out)
    exit_code: int | None = None    # negative: killed by that signal
    timed_out: bool = False
    progress: Progress = field(default_factory=Progress)
    fatal: str = ""


@dataclass
class RunOutcome:
    exercises: dict[str, ExerciseRun] = field(default_factory=dict)
    returncode: int | None = None   # of the whole sandbox
    timed_out: bool = False         # the whole sandbox ran out of time
    started: bool = False           # the runner got as far as the context cells
    fatal: str = ""                 # the runner's own failure (the context cells raised ...)
    wall_s: float = 0.0
    uid: int | None = None          # the fresh uid the run used (root only)
    cleanup: str = ""               # what could not be removed from the host (empty: all)


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _base_dir() -> str:
    global _BASE
    if _BASE is None or not os.path.isdir(_BASE):
        remove_stale_runs(tempfile.gettempdir())
        _BASE = tempfile.mkdtemp(prefix=f"course-grade-{os.getpid()}-")
        os.chmod(_BASE, 0o711)  # a run's uid may traverse to its own folder, not list
        atexit.register(remove_tree, _BASE)
        remove_stale()
    return _BASE


def _own_task_count() -> int:
    uid, n = os.getuid(), 0
    for pid in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if pid.isdigit():
            try:
                if os.stat(f"/proc/{pid}").st_uid == uid:
                    n += len(os.listdir(f"/proc/{pid}/task"))
            except OSError:
                continue
    return n


def rlimits(limits: Limits, nproc: int) -> dict[str, int]:
    """The resource limits the runner sets on itself before any learner code runs (no
    ``preexec_fn`` here, so that starting a run stays a cheap ``vfork``)."""
    return {"CPU": int(limits.timeout) + 2, "AS": limits.memory_mb << 20,
            "FSIZE": limits.file_mb << 20, "NPROC": nproc, "CORE": 0}


ENV = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8",
       "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
       "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg"}


def _kill_uid(uid: int) -> None:
    """Kill every process left with this uid (nothing should be; belt and braces)."""
    try:
        subprocess.run(["kill", "-9", "-1"], user=uid, group=uid, extra_groups=[],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
    except (OSError, subprocess.SubprocessError):
        pass


def _command(folder: str, mode: str, modules: tuple[str, ...], uid: int | None,
             seccomp: int | None = None, cgroup: Cgroup | None = None) -> list[str]:
    """The runner's command line for this mode (joining ``cgroup`` first, through a shell that
    writes its own pid, so that every process of the run is in it from the start)."""
    python = layout.interpreter()
    tail = [] if uid is None else [str(uid)]
    if mode == "bwrap":
        bwrap = layout.bwrap_path() or "bwrap"
        argv = [bwrap, *layout.bwrap_args(folder, modules, uid is not None, seccomp), python,
                "-I", "-S", f"{layout.RUNNER_DIR}/runner.py", layout.JOB, *tail]
        if cgroup is not None:
            join = " && ".join(f'echo $$ > "${i + 1}"' for i in range(len(cgroup.procs)))
            argv = ["/bin/sh", "-c", f'{join} && shift {len(cgroup.procs)} && exec "$@"', "sh",
                    *cgroup.procs, *argv]
        return argv
    for name in layout.RUNNER_FILES:
        shutil.copy(os.path.join(os.path.dirname(__file__), name), folder)
    return [python, "-I", "-S", os.path.join(folder, "runner.py"), folder, *tail]


STARTUP_S = 30.0  # on top of the exercises' timeouts: interpreter, imports, context cells


def run(job: dict[str, Any], inputs_npz: bytes, limits: Limits, mode: str = "bwrap",
        modules: tuple[str, ...] = (), runner_site: list[str] | None = None) -> RunOutcome:
    """Run one job (the context and ``job["exercises"]``, each with its own ``limits.timeout``)
    in a fresh sandbox; never raises for anything the learner's code does."""
    root = is_root()
    uid = 200_000 + secrets.randbelow(1_000_000_000) if root else None
    if mode != "bwrap" and uid is not None and not layout.world_usable(os.path.dirname(os.__file__)):
        uid = None  # without bubblewrap, a fresh uid could not even read the standard library
    nproc = limits.nproc if uid is not None else _own_task_count() + limits.nproc
    budget = limits.timeout * len(job["exercises"]) + STARTUP_S
    job = {**job, "timeout": limits.timeout, "deadline": budget + 5, "modules": list(modules),
           "kill_all": mode == "bwrap" or uid is not None, "hand_over": True,
           "path": layout.site_paths(mode, modules, runner_site), "rlimits": rlimits(limits, nproc)}
    folder = tempfile.mkdtemp(prefix="run-", dir=_base_dir())
    out = RunOutcome(uid=uid)
    seccomp = seccomp_fd() if mode == "bwrap" else None
    cgroup = None
    try:
        if mode == "bwrap" and cgroups_available():
            cgroup = _limits.take(limits.memory_mb, limits.nproc + 8)  # + bubblewrap, shell
        argv = _command(folder, mode, modules, uid, seccomp, cgroup)
        with open(os.path.join(folder, "job.json"), "w", encoding="utf-8") as fh:
            json.dump(job, fh)
        if inputs_npz:
            with open(os.path.join(folder, "inputs.npz"), "wb") as fh:
                fh.write(inputs_npz)
        for name in os.listdir(folder):
            os.chmod(os.path.join(folder, name), 0o644)
        if uid is not None:
            os.chown(folder, uid, uid)
        os.chmod(folder, 0o700)
        start = time.monotonic()
        exercises = [e["exercise"] for e in job["exercises"]]
        taken = _wait(argv, budget, out, uid if mode != "bwrap" else None,
                      (seccomp,) if seccomp is not None else (),
                      lambda ex: _exercise_run(folder, ex), exercises)
        if mode == "bwrap" and out.returncode is not None and 128 < out.returncode < 160:
            out.returncode = 128 - out.returncode  # bwrap reports a signal death as 128 + n
        out.wall_s = time.monotonic() - start
        _collect(folder, exercises, out, taken)
    finally:
        if seccomp is not None:
            os.close(seccomp)
        left = [] if remove_tree(folder) else [folder]
        if cgroup is not None and not _limits.give_back(cgroup, limits.memory_mb,
                                                        limits.nproc + 8):
            left += cgroup.dirs
        out.cleanup = ", ".join(left)
    return out


def _wait(argv: list[str], budget: float, out: RunOutcome, kill_uid: int | None,
          fds: tuple[int, ...], take, exercises: list[str]) -> dict[str, ExerciseRun]:
    """Run, taking each exercise's outcome (``take(ex)``) when the runner says it is complete
    and before it lets any more learner code run (it waits for our ``next``); wait (timeout),
    kill what is left: bubblewrap's PID namespace ends with it; without bubblewrap every
    process of the run's uid (``kill_uid``) is killed. Returns the outcomes taken."""
    proc = subprocess.Popen(argv, cwd="/", env=dict(ENV), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, close_fds=True,
                            start_new_session=True, pass_fds=fds)
    taken: dict[str, ExerciseRun] = {}
    deadline, buf = time.monotonic() + budget, b""
    try:
        while True:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([proc.stdout], [], [], max(left, 0.0))
            if not ready:
                raise subprocess.TimeoutExpired(argv, budget)
            chunk = os.read(proc.stdout.fileno(), 1 << 12)
            if not chunk:
                break  # the runner is gone
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                ex = line[6:].decode("utf-8", "replace") if line.startswith(b"ready ") else None
                if ex in exercises and ex not in taken:
                    taken[ex] = take(ex)
                    proc.stdin.write(b"next\n")
                    proc.stdin.flush()
        out.returncode = proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
    except subprocess.TimeoutExpired:
        out.timed_out = True
    except OSError:
        pass  # the runner closed its stdin: it is dying
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if out.returncode is None:
            out.returncode = proc.wait()
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()  # stdin: the runner's watchdog: the grader is done with this run
            except OSError:
                pass
        if kill_uid is not None:
            _kill_uid(kill_uid)
    return taken


def _text(folder: str, name: str, cap: int) -> str:
    return (read_capped(os.path.join(folder, name), cap) or b"").decode("utf-8", "replace")


def _result(folder: str, exercise: str) -> dict | None:
    raw = read_capped(os.path.join(folder, f"result-{exercise}.json"), MAX_RESULT_BYTES)
    try:
        data = json.loads(raw) if raw is not None else None
    except (ValueError, RecursionError):
        return None
    if type(data) is dict and data.get("exercise") == exercise and type(data.get("cases")) is list:
        return data
    return None


def _after(folder: str, exercise: str) -> dict[int, dict[str, Any]] | None:
    """The runner's snapshot of the input memory after the exercise (untrusted npz)."""
    import io

    import numpy as np

    raw = read_capped(os.path.join(folder, f"after-{exercise}.npz"), MAX_RESULT_BYTES)
    if raw is None:
        return None
    out: dict[int, dict[str, Any]] = {}
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as data:
            for name in data.files:
                j, _, key = name.partition("|")
                if j.isdigit():
                    out.setdefault(int(j), {})[key] = data[name]
    except Exception:  # noqa: BLE001 - untrusted bytes: no snapshot
        return None
    return out


def _exercise_run(folder: str, ex: str) -> ExerciseRun:
    """What the run's folder holds about ``ex`` now (read at once, kept in memory)."""
    runner = parse_progress(_text(folder, "progress", 1 << 20))
    result = _result(folder, ex)
    er = ExerciseRun(cases=result["cases"] if result else None,
                     late_error=result.get("late_error") if result else None,
                     after=_after(folder, ex), started=ex in runner.ended
                     or runner.current == ex, ended=ex in runner.ended,
                     progress=parse_progress(_text(folder, f"progress-{ex}", 1 << 20)),
                     fatal=_text(folder, f"fatal-{ex}.txt", 4000))
    if er.ended:
        er.exit_code = runner.ended[ex]
        er.timed_out = er.exit_code is None
    return er


def _collect(folder: str, exercises: list[str], out: RunOutcome,
             taken: dict[str, ExerciseRun]) -> None:
    """Each exercise's outcome: as taken when it was complete, else (the run ended during it:
    no learner code ran after it) as the folder holds it now."""
    runner = parse_progress(_text(folder, "progress", 1 << 20))
    out.started, out.fatal = runner.started, _text(folder, "fatal.txt", 4000)
    for ex in exercises:
        out.exercises[ex] = taken[ex] if ex in taken else _exercise_run(folder, ex)
