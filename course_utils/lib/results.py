"""Where notebooks find the committed measurements: the repository's ``results/`` folder.

    from course_utils.lib import results
    sweep = results.load_json("sweeps/adding_copy_cpu.json")
    gpu_files = results.matching("gpu_*.json")

The folder is found next to the installed package (``pip install -e`` from a clone, Colab's
``/content/course``), else in the working directory. A missing file raises
``FileNotFoundError`` naming the command that makes it (:data:`MAKERS`).
"""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path
from typing import Any

# file pattern (relative to results/) -> the command that writes such a file
MAKERS: dict[str, str] = {
    "sweeps/distance_cpu.json":
        "python -m course_utils sweep --suite distance --out results/sweeps/distance_cpu.json",
    "sweeps/adding_copy_cpu.json":
        "python -m course_utils sweep --out results/sweeps/adding_copy_cpu.json",
    "sweeps/charlm_cpu.json":
        "python -m course_utils sweep --suite charlm --updates 300 --seeds 2 "
        "--out results/sweeps/charlm_cpu.json",
    "charlm_best_cpu.json":
        "python benchmarks/charlm_bench.py --seconds 600 --out results/charlm_best_cpu.json",
    "sweeps/counting_cpu.json":  # retired (notebook 08 reads the trial_* files)
        "python -m course_utils sweep --suite counting-old --out results/sweeps/counting_cpu.json",
    "sweeps/trial_*_cpu.json":  # notebook 08's trials; <suite>: adding, copy, counting, series, charlm-size
        "python -m course_utils sweep --suite <suite> --out results/sweeps/trial_<suite>_cpu.json",
    "attention/dates_cpu.json":  # notebook 10's trial
        "python -m course_utils sweep --suite dates --out results/attention/dates_cpu.json",
    "attention/deploy_cpu.json":  # notebook 10's deployment section
        "python -m course_utils sweep --suite attention-deploy --out results/attention/deploy_cpu.json",
    "attention/copy_cpu.json":  # notebook 10's memory that copies
        "python -m course_utils sweep --suite attention-copy --out results/attention/copy_cpu.json",
    "chorales/replication_cpu.json":  # notebook 09's replication
        "python -m course_utils sweep --suite chorales --out results/chorales/replication_cpu.json",
    "chorales/split.json":  # notebook 09's split ids and checksums
        "python -m course_utils data chorales --write-split results/chorales/split.json",
    "gpu_*.json": "python -m course_utils bench --device cuda",
    "cpu_*.json": "python -m course_utils bench --device cpu",
}


def results_dir() -> Path:
    """The ``results/`` folder of the course checkout this package was installed from."""
    import course_utils

    beside = Path(course_utils.__file__).resolve().parent.parent / "results"
    if beside.is_dir():
        return beside
    return Path.cwd() / "results"


def maker(relative: str) -> str | None:
    """The command that writes ``relative`` (a path under results/), if the course knows it."""
    for pattern, command in MAKERS.items():
        if fnmatch.fnmatch(relative, pattern):
            return command
    return None


def path(relative: str) -> Path:
    """``results_dir() / relative``, or FileNotFoundError naming the command that makes it."""
    where = results_dir() / relative
    if not where.is_file():
        command = maker(relative)
        how = f"; make it with\n    {command}" if command else ""
        raise FileNotFoundError(f"no results file {relative!r} in {results_dir()}{how}")
    return where


def load_json(relative: str) -> Any:
    """The JSON content of ``results/<relative>`` (see :func:`path` for a missing file)."""
    return json.loads(path(relative).read_text(encoding="utf-8"))


def matching(pattern: str) -> list[Path]:
    """The files under results/ matching a glob ``pattern``, sorted by name (may be empty)."""
    return sorted(p for p in results_dir().glob(pattern) if p.is_file())


def latest(pattern: str) -> Path:
    """The last file matching ``pattern`` in name order (names carry their date, e.g.
    ``cpu_quick_20261122.json``); FileNotFoundError naming the maker when there is none."""
    found = matching(pattern)
    if not found:
        command = maker(pattern)
        how = f"; make one with\n    {command}" if command else ""
        raise FileNotFoundError(f"no results file matches {pattern!r} in {results_dir()}{how}")
    return found[-1]
