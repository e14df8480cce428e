"""The code that runs *inside* the sandbox process (one process per submission run).

Sequence (the order is the security model, see :mod:`course_utils.grade.sandbox`):

1. as the grader's user: read the per-run token from stdin, ``job.json`` and ``inputs.npz``
   from the working folder, import numpy and a few standard modules, and run the
   instructor's ``grader-context`` cells (trusted code);
2. isolate: a private mount namespace that covers the course repository, ``solutions/``, the
   grader's output folder and the submission folders with empty read-only tmpfs, and gives
   ``/tmp``, ``/var/tmp``, ``/dev/shm`` fresh private tmpfs; then drop to the unprivileged
   uid/gid of this run (root only; without root the run still has its own session, rlimits,
   scrubbed environment and folder);
3. run the learner's exercise cells in notebook order, then call each graded function on every
   case and write its raw return values as plain data to ``res-<exercise>.json``.

Nothing here decides a grade: the grader re-reads the raw values, type-checks them and judges
them with the same specs as the notebook checkers. Progress lines (``cell X``, ``case X j``)
let the grader blame the right exercise when the process dies or times out.
"""

from __future__ import annotations

import builtins
import json
import linecache
import os
import sys
import traceback

PREIMPORT = ("math", "cmath", "random", "itertools", "functools", "collections", "operator",
             "typing", "dataclasses", "copy", "string", "re", "statistics", "warnings", "time", "signal",
             "numpy", "numpy.linalg", "numpy.random", "ctypes")

_CLONE_NEWNS = 0x00020000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_REC, _MS_PRIVATE = 1, 2, 4, 16384, 1 << 18
_PR_SET_PDEATHSIG, _PR_SET_NO_NEW_PRIVS = 1, 38


class _Sink:
    """Replaces sys.stdout / sys.stderr: learner prints are accepted and thrown away."""

    encoding = "utf-8"

    def write(self, text: str) -> int:
        return len(text) if isinstance(text, str) else 0

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def _libc():
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def isolate(hide: list[str], uid: int | None, gid: int | None) -> list[str]:
    """Hide paths, privatise temp folders and drop privileges. Returns what was achieved."""
    done: list[str] = []
    if os.geteuid() == 0 and uid is not None:
        libc = _libc()
        try:
            if libc.unshare(_CLONE_NEWNS) != 0:
                raise OSError("unshare")
            if libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
                raise OSError("make-private")
            for path in hide:
                if os.path.isdir(path):
                    libc.mount(b"tmpfs", path.encode(), b"tmpfs", _MS_RDONLY | _MS_NOSUID | _MS_NODEV,
                               b"size=4k,mode=0555")
            for path in ("/tmp", "/var/tmp", "/dev/shm"):  # cwd keeps pointing at the job folder
                if os.path.isdir(path):
                    libc.mount(b"tmpfs", path.encode(), b"tmpfs", _MS_NOSUID | _MS_NODEV,
                               b"size=16m,mode=1777")
            done.append("mount-namespace")
        except OSError:
            pass
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
        done.append(f"uid {uid}")
    try:
        libc = _libc()
        libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        libc.prctl(_PR_SET_PDEATHSIG, 9, 0, 0, 0)  # the grader dies -> this process dies
    except OSError:
        pass
    return done


def format_exception(exc: BaseException) -> str:
    """``ValueError: ... (in rnn_forward, line 4: `h = ...`)`` — learner frames only, no paths."""
    try:
        text = f"{type(exc).__name__}: {exc}".strip()
    except BaseException:  # noqa: BLE001 - a learner's __str__ may raise
        text = type(exc).__name__
    text = text[:300]
    try:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("<cell ")]
        if frames:
            f = frames[-1]
            text += f" (in {f.name}, line {f.lineno}" + (f": `{f.line.strip()[:120]}`)" if f.line else ")")
    except BaseException:  # noqa: BLE001
        pass
    return text


def _write_atomic(name: str, text: str) -> None:
    tmp = f".{name}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, name)


def _mutated(before: dict, after: dict) -> list[str]:
    """Arguments the learner changed in place (numpy arrays and torch tensors), like the
    notebook checkers' ``call_safely``."""
    import numpy as np

    out = []
    for name, old in before.items():
        new = after.get(name)
        if type(old) is np.ndarray and isinstance(new, np.ndarray):
            new = np.ndarray.view(new, np.ndarray)
            if new.shape != old.shape or not np.array_equal(new, old, equal_nan=True):
                out.append(name)
        elif type(old).__name__ == "Tensor" and type(new).__name__ == "Tensor":  # torch exercises
            import torch

            if new.shape != old.shape or not torch.equal(new.detach().cpu(), old.detach().cpu()):
                out.append(name)
    return out


