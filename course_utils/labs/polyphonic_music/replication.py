"""The committed replication (``results/chorales/replication_cpu.json``) read under the protocol.

    sweep = load_replication()                 # None when not committed
    rows = table(sweep)                        # per recipe and arm: lr, params, NLL medians + CIs
    vs = verdicts(sweep, "adam")               # GRU vs LSTM, gated vs tanh, nets vs baseline
    to = to_threshold(sweep, "adam", 9.0)      # updates and seconds to a validation NLL
    curves(sweep, "adam", x="update")          # median validation NLL per arm

Every score is read at a run's best *validation* checkpoint within the budget, at the learning
rate chosen on validation (seed 0); medians over seeds with bootstrap 95 % intervals
(:mod:`course_utils.lib.protocol`). Reference: Chung et al. (2014), Table 2 (JSB Chorales).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...lib import protocol as P

FILE = "chorales/replication_cpu.json"
MAKE = "python -m course_utils sweep --suite chorales --out results/chorales/replication_cpu.json"
# Chung et al. (2014), arXiv:1412.3555, Table 2 ("average negative log-probabilities"), column
# JSB Chorales, (train, test) in nats per frame, as printed. Offline, only the GRU's test value
# could be cross-checked (Papers with Code lists it, 8.54, under "Results from the Paper").
PAPER = {"tanh": ("8.82", "9.10"), "GRU": ("6.94", "8.54"), "LSTM": ("8.15", "8.67")}
PAPER_SOURCE = ("Chung, Gulcehre, Cho & Bengio 2014, 'Empirical evaluation of gated recurrent "
                "neural networks on sequence modeling', arXiv:1412.3555, Table 2, column JSB "
                "Chorales (train / test, nats per frame; the paper's sizes: tanh 100, GRU 46, "
                "LSTM 36 units, RMSProp, weight noise, norm clipping at 1)")
PAPER_CLAIM = ("gated units (GRU, LSTM) beat the tanh RNN on the music sets; on JSB the GRU is "
               "comparable to or slightly better than the LSTM; the GRU converges faster per "
               "update and per second of CPU time on some sets")


def load_replication() -> dict[str, Any] | None:
    """The committed sweep, or None when there is none."""
    from ...lib import results

    try:
        return results.load_json(FILE)
    except FileNotFoundError:
        return None


def _trial(sweep: dict[str, Any], recipe: str) -> P.Trial:
    return P.Trial({a: (lambda: None) for a in sweep["arms"]}, sweep["lrs"][recipe],
                   sweep["seeds"], P.Budget(**sweep["budget"]), False, sweep["select_seeds"])


def scores(sweep: dict[str, Any], recipe: str, key: str = "test") -> dict[str, list[float]]:
    """arm -> per-seed ``key`` NLL at the best validation checkpoint, chosen learning rate."""
    t = sweep["trials"][recipe]
    return P.test_scores(t["records"], t["chosen_lr"], _trial(sweep, recipe), key=key)


def table(sweep: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per recipe and arm: chosen lr, parameters, and the train / valid / test NLL
    (median [95 % interval] over seeds) at the early-stopped checkpoint."""
    rows = []
    for recipe, t in sweep["trials"].items():
        for arm, meta in sweep["arms"].items():
            row = {"recipe": recipe, "arm": arm, "group": meta["group"], "params": meta["params"],
                   "lr": t["chosen_lr"][arm]}
            for key in ("train", "valid", "test"):
                row[key] = P.median_interval(scores(sweep, recipe, key)[arm])
            rows.append(row)
    return rows


def arm(sweep: dict[str, Any], cell: str, group: str = "paper size") -> str:
    return next(a for a, m in sweep["arms"].items() if m["cell"] == cell and m["group"] == group)


