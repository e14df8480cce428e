"""The trial protocol: how the course compares two cells (notebooks 08, 09, 10).

    from course_utils.lib import protocol as P
    trial = P.Trial(arms={"LSTM H=24": lstm_factory, "GRU H=24": gru_factory},
                    lrs=(1e-3, 3e-3, 1e-2), seeds=(0, 1, 2, 3, 4),
                    budget=P.Budget(updates=1200), higher_is_better=False)
    records = P.run_trial(trial, fit)     # fit(make_model, lr, seed, budget) -> list of evals
    chosen = P.choose_lrs(records, trial)  # arm -> lr, by median *validation* score
    scores = P.test_scores(records, chosen, trial)  # arm -> per-seed test score
    v = P.verdict(scores, claim="LSTM H=24", other="GRU H=24", budget=trial.budget,
                  solved_threshold=0.0167, higher_is_better=False, metric="test MSE")
    print(v.sentence)

The rules, each a function below:

- every arm (a cell at a size: a *factory* that builds a fresh model) gets the same learning-rate
  grid, seeds and budget (updates and, separately, seconds);
- a run records evaluations ``{"update", "seconds", "valid", "test"}``; the checkpoint of a run is
  the one with the best **validation** score within the budget (early stopping), the learning
  rate of an arm the one with the best median validation score over its selection seeds; the
  **test** score is read only at the chosen checkpoint of the chosen learning rate;
- a cell's result is the median over seeds with a bootstrap 95 % interval
  (``scipy.stats.bootstrap``, percentile method; Efron & Tibshirani 1993);
- the verdict on "A beats B": *not decided* when no arm solved the task (its median misses the
  solved threshold), *holds* / *reversed* only when the two intervals do not overlap, otherwise
  *no difference detected within <budget>*.

Why a grid per cell: Greff et al. (2017, "LSTM: a search space odyssey") found the learning rate
the most important hyperparameter of an LSTM; Melis, Dyer & Blunsom (2018, "On the state of the
art of evaluation in neural language models") found that careful tuning changed the ranking of
architectures more than the architectures did.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

Eval = dict[str, Any]  # {"update": int, "seconds": float, "valid": float, "test": float, ...}
STATUSES = ("holds", "reversed", "no difference", "not decided")
# The verdict of "A vs B" as an integer (notebook 08's exercise returns one of these).
NOT_DECIDED, NO_DIFFERENCE, A_BETTER, B_BETTER = -1, 0, 1, 2
CODE_WORDS = {NOT_DECIDED: "not decided: no cell solved it", NO_DIFFERENCE: "no difference detected",
              A_BETTER: "A better", B_BETTER: "B better"}


# --------------------------------------------------------------------------- budgets
@dataclass(frozen=True)
class Budget:
    """The same for every arm: parameter updates, and/or seconds of training (noisy on a shared
    machine: the protocol states which one a verdict used)."""

    updates: int | None = None
    seconds: float | None = None

    def __post_init__(self) -> None:
        if self.updates is None and self.seconds is None:
            raise ValueError("a budget needs updates or seconds (or both)")
        if (self.updates is not None and self.updates < 1) or (
                self.seconds is not None and self.seconds <= 0):
            raise ValueError(f"budget must be positive, got {self}")

    def allows(self, ev: Eval) -> bool:
        """Whether an evaluation was taken within the budget."""
        return ((self.updates is None or ev["update"] <= self.updates)
                and (self.seconds is None or ev["seconds"] <= self.seconds))

    @property
    def label(self) -> str:
        """"1,200 updates", "20 s of training" or both."""
        parts = []
        if self.updates is not None:
            parts.append(f"{self.updates:,} updates")
        if self.seconds is not None:
            parts.append(f"{self.seconds:g} s of training")
        return " and ".join(parts)


# --------------------------------------------------------------------------- the trial
@dataclass
class Trial:
    """Arms (name -> model factory), the learning-rate grid, seeds, the budget and the direction
    of the score. ``select_seeds`` (default: all seeds) are the seeds whose validation scores
    choose the learning rate; the other seeds then run only at the chosen rate."""

    arms: Mapping[str, Callable[[], Any]]
    lrs: Sequence[float]
    seeds: Sequence[int]
    budget: Budget
    higher_is_better: bool = False
    select_seeds: Sequence[int] | None = None

    def __post_init__(self) -> None:
        if len(self.arms) < 2:
            raise ValueError("a trial compares at least two arms")
        if len(self.lrs) < 1 or len(set(self.lrs)) != len(self.lrs):
            raise ValueError(f"lrs must be distinct and non-empty, got {self.lrs}")
        if len(set(self.seeds)) != len(self.seeds) or len(self.seeds) < 1:
            raise ValueError(f"seeds must be distinct and non-empty, got {self.seeds}")
        if self.select_seeds is not None and not set(self.select_seeds) <= set(self.seeds):
            raise ValueError("select_seeds must be a subset of seeds")

    @property
    def selection_seeds(self) -> list[int]:
        return list(self.seeds if self.select_seeds is None else self.select_seeds)


Fit = Callable[[Callable[[], Any], float, int, Budget], list[Eval]]


def run_trial(trial: Trial, fit: Fit, progress: bool = False,
              extra: Callable[[str], dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Run every arm: each lr of the grid on the selection seeds, then the remaining seeds at the
    lr chosen on validation. ``fit(factory, lr, seed, budget)`` trains a fresh model and returns
    its evaluations. Returns records ``{"arm", "lr", "seed", "evals", **extra(arm)}``."""
    from tqdm.auto import tqdm

    records: list[dict[str, Any]] = []
    sel, rest = trial.selection_seeds, [s for s in trial.seeds if s not in trial.selection_seeds]
    total = len(trial.arms) * (len(trial.lrs) * len(sel) + len(rest))
    bar = tqdm(total=total, desc="trial", disable=not progress)
    for arm, factory in trial.arms.items():
        mine = []
        for lr in trial.lrs:
            for seed in sel:
                mine.append({"arm": arm, "lr": lr, "seed": seed,
                             "evals": fit(factory, lr, seed, trial.budget),
                             **(extra(arm) if extra else {})})
                bar.update()
        lr = choose_lr(mine, trial.budget, trial.higher_is_better, seeds=sel)
        for seed in rest:
            mine.append({"arm": arm, "lr": lr, "seed": seed,
                         "evals": fit(factory, lr, seed, trial.budget),
                         **(extra(arm) if extra else {})})
            bar.update()
        records += mine
    bar.close()
    return records


