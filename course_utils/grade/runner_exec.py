"""The learner's side of the runner: ONE exercise, in a process forked for it alone.

Copied into the sandbox with :mod:`runner` and :mod:`serialize` (stdlib + numpy only). In the
forked child, :func:`run_exercise` runs the learner's cells in notebook order up to the graded
exercise's cell (on a copy of the namespace the instructor's context built), calls the graded
function on every case (inputs rebuilt from the array tree or the case's source text) and
returns the raw outcomes as plain data. Progress lines (``cell <id>``, ``case <j>``) go to the
exercise's own progress file so the grader can blame the right cell.
"""

from __future__ import annotations

import builtins
import linecache
import os
import sys
import traceback

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
    """The learner's cells, in order; returns cell id -> error text."""
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


def run_exercise(job: dict, ns: dict, arrays: dict, progress_path: str) -> list[dict]:
    """In the forked child: the learner's cells, then every case of the graded function."""
    global _MAIN_PID
    _MAIN_PID = os.getpid()
    progress = open(progress_path, "a", buffering=1, encoding="utf-8")
    errors = run_cells(job, ns, progress)
    ex = job["exercise"]
    return call_cases(job, ns.get(ex), errors.get(ex), arrays, progress)
