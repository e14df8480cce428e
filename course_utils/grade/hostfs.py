"""The grader's files on the host for its sandbox runs: reading what a run wrote (capped, no
symlinks) and removing what it leaves (whatever modes learner code set, as an ordinary user
too, and never touching anything outside the run's folder)."""

from __future__ import annotations

import glob
import os
import shutil
import stat
import sys


def read_capped(path: str, cap: int) -> bytes | None:
    """Read a regular file written by the sandbox: no symlinks, no devices, at most ``cap``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > cap:
            return None
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


def remove_tree(path: str) -> bool:
    """Remove a run's folder whatever learner code did to it (read-only folders, files without
    permissions: made writable again, then removed, as an ordinary user too); True when gone.
    Only paths *inside* ``path`` (and ``path`` itself) are ever chmod-ed."""
    top = os.path.abspath(path)

    def inside(p: str) -> bool:
        p = os.path.abspath(p)
        return p == top or p.startswith(top + os.sep)

    retried: set[str] = set()

    def fix(func, failed, exc) -> None:
        exc = exc[1] if isinstance(exc, tuple) else exc  # onerror (3.11) / onexc (3.12+)
        failed = os.path.abspath(failed)
        if isinstance(exc, FileNotFoundError) or not inside(failed) or failed in retried:
            return
        retried.add(failed)
        for target in (os.path.dirname(failed), failed):
            if inside(target) and not os.path.islink(target):
                try:
                    os.chmod(target, 0o700)
                except OSError:
                    pass
        try:
            if failed == top:
                return  # handled once the walk is over
            if os.path.isdir(failed) and not os.path.islink(failed):
                _rmtree(failed, fix)
            else:
                os.unlink(failed)
        except OSError:
            pass

    if not os.path.lexists(top):
        return True
    if os.path.islink(top):
        os.unlink(top)
        return True
    try:
        os.chmod(top, 0o700)
    except OSError:
        pass
    _rmtree(top, fix)
    if os.path.isdir(top) and not os.listdir(top):
        try:
            os.rmdir(top)
        except OSError:
            pass
    return not os.path.lexists(top)


def _rmtree(path: str, handler) -> None:
    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=handler)
    else:
        shutil.rmtree(path, onerror=handler)


def remove_stale_runs(tmp: str) -> None:
    """Folders left by graders that were killed (their pid is gone)."""
    for path in glob.glob(os.path.join(tmp, "course-grade-*-*")):
        pid = os.path.basename(path).split("-")[2]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            remove_tree(path)
        except OSError:
            pass
