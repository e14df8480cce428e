"""Run one sandboxed worker process and collect what it wrote.

Each run gets:

* its own temporary folder (mode 0700, owned by the run's uid) inside a private base folder;
* its own process group and session (``start_new_session``), killed as a whole with
  ``os.killpg`` when the wall-clock timeout passes, and afterwards every process left with the
  run's uid is killed too (``kill -9 -1`` executed as that uid), so forked children that left
  the group do not survive;
* resource limits set in ``preexec_fn``: ``RLIMIT_CPU`` (the timeout), ``RLIMIT_AS`` (memory),
  ``RLIMIT_FSIZE`` (file size), ``RLIMIT_NPROC`` (process count, per uid), ``RLIMIT_CORE`` = 0;
* a scrubbed environment (no inherited variables: PATH, HOME = its folder, one BLAS thread);
* when the grader runs as root: a fresh random unprivileged uid/gid (the worker drops to it
  after loading, see :mod:`course_utils.grade.worker`), which also makes RLIMIT_NPROC bite
  (the kernel does not enforce it for root) and stops writes outside its folder.

stdout and stderr are discarded (the worker reports its own failures in ``fatal.txt``):
nothing printed counts, and no amount of printing can fail or fill anything. The worker's
result files are opened with ``O_NOFOLLOW``, must be regular files below a size cap and must
carry the run's random token; their contents are then validated by the grader.
"""

from __future__ import annotations

import atexit
import json
import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_PKG_PARENT = str(Path(__file__).resolve().parent.parent.parent)
MAX_RESULT_BYTES = 32 << 20
_BASE: str | None = None


@dataclass
class Limits:
    timeout: float = 60.0       # wall clock seconds per run
    memory_mb: int = 2048       # RLIMIT_AS
    file_mb: int = 64           # RLIMIT_FSIZE
    nproc: int = 32             # RLIMIT_NPROC (threads count too)


@dataclass
class RunOutcome:
    results: dict[str, Any] = field(default_factory=dict)  # exercise id -> raw cases list
    returncode: int | None = None
    timed_out: bool = False
    last_progress: str = ""
    isolation: str = ""
    fatal: str = ""
    wall_s: float = 0.0
    uid: int | None = None      # the unprivileged uid the run used (root only)


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _base_dir() -> str:
    global _BASE
    if _BASE is None or not os.path.isdir(_BASE):
        _remove_stale(tempfile.gettempdir())
        _BASE = tempfile.mkdtemp(prefix=f"course-grade-{os.getpid()}-")
        os.chmod(_BASE, 0o711)  # others may traverse to their own folder, not list
        atexit.register(shutil.rmtree, _BASE, True)
    return _BASE


def _remove_stale(tmp: str) -> None:
    """Folders left by graders that were killed (their pid is gone)."""
    import glob

    for path in glob.glob(os.path.join(tmp, "course-grade-*-*")):
        pid = os.path.basename(path).split("-")[2]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass


def _own_task_count() -> int:
    uid = os.getuid()
    n = 0
    for pid in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if pid.isdigit():
            try:
                if os.stat(f"/proc/{pid}").st_uid == uid:
                    n += len(os.listdir(f"/proc/{pid}/task"))
            except OSError:
                continue
    return n


def _preexec(limits: Limits, nproc: int):
    cpu = int(limits.timeout) + 2
    mem = limits.memory_mb << 20
    fsize = limits.file_mb << 20

    def apply() -> None:  # runs in the child between fork and exec: setrlimit calls only
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def scrubbed_env(home: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8",
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg"}


def _read_capped(path: str, cap: int, tail: bool = False) -> bytes | None:
    """Read a regular file written by the sandbox: no symlinks, no devices, at most ``cap``."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        import stat

        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        if st.st_size > cap and not tail:
            return None
        if tail and st.st_size > cap:
            os.lseek(fd, st.st_size - cap, 0)
        chunks, left = [], cap
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _kill_uid(uid: int) -> None:
    """Kill every process left with this uid (children that escaped the process group)."""
    try:
        subprocess.run(["kill", "-9", "-1"], user=uid, group=uid, extra_groups=[],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
    except (OSError, subprocess.SubprocessError):
        pass


def run_worker(job: dict[str, Any], inputs_npz: bytes, limits: Limits) -> RunOutcome:
    """Run the worker on ``job`` (see worker.py) in a fresh sandbox; never raises for learner faults."""
    token = secrets.token_hex(16)
    root = is_root()
    uid = gid = None
    if root:
        uid = gid = 200_000 + secrets.randbelow(1_000_000_000)
        job = {**job, "uid": uid, "gid": gid}
    nproc = limits.nproc if root else _own_task_count() + limits.nproc
    folder = tempfile.mkdtemp(prefix="run-", dir=_base_dir())
    out = RunOutcome(uid=uid)
    try:
        with open(os.path.join(folder, "job.json"), "w", encoding="utf-8") as fh:
            json.dump(job, fh)
        with open(os.path.join(folder, "inputs.npz"), "wb") as fh:
            fh.write(inputs_npz)
        if root:
            for name in ("job.json", "inputs.npz"):
                os.chmod(os.path.join(folder, name), 0o644)
            os.chown(folder, uid, gid)
        os.chmod(folder, 0o700)
        boot = (f"import sys; sys.path.insert(0, {_PKG_PARENT!r}); "
                "from course_utils.grade.worker import main; main()")
        start = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-I", "-c", boot], cwd=folder,
                                env=scrubbed_env(folder), stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True,
                                start_new_session=True, preexec_fn=_preexec(limits, nproc))
        try:
            try:
                proc.stdin.write((token + "\n").encode())
                proc.stdin.close()
            except OSError:
                pass
            try:
                out.returncode = proc.wait(timeout=limits.timeout)
            except subprocess.TimeoutExpired:
                out.timed_out = True
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            if out.returncode is None:
                out.returncode = proc.wait()
            if root:
                _kill_uid(uid)
        out.wall_s = time.monotonic() - start
        _collect(folder, job, token, out)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return out


def _collect(folder: str, job: dict[str, Any], token: str, out: RunOutcome) -> None:
    progress = (_read_capped(os.path.join(folder, "progress"), 64 << 10, tail=True) or b"").decode(
        "utf-8", "replace").splitlines()
    for line in progress:
        if line.startswith("isolated "):
            out.isolation = line[len("isolated "):][:100]
            break
    steps = [ln for ln in progress if ln.startswith(("cell ", "case ", "done "))]
    out.last_progress = steps[-1][:200] if steps else ""
    fatal = _read_capped(os.path.join(folder, "fatal.txt"), 4000)
    if fatal:
        out.fatal = fatal.decode("utf-8", "replace")
    for ex in job["grade"]:
        raw = _read_capped(os.path.join(folder, f"res-{ex}.json"), MAX_RESULT_BYTES)
        if raw is None:
            continue
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            continue
        if (type(data) is dict and data.get("token") == token and data.get("exercise") == ex
                and type(data.get("cases")) is list):
            out.results[ex] = data["cases"]