def _forget_checkers(ns: dict) -> None:
    """Drop the checker machinery (specs, torch references) that the context imported, so
    learner code cannot simply call the reference; with the repository hidden it cannot be
    imported again. (A determined attacker could still dig objects out of the garbage
    collector; the grader never relies on this.)"""
    for name in [m for m in sys.modules if m.startswith("course_utils.checks")]:
        del sys.modules[name]
    for key, value in list(ns.items()):
        module = getattr(value, "__module__", None) or getattr(value, "__name__", "")
        if isinstance(module, str) and module.startswith("course_utils.checks"):
            del ns[key]


def run_job(job: dict, arrays: dict, token: str) -> None:
    from course_utils.grade.serialize import decode_inputs, encode_value

    progress = open("progress", "a", buffering=1, encoding="utf-8")
    cell_error: dict[str, str] = {}
    ns: dict = {"__name__": "__main__", "__builtins__": builtins}
    for src in job["context"]:
        exec(compile(src, "<grader-context>", "exec"), ns)  # trusted: the instructor's cells
    if job.get("torch"):
        import torch  # noqa: F401 - tensors among the inputs
    _forget_checkers(ns)
    isolation = isolate(job["hide"], job.get("uid"), job.get("gid"))
    progress.write(f"isolated {' + '.join(isolation) or 'none'}\n")
    sys.stdout = sys.stderr = _Sink()
    pristine = dict(vars(builtins))

    main_pid = os.getpid()

    def restore() -> None:  # undo monkeypatched builtins before the worker's own code runs
        if os.getpid() != main_pid:  # a process forked by learner code never reports anything
            os._exit(0)
        vars(builtins).update(pristine)
        sys.stdout = sys.stderr = _Sink()

    for cell in job["cells"]:
        name = f"<cell {cell['id']}>"
        linecache.cache[name] = (len(cell["source"]), None, cell["source"].splitlines(True), name)
        progress.write(f"cell {cell['id']}\n")
        try:
            exec(compile(cell["source"], name, "exec"), ns)
        except BaseException as exc:  # noqa: BLE001 - SystemExit included
            restore()
            cell_error[cell["id"]] = format_exception(exc)
        restore()

    for ex in job["grade"]:
        names = job["arg_names"][ex]
        cases = []
        fn = ns.get(ex)
        for j, case in enumerate(job["cases"][ex]):
            progress.write(f"case {ex} {j}\n")
            if ex in cell_error:
                cases.append({"error": f"{cell_error[ex]}, when your exercise cell was run (before any call)"})
                continue
            if not callable(fn):
                cases.append({"error": f"your exercise cell does not define a function `{ex}`"})
                continue
            args = decode_inputs(case["args"], arrays)
            kwargs = decode_inputs(case["kwargs"], arrays)
            before = dict(zip(names, decode_inputs(case["args"], arrays)))
            try:
                value = fn(*args, **kwargs)
            except NotImplementedError:
                restore()
                cases.append({"not_implemented": True})
                continue
            except BaseException as exc:  # noqa: BLE001
                restore()
                cases.append({"error": format_exception(exc)})
                continue
            restore()
            try:
                encoded = encode_value(value)
            except BaseException as exc:  # noqa: BLE001
                encoded = {"unsupported": f"unreadable value ({type(exc).__name__})"}
            cases.append({"value": encoded, "mutated": _mutated(before, dict(zip(names, args)))})
        _write_atomic(f"res-{ex}.json", json.dumps({"token": token, "exercise": ex, "cases": cases}))
        progress.write(f"done {ex}\n")


def main() -> None:
    token = sys.stdin.readline().strip()
    with open("job.json", encoding="utf-8") as fh:
        job = json.load(fh)
    for mod in PREIMPORT:
        try:
            __import__(mod)
        except ImportError:
            pass
    from course_utils.grade.serialize import load_npz

    arrays = load_npz("inputs.npz")
    try:
        run_job(job, arrays, token)
    except BaseException:  # noqa: BLE001 - a failure of the trusted part: tell the grader
        try:
            _write_atomic("fatal.txt", traceback.format_exc()[-2000:])
        finally:
            os._exit(3)
    os._exit(0)  # skip atexit handlers a submission may have registered


if __name__ == "__main__":
    main()
