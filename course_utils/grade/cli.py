"""``python -m course_utils grade SUBMISSION... --out DIR [--jobs N] [--timeout S] [--seed N]
[--force] [--no-sandbox]``.

Grades every notebook named or found below the SUBMISSION paths (one notebook = one
submission, identified by its path relative to the argument) on hidden cases, each exercise in
its own bubblewrap sandbox, and writes ``DIR/grades.csv``, ``DIR/submissions/<id>-<hash>/
results.json`` (Gradescope) and ``feedback.md``. Exit status 0 when every submission got its
row, whatever the learners' code did; 2 for usage errors, or when bubblewrap is missing.

Records are saved per submission as soon as it is graded (``DIR/.records/``, atomic, signed):
run the same command again after an interruption and it finishes the batch without regrading
what is done (``--force`` regrades everything; a changed notebook is always regraded).
The class's secret is random on the first run and kept in ``DIR/grading.json`` (``--seed``
fixes it); each submission's hidden cases are derived from it and the submission's code.
"""

from __future__ import annotations

import argparse
import json
import secrets
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from . import discover, layout, report
from .grading import Batch, course_notebooks, grade_submission, log, seed_hash
from .plan import PlanCache
from .record import SubmissionRecord, fingerprint
from .sandbox import Limits, is_root
from .store import RecordStore, record_key, write_atomic

ROOT = Path(__file__).resolve().parent.parent.parent
INSTALL = ("bubblewrap is not installed: install it (Debian/Ubuntu: `sudo apt-get install "
           "bubblewrap`; Fedora: `sudo dnf install bubblewrap`) and run again. On a host "
           "without it (macOS, containers that forbid user namespaces) --no-sandbox grades "
           "without isolation; see README, section Instructors.")
UNPROTECTED = ("warning: --no-sandbox: learner code runs as a plain child process with resource "
               "limits only. It can read every file this user can (solutions/, the hidden seed "
               "in DIR/grading.json, other submissions), import the checkers, write outside "
               "its folder and signal this user's processes. {uid}Grade only trusted work "
               "this way, or use bubblewrap.")


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
                   help="wall-clock limit of one exercise's process (default 60)")
    p.add_argument("--memory", type=_positive(int), default=2048, metavar="MB",
                   help="memory of one sandbox, all its processes together where control "
                        "groups can be made (root), and of each process (default 2048)")
    p.add_argument("--seed", type=int, default=None, metavar="N",
                   help="the class's secret, from which each submission's hidden cases are "
                        "derived with its code (default: random on the first run, then "
                        "reused from DIR)")
    p.add_argument("--force", action="store_true", help="regrade submissions already graded")
    p.add_argument("--solutions", type=Path, default=ROOT / "solutions",
                   help="instructor notebooks with the grader-context cells (default: solutions/)")
    p.add_argument("--no-sandbox", action="store_true",
                   help="run learner code without bubblewrap (prints what is then unprotected)")
    p.add_argument("--runner-site", action="append", type=Path, default=None, metavar="DIR",
                   help="with --no-sandbox: the only site-packages the learner code gets "
                        "(e.g. a numpy-only folder readable by the sandbox uid; repeatable)")
    return p


def _seed(out: Path, given: int | None) -> int:
    meta_path = out / "grading.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {}
    seed = given if given is not None else meta.get("seed")
    if not isinstance(seed, int):
        seed = secrets.randbits(128)  # a key: each submission's seed is an HMAC under it
    if meta.get("seed") != seed:
        write_atomic(meta_path, json.dumps({"seed": seed, "note": "hidden seed: keep this "
                                            "folder private"}), mode=0o600)
    return seed


