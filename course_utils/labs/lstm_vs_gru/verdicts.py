"""Notebook 08's verdicts, read from the committed trials (``results/sweeps/trial_*_cpu.json``)
with the protocol of :mod:`course_utils.lib.protocol`.

Every function takes a trial sweep (the JSON of ``python -m course_utils sweep --suite …``) and
returns :class:`~course_utils.lib.protocol.Verdict` objects whose sentences carry the numbers,
the intervals and the regime (device, sizes, length, budget, seeds, learning-rate grid). A
missing results file yields "not decided: not run under the protocol" instead of a verdict.
"""

from __future__ import annotations

import math
from typing import Any

from ...lib import protocol as P

FILES = {"adding": "sweeps/trial_adding_cpu.json", "copy": "sweeps/trial_copy_cpu.json",
         "counting": "sweeps/trial_counting_cpu.json", "series": "sweeps/trial_series_cpu.json",
         "charlm-size": "sweeps/trial_charlm_size_cpu.json"}


def load_trials() -> dict[str, dict[str, Any] | None]:
    """suite -> its committed sweep, or None when not committed."""
    from ...lib import results

    out: dict[str, dict[str, Any] | None] = {}
    for name, path in FILES.items():
        try:
            out[name] = results.load_json(path)
        except FileNotFoundError:
            out[name] = None
    return out


def missing(suite: str) -> P.Verdict:
    cmd = f"python -m course_utils sweep --suite {suite} --out results/{FILES[suite]}"
    return P.Verdict("not decided", f"Not decided: the {suite} trial was not run under the "
                     f"protocol (no results/{FILES[suite]}; `{cmd}` makes it).")


def arm_names(t: dict[str, Any]) -> tuple[str, str, str]:
    """(LSTM-H, GRU-H, GRU at the LSTM's total parameter count) of a trial."""
    names = list(t["arms"])
    lstm = next(n for n in names if n.startswith("LSTM"))
    gru_p = next(n for n in names if n.startswith("GRU") and "=params" in n)
    gru_h = next(n for n in names if n.startswith("GRU") and n != gru_p)
    return lstm, gru_h, gru_p


def rnn_name(t: dict[str, Any]) -> str | None:
    """The tanh-RNN arm at the LSTM's total parameter count, or None where the trial has none."""
    return next((n for n in t["arms"] if n.startswith("RNN")), None)


def gated_verdicts(sweep: dict[str, Any], t: dict[str, Any], solved_threshold: float,
                   metric: str = "test MSE", with_regime: bool = False) -> dict[str, P.Verdict]:
    """Claim 6 at equal total parameters: "LSTM beats the tanh RNN" and "GRU beats the tanh RNN"
    (the GRU at the LSTM's count); {} when the trial ran no tanh-RNN arm."""
    rnn = rnn_name(t)
    if rnn is None:
        return {}
    lstm, _, gru_p = arm_names(t)
    sc = scores(sweep, t)
    b = P.Budget(**sweep["budget"])
    return {name: P.verdict(sc, arm, rnn, b, solved_threshold, sweep["higher_is_better"],
                            metric, regime=regime(sweep, t, b) if with_regime else "")
            for name, arm in (("LSTM vs RNN", lstm), ("GRU vs RNN", gru_p))}


def _trial(sweep: dict[str, Any], t: dict[str, Any], budget: P.Budget | None = None) -> P.Trial:
    return P.Trial({a: (lambda: None) for a in t["arms"]}, sweep["lrs"], sweep["seeds"],
                   budget or P.Budget(**sweep["budget"]), sweep["higher_is_better"],
                   sweep["select_seeds"])


def scores(sweep: dict[str, Any], t: dict[str, Any], budget: P.Budget | None = None,
           key: str = "test") -> dict[str, list[float]]:
    """arm -> per-seed ``key`` score at the best validation checkpoint within ``budget``, at the
    learning rate chosen on validation under the sweep's own budget."""
    return P.test_scores(t["records"], t["chosen_lr"], _trial(sweep, t, budget), budget, key)


