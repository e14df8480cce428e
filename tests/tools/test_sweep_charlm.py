"""``python -m course_utils sweep --suite charlm --quick``: runs in seconds, writes the JSON."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")

from course_utils.tools import sweep, sweep_charlm  # noqa: E402


def test_plan_is_equal_params_and_covers_every_fraction():
    items = sweep_charlm.plan((0.1, 1.0), (0, 1), lstm_hidden=128, embed=32)
    assert len(items) == 2 * 2 * 3
    sizes = sweep_charlm.equal_param_hidden(32, 128)
    from course_utils.lib.counts import layer_params

    target = layer_params("lstm", 32, 128)
    for cell in ("gru", "rnn"):
        assert abs(layer_params(cell, 32, sizes[cell]) - target) / target < 0.02


def test_quick_sweep_writes_json(tmp_path):
    out = tmp_path / "charlm.json"
    assert sweep.main(["--suite", "charlm", "--quick", "--no-progress", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["command"].startswith("python -m course_utils sweep --suite charlm")
    assert {"torch", "cpu_model"} <= set(data["machine"])
    assert {r["config"]["cell"] for r in data["runs"]} == {"rnn", "lstm", "gru"}
    for r in data["runs"]:
        h = r["history"]
        assert len(h["updates"]) == len(h["valid_bits"]) == len(h["seconds"]) > 0
        assert r["final_valid_bits"] > 0 and r["params"] > 0
