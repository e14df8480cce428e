"""What the grader writes: ``grades.csv``, Gradescope ``results.json``, Markdown feedback.

Formats:

* ``grades.csv``: one row per submission: ``submission, notebook, <one column per exercise:
  points earned>, total, max, status, note``; the note lists each exercise that did not pass
  with its verdict (and the reason for faults: timeout, crash, missing cell).
* ``results.json``: Gradescope's autograder format
  (https://gradescope-autograders.readthedocs.io/en/latest/specs/): ``score``, ``tests``
  (``name``, ``score``, ``max_score``, ``status``, ``output``), ``output``, ``visibility``.
* ``feedback.md``: each exercise's verdict and the checker's diagnosis. Hidden expected values
  are never shown (the checker messages name mistakes, shapes and error sizes only).

All learner-controlled text (error messages) is truncated and written as plain text/Markdown
code, never as HTML; in ``grades.csv`` a cell that a spreadsheet would read as a formula (it
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return: a learner's folder named
``=HYPERLINK(...)``) is written with a leading ``'``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from pathlib import Path
from typing import Any

from .record import SubmissionRecord
from .store import write_atomic


def submission_folder(out_dir: Path, submission_id: str) -> Path:
    """``submissions/<readable part>-<12 hex of sha256(id)>``: distinct ids never share one
    (``a b/x`` and ``a_b/x``, or ids equal in their first 80 characters)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", submission_id.replace("/", "__"))[:80].lstrip(".")
    digest = hashlib.sha256(submission_id.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return out_dir / "submissions" / f"{safe or 'submission'}-{digest}"


def _clean(text: str, limit: int = 600) -> str:
    text = "".join(ch if ch.isprintable() or ch in "\n" else "?" for ch in str(text))
    return text[:limit] + ("..." if len(text) > limit else "")


def gradescope(record: SubmissionRecord) -> dict[str, Any]:
    tests = []
    for ex in record.exercises:
        output = _clean(ex.message)
        if ex.notes:
            output += "\n" + "\n".join(_clean(n) for n in ex.notes)
        tests.append({"name": f"{ex.id}: {ex.title}", "score": ex.score,
                      "max_score": ex.max_score,
                      "status": "passed" if ex.status == "passed" else "failed",
                      "output": output, "visibility": "visible"})
    return {"score": record.total, "output": _clean(record.note) if record.note else "",
            "tests": tests, "visibility": "visible", "stdout_visibility": "hidden",
            "extra_data": {"submission": record.id, "notebook": record.notebook,
                           "max": record.max}}


def feedback(record: SubmissionRecord) -> str:
    lines = [f"# Feedback: {_clean(record.id, 200)}", "",
             f"Course notebook: **{record.notebook or 'unknown'}** — score "
             f"**{record.total:g} / {record.max:g}**", ""]
    if record.note:
        lines += [f"> {_clean(record.note)}", ""]
    icons = {"passed": "✔", "not_implemented": "…"}
    for ex in record.exercises:
        lines.append(f"## {icons.get(ex.status, '✘')} `{ex.id}` — {ex.title}: "
                     f"{ex.score:g} / {ex.max_score:g}")
        lines.append("")
        lines.append(f"Verdict: **{ex.status.replace('_', ' ')}**"
                     + (f" ({ex.n_passed} of {ex.n_cases} hidden cases passed)"
                        if ex.n_cases else ""))
        lines.append("")
        lines.append("```text")
        lines.append(_clean(ex.message).replace("```", "'''"))
        lines.append("```")
        for note in ex.notes:
            lines.append(f"- note: {_clean(note)}")
        lines.append("")
    lines.append("Partial credit: each exercise earns its points times the fraction of hidden "
                 "cases passed. Your printed output and other cells were not used for grading.")
    return "\n".join(lines) + "\n"


def write_submission_files(out_dir: Path, record: SubmissionRecord) -> Path:
    folder = submission_folder(out_dir, record.id)
    write_atomic(folder / "results.json", json.dumps(gradescope(record), indent=1))
    write_atomic(folder / "feedback.md", feedback(record))
    return folder


def _verdict(ex: Any) -> str:
    text = f"{ex.id}: {ex.status.replace('_', ' ')}"
    if ex.status == "not_implemented":
        return text
    return text + (f" ({_clean('looks like ' + ex.mistake, 90)})" if ex.mistake
                   else f" ({_clean(ex.message, 90)})")


def csv_safe(text: str) -> str:
    """A cell no spreadsheet evaluates (OWASP, "CSV injection")."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_csv(out_dir: Path, records: list[SubmissionRecord], columns: list[str]) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["submission", "notebook", *columns, "total", "max", "status", "note"])
    for r in records:
        earned = {ex.id: ex.score for ex in r.exercises}
        verdicts = [_verdict(ex) for ex in r.exercises if ex.status != "passed"]
        note = "; ".join([r.note] * bool(r.note) + verdicts) if r.status != "unreadable" else r.note
        w.writerow([csv_safe(r.id), r.notebook or "",
                    *[f"{earned[c]:g}" if c in earned else "" for c in columns],
                    f"{r.total:g}", f"{r.max:g}", r.status,
                    csv_safe(_clean(note, 400).replace("\n", " "))])
    path = out_dir / "grades.csv"
    write_atomic(path, buf.getvalue())
    return path
