"""What a whole sandbox may take, beyond each process's resource limits.

* :func:`seccomp_program` — a classic-BPF seccomp filter that bubblewrap installs (``--seccomp
  FD``) on the sandbox's processes: ``unshare`` and ``clone`` with ``CLONE_NEWUSER`` fail with
  ``EPERM`` and ``clone3`` with ``ENOSYS`` (glibc then falls back to ``clone``), so learner code
  cannot create a user namespace (in which it would hold every capability over new mount, PID
  and network namespaces), whether the grader runs as root or not. Syscalls of a foreign
  architecture (x32, i386 on x86_64) are refused. Known for x86_64 and aarch64; elsewhere there
  is no filter (and, without root, bubblewrap's ``--disable-userns`` still applies).
* :class:`Cgroup` — where the grader may create control groups (root with a writable cgroup v1
  ``memory`` + ``pids`` hierarchy, or a cgroup v2 subtree with both controllers): one group per
  sandbox caps the memory of all its processes together (page cache and tmpfs included) and
  their number. Elsewhere the documented bound is ``RLIMIT_NPROC x RLIMIT_AS``.

References: seccomp(2), ``struct seccomp_data``; Documentation/admin-guide/cgroup-v1/memory.rst
and cgroup-v2.rst of the Linux kernel.
"""

from __future__ import annotations

import atexit
import errno
import os
import platform
import secrets
import struct
import threading
import time

CLONE_NEWUSER = 0x10000000
_SYSCALLS = {  # machine -> (audit arch, clone, unshare, clone3)
    "x86_64": (0xC000003E, 56, 272, 435),
    "aarch64": (0xC00000B7, 220, 97, 435),
}
_LD_W_ABS, _JEQ, _JSET, _RET = 0x20, 0x15, 0x45, 0x06
_ALLOW = 0x7FFF0000


def _errno(code: int) -> int:
    return 0x00050000 | code  # SECCOMP_RET_ERRNO


def seccomp_program(machine: str | None = None) -> bytes | None:
    """The filter as bytes of ``struct sock_filter`` (None for an unknown architecture)."""
    known = _SYSCALLS.get(machine or platform.machine())
    if known is None:
        return None
    arch, clone, unshare, clone3 = known
    ins = [
        (_LD_W_ABS, 0, 0, 4),                 # 0 A = arch
        (_JEQ, 1, 0, arch),                   # 1 native? skip the refusal
        (_RET, 0, 0, _errno(errno.EPERM)),    # 2 foreign architecture
        (_LD_W_ABS, 0, 0, 0),                 # 3 A = syscall number
        (_JSET, 7, 0, 0x40000000),            # 4 x32 ABI bit -> 12 (EPERM)
        (_JEQ, 7, 0, clone3),                 # 5 -> 13 (ENOSYS)
        (_JEQ, 1, 0, unshare),                # 6 -> 8
        (_JEQ, 0, 3, clone),                  # 7 -> 8, else 11 (allow)
        (_LD_W_ABS, 0, 0, 16),                # 8 A = low 32 bits of args[0] (flags)
        (_JSET, 2, 0, CLONE_NEWUSER),         # 9 -> 12
        (_RET, 0, 0, _ALLOW),                 # 10
        (_RET, 0, 0, _ALLOW),                 # 11
        (_RET, 0, 0, _errno(errno.EPERM)),    # 12
        (_RET, 0, 0, _errno(errno.ENOSYS)),   # 13
    ]
    return b"".join(struct.pack("=HBBI", *i) for i in ins)


def seccomp_fd() -> int | None:
    """A fresh file descriptor holding the filter, positioned at its start (bubblewrap reads it
    to the end: one per run), or None where there is no filter."""
    program = seccomp_program()
    if program is None or not hasattr(os, "memfd_create"):
        return None
    fd = os.memfd_create("course-grade-seccomp", 0)
    os.write(fd, program)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