# --------------------------------------------------------------------------- selection
def best_checkpoint(evals: Sequence[Eval], budget: Budget | None = None,
                    higher_is_better: bool = False, key: str = "valid") -> Eval:
    """The evaluation with the best ``key`` (validation) score among those within ``budget``;
    ties go to the earliest. Non-finite scores (a diverged run) count as the worst."""
    pool = [e for e in evals if budget is None or budget.allows(e)]
    if not pool:
        raise ValueError(f"no evaluation within the budget {budget.label if budget else ''}")
    worst = -math.inf if higher_is_better else math.inf

    def score(e: Eval) -> float:
        v = float(e[key])
        return v if math.isfinite(v) else worst

    return (max if higher_is_better else min)(pool, key=score)


def choose_lr(records: Sequence[Mapping[str, Any]], budget: Budget | None = None,
              higher_is_better: bool = False, seeds: Iterable[int] | None = None) -> float:
    """The learning rate whose runs (on ``seeds``) have the best median validation score at their
    best checkpoints within ``budget``; ties go to the smaller rate."""
    seeds = None if seeds is None else set(seeds)
    by_lr: dict[float, list[float]] = {}
    for r in records:
        if seeds is None or r["seed"] in seeds:
            ev = best_checkpoint(r["evals"], budget, higher_is_better)
            v = float(ev["valid"])
            by_lr.setdefault(r["lr"], []).append(v if math.isfinite(v) else
                                                 (-math.inf if higher_is_better else math.inf))
    if not by_lr:
        raise ValueError("no runs to choose a learning rate from")
    sign = -1.0 if higher_is_better else 1.0
    return min(sorted(by_lr), key=lambda lr: sign * float(np.median(by_lr[lr])))


