"""``python -m course_utils <command> ...``: the course's command line.

Each command lives in its own module with a ``main(argv) -> int``; this file only dispatches,
so ``python -m course_utils build`` never imports torch.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    "build": ("course_utils.tools.build", "solutions/ -> notebooks/ (--check, --execute)"),
    "grade": ("course_utils.grade", "grade learners' notebooks in a sandbox"),
    "check": ("course_utils.grade.selfcheck", "your notebooks' exercises on the public checks"),
    "gradescope": ("course_utils.grade.gradescope", "build a Gradescope autograder zip"),
    "bench": ("course_utils.tools.bench", "LSTM vs GRU benchmark (CPU or CUDA), JSON out"),
    "sweep": ("course_utils.tools.sweep", "training sweeps -> results/sweeps/"),
    "data": ("course_utils.tools.data", "build (once) and describe a data set (chorales)"),
    "exercises": ("course_utils.exercises", "list the exercises, their notebooks and points"),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="python -m course_utils",
        description="Recurrent networks from scratch: course tools.",
        epilog="commands:\n" + "\n".join(f"  {k:<10} {v[1]}" for k, v in COMMANDS.items())
        + "\n\n'python -m course_utils COMMAND --help' for a command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=sorted(COMMANDS), metavar="COMMAND")
    if not argv or argv[0] in {"-h", "--help"}:
        parser.print_help()
        return 0 if argv else 2
    args = parser.parse_args(argv[:1])
    module = importlib.import_module(COMMANDS[args.command][0])
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
