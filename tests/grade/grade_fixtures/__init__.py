"""Builders of learner-like submission notebooks for the grading tests (no files needed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

CELL_OK = '''def rnn_cell_forward(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    pre = x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh   # (B, H)
    return np.tanh(pre)
'''
FWD_OK = '''def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    h, outs = h0, []
    for t in range(x.shape[0]):
        h = rnn_cell_forward(x[t], h, W_ih, W_hh, b_ih, b_hh)
        outs.append(h)
    return np.stack(outs), h
'''
FWD_ALONE = '''def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    out = np.empty((x.shape[0],) + h0.shape)
    h = h0
    for t, x_t in enumerate(x):
        h = np.tanh(x_t @ W_ih.T + h @ W_hh.T + b_ih + b_hh)
        out[t] = h
    return out, h
'''
SIGMOID_OK = ("def sigmoid(a):\n    e = np.exp(-np.abs(a))\n"
              "    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))\n")


def nbgrader(grade_id: str) -> dict:
    return {"nbgrader": {"grade": False, "grade_id": grade_id, "locked": False,
                         "schema_version": 3, "solution": True, "task": False}}


def notebook(cells: list[dict], kernel: str = "python3") -> dict:
    """A notebook shaped like the course's: title, setup, context imports, then ``cells``."""
    head = [
        {"cell_type": "markdown", "metadata": {}, "source": "# 01 · RNN basics"},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": "from course_utils.setup import setup_notebook\ndevice = setup_notebook(seed=0)"},
        {"cell_type": "code", "metadata": {"tags": ["grader-context"]}, "execution_count": None,
         "outputs": [], "source": "import numpy as np"},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": "from course_utils.checks import check_rnn_forward"},
    ]
    return {"cells": head + cells, "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": kernel, "display_name": kernel, "language": "python"}}}


def code(source: str, grade_id: str | None = None, **meta) -> dict:
    md = nbgrader(grade_id) if grade_id else {}
    md.update(meta)
    return {"cell_type": "code", "metadata": md, "execution_count": None, "outputs": [], "source": source}


def markdown(source: str, grade_id: str | None = None) -> dict:
    return {"cell_type": "markdown", "metadata": nbgrader(grade_id) if grade_id else {}, "source": source}


def rnn_nb(cell: str = CELL_OK, fwd: str = FWD_OK, **kw) -> dict:
    return notebook([code(cell, "rnn_cell_forward"), code("check_rnn_forward", None),
                     code(fwd, "rnn_forward")], **kw)


def write(path: Path, nb: dict | str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(nb, dict):
        path.write_text(json.dumps(nb), encoding="utf-8")
    elif isinstance(nb, str):
        path.write_text(nb, encoding="utf-8")
    else:
        path.write_bytes(nb)
    return path


def grade(*args: str, timeout: float = 300, prefix: tuple[str, ...] = (),
          command: str = "grade") -> subprocess.CompletedProcess:
    """``python -m course_utils grade ARGS`` (``prefix``: e.g. run it as another user)."""
    return subprocess.run([*prefix, sys.executable, "-m", "course_utils", command, *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def rows(out: Path) -> dict[str, dict[str, str]]:
    import csv

    with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
        return {r["submission"]: r for r in csv.DictReader(fh)}


def record(out: Path, sub_id: str) -> dict:
    for p in (out / ".records").glob("*.json"):
        data = json.loads(p.read_text())["record"]
        if data["id"] == sub_id:
            return data
    raise KeyError(sub_id)
