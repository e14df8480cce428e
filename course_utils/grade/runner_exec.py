"""The learner's side of the runner: ONE exercise, in a process forked for it alone.

Copied into the sandbox with :mod:`runner` and :mod:`serialize` (stdlib + numpy only). In the
forked child, :func:`run_exercise` runs the learner's cells in notebook order up to the graded
exercise's cell (in a ``__main__`` module built on a copy of the namespace the instructor's
context made, so that ``multiprocessing`` can pickle the learner's functions), calls the graded
function on every case and returns the raw outcomes as plain data. It decides nothing: whether
an input was changed in place is judged by the grader, from the runner's snapshot of the shared
memory that held the inputs and from the arguments as this process saw them after the call,
against the grader's own copy. Exceptions travel as structured data (type, the learner's cell
and line) so that the grader chooses what the learner may read. Progress lines (``cell <id>``,
``case <j>``) go to the exercise's own progress file so the grader can blame the right cell.
"""

from __future__ import annotations

import builtins
import linecache
import os
import sys
import traceback
import types

_MAIN_PID = os.getpid()


class _Sink:
    """Replaces sys.stdout / sys.stderr: learner prints are accepted and thrown away."""

    encoding = "utf-8"

    def write(self, text: str) -> int:
        return len(text) if isinstance(text, str) else 0

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


class _IPythonStub:
    """What ``get_ipython()`` returns to a learner's cell transformed by IPython (the grader
    transforms it, outside): line magics and shell commands are not run; the cell magics that
    only time or capture their body (``%%time``, ``%%timeit``, ``%%capture``) run the body."""

    def run_line_magic(self, *args, **kwargs):
        return None

    def run_cell_magic(self, name, line, body):
        if name in ("time", "timeit", "capture", "prun"):
            frame = sys._getframe(1)
            exec(compile(body, frame.f_code.co_filename, "exec"), frame.f_globals)
        return None

    def system(self, *args, **kwargs):
        return None

    def getoutput(self, *args, **kwargs):
        return []

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def _no_op(*args, **kwargs):
    return None


def describe_exception(exc: BaseException) -> dict:
    """An exception as data: its type name, whether it is a builtin exception, the module an
    import missed, the learner's innermost frame (cell id, line, function) and the full text
    (shown only for public cases: the grader decides)."""
    try:
        text = f"{type(exc).__name__}: {exc}".strip()
    except BaseException:  # noqa: BLE001 - a learner's __str__ may raise
        text = type(exc).__name__
    info = {"text": text[:300], "type": type(exc).__name__[:80],
            "builtin": getattr(builtins, type(exc).__name__, None) is type(exc)}
    if isinstance(exc, ImportError) and isinstance(getattr(exc, "name", None), str):
        info["module"] = exc.name[:80]
    try:
        frames = [f for f in traceback.extract_tb(exc.__traceback__)
                  if f.filename.startswith("<cell ")]
        if frames:
            f = frames[-1]
            info["frame"] = [f.filename[6:-1][:80], int(f.lineno or 0), str(f.name)[:80]]
            info["line"] = (f.line or "").strip()[:120]
    except BaseException:  # noqa: BLE001
        pass
    return info


def build_inputs(case: dict, arrays: dict, copy: bool = True) -> tuple[tuple, dict]:
    """``(args, kwargs)``: from the array tree (``copy=False``: views of ``arrays``, i.e. of
    the runner's shared memory), or by running the case's source text."""
    import numpy as np
    from serialize import decode_inputs

    if case.get("source") is not None:
        namespace = {"np": np, "__name__": "case_inputs"}
        exec(compile(case["source"], "<case inputs>", "exec"), namespace)  # course-authored
        return tuple(namespace["args"]), dict(namespace.get("kwargs", {}))
    return decode_inputs(case["args"], arrays, copy), decode_inputs(case["kwargs"], arrays, copy)


