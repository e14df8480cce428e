"""Find submissions, read notebooks tolerantly, and pick out exercise cells by ``grade_id``.

A learner's notebook is untrusted *data* here: it is parsed as JSON (never executed, never
validated by a strict schema that would reject a whole notebook for one odd field), and every
way it can be broken (not JSON, no cells, an exercise cell deleted, duplicated, turned into
markdown or stripped of its metadata) becomes a note the learner can read.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_NOTEBOOK_BYTES = 20 << 20
_MAGIC = re.compile(r"^(\s*)([%!].*)$")


@dataclass
class Submission:
    id: str        # path relative to the command-line argument, e.g. "alice/03_lstm.ipynb"
    path: Path


@dataclass
class ExerciseCell:
    id: str
    source: str
    index: int
    notes: list[str] = field(default_factory=list)


class NotebookError(ValueError):
    """The file cannot be read as a notebook (the message says why, for the learner)."""


def find_submissions(paths: list[Path]) -> list[Submission]:
    """Every ``.ipynb`` named or found below the given paths, with unique ids.

    The id is the path relative to the folder argument (``alice/03_lstm.ipynb`` for
    ``subs/alice/03_lstm.ipynb`` when grading ``subs``); with several folder arguments it starts
    with the folder's name (``alice/03_lstm.ipynb`` for ``subs/alice subs/bob``).
    """
    found: list[Submission] = []
    seen: set[str] = set()
    for arg in paths:
        if arg.is_dir():
            files = sorted(p for p in arg.rglob("*.ipynb")  # symlinks could point at anything
                           if ".ipynb_checkpoints" not in p.parts and p.is_file() and not p.is_symlink())
            prefix = f"{arg.resolve().name}/" if len(paths) > 1 else ""
            items = [(prefix + p.relative_to(arg).as_posix(), p) for p in files]
        else:
            items = [(arg.name, arg)]
        for sid, p in items:
            unique, n = sid, 2
            while unique in seen:
                unique, n = f"{sid}#{n}", n + 1
            seen.add(unique)
            found.append(Submission(unique, p))
    return found


def read_notebook(data: bytes) -> dict[str, Any]:
    """Parse notebook JSON; cells normalised to dicts with str ``source`` and dict ``metadata``."""
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"the file is {len(data) >> 20} MiB, more than a notebook can be")
    if not data.strip():
        raise NotebookError("the file is empty")
    try:
        nb = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise NotebookError(f"the file is not a notebook (not valid JSON: {str(exc)[:80]})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise NotebookError("the file is JSON but not a Jupyter notebook (no list of cells)")
    cells = []
    for raw in nb["cells"]:
        if not isinstance(raw, dict):
            continue
        src = raw.get("source", "")
        if isinstance(src, list):
            src = "".join(s for s in src if isinstance(s, str))
        meta = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
        cells.append({"cell_type": str(raw.get("cell_type", "")),
                      "source": src if isinstance(src, str) else "",
                      "metadata": meta})
    return {"cells": cells, "metadata": nb.get("metadata") if isinstance(nb.get("metadata"), dict) else {}}


def grade_id(cell: dict[str, Any]) -> str | None:
    nbg = cell["metadata"].get("nbgrader")
    gid = nbg.get("grade_id") if isinstance(nbg, dict) else None
    return gid if isinstance(gid, str) else None


def defines(source: str, name: str) -> bool:
    return re.search(rf"^def\s+{re.escape(name)}\s*\(", source, re.M) is not None


def strip_magics(source: str) -> tuple[str, int]:
    """The cell as Python, the way IPython itself turns it into Python (its own input
    transformer, which tokenizes: a line of a bracketed expression that starts with ``%``, as
    Black lays out a long ``a % b``, stays Python), and how many magics / shell commands it has.
    The transformed code calls ``get_ipython()`` for those; the sandbox's runner gives a stub
    that runs none of them (only the body of ``%%time`` / ``%%timeit`` / ``%%capture``).
    Without IPython installed, the lines that start with ``%`` or ``!`` become ``pass``."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:
        return _strip_lines(source)
    try:
        out = TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 - what IPython cannot transform, Python will report
        return source, 0
    return out, max(0, out.count("get_ipython()") - source.count("get_ipython()"))


