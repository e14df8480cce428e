"""course_utils.labs.lstm_vs_gru (speed, ledger): the speed table, the sweep summary and claims
1-7 of notebook 08's ledger (built from the committed sweep, every verdict branch on made-up
evidence). Claims 8-11, the counting task and the comparison table: test_lstm_vs_gru_sources."""

from __future__ import annotations

import copy

import pytest

torch = pytest.importorskip("torch")

from course_utils.labs import lstm_vs_gru as ex  # noqa: E402
from course_utils.lib import results, tasks  # noqa: E402

BASE = tasks.ADDING_BASELINE_MSE


def test_speed_table_rows_and_thread_count_restored() -> None:
    before = torch.get_num_threads()
    rows = ex.speed_table([(4, 2, 3, 5)], reps=1, progress=False)
    assert torch.get_num_threads() == before
    assert set(rows[0]) == {"T", "B", "I", "H", "lstm_mkldnn_s", "lstm_native_s",
                            "gru_mkldnn_s", "gru_native_s"}
    assert all(v > 0 for k, v in rows[0].items() if k.endswith("_s"))


@pytest.fixture(scope="module")
def sweep_evidence() -> ex.Evidence:
    """Evidence from the committed sweep; the live parts (speed, stock) made up."""
    runs = results.load_json("sweeps/adding_copy_cpu.json")["runs"]
    T_values = sorted({r["config"]["T"] for r in runs if r["config"]["task"] == "adding"})
    summary = ex.summarise(runs, T_values, BASE / 2)
    long_summary = {fb: {"final": [ex.final_loss(r) for r in rs],
                         "updates": [ex.updates_to(r, BASE / 2) for r in rs]}
                    for fb in (None, 1.0) for rs in [ex.select(runs, "long", forget_bias=fb, T=50)]}
    copy_final = {(cell, T): [ex.final_loss(r) for r in ex.select(runs, "copy", cell=cell, T=T)]
                  for cell in ("rnn", "lstm", "gru") for T in (10, 25)}
    speed = [{"H": H, "lstm_mkldnn_s": 1.0, "gru_mkldnn_s": 2.0, "lstm_native_s": 1.0,
              "gru_native_s": 0.8} for H in (48, 128)]
    stock = {c: [{"test_mse": 1.0 + d} for d in (0.0, 0.02)] for c in ("rnn", "lstm", "gru")}
    return ex.Evidence(summary=summary, long_summary=long_summary, copy_final=copy_final,
                       stock=stock, speed=speed, param_ratio=0.75, h_lstm=48, h_gru=56,
                       baseline=BASE)


def test_summarise_reads_every_configuration(sweep_evidence) -> None:
    s = sweep_evidence.summary
    assert sweep_evidence.T_values == [10, 25, 50, 100]
    assert {label for label, _ in s} == set(ex.CONFIGS)
    assert all(len(v["final"]) == 3 for v in s.values())
    assert s["GRU H=56 (=params)", 10]["params"] > s["GRU H=48", 10]["params"]


def test_ledger_from_the_committed_sweep(sweep_evidence) -> None:
    """Claims 4-7 read only the committed sweep: their verdicts are the course's conclusions."""
    rows = ex.claims_ledger(sweep_evidence)
    assert [r[0].split(" · ")[0] for r in rows] == [str(n) for n in range(1, 12)]
    assert all(len(r) == 3 and all(isinstance(c, str) and c for c in r) for r in rows)
    by = {r[0][0]: r for r in rows}
    assert by["4"][2].startswith("does not hold here: the GRU solves T=100 within 700 updates")
    assert "median 868 vs 335 updates" in by["4"][2]
    assert by["5"][2].startswith("in updates: holds at every length; in seconds: mixed")
    assert by["6"][2].startswith("holds: from T = 25 on")
    assert "bias 1 left the plateau sooner in 3 of 3 runs (by 8–263 updates)" in by["7"][2]
    assert by["2"][2].startswith("does not hold on CPU with PyTorch's defaults")
    assert "the GRU is faster, as its 3/4 FLOPs predict" in by["2"][2]
    assert by["3"][2].startswith("depends on the task — adding: GRU better")
    assert "GOOG: indistinguishable" in by["3"][2]
    assert ex.markdown_table(ex.LEDGER_HEADERS, rows).count("\n") == len(rows) + 1


