"""``python -m course_utils data chorales``: build (once) and describe a data set the notebooks use.

    python -m course_utils data chorales            # parse the music21 corpus if not cached, print stats
    python -m course_utils data chorales --rebuild  # parse again (e.g. after a music21 upgrade)
    python -m course_utils data chorales --write-split results/chorales/split.json

The Makefile's ``nbval`` and ``browser`` targets run the first line before the notebooks, so two
parallel nbval workers never parse the corpus at the same time (the cache is also written
atomically under a lock file: :func:`course_utils.labs.polyphonic_music.data.load_chorales`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(prog="python -m course_utils data",
                                description="Build (once) and describe a course data set.")
    p.add_argument("name", choices=("chorales",), help="chorales: notebook 09's Bach chorales")
    p.add_argument("--rebuild", action="store_true", help="parse again even if cached")
    p.add_argument("--jobs", type=int, default=2, help="parsing processes")
    p.add_argument("--write-split", metavar="JSON", help="write the split's ids and checksums")
    p.add_argument("--verify", metavar="JSON", nargs="?", const="results/chorales/split.json",
                   help="compare with a committed split file (default results/chorales/split.json)")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    from ..labs.polyphonic_music import data as D

    start = time.perf_counter()
    cached = D.cache_path().exists() and not args.rebuild
    ch = D.load_chorales(jobs=args.jobs, progress=not args.no_progress, rebuild=args.rebuild)
    took = time.perf_counter() - start
    print(f"chorales: {D.cache_path()} ({'read from the cache' if cached else 'built'} in "
          f"{took:.1f} s)")
    print(json.dumps(ch.stats(), indent=1))
    if args.write_split:
        D.save_split(ch, args.write_split)
        print(f"wrote {args.write_split}")
    if args.verify:
        problems = D.verify(ch, json.loads(Path(args.verify).read_text()))
        print("matches " + args.verify if not problems else "DIFFERS: " + "; ".join(problems))
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