def regime(sweep: dict[str, Any], t: dict[str, Any], budget: P.Budget | str | None = None) -> str:
    """"CPU (…), 1 thread; LSTM H=24 (3,706 params) vs GRU H=24 (2,842) vs …; T=100; 1,200
    updates; 5 seeds; lr from {…} chosen on validation"."""
    task = t["task"]
    what = {"adding": f"adding problem, T={task.get('T')}", "copy": f"copy task, delay {task.get('T')}",
            "counting": f"aⁿbⁿ trained on n ≤ {task.get('train_n')}",
            "series": f"GOOG daily range, {task.get('window')}-day windows",
            "charlm-size": f"char LM on {task.get('fraction', 0):.0%} of the training topics"}
    b = budget if budget is not None else P.Budget(**sweep["budget"])
    blabel = b.label if isinstance(b, P.Budget) else b
    arms = ", ".join(f"{n} ({a['params']:,} params)" for n, a in t["arms"].items())
    cpu = sweep["machine"].get("cpu_model") or sweep["machine"].get("processor") or "CPU"
    lrs = "{" + ", ".join(f"{x:g}" for x in sweep["lrs"]) + "}"
    return (f"{what[task['task']]}; {arms}; {blabel}; {len(sweep['seeds'])} seeds; lr from {lrs} "
            f"chosen on validation; CPU ({cpu}), one thread")


def brief(sweep: dict[str, Any], t: dict[str, Any]) -> str:
    """"H=24 vs 24 vs 28, T=100, 1,200 updates, 5 seeds, CPU" (a short regime)."""
    task = t["task"]
    where = {"adding": f"T={task.get('T')}", "copy": f"delay {task.get('T')}",
             "counting": f"trained on n ≤ {task.get('train_n')}",
             "series": f"{task.get('window')}-day windows",
             "charlm-size": f"{task.get('fraction', 0):.0%} of the topics"}[task["task"]]
    sizes = " / ".join(f"{a['cell'].upper()} {a['hidden']}" for a in t["arms"].values())
    params = " / ".join(f"{a['params']:,}" for a in t["arms"].values())
    return (f"{sizes} ({params} parameters), {where}, {sweep['budget']['updates']:,} updates, "
            f"{len(sweep['seeds'])} seeds, lr tuned per cell, CPU")


def cell_verdicts(sweep: dict[str, Any], t: dict[str, Any], claim: str = "lstm",
                  solved_threshold: float | None = None, metric: str = "test score",
                  budget: P.Budget | None = None, fmt: str = ".3g",
                  with_regime: bool = False) -> dict[str, P.Verdict]:
    """"equal H" and "equal params": the verdict on "``claim`` (lstm or gru) is better" at equal
    hidden size (LSTM-H vs GRU-H) and at equal total parameters (LSTM-H vs GRU-=params)."""
    lstm, gru_h, gru_p = arm_names(t)
    sc = scores(sweep, t, budget)
    b = budget or P.Budget(**sweep["budget"])
    out = {}
    for name, gru in (("equal H", gru_h), ("equal params", gru_p)):
        a, o = (lstm, gru) if claim == "lstm" else (gru, lstm)
        out[name] = P.verdict(sc, a, o, b, solved_threshold, sweep["higher_is_better"], metric,
                              fmt, regime=regime(sweep, t, b) if with_regime else "")
    return out


def threshold_times(sweep: dict[str, Any], t: dict[str, Any], threshold: float,
                    x: str = "update") -> dict[str, list[float]]:
    """arm -> per-seed first ``x`` (update or seconds) at which the *validation* score reached
    ``threshold``, at the chosen lr; a run that never did is censored at the budget plus one
    evaluation interval (updates) or at twice the longest run's seconds (seconds)."""
    out: dict[str, list[float]] = {}
    most = max(e["seconds"] for r in t["records"] for e in r["evals"])
    for arm, lr in t["chosen_lr"].items():
        vals = []
        for r in sorted((r for r in t["records"] if r["arm"] == arm and r["lr"] == lr),
                        key=lambda r: r["seed"]):
            ev = r["evals"]
            got = P.time_to_threshold([e[x] for e in ev], [e["valid"] for e in ev], threshold,
                                      sweep["higher_is_better"])
            if got is None:
                got = (ev[-1]["update"] + (ev[-1]["update"] - ev[-2]["update"]) if x == "update"
                       else 2 * most)
            vals.append(float(got))
        out[arm] = vals
    return out


def convergence_verdict(sweep: dict[str, Any], t: dict[str, Any], threshold: float,
                        x: str = "update") -> P.Verdict:
    """Claim 5: at equal total parameters the GRU reaches ``threshold`` (validation) sooner, in
    updates or in (noisy, shared-machine) seconds; "not decided" when neither median got there
    within the budget."""
    lstm, _, gru_p = arm_names(t)
    times = threshold_times(sweep, t, threshold, x)
    limit = sweep["budget"]["updates"] if x == "update" else max(
        e["seconds"] for r in t["records"] for e in r["evals"])
    metric = (f"updates until validation ≤ {threshold:.3g}" if x == "update" else
              f"training seconds until validation ≤ {threshold:.3g} (shared machine, noisy)")
    return P.verdict(times, gru_p, lstm, P.Budget(**sweep["budget"]), limit, False, metric,
                     ".4g")


