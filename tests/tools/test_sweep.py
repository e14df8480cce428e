"""Tests of course_utils.tools.sweep: the plan and the sweep command (quick)."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from course_utils.lib.counts import param_count  # noqa: E402
from course_utils.tools import sweep  # noqa: E402


def test_plan_groups_and_equal_params() -> None:
    items = sweep.plan([10, 20], [5], hidden=48, seeds=[0, 1], steps=3)
    groups = {g for g, _ in items}
    assert groups == {"equal-H", "equal-params", "forget-bias-1", "copy", "long"}
    lstm = param_count("lstm", 2, 48)
    for g, cfg in items:
        if g == "equal-params":
            assert abs(param_count(cfg.cell, 2, cfg.hidden) - lstm) / lstm < 0.02
        if g == "forget-bias-1":
            assert cfg.cell == "lstm" and cfg.forget_bias == 1.0
        if g == "long":
            assert cfg.cell == "lstm" and cfg.steps == 2000 and cfg.T == 50
    assert len(items) == 2 * 2 * 6 + 1 * 2 * 3 + 1 * 2 * 2


def test_sweep_quick_writes_json(tmp_path) -> None:
    out = tmp_path / "s.json"
    assert sweep.main(["--quick", "--no-progress", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["command"].startswith("python -m course_utils sweep --quick")
    for key in ("platform", "cpu_count", "torch", "date"):
        assert key in data["machine"]
    assert len(data["runs"]) == 11 and data["speed"]
    run = data["runs"][0]
    assert len(run["losses"]) == len(run["seconds"]) == 20


def test_sweep_suite_distance_quick_writes_json(tmp_path) -> None:
    out = tmp_path / "d.json"
    assert sweep.main(["--suite", "distance", "--quick", "--no-progress", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["command"].startswith("python -m course_utils sweep --suite distance")
    assert data["plan"] == [{"T": 5, "seeds": [0], "steps": 20}]
    assert "cpu_capability" in data["machine"] and data["solved_threshold"] == 0.95
    (run,) = data["runs"]
    assert len(run["losses"]) == 20 and run["checkpoints"] == [0, 10, 20]
