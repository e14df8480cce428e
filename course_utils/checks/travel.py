"""Your code travels with you: a later notebook uses *your* passing solution of an earlier one.

    from course_utils.checks.travel import yours_from_notebook
    lstm_forward = yours_from_notebook("lstm_forward")      # from 03_lstm.ipynb, if it passes
    lstm_backward = yours_from_notebook("lstm_backward")    # from 05_backprop_through_gates

How (DESIGN.md, "Your code travels with you"):

1. find the earlier notebook's file: next to the running notebook (the working directory, as in
   JupyterLab, nbval and ``build --execute``), then the course's ``notebooks/`` folder on Colab
   (``/content/course/notebooks``) and ``/content``; a renamed copy ("Copy of 03_lstm.ipynb",
   "03_lstm (1).ipynb") counts, the most recently saved first;
2. read it as data with the grader's own extraction (:mod:`course_utils.grade.discover`: cells
   picked by their nbgrader ``grade_id``, magics removed) -- the notebook is never executed as a
   whole;
3. run that notebook's ``grader-context`` cells and its exercise cells up to the one wanted, in
   notebook order (what the grader runs), in a fresh namespace, with their printing captured;
4. use the function only if its checker passes; otherwise the torch reference -- and print, in
   the same output, which one is used and why.

Learners' cells run in this process (it is their own kernel, their own code); a cell that loops
forever would hang here just as it would in its own notebook.
"""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from . import get_spec, run_spec
from .calling import format_exception, quiet

COLAB_FOLDERS = (Path("/content/course/notebooks"), Path("/content"))


@dataclass
class Travelled:
    """Where a function came from: ``fn`` (the learner's or the reference), ``source``
    ("yours" or "reference"), the notebook file it was read from (None if none was found) and
    ``note``, the sentence printed."""

    fn: Callable[..., Any]
    source: str
    exercise: str
    notebook: Path | None
    note: str


def _notebook_of(exercise_id: str) -> str:
    return get_spec(exercise_id).notebook


def candidate_files(notebook: str, folders: Sequence[Path | str] | None = None) -> list[Path]:
    """Files that may hold ``notebook`` ("03_lstm"): exact name first in each folder, then renamed
    copies ("Copy of 03_lstm.ipynb", "03_lstm (1).ipynb"), newest first; checkpoints skipped."""
    if folders is None:
        folders = [Path.cwd(), *COLAB_FOLDERS]
    found: list[Path] = []
    for folder in map(Path, folders):
        if not folder.is_dir():
            continue
        exact = folder / f"{notebook}.ipynb"
        if exact.is_file():
            found.append(exact)
        copies = [p for p in folder.glob(f"*{notebook}*.ipynb") if p.is_file() and p != exact]
        found += sorted(copies, key=lambda p: p.stat().st_mtime, reverse=True)
    unique: list[Path] = []
    for p in found:
        if p.resolve() not in {q.resolve() for q in unique}:
            unique.append(p)
    return unique


def load_exercise(path: Path, exercise_id: str) -> tuple[Callable[..., Any] | None, str]:
    """Run the ``grader-context`` cells and the exercise cells of the notebook at ``path`` up
    to ``exercise_id``'s (the grader's extraction); returns (the function or None, a reason)."""
    from ..grade import discover
    from ..grade.grading import course_notebooks

    try:
        nb = discover.read_notebook(Path(path).read_bytes())
    except (OSError, discover.NotebookError) as exc:
        return None, f"{Path(path).name} could not be read ({exc})"
    spec = get_spec(exercise_id)
    ids = course_notebooks().get(spec.notebook, [exercise_id])
    cells, missing = discover.exercise_cells(nb, ids)
    if exercise_id in missing:
        return None, f"{Path(path).name} has {missing[exercise_id]}"
    own = cells[exercise_id]
    context = [discover.strip_magics(c["source"])[0] for c in nb["cells"]
               if c["cell_type"] == "code" and "grader-context" in (c["metadata"].get("tags") or [])]
    # As in the grader's runner: magics and shell lines run nothing, a checker call or display()
    # left in a cell does nothing (the learner's own kernel is never asked to run them again).
    from ..grade.runner_exec import _IPythonStub, _no_op

    namespace: dict[str, Any] = {"__name__": "__travelled__", "get_ipython": _IPythonStub,
                                 "display": _no_op}
    namespace.update({f"check_{name}": _no_op for name in ids})
    chatter = io.StringIO()
    with contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter), quiet():
        for k, source in enumerate(context):
            try:
                exec(compile(source, f"<{spec.notebook}: grader-context {k}>", "exec"), namespace)  # noqa: S102
            except Exception as exc:  # noqa: BLE001 - the learner's notebook, reported
                return None, f"its imports cell raised {format_exception(exc)}"
        errors = {}
        for cell in sorted(cells.values(), key=lambda c: c.index):
            if cell.index > own.index:
                continue
            try:
                exec(compile(cell.source, f"<{spec.notebook}: {cell.id}>", "exec"), namespace)  # noqa: S102
            except Exception as exc:  # noqa: BLE001 - the learner's cell, reported
                errors[cell.id] = format_exception(exc)
    fn = namespace.get(exercise_id)
    if exercise_id in errors and not callable(fn):
        return None, f"its cell of `{exercise_id}` raised {errors[exercise_id]}"
    if not callable(fn):
        return None, f"its exercise cell does not define a function `{exercise_id}`"
    return fn, ""


def travel(exercise_id: str, folders: Sequence[Path | str] | None = None,
           path: Path | str | None = None) -> Travelled:
    """Your ``exercise_id`` from its notebook's file if it passes its checker, else the
    reference; see the module docstring. ``path`` names the file (skips the search)."""
    spec = get_spec(exercise_id)
    files = [Path(path)] if path is not None else candidate_files(spec.notebook, folders)
    if not files:
        where = "next to this notebook" + (" or in /content/course/notebooks"
                                           if os.path.isdir("/content") else "")
        return Travelled(spec.reference, "reference", exercise_id, None,
                         f"{exercise_id}: the reference implementation is used (no "
                         f"{spec.notebook}.ipynb found {where}; put your solved notebook there "
                         "to use your own)")
    reasons = []
    for f in files:
        fn, reason = load_exercise(f, exercise_id)
        if fn is None:
            reasons.append(reason)
            continue
        result = run_spec(spec, fn)
        if result.passed:
            return Travelled(fn, "yours", exercise_id, f,
                             f"{exercise_id}: YOUR function from {f.name} is used (it passes "
                             f"its checks, {len(result.cases)} cases)")
        if result.status == "not_implemented":
            reasons.append(f"in {f.name} it is not implemented yet")
        else:
            reasons.append(f"in {f.name} it does not pass its checks yet ({result.message})")
    return Travelled(spec.reference, "reference", exercise_id, files[0],
                     f"{exercise_id}: the reference implementation is used ({reasons[0]})")


def yours_from_notebook(exercise_id: str, folders: Sequence[Path | str] | None = None,
                        path: Path | str | None = None, verbose: bool = True
                        ) -> Callable[..., Any]:
    """:func:`travel`'s function, after printing its one-line note (which one is used, why)."""
    got = travel(exercise_id, folders, path)
    if verbose:
        print(got.note)
    return got.fn


__all__ = ["Travelled", "candidate_files", "load_exercise", "travel", "yours_from_notebook"]
