"""The code that runs inside the sandbox: ONE exercise of one submission, in a fresh process.

This file is copied into the sandbox as data (with :mod:`serialize`, its only companion) and
run by the bare interpreter: it imports the standard library and numpy (torch only where the
job allows it) and nothing of ``course_utils`` — no checker, no reference, no spec. It

1. as root (bubblewrap without a user namespace) drops to the run's fresh unprivileged uid
   (given on its command line) before it reads or runs anything; reads ``job.json`` (the
   instructor's context cells, the learner's cells, the inputs as a
   tree over ``inputs.npz`` or as course-authored ``source`` text) from its folder;
2. starts a watchdog that kills every process of the sandbox when
   the grader goes away (stdin closes) or the wall-clock deadline passes;
3. runs the context cells, the learner's cells in notebook order up to the graded exercise's
   cell, then calls the graded function on every case and writes the raw return values as
   plain data to ``result.json``. It decides nothing: the grader judges outside.

Progress lines in ``progress`` (``cell <id>``, ``case <j>``, ``done``) let the grader blame the
right cell when the process dies or times out (parsed by :func:`sandbox.parse_progress`).
"""

from __future__ import annotations

import builtins
import json
import linecache
import os
import select
import signal
import sys
import threading
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

class _Sink:
    """Replaces sys.stdout / sys.stderr: learner prints are accepted and thrown away."""

    encoding = "utf-8"

    def write(self, text: str) -> int:
        return len(text) if isinstance(text, str) else 0

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def drop_privileges(uid: int | None) -> None:
    """As root inside the sandbox: become the run's own uid/gid, with no groups, for good."""
    if uid is None or os.geteuid() != 0:
        return
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise OSError("could not drop privileges")


def _kill_all() -> None:
    try:
        os.kill(-1, signal.SIGKILL)  # every process this uid may signal (in its PID namespace)
    finally:
        os._exit(70)


def start_watchdog(deadline_s: float) -> None:
    """Kill the sandbox when stdin (held open by the grader) closes or the deadline passes."""
    def watch() -> None:
        try:
            ready, _, _ = select.select([0], [], [], deadline_s)
            if ready:
                os.read(0, 1 << 16)
                while os.read(0, 1 << 16):
                    pass
        except BaseException:  # noqa: BLE001 - fail closed
            pass
        _kill_all()
    threading.Thread(target=watch, daemon=True, name="watchdog").start()


def format_exception(exc: BaseException) -> str:
    """``ValueError: ... (in rnn_forward, line 4: `h = ...`)`` — learner frames only, no paths."""
    try:
        text = f"{type(exc).__name__}: {exc}".strip()
    except BaseException:  # noqa: BLE001 - a learner's __str__ may raise
        text = type(exc).__name__
    text = text[:300]
    try:
        frames = [f for f in traceback.extract_tb(exc.__traceback__)
                  if f.filename.startswith("<cell ")]
        if frames:
            f = frames[-1]
            text += f" (in {f.name}, line {f.lineno}" + (
                f": `{f.line.strip()[:120]}`)" if f.line else ")")
    except BaseException:  # noqa: BLE001
        pass
    return text


def _write_atomic(name: str, text: str) -> None:
    tmp = f".{name}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    _REPLACE(tmp, name)


def build_inputs(case: dict, arrays: dict) -> tuple[tuple, dict]:
    """Fresh ``(args, kwargs)``: from the array tree, or by running the case's source text."""
    import numpy as np
    from serialize import decode_inputs

    if case.get("source") is not None:
        namespace = {"np": np, "__name__": "case_inputs"}
        exec(compile(case["source"], "<case inputs>", "exec"), namespace)  # course-authored
        return tuple(namespace["args"]), dict(namespace.get("kwargs", {}))
    return decode_inputs(case["args"], arrays), decode_inputs(case["kwargs"], arrays)


def mutated(before: dict, after: dict) -> list[str]:
    """Arguments changed in place (numpy arrays and torch tensors)."""
    import numpy as np

    out = []
    for name, old in before.items():
        new = after.get(name)
        if type(old) is np.ndarray and isinstance(new, np.ndarray):
            new = np.ndarray.view(new, np.ndarray)
            if new.shape != old.shape or not np.array_equal(new, old, equal_nan=True):
                out.append(name)
        elif type(old).__name__ == "Tensor" and type(new).__name__ == "Tensor":
            import torch

            if new.shape != old.shape or not torch.equal(new.detach().cpu(), old.detach().cpu()):
                out.append(name)
    return out