def choose_lrs(records: Sequence[Mapping[str, Any]], trial: Trial,
               budget: Budget | None = None) -> dict[str, float]:
    """arm -> learning rate chosen on validation (:func:`choose_lr`) within ``budget`` (default:
    the trial's)."""
    budget = budget or trial.budget
    return {arm: choose_lr([r for r in records if r["arm"] == arm], budget,
                           trial.higher_is_better, trial.selection_seeds) for arm in trial.arms}


def test_scores(records: Sequence[Mapping[str, Any]], chosen: Mapping[str, float], trial: Trial,
                budget: Budget | None = None, key: str = "test") -> dict[str, list[float]]:
    """arm -> per-seed ``key`` score read at each run's best validation checkpoint, for the runs
    at the arm's chosen learning rate (one per seed, in seed order)."""
    budget = budget or trial.budget
    out: dict[str, list[float]] = {}
    for arm, lr in chosen.items():
        runs = sorted((r for r in records if r["arm"] == arm and r["lr"] == lr),
                      key=lambda r: r["seed"])
        out[arm] = [float(best_checkpoint(r["evals"], budget, trial.higher_is_better)[key])
                    for r in runs]
    return out


def time_to_threshold(xs: Sequence[float], ys: Sequence[float], threshold: float,
                      higher_is_better: bool = False) -> float | None:
    """The first x at which y reaches ``threshold`` (≤ it, or ≥ it when higher is better);
    None when it never does within the curve. ``xs`` are updates or seconds."""
    if len(xs) != len(ys):
        raise ValueError(f"xs and ys differ in length: {len(xs)} vs {len(ys)}")
    for x, y in zip(xs, ys):
        if (y >= threshold) if higher_is_better else (y <= threshold):
            return x
    return None


# --------------------------------------------------------------------------- statistics
@dataclass(frozen=True)
class Interval:
    """A median over seeds and its bootstrap 95 % interval."""

    median: float
    low: float
    high: float
    n: int

    def overlaps(self, other: Interval) -> bool:
        return not (self.high < other.low or other.high < self.low)

    def fmt(self, spec: str = ".3g") -> str:
        return f"{self.median:{spec}} [{self.low:{spec}}, {self.high:{spec}}]"


def median_interval(values: Sequence[float], confidence: float = 0.95, n_resamples: int = 4999,
                    seed: int = 0) -> Interval:
    """Median of ``values`` with a percentile-bootstrap ``confidence`` interval
    (``scipy.stats.bootstrap``; fixed ``seed`` so the interval is reproducible). Values must be
    finite: censor runs that never reached a threshold before calling (e.g. to the budget)."""
    from scipy import stats

    v = np.asarray(list(values), dtype=float)
    if v.ndim != 1 or len(v) < 2:
        raise ValueError(f"need at least 2 values (one per seed), got {len(v)}")
    if not np.isfinite(v).all():
        raise ValueError("values must be finite (censor runs that never got there)")
    med = float(np.median(v))
    if np.ptp(v) == 0:
        return Interval(med, med, med, len(v))
    res = stats.bootstrap((v,), np.median, confidence_level=confidence, n_resamples=n_resamples,
                          method="percentile", rng=np.random.default_rng(seed))
    ci = res.confidence_interval
    return Interval(med, float(ci.low), float(ci.high), len(v))


# --------------------------------------------------------------------------- verdicts
@dataclass
class Verdict:
    """The outcome of a claim "``claim`` beats ``other``" and the sentence that says it."""

    status: str  # one of STATUSES
    sentence: str
    intervals: dict[str, Interval] = field(default_factory=dict)
    solved: dict[str, bool] = field(default_factory=dict)
    budget: str = ""

    @property
    def short(self) -> str:
        return {"holds": "holds", "reversed": "reversed", "no difference": "no difference detected",
                "not decided": "not decided"}[self.status]


def solved(values: Sequence[float], threshold: float, higher_is_better: bool = False) -> bool:
    """Whether the median of an arm's per-seed scores reaches the solved threshold."""
    m = float(np.median(np.asarray(list(values), dtype=float)))
    return m >= threshold if higher_is_better else m <= threshold


