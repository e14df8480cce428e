"""What a learner may read about a case: everything for a public case, and for a hidden case
only what cannot carry the case's inputs back out.

A learner's code chooses its exception texts, the names of its classes, the shapes and values
it returns; anything the grader echoed from them could be a channel for hidden inputs
(``raise ValueError(repr(x))``). For hidden cases the grader therefore writes its messages from
a fixed vocabulary plus what the submission's *source* already holds (which was written before
its hidden cases existed, since they are derived from it, :func:`.plan.submission_seed`):

* an exception: its type when it is a builtin exception or a class the learner's cells define,
  the missing module of an ``ImportError`` when the cells name it, and the learner's cell line
  as the grader's own copy of the cell has it (never the exception's text);
* a wrong return: which output is wrong and how (structure, shape, NaN, values, the first wrong
  time step), or the catalogued mistake it matches with the catalogue's own text;
* an in-place change: the argument's name.

Small integers (a line number, a time step, a case number) remain, so a deliberately crafted
submission can still pass out a few bits per case; its next version faces new cases.
"""

from __future__ import annotations

import builtins
import re
from typing import Any

import numpy as np

BUILTIN_EXCEPTIONS = frozenset(n for n, v in vars(builtins).items()
                               if isinstance(v, type) and issubclass(v, BaseException))
SAFE_TYPES = frozenset({"NoneType", "int", "float", "bool", "str", "bytes", "list", "tuple",
                        "dict", "set", "frozenset", "complex", "function", "generator", "map",
                        "zip", "range", "type", "module", "method", "builtin_function_or_method",
                        "Tensor", "Parameter", "matrix", "object", "ndarray"})
_CLASS = re.compile(r"^[ \t]*class[ \t]+([A-Za-z_]\w*)", re.M)
_WORD = re.compile(r"[A-Za-z_][\w.]*")


class Sources:
    """The learner's graded cells as the grader holds them: cell id -> source."""

    def __init__(self, cells: dict[str, str]) -> None:
        self.cells = cells
        self.classes = {m for src in cells.values() for m in _CLASS.findall(src)}
        words = {w for src in cells.values() for w in _WORD.findall(src)}
        self.words = words | {".".join(w.split(".")[:k]) for w in words
                              for k in range(1, w.count(".") + 1)}

    def line(self, cell: Any, lineno: Any) -> str | None:
        src = self.cells.get(cell) if isinstance(cell, str) else None
        if src is None or type(lineno) is not int:
            return None
        lines = src.splitlines()
        return lines[lineno - 1].strip()[:120] if 1 <= lineno <= len(lines) else None


def exception_text(info: Any, sources: Sources, hidden: bool) -> str:
    """``TypeError: ... (in f, line 3: `h = ...`)`` for a public case; for a hidden one the type
    (if safe), the missing module (if the cells name it) and the line from the grader's copy."""
    if type(info) is not dict:
        return "an exception"
    frame = info.get("frame")
    cell, lineno, fname = (frame + [None] * 3)[:3] if type(frame) is list else (None,) * 3
    if not hidden:
        text = str(info.get("text") or info.get("type") or "an exception")[:300]
        if type(lineno) is int and lineno > 0:
            line = str(info.get("line") or "")[:120]
            text += f" (in {str(fname)[:80]}, line {lineno}" + (f": `{line}`)" if line else ")")
        return text
    kind = str(info.get("type") or "")
    text = kind if kind in BUILTIN_EXCEPTIONS or kind in sources.classes else "an exception"
    module = info.get("module")
    if kind in ("ModuleNotFoundError", "ImportError") and isinstance(module, str) \
            and module in sources.words:
        text += f": No module named {module!r}"
    line = sources.line(cell, lineno)
    if line is not None:
        name = ("the cell's top level" if fname == "<module>" else fname
                if isinstance(fname, str) and fname in sources.words else "your code")
        text += f" (in {name}, line {lineno}: `{line}`)"
    return text


def _odd_leaf(value: Any) -> Any:
    """The first part of a returned value that is not a number or an array (or None)."""
    if isinstance(value, (tuple, list)):
        for v in value:
            odd = _odd_leaf(v)
            if odd is not None:
                return odd
        return None
    if isinstance(value, dict):
        return next((o for o in map(_odd_leaf, value.values()) if o is not None), None)
    if isinstance(value, (np.ndarray, int, float, np.generic)):
        return None
    return value


def _returned_type(value: Any, sources: Sources) -> str:
    odd = _odd_leaf(value)
    if odd is None:
        return ""
    name = type(odd).__name__
    if name.startswith(("array too large", "nesting too deep")):
        return " (got an array too large, or a nesting too deep, to return)"
    return f" (got {name})" if name in SAFE_TYPES or name in sources.classes else ""


def hidden_message(spec: Any, case: Any, value: Any, mistake: str | None,
                   sources: Sources) -> str:
    """The message for a hidden case whose returned ``value`` is wrong (no exception, no
    in-place change): built from the spec and the grader's reference only."""
    from ..checks.judging import _first_wrong_step, _leaf_close, expected_leaves
    from ..checks.structure import StructureError, describe, flatten

    if mistake is not None:
        m = next((m for m in spec.mistakes if m.name == mistake), None)
        if m is not None:
            return f"looks like {m.name}: {m.explain}"
    if getattr(case, "raises", None) is not None:
        return f"the function returned a value, but this input calls for {case.raises}"
    try:
        got = flatten(spec.output, value)
    except StructureError:
        return (f"the returned value is not {describe(spec.output)}"
                f"{_returned_type(value, sources)}: a wrong type, a missing part or None "
                "(the notebook's check cell says which)")
    exp = expected_leaves(spec, case)
    for (name, g), (_, e) in zip(got, exp):
        if _leaf_close(g, e, spec.rtol, spec.atol):
            continue
        if isinstance(e, int):
            return f"{name} is not the expected count"
        if not isinstance(g, np.ndarray) or g.shape != e.shape:
            return f"{name} has the wrong shape"
        if not np.all(np.isfinite(g)):
            return f"{name} contains NaN or inf values"
        return (f"{name} has the right shape but wrong values"
                + _first_wrong_step(spec, name, g, e))
    return "wrong result"