def _strip_lines(source: str) -> tuple[str, int]:
    """The fallback of :func:`strip_magics`: ``%...`` / ``!...`` lines become ``pass``."""
    out, n = [], 0
    for line in source.splitlines():
        m = _MAGIC.match(line)
        if m:
            out.append(f"{m.group(1)}pass  # removed by the grader: {m.group(2)[:40]}")
            n += 1
        else:
            out.append(line)
    return "\n".join(out), n


def exercise_cells(nb: dict[str, Any], exercise_ids: list[str]
                   ) -> tuple[dict[str, ExerciseCell], dict[str, str]]:
    """The cell to grade for each exercise, and a reason for each exercise that has none."""
    cells, missing = {}, {}
    for ex in exercise_ids:
        tagged = [(i, c) for i, c in enumerate(nb["cells"]) if grade_id(c) == ex]
        code = [(i, c) for i, c in tagged if c["cell_type"] == "code"]
        notes = []
        if code:
            if len(code) > 1:
                notes.append(f"grade_id {ex!r} appears in {len(code)} code cells; the last one "
                             f"(cell {code[-1][0]}) was graded")
            index, cell = code[-1]
        else:
            untagged = [(i, c) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
                        and grade_id(c) not in exercise_ids and defines(c["source"], ex)]
            if not untagged:
                if tagged:
                    missing[ex] = (f"the exercise cell of {ex!r} is a {tagged[-1][1]['cell_type']} "
                                   "cell, not a code cell")
                else:
                    missing[ex] = f"no exercise cell for {ex!r} (deleted?): nothing to grade"
                continue
            index, cell = untagged[-1]
            notes.append(f"the exercise cell of {ex!r} had lost its grading metadata; cell {index}, "
                         f"which defines `{ex}`, was graded")
        source, n_magic = strip_magics(cell["source"])
        if n_magic:
            notes.append(f"{n_magic} IPython magic / shell line(s) in the cell of {ex!r} were not run")
        cells[ex] = ExerciseCell(ex, source, index, notes)
    return cells, missing


def identify(nb: dict[str, Any] | None, filename: str, notebooks: dict[str, list[str]]) -> str | None:
    """Which course notebook this is: from its grade_ids, else its file name, else its defs."""
    owner = {ex: name for name, exs in notebooks.items() for ex in exs}
    if nb is not None:
        votes = Counter(owner[g] for c in nb["cells"] if (g := grade_id(c)) in owner)
        if votes:
            return votes.most_common(1)[0][0]
    stem = Path(filename.split("#")[0]).stem
    if stem in notebooks:
        return stem
    # A renumbered notebook (09_gpu_comparison became 11_gpu_comparison) keeps its slug.
    slug = re.match(r"\d+_(\w+)", stem)
    if slug:
        hits = [n for n in notebooks if n.split("_", 1)[-1] == slug.group(1)]
        if len(hits) == 1:
            return hits[0]
    prefix = re.match(r"(\d+)_", stem)
    if prefix:
        hits = [n for n in notebooks if n.startswith(prefix.group(0))]
        if len(hits) == 1:
            return hits[0]
    if nb is not None:
        votes = Counter(owner[ex] for c in nb["cells"] if c["cell_type"] == "code"
                        for ex in owner if defines(c["source"], ex))
        if votes:
            return votes.most_common(1)[0][0]
    return None


def grader_context(solution: Path) -> list[str]:
    """Sources of the instructor's cells tagged ``grader-context`` (magics not run)."""
    nb = read_notebook(solution.read_bytes())
    return [strip_magics(c["source"])[0] for c in nb["cells"]
            if c["cell_type"] == "code" and "grader-context" in (c["metadata"].get("tags") or [])]