def sandbox_problem() -> str | None:
    """Why bubblewrap cannot run a sandbox here (None when it can): missing, or refused."""
    if layout.bwrap_path() is None:
        return INSTALL
    with tempfile.TemporaryDirectory() as tmp:
        argv = [layout.bwrap_path(), *layout.bwrap_args(tmp, (), is_root()),
                layout.interpreter(), "-I", "-S", "-c", "import sys; sys.path[:0] = ['"
                + layout.SITE + "']; import numpy"]
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as exc:
            return f"bubblewrap could not start: {exc}"
    if proc.returncode != 0:
        return ("bubblewrap is installed but cannot create a sandbox here (are user namespaces "
                f"forbidden?): {proc.stderr.strip()[-300:]}. Use --no-sandbox only if you accept "
                "the risks it prints.")
    return None


def _pending(subs, store: RecordStore, seed: int, fp: str, force: bool):
    done: dict[str, SubmissionRecord] = {}
    todo = []
    for sub in subs:
        try:
            content = sub.path.read_bytes()
        except OSError as exc:
            content = f"unreadable: {exc}".encode()
        key = record_key(sub.id, content, seed, fp)
        record = None if force else store.load(sub.id, key)
        if record is not None:
            done[sub.id] = record
        else:
            todo.append((sub, content, key))
    return done, todo


def _grade_all(todo, batch: Batch, notebooks, store: RecordStore, jobs: int,
               records: dict[str, SubmissionRecord]) -> None:
    def work(item) -> SubmissionRecord:
        sub, content, key = item
        try:
            return grade_submission(sub, content, key, batch, notebooks)
        except Exception as exc:  # noqa: BLE001 - a grader bug must not stop the batch
            return SubmissionRecord(id=sub.id, path=str(sub.path), status="grader error",
                                    note=f"internal grader error ({type(exc).__name__}: "
                                         f"{str(exc)[:200]}); rerun to retry")

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(work, item) for item in todo]
        for n, fut in enumerate(as_completed(futures), 1):
            record = fut.result()
            if record.key is not None:
                store.save(record)  # saved first: the batch can be resumed from here
            records[record.id] = record
            log(f"[{n}/{len(todo)}] {record.id}: {record.total:g}/{record.max:g} "
                f"({record.status})")


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
    mode = "none" if args.no_sandbox else "bwrap"
    problem = None if args.no_sandbox else sandbox_problem()
    if problem:
        log(f"error: {problem}")
        return 2
    if args.no_sandbox:
        log(UNPROTECTED.format(uid="(As root it runs as a fresh uid where the interpreter is "
                               "readable by others.) " if is_root() else ""))
    try:
        out.mkdir(parents=True, exist_ok=True)
        store = RecordStore(out)
    except OSError as exc:
        parser.error(f"cannot create --out {out}: {exc}")
    return _run_batch(args, subs, out, store, mode)


def _run_batch(args, subs, out: Path, store: RecordStore, mode: str) -> int:
    notebooks = course_notebooks()
    seed = _seed(out, args.seed)
    if seed < 2**60:
        log("warning: the class's secret (--seed) is short: from a few leaked hidden values and "
            "a submission's code it could be found by search; prefer a long random number")
    plans = PlanCache(seed, args.solutions)
    fp = fingerprint({nb: plans.context(nb, warn=False) for nb in notebooks})
    batch = Batch(plans, Limits(timeout=args.timeout, memory_mb=args.memory), mode,
                  [str(p) for p in args.runner_site] if args.runner_site else None,
                  seed_hash(seed))
    records, todo = _pending(subs, store, seed, fp, args.force)
    log(f"grading {len(todo)} submission(s) ({len(records)} already graded) with {args.jobs} "
        f"job(s), sandbox: {'bubblewrap' if mode == 'bwrap' else 'NONE'}")
    start = time.monotonic()
    _grade_all(todo, batch, notebooks, store, args.jobs, records)
    for w in dict.fromkeys(plans.warnings):
        log(w)
    ordered = [records[s.id] for s in subs]
    for record in ordered:  # written by the grader alone, after judging, from signed records
        report.write_submission_files(out, record)
    columns = [ex for nb in sorted({r.notebook for r in ordered if r.notebook})
               for ex in notebooks.get(nb, [])]
    path = report.write_csv(out, ordered, columns)
    log(f"wrote {path} ({len(ordered)} rows) in {time.monotonic() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
