"""The retired counting sweep (``--suite counting-old``; ``--suite counting`` is now the trial)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")

from course_utils.tools import sweep, sweep_counting  # noqa: E402


def test_plan_groups_and_equal_params() -> None:
    items = sweep_counting.plan(seeds=5, steps=3000, long_steps=6000)
    main = [c for g, c in items if g == "main"]
    assert [(c.cell, c.hidden) for c in main].count(("lstm", 10)) == 5
    assert [(c.cell, c.hidden) for c in main].count(("gru", 10)) == 5
    assert [(c.cell, c.hidden) for c in main].count(("gru", 12)) == 3  # ~ the LSTM's parameters
    assert [(c.cell, c.steps, c.seed) for g, c in items if g == "long"] == [("gru", 6000, 0),
                                                                          ("gru", 6000, 1)]
    assert not [g for g, _ in sweep_counting.plan(long_steps=0) if g == "long"]


def test_quick_suite_writes_json(tmp_path) -> None:
    out = tmp_path / "counting.json"
    assert sweep.main(["--suite", "counting-old", "--quick", "--no-progress", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["command"].startswith("python -m course_utils sweep --suite counting")  # the old one
    assert {r["config"]["cell"] for r in data["runs"]} == {"lstm", "gru"}
    assert all(r["group"] == "main" and r["evals"] for r in data["runs"])
