"""Tests of course_utils.experiments: the plan, the speed timer and the sweep command (quick)."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from course_utils import experiments  # noqa: E402
from course_utils.train import recurrent_params  # noqa: E402


def test_plan_groups_and_equal_params() -> None:
    items = experiments.plan([10, 20], [5], hidden=48, seeds=[0, 1], steps=3)
    groups = {g for g, _ in items}
    assert groups == {"equal-H", "equal-params", "forget-bias-1", "copy", "long"}
    lstm = recurrent_params("lstm", 2, 48)
    for g, cfg in items:
        if g == "equal-params":
            assert abs(recurrent_params(cfg.cell, 2, cfg.hidden) - lstm) / lstm < 0.02
        if g == "forget-bias-1":
            assert cfg.cell == "lstm" and cfg.forget_bias == 1.0
        if g == "long":
            assert cfg.cell == "lstm" and cfg.steps == 2000 and cfg.T == 50
    assert len(items) == 2 * 2 * 6 + 1 * 2 * 3 + 1 * 2 * 2


def test_time_fwd_bwd_positive() -> None:
    for flag in (True, False):
        assert 0 < experiments.time_fwd_bwd("lstm", 4, 2, 3, 5, reps=1, mkldnn=flag) < 5


def test_sweep_quick_writes_json(tmp_path) -> None:
    out = tmp_path / "s.json"
    assert experiments.main(["--quick", "--no-progress", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["command"].startswith("python -m course_utils sweep --quick")
    for key in ("platform", "cpu_count", "torch", "date"):
        assert key in data["machine"]
    assert len(data["runs"]) == 11 and data["speed"]
    run = data["runs"][0]
    assert len(run["losses"]) == len(run["seconds"]) == 20


def test_speed_table_rows() -> None:
    rows = experiments.speed_table([(4, 2, 3, 5)], reps=1, progress=False)
    assert set(rows[0]) == {"T", "B", "I", "H", "lstm_mkldnn_s", "lstm_native_s", "gru_mkldnn_s", "gru_native_s"}
    assert all(v > 0 for k, v in rows[0].items() if k.endswith("_s"))


def _fake_run(losses: list[float], step_s: float = 0.5) -> dict:
    return {"group": "g", "config": {"cell": "gru", "T": 5}, "losses": losses,
            "seconds": [step_s * (i + 1) for i in range(len(losses))]}


def test_analysis_helpers() -> None:
    assert experiments.smooth([1, 2, 3, 4], k=2) == [1.0, 1.5, 2.5, 3.5]
    run = _fake_run([1.0] * 5 + [0.1] * 10)
    assert experiments.updates_to(run, 0.5, k=2) == 7  # mean of updates 6, 7 = 0.1
    assert experiments.seconds_to(run, 0.5, k=2) == pytest.approx(3.5)
    assert experiments.updates_to(run, 0.01, k=2) is None
    assert experiments.final_loss(run) == pytest.approx(0.1)
    assert experiments.seconds_per_update(run) == pytest.approx(0.5)
    assert experiments.spread([1.0, 3.0]) == (2.0, 1.0, 3.0)
    fast, slow = _fake_run([1.0, 0.5, 0.2], 0.1), _fake_run([1.0, 0.8, 0.6], 0.2)
    grid, med, lo, hi = experiments.band([fast, slow], x="seconds", k=1, points=3)
    assert grid[-1] == pytest.approx(0.3) and lo[-1] == pytest.approx(0.2) and hi[-1] <= 1.0
    assert experiments.select([fast, slow], "g", cell="gru") == [fast, slow]
    assert experiments.select([fast], "other") == []
    table = experiments.markdown_table(["a", "b"], [[1, "x|y"]])
    assert table.splitlines() == ["| a | b |", "|---|---|", "| 1 | x\\|y |"]
