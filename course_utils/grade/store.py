"""Incremental, atomic results: one record file per submission in ``DIR/.records/``.

Every file the grader writes goes through :func:`write_atomic` (temp file in the same folder,
``fsync``, ``os.replace``), so a grader killed at any moment leaves each file either old or new,
never half-written. A record is keyed by the submission id, a hash of the notebook's bytes, the
hidden seed and the grader's fingerprint (exercise specs and instructor context): running the
command again skips what is done and regrades only what changed (or everything with --force).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_atomic(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def record_key(submission_id: str, content: bytes, seed: int, fingerprint: str) -> str:
    h = hashlib.sha256()
    for part in (submission_id.encode(), content, str(seed).encode(), fingerprint.encode()):
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.hexdigest()


class RecordStore:
    """``DIR/.records/<sha of id>.json`` -> the submission's graded record (plain JSON)."""

    def __init__(self, out_dir: Path) -> None:
        self.dir = out_dir / ".records"
        self.dir.mkdir(parents=True, exist_ok=True)

    def _path(self, submission_id: str) -> Path:
        return self.dir / (hashlib.sha256(submission_id.encode()).hexdigest()[:24] + ".json")

    def load(self, submission_id: str, key: str) -> dict[str, Any] | None:
        try:
            record = json.loads(self._path(submission_id).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if record.get("key") != key or record.get("id") != submission_id:
            return None
        return record

    def save(self, record: dict[str, Any]) -> None:
        write_atomic(self._path(record["id"]), json.dumps(record, indent=1, sort_keys=True))
