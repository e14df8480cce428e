"""The sandbox's filesystem, as an allow-list: what bubblewrap mounts, and nothing else.

Inside the sandbox the root is an empty tmpfs; onto it go, read-only:

* the interpreter: its executable, its standard library (with ``lib-dynload``; any
  ``site-packages`` / ``dist-packages`` inside it hidden by an empty tmpfs) and ``libpython``;
* the system's shared libraries (``/usr/lib/<multiarch>``, ``/lib64`` ...) and ``ld.so.cache``;
* the packages the exercise may import, under ``/opt/site``: numpy always, plus the
  distributions a spec names in ``sandbox_modules`` (e.g. torch), each with the distributions
  it requires (found from the installed metadata, not by guessing);
* the runner (three files of this package: :mod:`.runner`, :mod:`.runner_exec`,
  :mod:`.serialize`);

and, writable: the run's own folder (``/job``, created fresh by the grader for this run only),
a private ``/tmp`` and ``/dev/shm`` (size-bounded tmpfs); the root and ``/dev`` are read-only.
Nothing of the course (``course_utils``, ``solutions/``), of other submissions or of the output
folder is mounted, wherever on the disk it lies.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import stat
import sys
import sysconfig
from pathlib import Path

SITE = "/opt/site"
RUNNER_DIR = "/opt/runner"
JOB = "/job"
_HERE = Path(__file__).resolve().parent
RUNNER_FILES = ("runner.py", "runner_exec.py", "serialize.py")


def bwrap_path() -> str | None:
    """The bubblewrap executable, or None where it is not installed."""
    return shutil.which("bwrap") or (os.path.isfile("/usr/bin/bwrap") and "/usr/bin/bwrap") or None


@functools.cache
def bwrap_supports(option: str) -> bool:
    """Whether the installed bubblewrap knows ``option`` (``--disable-userns``: 0.8 and later)."""
    import subprocess

    try:
        proc = subprocess.run([bwrap_path() or "bwrap", "--help"], capture_output=True,
                              text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return option in proc.stdout + proc.stderr


def interpreter() -> str:
    """The real interpreter binary (a venv's ``python`` resolves to its base)."""
    return os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)


def _python_paths() -> list[str]:
    stdlib = os.path.realpath(os.path.dirname(os.__file__))
    paths = [interpreter(), stdlib]
    dynload = os.path.realpath(str(sysconfig.get_config_var("DESTSHARED") or ""))
    if os.path.isdir(dynload) and not dynload.startswith(stdlib + os.sep):
        paths.append(dynload)
    libdir, ldlib = sysconfig.get_config_var("LIBDIR"), sysconfig.get_config_var("LDLIBRARY")
    if libdir and ldlib and ".so" in ldlib and os.path.isdir(libdir):
        for name in sorted(os.listdir(libdir)):
            if name.startswith(ldlib):
                paths.append(os.path.join(libdir, name))
    return paths


def _system_paths() -> tuple[list[str], list[tuple[str, str]]]:
    """(folders to bind, (target, link) symlinks) for the dynamic loader and system libraries."""
    arch = sysconfig.get_config_var("MULTIARCH") or ""
    binds, links = [], []
    for path in ["/lib", "/lib64", "/usr/lib64", f"/usr/lib/{arch}", f"/lib/{arch}"]:
        if path.endswith("/"):
            continue
        if os.path.islink(path):
            links.append((os.readlink(path), path))
        elif os.path.isdir(path) and os.path.realpath(path) == path \
                and not (path == "/lib" and arch):
            binds.append(path)
    if os.path.isfile("/etc/ld.so.cache"):
        binds.append("/etc/ld.so.cache")
    return binds, links


@functools.cache
def package_entries(modules: tuple[str, ...]) -> tuple[str, ...]:
    """Top-level site-packages entries (folders, modules, ``*.libs``) of the distributions
    that provide ``modules``, and of every distribution they require, recursively."""
    import importlib.metadata as md

    owners = md.packages_distributions()
    todo = [d for m in modules for d in owners.get(m.split(".")[0], [m])]
    seen: set[str] = set()
    entries: set[str] = set()
    while todo:
        name = re.split(r"[^A-Za-z0-9._-]", todo.pop())[0].lower().replace("_", "-")
        if not name or name in seen:
            continue
        seen.add(name)
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        for req in dist.requires or []:
            if "extra ==" not in req:
                todo.append(req)
        for f in dist.files or []:
            top = str(f).split("/")[0]
            if top not in ("..", "") and not top.endswith((".dist-info", ".pth")) \
                    and top != "__pycache__":
                full = Path(str(dist.locate_file(top)))
                if full.exists():
                    entries.add(str(full))
    return tuple(sorted(entries))


