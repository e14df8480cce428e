"""Tests of course_utils.labs.lstm_vs_gru: the speed timer and the sweep analysis helpers."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from course_utils.labs import lstm_vs_gru as experiments  # noqa: E402


def test_time_fwd_bwd_positive() -> None:
    for flag in (True, False):
        assert 0 < experiments.time_fwd_bwd("lstm", 4, 2, 3, 5, reps=1, mkldnn=flag) < 5


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
