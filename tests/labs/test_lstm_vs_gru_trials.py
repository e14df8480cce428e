"""Notebook 08's trials: sizing, the tasks' fits, the verdicts read from committed results."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")
pytest.importorskip("scipy")

from course_utils.labs.lstm_vs_gru import trials as TR  # noqa: E402
from course_utils.labs.lstm_vs_gru import verdicts as V  # noqa: E402
from course_utils.lib import protocol as P  # noqa: E402
from course_utils.lib import tasks  # noqa: E402


def test_equal_total_params_counts_the_head() -> None:
    lstm = TR.total_params("lstm", 2, 24, 1)
    h = TR.equal_total_hidden("gru", 2, 1, lstm)
    assert h == 28 and abs(TR.total_params("gru", 2, h, 1) - lstm) < 100
    make = TR.net_factory(2, 1)("gru", h)
    assert sum(p.numel() for p in make().parameters()) == TR.total_params("gru", 2, h, 1)


def test_synthetic_fit_selects_on_fixed_validation() -> None:
    fit = TR.synthetic_fit("adding", 5, batch=8, eval_every=2, n_valid=16, n_test=16)
    make = TR.net_factory(2, 1)("lstm", 4)
    a = fit(make, 1e-2, 0, P.Budget(updates=4))
    b = fit(make, 1e-2, 0, P.Budget(updates=4))
    assert [e["update"] for e in a] == [0, 2, 4] and a[0]["valid"] == b[0]["valid"]  # seeded
    assert a[0]["valid"] != a[0]["test"]  # different fixed sets


def test_counting_fit_reports_validation_and_held_out_limits() -> None:
    fit = TR.counting_fit(train_n=3, valid_n=5, test_n=8, eval_every=2)
    ev = fit(TR.net_factory(2, 3)("lstm", 4), 1e-2, 0, P.Budget(updates=2))
    assert all(0 <= e["valid"] <= 5 and 0 <= e["test"] <= 8 and "train_limit" in e for e in ev)


def test_stock_splits_are_chronological_and_baselines_tuned_on_validation() -> None:
    d = tasks.stock_splits()
    dates = [d["dates"][k] for k in ("train", "valid", "test")]
    assert dates[0][-1] < dates[1][0] and dates[1][-1] < dates[2][0]
    b = tasks.series_baselines(d)
    assert set(b) == {"mean", "persistence", "ewma", "ridge"}
    assert b["ewma"]["choice"] in (2, 3, 5, 10, 20) and b["ridge"]["choice"] > 0


def test_verdicts_from_the_committed_copy_trial() -> None:
    s = V.load_trials()["copy"]
    assert s is not None and len(s["seeds"]) >= 5 and len(s["lrs"]) >= 3
    t = s["trials"][0]
    vs = V.cell_verdicts(s, t, "lstm", t["task"]["baseline"] / 10, "test cross-entropy")
    # no arm gets near a tenth of the memoryless baseline: failures are not ranked
    assert all(v.status == "not decided" and "no cell solved it" in v.sentence for v in vs.values())
    assert "1,200 updates" in V.regime(s, t)


def test_verdicts_from_the_committed_adding_trial() -> None:
    s = V.load_trials()["adding"]
    assert s is not None
    for t in s["trials"]:
        vs = V.cell_verdicts(s, t, "lstm", tasks.ADDING_BASELINE_MSE / 10, "test MSE")
        assert {v.status for v in vs.values()} <= set(P.STATUSES)
        times = V.threshold_times(s, t, tasks.ADDING_BASELINE_MSE / 2)
        assert all(len(v) == len(s["seeds"]) for v in times.values())


def test_missing_trial_is_not_decided() -> None:
    v = V.missing("series")
    assert v.status == "not decided" and "sweep --suite series" in v.sentence


def test_untouched_prediction_says_no_prediction_recorded() -> None:
    from course_utils.labs.lstm_vs_gru import NO_GUESS, say
    from course_utils.lib.predict import predict

    g = predict("q?", [NO_GUESS, "LSTM", "GRU"], show=False)
    assert say(g, "GRU").startswith("No prediction recorded")
    g.value = "LSTM"
    assert "You predicted 'LSTM'" in say(g, "GRU")


def test_ahead_reads_the_winner() -> None:
    s = V.load_trials()["counting"]
    assert s is not None
    v = V.cell_verdicts(s, s["trials"][0], "lstm", s["trials"][0]["task"]["train_n"])["equal params"]
    assert V.ahead(v) in ("LSTM ahead", "GRU ahead", "no difference detected", "not decided")


def test_gated_verdicts_need_a_tanh_rnn_arm() -> None:
    s = V.load_trials()["adding"]
    assert s is not None and s.get("complete", True)
    for t in s["trials"]:
        assert V.rnn_name(t) is not None
        g = V.gated_verdicts(s, t, tasks.ADDING_BASELINE_MSE / 10)
        assert set(g) == {"LSTM vs RNN", "GRU vs RNN"}
        assert all(V.rnn_name(t) in v.sentence for v in g.values())
        assert V.arm_names(t)[2].startswith("GRU")  # the RNN's "=params" is not the GRU's
    no_rnn = dict(s["trials"][0], arms={k: v for k, v in s["trials"][0]["arms"].items()
                                        if not k.startswith("RNN")})
    assert V.rnn_name(no_rnn) is None and V.gated_verdicts(s, no_rnn, 0.1) == {}


def test_ledger_row_6_reads_the_tanh_rnn_arm() -> None:
    from course_utils.labs.lstm_vs_gru.trial_ledger import Findings, claim_gated

    trials = V.load_trials()
    f = Findings(trials, speed=[], param_ratio=0.75, h_lstm=48, h_gru=56)
    g = f.gated()
    assert sorted(g) == sorted(t["task"]["T"] for t in trials["adding"]["trials"])
    row = claim_gated(f)
    assert row[0].startswith("6 ·") and "not decided here" not in row[1]
    assert all(f"T={T}: LSTM vs RNN {g[T]['LSTM vs RNN'].short}" in row[1] for T in g)
    assert "RNN H=" in row[2] and "lr from {0.001, 0.003, 0.01, 0.03}" in row[2]
    bare = {**trials, "adding": None}
    assert "not decided here" in claim_gated(Findings(bare, [], 0.75, 48, 56))[1]
