"""The grader's typed data: one exercise's result, one submission's record, one fingerprint.

:class:`SubmissionRecord` is read and written here only (:meth:`~SubmissionRecord.to_json` /
:meth:`~SubmissionRecord.from_json`); :mod:`.store` signs what it saves, :mod:`.report` renders
it. :func:`fingerprint` is the one hash of everything that decides a grade besides the
notebook and the seed: the grader's and the checkers' own source code and the instructor's
context cells — change any of them and every submission is regraded.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

GRADER_VERSION = "2"
_PKG = Path(__file__).resolve().parent.parent


@dataclass
class ExerciseResult:
    id: str
    title: str
    status: str             # passed | failed | not_implemented | missing | timeout | crashed ...
    message: str
    score: float = 0.0
    max_score: float = 0.0
    n_passed: int = 0
    n_cases: int = 0
    mistake: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class SubmissionRecord:
    id: str
    path: str
    key: str | None = None
    notebook: str | None = None
    exercises: list[ExerciseResult] = field(default_factory=list)
    total: float = 0.0
    max: float = 0.0
    status: str = "graded"
    note: str = ""
    seed_hash: str = ""
    isolation: str = ""
    sandbox_uids: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> SubmissionRecord:
        """Rebuild a record; ``ValueError`` for anything that is not one."""
        if type(data) is not dict:
            raise ValueError("not a record")
        names = {f.name for f in fields(cls)}
        try:
            kept = {k: v for k, v in data.items() if k in names}
            kept["exercises"] = [ExerciseResult(**e) for e in data.get("exercises", [])]
            return cls(**kept)
        except TypeError as exc:
            raise ValueError(f"not a record: {exc}") from None


def fingerprint(contexts: dict[str, list[str]]) -> str:
    """Hash of the grader's version and source, the checkers' source and the context cells."""
    h = hashlib.sha256(GRADER_VERSION.encode())
    for folder in ("grade", "checks"):
        for path in sorted((_PKG / folder).rglob("*.py")):
            h.update(str(path.relative_to(_PKG)).encode())
            h.update(path.read_bytes())
    for notebook, sources in sorted(contexts.items()):
        h.update(notebook.encode())
        for src in sources:
            h.update(len(src).to_bytes(8, "little"))
            h.update(src.encode())
    return h.hexdigest()
