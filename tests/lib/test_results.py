"""course_utils.lib.results: finds the committed results/ folder, loads JSON, and a missing file
names the command that makes it."""

from __future__ import annotations

import json

import pytest

from course_utils.lib import results


def test_results_dir_holds_the_committed_files():
    d = results.results_dir()
    assert d.name == "results" and (d / "sweeps" / "adding_copy_cpu.json").is_file()


def test_load_json_reads_the_sweep():
    sweep = results.load_json("sweeps/adding_copy_cpu.json")
    assert sweep["command"].startswith("python -m course_utils sweep") and sweep["runs"]


def test_missing_file_names_the_command_that_makes_it():
    with pytest.raises(FileNotFoundError, match="python -m course_utils bench --device cuda"):
        results.load_json("gpu_imaginary_full.json")
    with pytest.raises(FileNotFoundError, match="no results file 'nothing/here.json'") as info:
        results.load_json("nothing/here.json")
    assert "make it with" not in str(info.value)  # an unknown file: no made-up command


def test_matching_and_latest(tmp_path, monkeypatch):
    for name in ("cpu_quick_20260101.json", "cpu_quick_20261122.json", "other.txt"):
        (tmp_path / name).write_text(json.dumps({"name": name}))
    monkeypatch.setattr(results, "results_dir", lambda: tmp_path)
    assert [p.name for p in results.matching("cpu_*.json")] == ["cpu_quick_20260101.json",
                                                                 "cpu_quick_20261122.json"]
    assert results.latest("cpu_*.json").name == "cpu_quick_20261122.json"
    assert results.matching("gpu_*.json") == []
    with pytest.raises(FileNotFoundError, match="--device cuda"):
        results.latest("gpu_*.json")
