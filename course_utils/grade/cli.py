"""``python -m course_utils grade SUBMISSION... --out DIR [--jobs N] [--timeout S] [--seed N] [--force]``.

Grades every notebook named or found below the SUBMISSION paths (one notebook = one
submission, identified by its path relative to the argument) on hidden cases, each in its own
sandboxed process, and writes ``DIR/grades.csv``, ``DIR/submissions/<id>/results.json``
(Gradescope) and ``DIR/submissions/<id>/feedback.md``. Exit status 0 when every submission got
its row, whatever the learners' code did; 2 for usage errors.

Results are saved per submission as soon as it is graded (``DIR/.records/``, atomic writes):
run the same command again after an interruption and it finishes the batch without regrading
what is done (``--force`` regrades everything; a changed notebook is always regraded).
The hidden seed is random on the first run and kept in ``DIR/grading.json``; ``--seed`` fixes it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import secrets
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from . import discover, report
from .grading import GRADER_VERSION, Batch, course_notebooks, grade_submission, log
from .sandbox import Limits, is_root
from .store import RecordStore, record_key, write_atomic

ROOT = Path(__file__).resolve().parent.parent.parent


def _positive(kind: type):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value
    return parse


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m course_utils grade", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("submissions", nargs="+", type=Path, metavar="SUBMISSION",
                   help="a notebook, or a folder searched (recursively) for notebooks")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    p.add_argument("--jobs", type=_positive(int), default=1, metavar="N",
                   help="submissions graded in parallel (default 1)")
    p.add_argument("--timeout", type=_positive(float), default=60.0, metavar="SECONDS",
                   help="wall-clock limit of one sandbox run (default 60)")
    p.add_argument("--memory", type=_positive(int), default=2048, metavar="MB",
                   help="address-space limit of the sandbox (default 2048)")
    p.add_argument("--seed", type=int, default=None, metavar="N",
                   help="hidden seed (default: random on the first run, then reused from DIR)")
    p.add_argument("--force", action="store_true", help="regrade submissions already graded")
    p.add_argument("--solutions", type=Path, default=ROOT / "solutions",
                   help="instructor notebooks with the grader-context cells (default: solutions/)")
    return p


def _seed(out: Path, given: int | None) -> int:
    meta_path = out / "grading.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {}
    seed = given if given is not None else meta.get("seed")
    if not isinstance(seed, int):
        seed = 10_000 + secrets.randbelow(2**31 - 10_000)  # never the public seed
    if meta.get("seed") != seed:
        write_atomic(meta_path, json.dumps({"seed": seed, "note": "hidden seed: keep this folder private"}))
    return seed


def _fingerprint(notebooks: dict[str, list[str]], solutions: Path) -> str:
    from ..checks import SPECS

    h = hashlib.sha256(GRADER_VERSION.encode())
    for nb, ids in sorted(notebooks.items()):
        for ex in ids:
            s = SPECS[ex]
            h.update(f"{nb}|{ex}|{s.points}|{s.rtol}|{s.atol}|{len(s.mistakes)}|{s.output!r}".encode())
        sol = solutions / f"{nb}.ipynb"
        if sol.is_file():
            h.update(sol.read_bytes())
    return h.hexdigest()


def _specs():
    from ..checks import SPECS

    return list(SPECS.values())


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for path in args.submissions:
        if not path.exists():
            parser.error(f"SUBMISSION {path} does not exist")
    out: Path = args.out
    if out.exists() and not out.is_dir():
        parser.error(f"--out {out} exists and is not a folder")
    subs = discover.find_submissions(args.submissions)
    if not subs:
        parser.error("no notebooks (*.ipynb) found in " + ", ".join(map(str, args.submissions)))
    try:
        out.mkdir(parents=True, exist_ok=True)
        store = RecordStore(out)
    except OSError as exc:
        parser.error(f"cannot create --out {out}: {exc}")

    notebooks = course_notebooks()
    seed = _seed(out, args.seed)
    if seed in {s.public_seed for s in _specs()}:
        log(f"warning: --seed {seed} is a public seed: the 'hidden' cases are the notebooks' own")
    hide = sorted({str(p.resolve()) for p in [ROOT, args.solutions, out]
                   + [s if s.is_dir() else s.parent for s in args.submissions]} - {"/"})
    batch = Batch(seed, Limits(timeout=args.timeout, memory_mb=args.memory), args.solutions, hide)
    fingerprint = _fingerprint(notebooks, args.solutions)
    if not is_root():
        log("note: not running as root, so the sandbox cannot drop to an unprivileged user or hide "
            "folders; it still has its own session, folder, environment and resource limits.")

    records: dict[str, dict[str, Any]] = {}
    todo = []
    for sub in subs:
        try:
            content = sub.path.read_bytes()
        except OSError as exc:
            content = f"unreadable: {exc}".encode()
        key = record_key(sub.id, content, seed, fingerprint)
        done = None if args.force else store.load(sub.id, key)
        if done is not None:
            records[sub.id] = done
        else:
            todo.append((sub, content, key))
    log(f"grading {len(todo)} submission(s) ({len(records)} already graded) with {args.jobs} job(s)")

    start = time.monotonic()

    def work(item) -> dict[str, Any]:
        sub, content, key = item
        try:
            return grade_submission(sub, content, key, batch, notebooks)
        except Exception as exc:  # noqa: BLE001 - a grader bug must not stop the batch
            return {"id": sub.id, "key": None, "path": str(sub.path), "notebook": None, "exercises": [],
                    "total": 0.0, "max": 0.0, "status": "grader error",
                    "note": f"internal grader error ({type(exc).__name__}: {str(exc)[:200]}); rerun to retry"}

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(work, item): item[0] for item in todo}
        for n, fut in enumerate(as_completed(futures), 1):
            record = fut.result()
            if record["key"] is not None:
                store.save(record)  # saved first: the batch can be resumed from here
            report.write_submission_files(out, record)
            records[record["id"]] = record
            log(f"[{n}/{len(todo)}] {record['id']}: {record['total']:g}/{record['max']:g} ({record['status']})")
    for w in batch.warnings:
        log(w)
    levels = sorted({re.sub(r"uid \d+", "own uid", r.get("isolation") or "")
                     for r in records.values() if r.get("isolation")})
    if levels:
        log("sandbox isolation: " + "; ".join(levels))
    for record in records.values():  # files of records graded by an earlier, interrupted run
        folder = report.submission_folder(out, record["id"])
        if not (folder / "results.json").exists():
            report.write_submission_files(out, record)
    ordered = [records[s.id] for s in subs]
    columns = [ex for nb in sorted({r["notebook"] for r in ordered if r["notebook"]})
               for ex in notebooks.get(nb, [])]
    path = report.write_csv(out, ordered, columns)
    log(f"wrote {path} ({len(ordered)} rows) in {time.monotonic() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