def test_speed_verdict_branches(sweep_evidence) -> None:
    ev = copy.deepcopy(sweep_evidence)
    for r in ev.speed:
        r["gru_mkldnn_s"] = 0.7
    assert ex.claim_speed(ev)[2].startswith("holds on this CPU")
    ev.speed[0]["gru_mkldnn_s"] = 1.5
    assert ex.claim_speed(ev)[2].startswith("depends on the size and the backend: GRU faster "
                                            "at H = 128, not at H = 48")
    ev.speed = [dict(r, gru_mkldnn_s=2.0, gru_native_s=1.2) for r in ev.speed]
    assert " — no faster" in ex.claim_speed(ev)[2]
    assert ex.claim_speed(ev)[2].endswith("(GPU: see notebook 11)")
    ev.speed[1]["gru_native_s"] = 0.8
    assert " — the GRU faster at H = 128, slower at H = 48" in ex.claim_speed(ev)[2]


def test_speed_noise_near_one_is_on_par_not_a_verdict_flip(sweep_evidence) -> None:
    """A ratio within ±5% of 1 is "on par": 1.04 does not turn "does not hold" into "depends"."""
    ev = copy.deepcopy(sweep_evidence)
    ev.speed = [dict(r, gru_mkldnn_s=g) for r, g in zip(ev.speed, (2.0, 1.04))]
    verdict = ex.claim_speed(ev)[2]
    assert verdict.startswith("does not hold on CPU with PyTorch's defaults")
    assert "GRU slower at H = 48, on par at H = 128" in verdict
    assert ex.sides([0.5, 1.0, 1.5], [1, 2, 3]) == {"faster": [1], "on par": [2], "slower": [3]}
    reading = ex.speed_reading(ev.speed)
    assert "with PyTorch's defaults (oneDNN on) the GRU is on par at H = 128, slower at H = 48" \
        in reading
    assert "on the same backend (oneDNN off) the GRU is faster at H = 48, 128" in reading
    ev.sweep_speed = ev.speed
    assert "the sweep's own timing" in ex.claim_speed(ev)[1]


def test_accuracy_holds_when_everything_overlaps(sweep_evidence) -> None:
    ev = copy.deepcopy(sweep_evidence)
    for T in ev.T_values:
        ev.summary["GRU H=48", T]["final"] = list(ev.summary["LSTM H=48", T]["final"])
    ev.copy_final["gru", 25] = list(ev.copy_final["lstm", 25])
    assert ex.claim_accuracy(ev)[2].startswith("holds — adding: within seed spread at every T")


def test_long_range_and_equal_params_other_branches(sweep_evidence) -> None:
    ev = copy.deepcopy(sweep_evidence)
    for key in ("GRU H=48", "GRU H=56 (=params)"):
        ev.summary[key, 100]["final"] = [0.3, 0.31, 0.32]
    assert ex.claim_long_range(ev)[2] == "holds at T=100 in this budget"
    ev.summary["GRU H=48", 100]["final"] = list(ev.summary["LSTM H=48", 100]["final"])
    assert ex.claim_long_range(ev)[2].startswith("not resolved at T=100")
    for T in ev.T_values:
        for key in ("LSTM H=48", "GRU H=56 (=params)"):
            ev.summary[key, T]["updates"] = [None] * 3
    assert ex.claim_equal_params(ev)[2] == "not measurable: neither reached the threshold"


def test_gated_and_forget_bias_other_branches(sweep_evidence) -> None:
    ev = copy.deepcopy(sweep_evidence)
    for T in ev.T_values:
        ev.summary["tanh RNN H=48", T]["final"] = [0.001] * 3
    assert ex.claim_gated(ev)[2] == "not shown here"
    ev.summary["LSTM H=48, forget bias 1", 50]["final"] = [0.01, 0.02, 0.03]
    verdict = ex.claim_forget_bias(ev)[2]
    assert verdict.startswith("depends on T and budget: bias 1 better at T=50")
