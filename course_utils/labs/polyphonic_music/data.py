"""JSB-like Bach chorales rebuilt from the ``music21`` corpus: 88-key piano rolls, quarter-note frames.

    from course_utils.labs.polyphonic_music import data as D
    ch = D.load_chorales()          # parsed once (~1 min), then read from the cache
    ch.split("train")               # list of (T, 88) float32 arrays of 0/1, one per piece
    ch.split_ids("valid"), ch.stats()  # piece ids per split; counts and lengths

The recipe of Boulanger-Lewandowski, Bengio & Vincent (2012, "Modeling temporal dependencies in
high-dimensional sequences", the JSB Chorales set that Chung et al. 2014 used): each chorale's four
voices (soprano, alto, tenor, bass) sampled on a quarter-note grid, transposed to C major or
C minor, one 88-key binary frame per quarter note (key index = MIDI pitch - 21, A0 = 0).

Here: every ``bach/bwv*`` MusicXML file of the installed ``music21`` corpus; a piece is kept when
it has Soprano, Alto, Tenor and Bass parts (by name; or exactly four parts); the key is
``music21``'s Krumhansl-Schmuckler estimate and the shift moves its tonic to C by the nearest
interval (at most a tritone); dropped (:func:`select`): movements with instrumental interludes
(over 30 % of frames without a voice), pieces whose roll equals an earlier one's (by piece id
order), and other versions of a kept piece (``bwv112.5-sc`` beside ``bwv112.5``).
The split is by a SHA-256 hash of the piece id: ~60 % train, 20 % valid,
20 % test, fixed whatever the order of parsing. The encodings' licences are not open, so the data
is cached outside the repository (``$XDG_CACHE_HOME/rnn-course`` or ``~/.cache/rnn-course``) and
only the ids and a checksum are committed (``results/chorales/split.json``).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

N_KEYS, LOWEST = 88, 21  # A0 = MIDI 21 is key index 0; C8 = MIDI 108 is index 87
VOICES = ("soprano", "alto", "tenor", "bass")
SPLITS = ("train", "valid", "test")
CACHE_VERSION = 2
MAX_SILENT = 0.3  # a chorale with more silent frames has instrumental interludes
# The original JSB Chorales (Boulanger-Lewandowski et al. 2012): 382 chorales, 229/76/77.
JSB = {"pieces": 382, "train": 229, "valid": 76, "test": 77}
MISSING = ("the chorales come from the music21 corpus, and music21 is not installed: "
           "pip install music21 (the course pins music21==10.5.1)")


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/rnn-course`` (default ``~/.cache/rnn-course``), outside the repository."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "rnn-course"


def cache_path() -> Path:
    return cache_dir() / f"chorales-v{CACHE_VERSION}.npz"


# --------------------------------------------------------------------------- one piece
def key_shift(tonic: int) -> int:
    """The transposition (semitones) that moves pitch class ``tonic`` to C by the nearest way:
    D (2) -> -2, G (7) -> +5, F# (6) -> +6."""
    shift = (-int(tonic)) % 12
    return shift - 12 if shift > 6 else shift


def roll_from_frames(frames: Sequence[Iterable[int]], tonic: int) -> np.ndarray:
    """(T, 88) uint8 roll of MIDI pitches per frame, transposed by :func:`key_shift` (``tonic``).
    A pitch outside the piano after the shift raises ValueError."""
    shift = key_shift(tonic)
    roll = np.zeros((len(frames), N_KEYS), dtype=np.uint8)  # (T, 88)
    for t, frame in enumerate(frames):
        for p in frame:
            k = int(p) + shift - LOWEST
            if not 0 <= k < N_KEYS:
                raise ValueError(f"pitch {p} shifted by {shift} leaves the 88 keys")
            roll[t, k] = 1
    return roll


def voice_parts(score: Any) -> list[Any] | None:
    """The soprano, alto, tenor and bass parts of a score (by part name or id, else a score of
    exactly four parts), or None when it is not a four-voice chorale."""
    parts = list(score.parts)
    found = {}
    for part in parts:
        name = f"{part.partName or ''} {part.id or ''}".lower()
        for v in VOICES:
            if v in name and v not in found:
                found[v] = part
                break
    if len(found) == 4:
        return [found[v] for v in VOICES]
    return parts if len(parts) == 4 else None


def grid_frames(parts: Sequence[Any]) -> list[list[int]]:
    """MIDI pitches sounding at each quarter-note onset 0, 1, 2, ... of the piece (a note held
    across several beats appears in each; grace notes are skipped)."""
    end = max(float(p.highestTime) for p in parts)
    frames: list[list[int]] = [[] for _ in range(int(math.ceil(end - 1e-9)))]
    for part in parts:
        for n in part.flatten().notes:
            start, dur = float(n.offset), float(n.quarterLength)
            if dur <= 0:
                continue
            pitches = [p.midi for p in n.pitches]
            for t in range(int(math.ceil(start - 1e-9)), int(math.ceil(start + dur - 1e-9))):
                if t < len(frames):
                    frames[t].extend(pitches)
    return frames