def verdict(scores: Mapping[str, Sequence[float]], claim: str, other: str, budget: Budget | str,
            solved_threshold: float | None = None, higher_is_better: bool = False,
            metric: str = "test score", fmt: str = ".3g", regime: str = "") -> Verdict:
    """The verdict on "``claim`` beats ``other``" from their per-seed scores.

    - not decided, when ``solved_threshold`` is given and neither arm's median reaches it;
    - holds / reversed, when the bootstrap 95 % intervals of the medians do not overlap;
    - no difference detected within the budget, otherwise.
    The sentence names the metric, the medians with their intervals, the seeds and the budget.
    """
    budget_label = budget.label if isinstance(budget, Budget) else str(budget)
    for arm in (claim, other):
        if arm not in scores:
            raise KeyError(f"no scores for {arm!r}")
    iv = {arm: median_interval(scores[arm]) for arm in (claim, other)}
    ok = {arm: (True if solved_threshold is None
                else solved(scores[arm], solved_threshold, higher_is_better)) for arm in iv}
    where = f" ({regime})" if regime else ""
    nums = (f"{metric}, median [95 % bootstrap interval] over {iv[claim].n} and {iv[other].n} "
            f"seeds: {claim} {iv[claim].fmt(fmt)}, {other} {iv[other].fmt(fmt)}")
    if not any(ok.values()):
        goal = "≥" if higher_is_better else "≤"
        return Verdict("not decided", f"Not decided: no cell solved it within {budget_label}"
                       f"{where} — neither median reached {metric} {goal} {solved_threshold:{fmt}}"
                       f" ({nums}).", iv, ok, budget_label)
    if iv[claim].overlaps(iv[other]):
        return Verdict("no difference", f"No difference detected within {budget_label}{where}: "
                       f"the intervals overlap ({nums}).", iv, ok, budget_label)
    better = claim if (iv[claim].median > iv[other].median) == higher_is_better else other
    worse = other if better == claim else claim
    status = "holds" if better == claim else "reversed"
    word = "higher" if higher_is_better else "lower"
    return Verdict(status, f"{'Holds' if status == 'holds' else 'Reversed'}: {better} has the "
                   f"{word} {metric} within {budget_label}{where}, and the intervals do not "
                   f"overlap ({nums}); {worse} "
                   f"{'also solved it' if ok[worse] else 'did not solve it'}.", iv, ok,
                   budget_label)


def versus_baseline(values: Sequence[float], baseline: float, name: str, baseline_name: str,
                    budget: Budget | str, higher_is_better: bool = False,
                    metric: str = "test score", fmt: str = ".3g", regime: str = "") -> Verdict:
    """Does an arm beat a deterministic baseline (one number, no seeds)? "holds" only when the
    whole interval is on the better side of the baseline, "reversed" when it is on the worse side;
    otherwise no difference detected."""
    budget_label = budget.label if isinstance(budget, Budget) else str(budget)
    iv = median_interval(values)
    where = f" ({regime})" if regime else ""
    nums = (f"{metric}: {name} median {iv.fmt(fmt)} over {iv.n} seeds, {baseline_name} "
            f"{baseline:{fmt}}")
    below, above = iv.high < baseline, iv.low > baseline
    if not (below or above):
        return Verdict("no difference", f"No difference detected between {name} and "
                       f"{baseline_name} within {budget_label}{where} ({nums}).", {name: iv},
                       budget=budget_label)
    beats = below != higher_is_better
    return Verdict("holds" if beats else "reversed",
                   f"{name} {'beats' if beats else 'does not beat'} {baseline_name} within "
                   f"{budget_label}{where}: its whole interval is "
                   f"{'better' if beats else 'worse'} ({nums}).", {name: iv}, budget=budget_label)


def verdict_code(a: Sequence[float], b: Sequence[float], solved_below: float) -> int:
    """The verdict rule on two arms' per-seed losses (lower is better) as a code:
    :data:`NOT_DECIDED` when neither median is ≤ ``solved_below``, :data:`A_BETTER` /
    :data:`B_BETTER` when the bootstrap 95 % intervals of the medians (:func:`median_interval`)
    do not overlap, :data:`NO_DIFFERENCE` otherwise."""
    if not (solved(a, solved_below) or solved(b, solved_below)):
        return NOT_DECIDED
    ia, ib = median_interval(a), median_interval(b)
    if ia.high < ib.low:
        return A_BETTER
    if ib.high < ia.low:
        return B_BETTER
    return NO_DIFFERENCE