def _parents(path: str) -> list[str]:
    parts = Path(path).parts[1:-1]
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


TMP_MB = 128       # the sandbox's /tmp (tmpfs: RAM), bounded
SHM_MB = 64        # its /dev/shm (POSIX semaphores and shared memory: multiprocessing)


def bwrap_args(job_dir: str, modules: tuple[str, ...], as_root: bool,
               seccomp_fd: int | None = None) -> list[str]:
    """The bubblewrap command line (without the command) for one run. The root and ``/dev``
    are read-only, ``/tmp`` and ``/dev/shm`` are size-bounded tmpfs, and no new user
    namespace can be made inside (``--disable-userns`` without root; the seccomp filter of
    :mod:`.limits`, given as ``seccomp_fd``, in both cases)."""
    args = ["--size", str(1 << 20), "--tmpfs", "/", "--dev", "/dev", "--remount-ro", "/dev",
            "--proc", "/proc",
            "--perms", "1777", "--size", str(TMP_MB << 20), "--tmpfs", "/tmp",
            "--perms", "1777", "--size", str(SHM_MB << 20), "--tmpfs", "/dev/shm",
            "--die-with-parent", "--new-session", "--clearenv", "--hostname", "sandbox",
            "--as-pid-1",  # the runner is PID 1: the kernel ignores a SIGKILL sent to it from inside
            "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
            "--unshare-cgroup-try"]
    if as_root:  # no user namespace: the runner drops to a fresh uid itself (see runner.py)
        args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        args += ["--unshare-user"] + (["--disable-userns"] if bwrap_supports("--disable-userns")
                                      else [])
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    made: set[str] = {"/", "/dev", "/proc", "/tmp", "/dev/shm"}
    ro: list[tuple[str, str]] = []
    binds, links = _system_paths()
    ro += [(p, p) for p in binds] + [(p, p) for p in _python_paths()]
    ro += [(e, f"{SITE}/{os.path.basename(e)}") for e in package_entries(("numpy", *modules))]
    ro += [(str(_HERE / f), f"{RUNNER_DIR}/{f}") for f in RUNNER_FILES]
    for target, link in links:
        args += ["--symlink", target, link]
        made.add(link)
    for _, dest in ro + [(job_dir, JOB)]:
        for parent in _parents(dest):
            if parent not in made:
                args += ["--perms", "0755", "--dir", parent]
                made.add(parent)
    for src, dest in ro:
        args += ["--ro-bind", src, dest]
        made.add(dest)
    stdlib = os.path.realpath(os.path.dirname(os.__file__))
    for sub in ("site-packages", "dist-packages"):
        if os.path.isdir(os.path.join(stdlib, sub)):
            args += ["--tmpfs", os.path.join(stdlib, sub)]
    args += ["--bind", job_dir, JOB, "--remount-ro", "/"]
    return args


def world_usable(path: str) -> bool:
    """Whether an unprivileged uid can reach ``path`` (every folder above it searchable)."""
    parts = os.path.realpath(path).split(os.sep)
    for i in range(2, len(parts) + 1):
        try:
            mode = os.stat(os.sep.join(parts[:i]) or os.sep).st_mode
        except OSError:
            return False
        if not mode & (stat.S_IXOTH if i < len(parts) else stat.S_IROTH):
            return False
    return True


def site_paths(mode: str, modules: tuple[str, ...] = (),
               runner_site: list[str] | None = None) -> list[str]:
    """Where the runner finds numpy (and torch): /opt/site in the sandbox; else each
    ``runner_site`` folder's ``base/`` (numpy) plus ``<module>/`` for each allowed module (e.g.
    ``torch/``), or this environment's site-packages."""
    if mode == "bwrap":
        return [SITE]
    if runner_site:
        paths = []
        for folder in runner_site:
            paths.append(os.path.join(folder, "base") if os.path.isdir(
                os.path.join(folder, "base")) else folder)
            paths += [os.path.join(folder, m) for m in modules
                      if os.path.isdir(os.path.join(folder, m))]
        return paths
    return sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
