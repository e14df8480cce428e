"""Calling a learner's function safely: fresh copies of the inputs, exceptions turned into text
that names the learner's own line (never a file path), and in-place changes detected."""

from __future__ import annotations

import contextlib
import copy
import numbers
import os
import sys
import traceback
import warnings
from typing import Any, Callable, Iterator

import numpy as np

from .spec import CASE_SOURCE, Case, Outcome

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _learner_frame(tb: Any) -> traceback.FrameSummary | None:
    """The innermost frame of the traceback that belongs to the learner's code."""
    frames = traceback.extract_tb(tb)
    libs = tuple(p for p in {sys.prefix, sys.base_prefix, sys.exec_prefix} if p)

    def is_library(f: traceback.FrameSummary) -> bool:
        fn = os.path.abspath(f.filename) if not f.filename.startswith("<") else f.filename
        return (fn.startswith(_PKG_DIR) or "site-packages" in fn or fn == CASE_SOURCE
                or (fn.startswith(libs) and "ipykernel_" not in fn))

    mine = [f for f in frames if not is_library(f)]
    if mine:
        return mine[-1]
    return frames[-1] if frames else None


def format_exception(exc: BaseException) -> str:
    """``TypeError: ... (in rnn_cell_forward, line 3: `h = ...`)`` — no file paths."""
    text = f"{type(exc).__name__}: {exc}".strip()
    if len(text) > 300:
        text = text[:297] + "..."
    frame = _learner_frame(exc.__traceback__)
    if frame is not None:
        where = f"in {frame.name}, line {frame.lineno}"
        if frame.line:
            where += f": `{frame.line.strip()}`"
        text += f" ({where})"
    return text


def _named(args: tuple, kwargs: dict, names: tuple[str, ...] = ()) -> dict[str, Any]:
    out = {(names[i] if i < len(names) else f"argument {i}"): a for i, a in enumerate(args)}
    out.update(kwargs)
    return out


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """No warnings and no numpy floating-point messages: a checker cell prints only its result
    (an overflow in ``np.exp`` is judged by the values it produces, not by a warning)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def call_safely(fn: Callable[..., Any], case: Case, arg_names: tuple[str, ...] = ()) -> Outcome:
    """Call ``fn`` on fresh copies of the case's inputs. Never raises (KeyboardInterrupt aside)."""
    args, kwargs = case.inputs()
    pristine = copy.deepcopy((args, kwargs))
    try:
        with quiet():
            value = fn(*args, **kwargs)
    except KeyboardInterrupt:
        raise
    except NotImplementedError:
        return Outcome(not_implemented=True)
    except BaseException as exc:  # noqa: BLE001 - SystemExit from learner code is a failure too
        return Outcome(error=format_exception(exc))
    mutated = []
    now = _named(args, kwargs, arg_names)
    before = _named(*pristine, arg_names)
    for name, arr in now.items():
        if _changed(before[name], arr):
            mutated.append(name)
    return Outcome(value=value, mutated=mutated)


def _changed(old: Any, new: Any) -> bool:
    """Did the learner change this argument in place? numpy arrays and torch tensors, also
    inside lists, tuples and dicts (a list of gradients, PyTorch-ordered parameter tuples), and
    the numbers held in a list or dict (``frame[i] += shift`` on a list of MIDI pitches)."""
    if isinstance(new, (list, tuple)) and isinstance(old, (list, tuple)):
        return len(new) != len(old) or any(_changed(o, n) for o, n in zip(old, new))
    if isinstance(new, dict) and isinstance(old, dict):
        return new.keys() != old.keys() or any(_changed(old[k], new[k]) for k in new)
    if isinstance(new, np.ndarray) and isinstance(old, np.ndarray):
        return new.shape != old.shape or not np.array_equal(new, old, equal_nan=True)
    if type(new).__name__ == "Tensor" and type(old).__name__ == "Tensor":  # no torch import
        import torch

        return new.shape != old.shape or not torch.equal(new.detach().cpu(), old.detach().cpu())
    if isinstance(old, numbers.Number) and not isinstance(old, np.ndarray):
        if not isinstance(new, numbers.Number):
            return True
        return not (old == new or (old != old and new != new))  # NaN stays NaN
    return False


# The one in-place check: the notebook checkers (above) and the grader (``grade.grading``, on the
# inputs the sandbox's process left, against the grader's own copy) both use it.
changed_in_place = _changed