def parse_piece(path: str) -> dict[str, Any]:
    """One corpus file -> ``{"id", "roll" (T, 88) uint8, "tonic", "mode"}`` or ``{"id", "drop":
    reason}``."""
    from music21 import corpus

    pid = Path(path).stem
    try:
        score = corpus.parse(path)
    except Exception as e:  # a file music21 cannot read is reported, not fatal
        return {"id": pid, "drop": f"unreadable ({type(e).__name__})"}
    parts = voice_parts(score)
    if parts is None:
        return {"id": pid, "drop": f"not a four-voice chorale ({len(score.parts)} parts)"}
    key = score.analyze("key")
    frames = grid_frames(parts)
    if not frames:
        return {"id": pid, "drop": "empty"}
    try:
        roll = roll_from_frames(frames, key.tonic.pitchClass)
    except ValueError as e:
        return {"id": pid, "drop": str(e)}
    return {"id": pid, "roll": roll, "tonic": int(key.tonic.pitchClass), "mode": str(key.mode)}


def piece_frames(piece_id: str) -> tuple[list[list[int]], int, str]:
    """(MIDI pitches per quarter-note frame in the original key, tonic pitch class, mode) of one
    corpus piece, e.g. ``piece_frames("bwv10.7")``: the input of the notebook's ``piano_roll``."""
    try:
        from music21 import corpus
    except ImportError as e:
        raise ImportError(MISSING) from e
    matches = [p for p in corpus_files() if Path(p).stem == piece_id]
    if not matches:
        raise ValueError(f"no corpus file for piece {piece_id!r}")
    score = corpus.parse(matches[0])
    parts = voice_parts(score)
    if parts is None:
        raise ValueError(f"{piece_id} is not a four-voice chorale")
    key = score.analyze("key")
    return grid_frames(parts), int(key.tonic.pitchClass), str(key.mode)


# --------------------------------------------------------------------------- the set
def corpus_files(limit: int | None = None) -> list[str]:
    """The Bach chorale files of the installed music21 corpus (MusicXML), sorted by name."""
    try:
        from music21 import corpus
    except ImportError as e:
        raise ImportError(MISSING) from e
    paths = sorted(str(p) for p in corpus.getComposer("bach")
                   if p.suffix in (".mxl", ".xml") and Path(p).stem.startswith("bwv"))
    return paths[:limit] if limit else paths


def split_of(piece_id: str, fractions: tuple[float, float] = (0.6, 0.8)) -> str:
    """train / valid / test from the first 8 hex digits of SHA-256(piece id): fixed per piece."""
    u = int(hashlib.sha256(piece_id.encode()).hexdigest()[:8], 16) / 2 ** 32
    return "train" if u < fractions[0] else "valid" if u < fractions[1] else "test"


def select(pieces: Sequence[dict[str, Any]], max_silent: float = MAX_SILENT
           ) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """(kept, [(id, why dropped)]), in id order: unreadable or non-four-voice files; movements
    with instrumental interludes (more than ``max_silent`` of the frames without a voice, e.g.
    the Christmas Oratorio's chorales with orchestral ritornellos); a roll equal to an earlier
    piece's; another version of a kept piece (the same id before a ``-`` suffix: bwv112.5-sc is
    another source of bwv112.5)."""
    kept, dropped, seen, bases = [], [], {}, {}
    for r in sorted(pieces, key=lambda r: r["id"]):
        if "drop" in r:
            dropped.append((r["id"], r["drop"]))
            continue
        silent = float((r["roll"].sum(1) == 0).mean())
        if silent > max_silent:
            dropped.append((r["id"], f"not a plain chorale: {silent:.0%} of frames silent "
                                     "(instrumental interludes)"))
            continue
        digest = hashlib.sha256(r["roll"].tobytes()).hexdigest()
        if digest in seen:
            dropped.append((r["id"], f"duplicate of {seen[digest]}"))
            continue
        base = r["id"].split("-")[0]
        if base in bases:
            dropped.append((r["id"], f"another version of {bases[base]}"))
            continue
        seen[digest], bases[base] = r["id"], r["id"]
        kept.append(r)
    return kept, dropped


def build(paths: Sequence[str], jobs: int = 1, progress: bool = True) -> dict[str, Any]:
    """Parse ``paths`` (in ``jobs`` processes) and drop duplicates: the arrays of the cache."""
    from tqdm.auto import tqdm

    bar = tqdm(total=len(paths), desc="parsing chorales", disable=not progress)
    if jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(jobs) as pool:
            pieces = []
            for r in pool.map(parse_piece, paths, chunksize=8):
                pieces.append(r)
                bar.update()
    else:
        pieces = []
        for p in paths:
            pieces.append(parse_piece(p))
            bar.update()
    bar.close()
    kept, dropped = select(pieces)
    lengths = np.array([len(r["roll"]) for r in kept], dtype=np.int64)
    return {"rolls": np.concatenate([r["roll"] for r in kept]) if kept
            else np.zeros((0, N_KEYS), np.uint8),
            "lengths": lengths, "ids": np.array([r["id"] for r in kept]),
            "tonic": np.array([r["tonic"] for r in kept], dtype=np.int64),
            "mode": np.array([r["mode"] for r in kept]),
            "dropped_ids": np.array([d[0] for d in dropped], dtype=str),
            "dropped_why": np.array([d[1] for d in dropped], dtype=str),
            "files": np.array(len(paths))}


