"""Run the grader as an ordinary (unprivileged) user, from a test running as root.

:func:`as_user` returns ``(argv prefix, None)`` or ``(None, reason to skip)``. As root it
creates a system user ``course-grader-test`` (once) and wraps commands in ``setpriv``. Where the
course's interpreter lies below a folder ordinary users cannot enter (pyenv in ``/root``), the
command runs in a private mount namespace in which that folder is an empty, enterable tmpfs
holding only the interpreter's prefix: the host itself is left as it is.
"""

from __future__ import annotations

import atexit
import functools
import os
import pwd
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

USER = "course-grader-test"
ROOT = Path(__file__).resolve().parents[3]


def _blocking_dir(path: str) -> str | None:
    """The first folder above ``path`` that others cannot enter."""
    parts = Path(os.path.realpath(path)).parts
    for i in range(2, len(parts)):
        folder = os.path.join(*parts[:i])
        if not os.stat(folder).st_mode & stat.S_IXOTH:
            return folder
    return None


@functools.cache
def as_user() -> tuple[tuple[str, ...] | None, str | None]:
    if os.geteuid() != 0:
        return None, "the tests run as an ordinary user already (this half needs root to set up)"
    for tool in ("useradd", "setpriv", "unshare", "mount"):
        if shutil.which(tool) is None:
            return None, f"`{tool}` is not installed"
    try:
        pwd.getpwnam(USER)
    except KeyError:
        proc = subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                               "/usr/sbin/nologin", USER], capture_output=True, text=True)
        if proc.returncode != 0 and "already exists" not in proc.stderr:
            return None, f"cannot create user {USER}: {proc.stderr.strip()}"
    uid = pwd.getpwnam(USER).pw_uid
    setpriv = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--"]
    needed = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, ROOT)}
    blocked = {p: b for p in needed if (b := _blocking_dir(p)) is not None}
    if not blocked:
        return tuple(setpriv), None
    # keep each needed folder, cover what blocks it with an enterable tmpfs, put the folder back
    keeps = {path: tempfile.mkdtemp(prefix="course-user-") for path in sorted(blocked)}
    for keep in keeps.values():  # empty on the host (used only inside the namespace)
        atexit.register(os.rmdir, keep)
    steps = [f"mount --bind {shlex.quote(p)} {k}" for p, k in keeps.items()]
    steps += [f"mount -t tmpfs -o mode=0755 tmpfs {shlex.quote(b)}"
              for b in sorted(set(blocked.values()))]
    steps += [f"mkdir -p {shlex.quote(p)} && mount --move {k} {shlex.quote(p)}"
              for p, k in keeps.items()]
    script = " && ".join(steps + ['exec "$@"'])
    return ("unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh",
            *setpriv), None


def user_dir() -> Path:
    """A fresh folder the test user owns (pytest's own tmp folders are root-only)."""
    path = Path(tempfile.mkdtemp(prefix="course-grade-user-", dir="/tmp"))
    uid = pwd.getpwnam(USER).pw_uid
    os.chown(path, uid, uid)
    atexit.register(shutil.rmtree, path, True)
    return path


def grading_marks() -> list:
    """A module that grades as the test's user and as the ordinary one: skipped without
    bubblewrap, and in one pytest-xdist group (``make unit`` runs ``--dist loadgroup``) so that
    two such modules never grade as the same ordinary user at once — run side by side, one
    batch lost records of the other's."""
    import pytest

    from course_utils.grade import layout

    return [pytest.mark.skipif(layout.bwrap_path() is None,
                               reason="bubblewrap is not installed (apt-get install bubblewrap)"),
            pytest.mark.xdist_group("grading-as-an-ordinary-user")]


def grading_base(who: str, tmp_path_factory, name: str) -> tuple[tuple[str, ...], Path]:
    """For a fixture parametrised over ``who`` in ("grader", "ordinary user"): the argv prefix
    that runs the grader as that user and a fresh folder it owns (skips the test where no
    ordinary user can be made)."""
    import pytest

    if who != "ordinary user":
        return (), tmp_path_factory.mktemp(name)
    prefix, why = as_user()
    if prefix is None:
        pytest.skip(f"cannot grade as an ordinary user here: {why}")
    return prefix, user_dir()


def chown_tree(path: Path) -> None:
    uid = pwd.getpwnam(USER).pw_uid
    for p in [path, *path.rglob("*")]:
        os.chown(p, uid, uid)
