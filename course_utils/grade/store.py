"""Incremental, atomic, signed records: one file per submission in ``DIR/.records/``.

Every file the grader writes goes through :func:`write_atomic` (temp file in the same folder,
``fsync``, ``os.replace``), so a grader killed at any moment leaves each file either old or new.
A record is keyed by the submission id, a hash of the notebook's bytes, the hidden seed and the
grader's :func:`~.record.fingerprint`, and **signed** with an HMAC-SHA256 whose key lives in
``DIR/.grader-key`` (mode 0600, created on the first run; the sandbox never sees ``DIR``): a
record that the grader did not write — forged, edited, or copied from another output folder —
is not trusted and the submission is graded again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import tempfile
from pathlib import Path

from .record import SubmissionRecord


def write_atomic(path: Path, data: str | bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
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


def _canonical(data: dict) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


class RecordStore:
    """``DIR/.records/<sha of id>.json`` -> ``{"record": ..., "mac": ...}``."""

    def __init__(self, out_dir: Path) -> None:
        self.dir = out_dir / ".records"
        self.dir.mkdir(parents=True, exist_ok=True)
        self._key = self._load_key(out_dir / ".grader-key")

    @staticmethod
    def _load_key(path: Path) -> bytes:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as fh:
                key = fh.read(256)
            if len(key) >= 32:
                return key
        except OSError:
            pass
        key = secrets.token_hex(32).encode()
        write_atomic(path, key, mode=0o600)
        return key

    def _path(self, submission_id: str) -> Path:
        return self.dir / (hashlib.sha256(submission_id.encode()).hexdigest()[:32] + ".json")

    def mac(self, data: dict) -> str:
        return hmac.new(self._key, _canonical(data), hashlib.sha256).hexdigest()

    def load(self, submission_id: str, key: str) -> SubmissionRecord | None:
        """The saved record, only if the grader signed it and it is for this exact key."""
        try:
            wrapper = json.loads(self._path(submission_id).read_text(encoding="utf-8"))
            data, mac = wrapper["record"], wrapper["mac"]
            if type(data) is not dict or type(mac) is not str \
                    or not hmac.compare_digest(mac, self.mac(data)):
                return None
            record = SubmissionRecord.from_json(data)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if record.key != key or record.id != submission_id:
            return None
        return record

    def save(self, record: SubmissionRecord) -> None:
        data = record.to_json()
        write_atomic(self._path(record.id),
                     json.dumps({"record": data, "mac": self.mac(data)}, indent=1), mode=0o600)