class Cgroup:
    """One control group per sandbox run (see the module docstring); ``available()`` first."""

    V1 = "/sys/fs/cgroup"
    PREFIX = "course-grade-"

    def __init__(self, memory_mb: int, pids: int) -> None:
        self.dirs: list[str] = []
        name = f"{self.PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
        v2 = _v2_base()
        if v2 is not None:
            path = os.path.join(v2, name)
            os.mkdir(path)
            self.dirs = [path]
            _write(path, "memory.max", memory_mb << 20)
            _write(path, "memory.swap.max", 0, optional=True)
            _write(path, "pids.max", pids)
            return
        for ctl in ("memory", "pids"):
            path = os.path.join(self.V1, ctl, name)
            os.mkdir(path)
            self.dirs.append(path)
        _write(self.dirs[0], "memory.limit_in_bytes", memory_mb << 20)
        _write(self.dirs[0], "memory.memsw.limit_in_bytes", memory_mb << 20, optional=True)
        _write(self.dirs[1], "pids.max", pids)

    @property
    def procs(self) -> list[str]:
        """The ``cgroup.procs`` files a process writes its pid to, to join the group."""
        return [os.path.join(d, "cgroup.procs") for d in self.dirs]

    def remove(self, wait_s: float = 5.0) -> bool:
        """Remove the group once its processes are gone; False if it could not be."""
        deadline = time.monotonic() + wait_s
        left = list(self.dirs)
        while left:
            for d in list(left):
                try:
                    os.rmdir(d)
                    left.remove(d)
                except FileNotFoundError:
                    left.remove(d)
                except OSError:
                    pass
            if left and time.monotonic() >= deadline:
                return False
            if left:
                time.sleep(0.01)
        return True


    def empty(self) -> bool:
        """No process left in the group (it can serve the next run)."""
        for path in self.procs:
            try:
                with open(path) as fh:
                    if fh.read().strip():
                        return False
            except OSError:
                return False
        return True


_POOL: dict[tuple[int, int, int], Cgroup] = {}
_POOL_LOCK = threading.Lock()


def take(memory_mb: int, pids: int) -> Cgroup:
    """A group for one run: the calling thread's own, reused from its previous run when that
    one left it empty (runs of one thread never overlap), else a new one."""
    key = (threading.get_ident(), memory_mb, pids)
    with _POOL_LOCK:
        group = _POOL.pop(key, None)
    if group is not None and group.empty():
        return group
    if group is not None:
        group.remove()
    if not _POOL:
        atexit.register(release_all)
    return Cgroup(memory_mb, pids)


def give_back(group: Cgroup, memory_mb: int, pids: int) -> bool:
    """Keep an empty group for the thread's next run; remove one that is not (False: it could
    not be removed)."""
    if group.empty():
        with _POOL_LOCK:
            _POOL[(threading.get_ident(), memory_mb, pids)] = group
        return True
    return group.remove()


def release_all() -> None:
    with _POOL_LOCK:
        groups = list(_POOL.values())
        _POOL.clear()
    for group in groups:
        group.remove()


def _write(folder: str, name: str, value: int, optional: bool = False) -> None:
    try:
        with open(os.path.join(folder, name), "w") as fh:
            fh.write(str(value))
    except OSError:
        if not optional:
            raise


def _v2_base() -> str | None:
    """A cgroup v2 folder where this process may create groups with memory and pids."""
    try:
        with open("/proc/self/cgroup") as fh:
            own = next((ln.split(":", 2)[2].strip() for ln in fh if ln.startswith("0::")), None)
    except OSError:
        return None
    for mount in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
        if own is None or not os.path.isfile(os.path.join(mount, "cgroup.controllers")):
            continue
        base = os.path.join(mount, own.lstrip("/"))
        try:
            with open(os.path.join(base, "cgroup.subtree_control")) as fh:
                enabled = fh.read().split()
        except OSError:
            continue
        if {"memory", "pids"} <= set(enabled) and os.access(base, os.W_OK):
            return base
    return None


_AVAILABLE: bool | None = None


def cgroups_available() -> bool:
    """Whether :class:`Cgroup` works here (tried once per process, and removed again)."""
    global _AVAILABLE
    if _AVAILABLE is None:
        try:
            Cgroup(64, 8).remove()
            _AVAILABLE = True
        except OSError:
            _AVAILABLE = False
    return _AVAILABLE


def remove_stale() -> None:
    """Groups left by graders that were killed (their pid is gone)."""
    bases = [os.path.join(Cgroup.V1, c) for c in ("memory", "pids")]
    v2 = _v2_base()
    bases += [v2] if v2 else []
    for base in bases:
        try:
            names = os.listdir(base)
        except OSError:
            continue
        for name in names:
            if not name.startswith(Cgroup.PREFIX):
                continue
            pid = name[len(Cgroup.PREFIX):].split("-")[0]
            if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                try:
                    os.rmdir(os.path.join(base, name))
                except OSError:
                    pass