def verdicts(sweep: dict[str, Any], recipe: str) -> dict[str, P.Verdict]:
    """The paper's claims on test NLL under ``recipe``: GRU vs LSTM (paper sizes, and at the
    LSTM's total parameter count), each gated cell vs the tanh RNN, and the best net vs the
    per-key Markov chain."""
    sc = scores(sweep, recipe)
    b = P.Budget(**sweep["budget"])
    base = sweep["baselines"]["per-key Markov chain"]["test"]
    lstm, gru, tanh = (arm(sweep, c) for c in ("lstm", "gru", "rnn"))
    gru_eq, tanh_eq = arm(sweep, "gru", "equal total"), arm(sweep, "rnn", "equal total")
    metric = "test NLL (nats/frame)"
    out = {"GRU vs LSTM (paper sizes)": P.verdict(sc, gru, lstm, b, base, metric=metric),
           "GRU vs LSTM (equal total parameters)": P.verdict(sc, gru_eq, lstm, b, base,
                                                             metric=metric),
           "LSTM vs tanh (paper sizes)": P.verdict(sc, lstm, tanh, b, base, metric=metric),
           "GRU vs tanh (paper sizes)": P.verdict(sc, gru, tanh, b, base, metric=metric),
           "LSTM vs tanh (equal total parameters)": P.verdict(sc, lstm, tanh_eq, b, base,
                                                              metric=metric)}
    best = min(sc, key=lambda a: float(np.median(sc[a])))
    out[f"{best} vs Markov chain"] = P.versus_baseline(sc[best], base, best,
                                                       "the per-key Markov chain", b,
                                                       metric=metric)
    return out


def runs(sweep: dict[str, Any], recipe: str, mkldnn: bool = True) -> dict[str, list[dict]]:
    """arm -> its runs at the chosen learning rate (one per seed), oneDNN on (the trials) or off
    (the ``mkldnn_off`` runs: paper-size LSTM and GRU, Adam)."""
    if not mkldnn:
        off = sweep.get("mkldnn_off") or {"records": []}
        out: dict[str, list[dict]] = {}
        for r in off["records"]:
            out.setdefault(r["arm"], []).append(r)
        return out
    t = sweep["trials"][recipe]
    return {a: sorted((r for r in t["records"] if r["arm"] == a and r["lr"] == lr),
                      key=lambda r: r["seed"]) for a, lr in t["chosen_lr"].items()}


def to_threshold(sweep: dict[str, Any], recipe: str, threshold: float,
                 mkldnn: bool = True) -> dict[str, dict[str, Any]]:
    """arm -> updates and seconds until the validation NLL first reaches ``threshold`` (per seed;
    None when not within the budget), medians over the seeds that got there."""
    out = {}
    for a, rs in runs(sweep, recipe, mkldnn).items():
        ups = [P.time_to_threshold([e["update"] for e in r["evals"]],
                                   [e["valid"] for e in r["evals"]], threshold) for r in rs]
        secs = [P.time_to_threshold([e["seconds"] for e in r["evals"]],
                                    [e["valid"] for e in r["evals"]], threshold) for r in rs]
        got = [u for u in ups if u is not None]
        gs = [s for s in secs if s is not None]
        # censored: a seed that never got there counts as the whole budget (updates or seconds)
        cu = [u if u is not None else r["evals"][-1]["update"] for u, r in zip(ups, rs)]
        cs = [x if x is not None else r["evals"][-1]["seconds"] for x, r in zip(secs, rs)]
        out[a] = {"reached": len(got), "seeds": len(rs), "per_seed_updates": cu,
                  "per_seed_seconds": cs,
                  "updates": float(np.median(got)) if got else None,
                  "seconds": float(np.median(gs)) if gs else None,
                  "seconds_per_update": float(np.median([r["evals"][-1]["seconds"]
                                                         / max(1, r["evals"][-1]["update"])
                                                         for r in rs]))}
    return out


def curves(sweep: dict[str, Any], recipe: str, x: str = "update", key: str = "valid",
           mkldnn: bool = True) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """arm -> (x, median over seeds of ``key`` NLL) at the evaluation points; ``x="seconds"``
    uses the median over seeds of the cumulative training seconds at each point."""
    out = {}
    for a, rs in runs(sweep, recipe, mkldnn).items():
        n = min(len(r["evals"]) for r in rs)
        xs = np.median([[e[x] for e in r["evals"][:n]] for r in rs], axis=0)
        ys = np.median([[e[key] if math.isfinite(e[key]) else np.nan for e in r["evals"][:n]]
                        for r in rs], axis=0)
        out[a] = (xs, ys)
    return out