def series_verdicts(sweep: dict[str, Any]) -> dict[str, Any]:
    """The real series: the baseline chosen on validation (lowest validation MSE of mean,
    persistence, EWMA, ridge), each arm against it on test, and LSTM vs GRU."""
    t = sweep["trials"][0]
    base = t["task"]["baselines"]
    best = min(base, key=lambda k: base[k]["valid"])
    sc = scores(sweep, t)
    b = P.Budget(**sweep["budget"])
    vs = {arm: P.versus_baseline(v, base[best]["test"], arm, f"the {best} baseline", b,
                                 metric="test MSE") for arm, v in sc.items()}
    return {"baseline": best, "baselines": base, "versus": vs, "cells": cell_verdicts(
        sweep, t, metric="test MSE"), "beaten": any(v.status == "holds" for v in vs.values())}


def charlm_verdicts(sweep: dict[str, Any]) -> dict[tuple[float, str], dict[str, P.Verdict]]:
    """(fraction, "equal updates" | "equal epochs") -> cell verdicts (LSTM better?) in test
    bits/char. Equal epochs: the full text's epochs within the update cap, the same number of
    passes for the smaller text (:func:`~.charlm_size.epoch_budget`)."""
    from .charlm_size import epoch_budget, epoch_updates

    cap = sweep["budget"]["updates"]
    full = max(t["task"]["fraction"] for t in sweep["trials"])
    tfull = next(t for t in sweep["trials"] if t["task"]["fraction"] == full)
    chars_full = tfull["records"][0]["evals"][-1]["train_chars"]
    epochs = cap / epoch_updates(chars_full)
    out = {}
    for t in sweep["trials"]:
        f = t["task"]["fraction"]
        chars = sorted(r["evals"][-1]["train_chars"] for r in t["records"])[len(t["records"]) // 2]
        first = min(r["evals"][0]["update"] for r in t["records"])  # no earlier checkpoint
        by_epochs = P.Budget(updates=max(first, epoch_budget(epochs, chars).updates or 1))
        for name, budget in (("equal updates", P.Budget(updates=cap)),
                             ("equal epochs", by_epochs)):
            out[f, name] = cell_verdicts(sweep, t, metric="test bits/char", budget=budget,
                                         fmt=".3f")
    return out


def stopped_early(sweep: dict[str, Any], t: dict[str, Any]) -> tuple[int, int]:
    """(runs at the chosen lrs that early stopping ended before the update cap, all such runs):
    a run that reached the cap was still improving — compared at a budget, not at convergence."""
    cap = sweep["budget"]["updates"]
    runs = [r for r in t["records"] if r["lr"] == t["chosen_lr"][r["arm"]]]
    return sum(r["evals"][-1]["update"] < cap for r in runs), len(runs)


def epochs_of(sweep: dict[str, Any]) -> float:
    """Passes over the full training text that the update cap allows (the equal-epochs budget)."""
    from .charlm_size import epoch_updates

    full = max(sweep["trials"], key=lambda t: t["task"]["fraction"])
    return sweep["budget"]["updates"] / epoch_updates(full["records"][0]["evals"][-1]["train_chars"])


def ahead(v: P.Verdict) -> str:
    """Who is ahead in a verdict on "the LSTM is better": "LSTM ahead", "GRU ahead", "no
    difference detected" or "not decided"."""
    return {"holds": "LSTM ahead", "reversed": "GRU ahead"}.get(v.status, v.short)


def summary_line(v: P.Verdict) -> str:
    """"holds", "reversed", … with the two medians and intervals, for a table cell."""
    ivs = "; ".join(f"{k} {i.fmt()}" for k, i in v.intervals.items())
    return f"{v.short} ({ivs})" if ivs else v.short


def chosen_lr_table(sweep: dict[str, Any]) -> list[list[str]]:
    """Rows [task, arm, lr grid, chosen lr, at the grid's edge?] of a sweep."""
    rows = []
    for t in sweep["trials"]:
        task = t["task"]
        what = {k: task[k] for k in ("T", "fraction", "train_n", "window") if k in task}
        for arm, lr in t["chosen_lr"].items():
            edge = "yes" if lr in (min(sweep["lrs"]), max(sweep["lrs"])) else "no"
            rows.append([f"{task['task']} {what}", arm, ", ".join(f"{x:g}" for x in sweep["lrs"]),
                         f"{lr:g}", edge])
    return rows


def finite(v: float) -> bool:
    return v is not None and math.isfinite(v)
