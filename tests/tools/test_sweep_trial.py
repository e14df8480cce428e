"""``python -m course_utils sweep --suite adding|copy|counting|series|charlm-size``: the trials."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("scipy")

from course_utils.tools import sweep  # noqa: E402


@pytest.mark.parametrize("suite", ["counting", "series"])
def test_quick_trial_writes_protocol_json(tmp_path, suite) -> None:
    out = tmp_path / f"{suite}.json"
    assert sweep.main(["--suite", suite, "--quick", "--no-progress", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["command"].startswith(f"python -m course_utils sweep --suite {suite}")
    assert "shared machine" in data["note"] and data["complete"] is True
    assert len(data["lrs"]) >= 3 and data["budget"]["updates"] == 10
    t = data["trials"][0]
    assert set(t["chosen_lr"]) == set(t["arms"]) and all(lr in data["lrs"] for lr in t["chosen_lr"].values())
    lstm, gru_h, gru_p = (t["arms"][k] for k in t["arms"])
    assert lstm["hidden"] == gru_h["hidden"] < gru_p["hidden"]  # equal H, then equal total params
    assert abs(gru_p["params"] - lstm["params"]) < abs(gru_h["params"] - lstm["params"])
    # every arm ran every lr on every seed (no select_seeds in quick mode), same budget
    assert len(t["records"]) == 3 * len(data["lrs"]) * len(data["seeds"])
    assert {e["update"] for r in t["records"] for e in r["evals"]} <= set(range(11))
    assert all({"valid", "test"} <= set(r["evals"][-1]) for r in t["records"])


def test_quick_adding_has_a_tanh_rnn_arm_and_runs_lengths_in_processes(tmp_path) -> None:
    out = tmp_path / "adding.json"
    assert sweep.main(["--suite", "adding", "--quick", "--no-progress", "--jobs", "2",
                       "--values", "4", "6", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["complete"] is True and [t["task"]["T"] for t in data["trials"]] == [4, 6]
    assert data["lrs"] == [1e-3, 3e-3, 1e-2, 3e-2]  # brackets the earlier grid's top rate
    for t in data["trials"]:
        names = list(t["arms"])
        assert [t["arms"][n]["cell"] for n in names] == ["lstm", "gru", "gru", "rnn"]
        lstm, rnn = t["arms"][names[0]], t["arms"][names[3]]
        assert names[3].startswith("RNN") and "=params" in names[3]
        assert abs(rnn["params"] - lstm["params"]) <= rnn["hidden"] + 1  # closest total count
        assert len(t["records"]) == 4 * len(data["lrs"]) * len(data["seeds"])
