"""course_utils.lib.runs: reading training-run records (smoothing, thresholds, spreads, bands,
tables)."""

from __future__ import annotations

import pytest

from course_utils.lib import runs


def _fake_run(losses: list[float], step_s: float = 0.5) -> dict:
    return {"group": "g", "config": {"cell": "gru", "T": 5}, "losses": losses,
            "seconds": [step_s * (i + 1) for i in range(len(losses))]}


def test_thresholds_and_per_update_numbers() -> None:
    assert runs.smooth([1, 2, 3, 4], k=2) == [1.0, 1.5, 2.5, 3.5]
    run = _fake_run([1.0] * 5 + [0.1] * 10)
    assert runs.updates_to(run, 0.5, k=2) == 7  # mean of updates 6, 7 = 0.1
    assert runs.seconds_to(run, 0.5, k=2) == pytest.approx(3.5)
    assert runs.updates_to(run, 0.01, k=2) is None and runs.seconds_to(run, 0.01, k=2) is None
    assert runs.final_loss(run) == pytest.approx(0.1)
    assert runs.seconds_per_update(run) == pytest.approx(0.5)


def test_spread_overlap_and_formatting() -> None:
    assert runs.spread([1.0, 3.0]) == (2.0, 1.0, 3.0)
    assert runs.ranges_overlap([1, 2], [2, 3]) and not runs.ranges_overlap([1, 2], [2.5, 3])
    assert runs.fmt_final([0.1, 0.3]) == "0.200 [0.100–0.300]"
    assert runs.fmt_final([0.1, 0.3], 1) == "0.2 [0.1–0.3]"
    assert runs.fmt_list([3, None, 4.26], "{:.1f}") == "3.0, —, 4.3"


def test_band_and_select() -> None:
    fast, slow = _fake_run([1.0, 0.5, 0.2], 0.1), _fake_run([1.0, 0.8, 0.6], 0.2)
    grid, med, lo, hi = runs.band([fast, slow], x="seconds", k=1, points=3)
    assert grid[-1] == pytest.approx(0.3) and lo[-1] == pytest.approx(0.2) and hi[-1] <= 1.0
    grid, med, lo, hi = runs.band([fast, slow], x="updates", k=1)
    assert grid == [1.0, 2.0, 3.0] and lo == pytest.approx([1.0, 0.5, 0.2])
    assert hi == pytest.approx([1.0, 0.8, 0.6])
    assert runs.select([fast, slow], "g", cell="gru") == [fast, slow]
    assert runs.select([fast], "other") == [] and runs.select([fast], None, T=6) == []


def test_markdown_table_escapes_pipes() -> None:
    table = runs.markdown_table(["a", "b"], [[1, "x|y"]])
    assert table.splitlines() == ["| a | b |", "|---|---|", "| 1 | x\\|y |"]