def call_recorder(forbidden: list[str]):
    """A context manager that records which ``forbidden`` torch functions / aten ops ran."""
    import contextlib

    seen: set[str] = set()
    if not forbidden:
        return contextlib.nullcontext, seen
    import torch  # noqa: F401
    from torch.overrides import TorchFunctionMode
    from torch.utils._python_dispatch import TorchDispatchMode

    names = set(forbidden)

    class Functions(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            name = getattr(func, "__name__", "")
            if name in names:
                seen.add(name)
            return func(*args, **(kwargs or {}))

    class Ops(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            name = func.overloadpacket.__name__
            if name in names:
                seen.add(name)
            return func(*args, **(kwargs or {}))

    @contextlib.contextmanager
    def record():
        with Functions(), Ops():
            yield
    return record, seen


def run_cells(job: dict, ns: dict, progress) -> dict[str, str]:
    """The context cells (trusted), then the learner's cells; returns cell id -> error text."""
    for src in job["context"]:
        exec(compile(src, "<grader-context>", "exec"), ns)  # the instructor's cells
    sys.stdout = sys.stderr = _Sink()
    pristine = dict(vars(builtins))
    errors: dict[str, str] = {}
    for cell in job["cells"]:
        name = f"<cell {cell['id']}>"
        linecache.cache[name] = (len(cell["source"]), None, cell["source"].splitlines(True), name)
        progress.write(f"cell {cell['id']}\n")
        try:
            exec(compile(cell["source"], name, "exec"), ns)
        except BaseException as exc:  # noqa: BLE001 - SystemExit included
            errors[cell["id"]] = format_exception(exc)
        restore(pristine)
    return errors


_MAIN_PID = os.getpid()


def restore(pristine: dict) -> None:
    """Undo patched builtins and streams before the runner's own code goes on."""
    if os.getpid() != _MAIN_PID:  # a process forked by learner code never reports anything
        os._exit(0)
    vars(builtins).update(pristine)
    sys.stdout = sys.stderr = _Sink()


def call_cases(job: dict, fn, cell_error: str | None, arrays: dict, progress) -> list[dict]:
    """Call the graded function on every case; raw outcomes as plain data."""
    from serialize import encode_value

    names = job["arg_names"]
    record, seen = call_recorder(job.get("forbidden") or [])
    pristine = dict(vars(builtins))
    cases = []
    for j, case in enumerate(job["cases"]):
        progress.write(f"case {j}\n")
        if cell_error is not None:
            cases.append({"error": f"{cell_error}, when your exercise cell was run "
                                   "(before any call)"})
            continue
        if not callable(fn):
            cases.append({"error": f"your exercise cell does not define a function "
                                   f"`{job['exercise']}`"})
            continue
        args, kwargs = build_inputs(case, arrays)
        before = dict(zip(names, build_inputs(case, arrays)[0]))
        seen.clear()
        try:
            with record():
                value = fn(*args, **kwargs)
        except NotImplementedError:
            restore(pristine)
            cases.append({"not_implemented": True})
            continue
        except BaseException as exc:  # noqa: BLE001
            restore(pristine)
            cases.append({"error": format_exception(exc)})
            continue
        restore(pristine)
        try:
            encoded = encode_value(value)
        except BaseException as exc:  # noqa: BLE001
            encoded = {"unsupported": f"unreadable value ({type(exc).__name__})"}
        cases.append({"value": encoded, "mutated": mutated(before, dict(zip(names, args))),
                      "calls": sorted(seen)})
    return cases


def run_job(job: dict) -> None:
    from serialize import load_npz

    progress = open("progress", "a", buffering=1, encoding="utf-8")
    progress.write("started\n")
    arrays = load_npz("inputs.npz") if os.path.exists("inputs.npz") else {}
    for mod in job.get("modules", []):
        __import__(mod)  # allowed heavy packages, imported before any learner code
    ns: dict = {"__name__": "__main__", "__builtins__": builtins}
    errors = run_cells(job, ns, progress)
    ex = job["exercise"]
    cases = call_cases(job, ns.get(ex), errors.get(ex), arrays, progress)
    _write_atomic("result.json", _DUMPS({"exercise": ex, "cases": cases}))
    progress.write("done\n")


def main() -> None:
    """``runner.py JOB_FOLDER [UID]``: privileges are dropped before anything is read."""
    drop_privileges(int(sys.argv[2]) if len(sys.argv) > 2 else None)
    os.chdir(sys.argv[1])
    with open("job.json", encoding="utf-8") as fh:
        job = json.load(fh)
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:0] = [here, *job.get("path", [])]
    try:
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