def write_atomic(path: Path, arrays: dict[str, Any]) -> None:
    """``np.savez_compressed`` to a temporary file in the same folder, then ``os.replace``: a
    reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


@dataclass
class Chorales:
    """The pieces (rolls, ids, keys) and their split."""

    rolls: list[np.ndarray]  # one (T_i, 88) float32 array of 0/1 per piece
    ids: list[str]
    tonic: list[int]
    mode: list[str]
    dropped: list[tuple[str, str]]
    files: int

    def indices(self, split: str) -> list[int]:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        return [i for i, pid in enumerate(self.ids) if split_of(pid) == split]

    def split(self, split: str) -> list[np.ndarray]:
        return [self.rolls[i] for i in self.indices(split)]

    def split_ids(self, split: str) -> list[str]:
        return [self.ids[i] for i in self.indices(split)]

    def checksum(self, split: str | None = None) -> str:
        """SHA-256 of the split's rolls (uint8, in id order) and their lengths."""
        h = hashlib.sha256()
        for i in (range(len(self.ids)) if split is None else self.indices(split)):
            h.update(self.ids[i].encode() + b"\0")
            h.update(np.ascontiguousarray(self.rolls[i], dtype=np.uint8).tobytes())
        return h.hexdigest()

    def stats(self) -> dict[str, Any]:
        """Counts, lengths (frames) and notes per frame, per split."""
        out: dict[str, Any] = {"files": self.files, "kept": len(self.ids),
                               "dropped": len(self.dropped),
                               "duplicates": sum(w.startswith(("duplicate", "another version"))
                                                 for _, w in self.dropped)}
        for s in SPLITS:
            rolls = self.split(s)
            lens = np.array([len(r) for r in rolls])
            notes = np.concatenate([r.sum(1) for r in rolls]) if rolls else np.zeros(1)
            out[s] = {"pieces": len(rolls), "frames": int(lens.sum()),
                      "length_min": int(lens.min()), "length_median": float(np.median(lens)),
                      "length_max": int(lens.max()), "notes_per_frame": float(notes.mean()),
                      "major": int(sum(self.mode[i] == "major" for i in self.indices(s)))}
        return out

    def split_record(self) -> dict[str, Any]:
        """What ``results/chorales/split.json`` commits: ids and checksums per split."""
        return {"recipe": "music21 corpus bach/bwv*, SATB on a quarter-note grid, tonic to C, "
                          "88 keys (index = MIDI - 21), movements >30 % silent frames, "
                          "duplicates and other versions dropped, split by sha256(id) < 0.6 / 0.8",
                "cache_version": CACHE_VERSION, "music21": music21_version(),
                "checksum_all": self.checksum(),
                **{s: {"ids": self.split_ids(s), "sha256": self.checksum(s)} for s in SPLITS},
                "dropped": [list(d) for d in self.dropped]}


def music21_version() -> str | None:
    try:
        import music21
    except ImportError:
        return None
    return str(music21.__version__)


def from_arrays(z: Any) -> Chorales:
    ends = np.cumsum(z["lengths"])
    rolls = [a.astype(np.float32) for a in np.split(z["rolls"], ends[:-1])] if len(ends) else []
    return Chorales(rolls, [str(s) for s in z["ids"]], [int(t) for t in z["tonic"]],
                    [str(m) for m in z["mode"]],
                    list(zip((str(s) for s in z["dropped_ids"]), (str(s) for s in z["dropped_why"]))),
                    int(z["files"]))


def load_chorales(path: str | os.PathLike | None = None, jobs: int = 2, progress: bool = True,
                  rebuild: bool = False) -> Chorales:
    """The chorales from the cache, parsing the corpus first if there is none (with a progress
    bar). Two processes building at once wait on a lock file, so only one parses."""
    path = Path(path) if path else cache_path()
    if path.exists() and not rebuild:
        with np.load(path) as z:
            return from_arrays(z)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the second builder waits here, then reads the cache
        try:
            if rebuild or not path.exists():
                write_atomic(path, build(corpus_files(), jobs=jobs, progress=progress))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    with np.load(path) as z:
        return from_arrays(z)


def verify(ch: Chorales, record: dict[str, Any]) -> list[str]:
    """Differences between the live set and a committed ``split.json`` (empty list: identical)."""
    problems = []
    for s in SPLITS:
        if ch.split_ids(s) != record[s]["ids"]:
            problems.append(f"{s}: piece ids differ")
        elif ch.checksum(s) != record[s]["sha256"]:
            problems.append(f"{s}: same ids, different rolls (another music21 version?)")
    return problems


def save_split(ch: Chorales, out: str | os.PathLike) -> None:
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(ch.split_record(), indent=1) + "\n")
