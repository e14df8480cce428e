"""The trial protocol: budgets, selection on validation, bootstrap intervals, the verdict rule."""

from __future__ import annotations

import math

import pytest

from course_utils.lib import protocol as P

pytest.importorskip("scipy")


def evals(valid, test, every=100, seconds=None):
    return [{"update": i * every, "seconds": (seconds or [0.5 * i for i in range(len(valid))])[i],
             "valid": v, "test": t} for i, (v, t) in enumerate(zip(valid, test))]


def test_budget_label_and_allows() -> None:
    b = P.Budget(updates=1200)
    assert b.label == "1,200 updates"
    assert b.allows({"update": 1200, "seconds": 99}) and not b.allows({"update": 1300, "seconds": 1})
    s = P.Budget(seconds=2.0)
    assert s.label == "2 s of training" and not s.allows({"update": 1, "seconds": 2.5})
    with pytest.raises(ValueError):
        P.Budget()
    with pytest.raises(ValueError):
        P.Budget(updates=0)


def test_best_checkpoint_uses_validation_within_budget() -> None:
    ev = evals([0.5, 0.2, 0.3, 0.1], [0.6, 0.9, 0.1, 0.4])
    assert P.best_checkpoint(ev)["update"] == 300  # best validation, not best test (0.1 at 200)
    assert P.best_checkpoint(ev, P.Budget(updates=250))["update"] == 100
    assert P.best_checkpoint(ev, P.Budget(seconds=1.0))["update"] == 100  # 0.0, 0.5, 1.0 s
    assert P.best_checkpoint(ev, higher_is_better=True)["update"] == 0
    nan = evals([0.5, float("nan")], [0.5, 0.5])
    assert P.best_checkpoint(nan)["update"] == 0  # a diverged checkpoint is never chosen
    with pytest.raises(ValueError):  # nothing within the budget
        P.best_checkpoint([{"update": 5, "seconds": 1, "valid": 1}], P.Budget(updates=1))


def test_choose_lr_by_median_validation_not_test() -> None:
    recs = []
    for lr, v, t in ((1e-3, 0.30, 0.01), (1e-2, 0.10, 0.50)):
        for seed, jitter in enumerate((0.0, 0.01, -0.01)):
            recs.append({"arm": "A", "lr": lr, "seed": seed,
                         "evals": evals([1.0, v + jitter], [1.0, t])})
    assert P.choose_lr(recs) == 1e-2
    assert P.choose_lr(recs, higher_is_better=True) == 1e-3
    assert P.choose_lr(recs, seeds=[0]) == 1e-2


def test_run_trial_selects_then_runs_rest_at_chosen_lr() -> None:
    calls = []

    def fit(make, lr, seed, budget):
        calls.append((make(), lr, seed))
        score = abs(math.log10(lr) + 2) + 0.01 * seed  # best at lr = 1e-2
        return evals([1.0, score], [1.0, score + 1])

    trial = P.Trial({"A": lambda: "a", "B": lambda: "b"}, lrs=(1e-3, 1e-2, 1e-1),
                    seeds=(0, 1, 2, 3, 4), budget=P.Budget(updates=100), select_seeds=(0, 1))
    recs = P.run_trial(trial, fit)
    assert len(recs) == 2 * (3 * 2 + 3) == len(calls)
    assert all(r["lr"] == 1e-2 for r in recs if r["seed"] >= 2)
    chosen = P.choose_lrs(recs, trial)
    assert chosen == {"A": 1e-2, "B": 1e-2}
    scores = P.test_scores(recs, chosen, trial)
    assert scores["A"] == pytest.approx([1 + 0.01 * s for s in range(5)])


def test_trial_rejects_bad_setups() -> None:
    with pytest.raises(ValueError):
        P.Trial({"A": lambda: 0}, (1e-3,), (0,), P.Budget(updates=1))
    with pytest.raises(ValueError):
        P.Trial({"A": lambda: 0, "B": lambda: 0}, (1e-3, 1e-3), (0,), P.Budget(updates=1))
    with pytest.raises(ValueError):
        P.Trial({"A": lambda: 0, "B": lambda: 0}, (1e-3,), (0, 1), P.Budget(updates=1),
                select_seeds=(7,))


def test_time_to_threshold() -> None:
    assert P.time_to_threshold([0, 100, 200], [0.5, 0.08, 0.01], 0.083) == 100
    assert P.time_to_threshold([0, 100], [0.5, 0.4], 0.083) is None
    assert P.time_to_threshold([0, 1, 2], [1, 5, 20], 10, higher_is_better=True) == 2
    with pytest.raises(ValueError):
        P.time_to_threshold([0], [1, 2], 1)


def test_median_interval_is_reproducible_and_contains_the_median() -> None:
    v = [0.11, 0.09, 0.15, 0.10, 0.12]
    a, b = P.median_interval(v), P.median_interval(v)
    assert a == b and a.low <= a.median == 0.11 <= a.high and a.n == 5
    assert min(v) <= a.low and a.high <= max(v)
    assert P.median_interval([2.0, 2.0, 2.0]).low == 2.0
    with pytest.raises(ValueError):
        P.median_interval([1.0])
    with pytest.raises(ValueError):
        P.median_interval([1.0, math.inf])


def test_verdict_holds_reversed_no_difference_not_decided() -> None:
    good, bad = [0.010, 0.011, 0.012, 0.013, 0.014], [0.050, 0.052, 0.054, 0.056, 0.058]
    b = P.Budget(updates=1200)
    v = P.verdict({"LSTM": good, "GRU": bad}, "LSTM", "GRU", b, solved_threshold=0.0167,
                  metric="test MSE")
    assert v.status == "holds" and "1,200 updates" in v.sentence and "GRU did not solve" in v.sentence
    assert v.sentence.startswith("Holds: LSTM has the lower test MSE")
    v = P.verdict({"LSTM": good, "GRU": bad}, "GRU", "LSTM", b, solved_threshold=0.0167)
    assert v.status == "reversed" and v.sentence.startswith("Reversed: LSTM")
    close = [0.012, 0.010, 0.013, 0.011, 0.016]
    v = P.verdict({"LSTM": good, "GRU": close}, "LSTM", "GRU", b, solved_threshold=0.0167)
    assert v.status == "no difference" and "No difference detected within 1,200 updates" in v.sentence
    v = P.verdict({"LSTM": bad, "GRU": [0.1] * 5}, "LSTM", "GRU", b, solved_threshold=0.0167)
    assert v.status == "not decided" and "no cell solved it" in v.sentence  # no ranking of failures
    hi = P.verdict({"A": [20, 21, 22, 23, 24], "B": [40, 41, 45, 50, 60]}, "A", "B", "1,500 updates",
                   solved_threshold=20, higher_is_better=True, metric="limit")
    assert hi.status == "reversed" and "higher limit" in hi.sentence
    with pytest.raises(KeyError):
        P.verdict({"A": good}, "A", "B", b)


def test_versus_baseline() -> None:
    v = P.versus_baseline([0.9, 0.95, 1.0, 0.92, 0.97], 0.85, "GRU", "EWMA", "400 updates",
                          metric="test MSE")
    assert v.status == "reversed" and "does not beat EWMA" in v.sentence
    v = P.versus_baseline([0.7, 0.72, 0.71, 0.69, 0.73], 0.85, "GRU", "EWMA", "400 updates")
    assert v.status == "holds"
    v = P.versus_baseline([0.7, 0.9, 0.8, 0.95, 0.75], 0.85, "GRU", "EWMA", "400 updates")
    assert v.status == "no difference"