def main_module(ns: dict) -> dict:
    """A fresh ``__main__`` module holding ``ns``: functions defined by the cells pickle by
    reference (``multiprocessing``, process pools), as in a notebook's kernel."""
    main = types.ModuleType("__main__")
    main.__dict__.update(ns)
    main.__dict__["__name__"] = "__main__"
    sys.modules["__main__"] = main
    if sys.version_info >= (3, 14):  # forkserver became the default; fork lets the pool's
        import multiprocessing  # children see the cells' code (the default before 3.14)

        multiprocessing.set_start_method("fork", force=True)
    return main.__dict__


def run_cells(job: dict, ns: dict, progress) -> tuple[dict[str, dict], dict[str, bool]]:
    """The learner's cells, in order. Returns (cell id -> exception data, cell id -> whether
    the cell's own exercise function was defined by it before it failed)."""
    sys.stdout = sys.stderr = _Sink()
    pristine = dict(vars(builtins))
    errors: dict[str, dict] = {}
    defined: dict[str, bool] = {}
    for cell in job["cells"]:
        cid = cell["id"]
        name = f"<cell {cid}>"
        linecache.cache[name] = (len(cell["source"]), None, cell["source"].splitlines(True), name)
        progress.write(f"cell {cid}\n")
        before = ns.get(cid)
        try:
            exec(compile(cell["source"], name, "exec"), ns)
        except BaseException as exc:  # noqa: BLE001 - SystemExit included
            errors[cid] = describe_exception(exc)
        fn = ns.get(cid)
        code = getattr(fn, "__code__", None)
        defined[cid] = fn is not before and getattr(code, "co_filename", "") == name
        restore(pristine)
    return errors, defined


def restore(pristine: dict) -> None:
    """Undo patched builtins and streams before the runner's own code goes on."""
    if os.getpid() != _MAIN_PID:  # a process forked by learner code never reports anything
        os._exit(0)
    vars(builtins).update(pristine)
    sys.stdout = sys.stderr = _Sink()


def call_cases(job: dict, fn, cell_error: dict | None, shared: list, progress) -> list[dict]:
    """Call the graded function on every case; raw outcomes as plain data (the arguments as
    they are after the call included, for the grader's in-place check)."""
    from serialize import encode_value

    pristine = dict(vars(builtins))
    cases = []
    for j, case in enumerate(job["cases"]):
        progress.write(f"case {j}\n")
        if cell_error is not None:
            cases.append({"cell_error": cell_error})
            continue
        if not callable(fn):
            cases.append({"undefined": True})
            continue
        args, kwargs = build_inputs(case, shared[j] if j < len(shared) else {}, copy=False)
        try:
            value = fn(*args, **kwargs)
        except NotImplementedError:
            restore(pristine)
            cases.append({"not_implemented": True})
            continue
        except BaseException as exc:  # noqa: BLE001
            restore(pristine)
            cases.append({"exception": describe_exception(exc)})
            continue
        restore(pristine)
        outcome = {}
        for key, obj in (("value", value), ("after", {"args": list(args), "kwargs": kwargs})):
            try:
                outcome[key] = encode_value(obj)
            except BaseException as exc:  # noqa: BLE001
                outcome[key] = {"unsupported": f"unreadable value ({type(exc).__name__})"}
        cases.append(outcome)
    return cases


def run_exercise(job: dict, ns: dict, shared: list, progress_path: str) -> dict:
    """In the forked child: the learner's cells, then every case of the graded function."""
    global _MAIN_PID
    _MAIN_PID = os.getpid()
    progress = open(progress_path, "a", buffering=1, encoding="utf-8")
    ns = main_module(ns)
    ns.setdefault("get_ipython", _IPythonStub)
    ns.setdefault("display", _no_op)
    for name in job.get("checkers", []):  # a checker call left in an exercise cell does nothing
        ns.setdefault(f"check_{name}", _no_op)
    errors, defined = run_cells(job, ns, progress)
    ex = job["exercise"]
    own_error = errors.get(ex)
    late = None
    if own_error is not None and defined.get(ex):
        own_error, late = None, errors[ex]  # the function exists: a later statement failed
    cases = call_cases(job, ns.get(ex), own_error, shared, progress)
    return {"cases": cases, "late_error": late}