def paper_table(sweep: dict[str, Any], recipe: str) -> list[dict[str, str]]:
    """The paper's Table 2 (JSB column) beside ours at the paper's sizes: train and test NLL,
    medians [95 % intervals] at the early-stopped checkpoint."""
    rows = []
    for cell, name in (("rnn", "tanh"), ("gru", "GRU"), ("lstm", "LSTM")):
        a = arm(sweep, cell)
        tr = P.median_interval(scores(sweep, recipe, "train")[a])
        te = P.median_interval(scores(sweep, recipe, "test")[a])
        rows.append({"cell": name, "units": str(sweep["arms"][a]["hidden"]),
                     "paper train": PAPER[name][0], "paper test": PAPER[name][1],
                     "here train": tr.fmt(".2f"), "here test": te.fmt(".2f")})
    return rows


def _compare(a: dict[str, Any], b: dict[str, Any], key: str) -> str:
    """"A" / "B" when the bootstrap intervals of the per-seed medians of ``key`` separate (lower
    wins), "=" when they overlap, "?" when neither arm reached the threshold in most seeds (a
    censored median says nothing)."""
    if 2 * a["reached"] <= a["seeds"] and 2 * b["reached"] <= b["seeds"]:
        return "?"
    ia, ib = P.median_interval(a[key]), P.median_interval(b[key])
    return "A" if ia.high < ib.low else "B" if ib.high < ia.low else "="


WORDS = {"A": "the GRU is faster", "B": "the LSTM is faster", "=": "no difference detected",
         "?": "not decided: neither reached the threshold in most seeds"}


def findings(sweep: dict[str, Any], thresholds: dict[str, float]) -> list[list[str]]:
    """The paper's claims and what this replication found, one row each: claim, recipe, outcome.
    Outcomes come from the verdicts (test NLL) and from the per-seed updates / seconds to a
    validation NLL of ``thresholds[recipe]`` (a seed that never reached it counts as the whole
    budget)."""
    rows = []
    lstm, gru = arm(sweep, "lstm"), arm(sweep, "gru")
    for recipe in sweep["trials"]:
        v = verdicts(sweep, recipe)
        gated = [v["LSTM vs tanh (paper sizes)"].status, v["GRU vs tanh (paper sizes)"].status]
        rows.append(["gated units (LSTM, GRU) beat the tanh RNN (test NLL)", recipe,
                     "replicates" if gated == ["holds", "holds"] else
                     "reversed here" if gated == ["reversed", "reversed"] else
                     "partly: " + ", ".join(f"{n} {s}" for n, s in zip(("LSTM", "GRU"), gated))])
        g = v["GRU vs LSTM (paper sizes)"].status
        rows.append(["the GRU is comparable to the LSTM (test NLL)", recipe,
                     {"no difference": "consistent: no difference detected",
                      "holds": "the GRU is better here (intervals separate)",
                      "reversed": "the LSTM is better here (intervals separate)",
                      "not decided": "not decided"}[g]])
        th = thresholds[recipe]
        on = to_threshold(sweep, recipe, th)
        rows.append([f"the GRU needs fewer updates (to valid NLL ≤ {th:g})", recipe,
                     WORDS[_compare(on[gru], on[lstm], "per_seed_updates")]])
        rows.append([f"the GRU needs less CPU time (to valid NLL ≤ {th:g}, oneDNN on)", recipe,
                     WORDS[_compare(on[gru], on[lstm], "per_seed_seconds")]])
    off = to_threshold(sweep, "adam", thresholds["adam"], mkldnn=False) \
        if sweep.get("mkldnn_off") and "adam" in thresholds else {}
    if lstm in off and gru in off:
        rows.append([f"the GRU needs less CPU time (to valid NLL ≤ {thresholds['adam']:g}, "
                     "oneDNN off)", "adam", WORDS[_compare(off[gru], off[lstm],
                                                            "per_seed_seconds")]])
    return rows
