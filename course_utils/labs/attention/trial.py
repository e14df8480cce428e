"""Notebook 10's trial: five encoder–decoders at equal total parameters under the protocol of
:mod:`course_utils.lib.protocol`, and the verdicts (ledger rows) read from its results file.

    python -m course_utils sweep --suite dates --out results/attention/dates_cpu.json

Arms: GRU, LSTM (no attention), GRU+attn, LSTM+attn (additive attention) and a one-layer
Transformer, each sized to the parameter count of LSTM+attn at :data:`HIDDEN`
(:func:`.models.matched`). Learning rate per arm from :data:`LRS` on the validation exact match of
seed 0; then seeds 1–4 at the chosen rate; the checkpoint of every run is its best validation
evaluation within the budget; test and longer-input exact match are read there.
"""

from __future__ import annotations

from typing import Any, Callable

from ...lib import protocol as P
from . import models as M
from . import train as TR

HIDDEN = 48
LRS = (1e-3, 3e-3, 1e-2)
SEEDS = (0, 1, 2, 3, 4)
SELECT = (0,)
UPDATES = 1000
EVAL_EVERY = 125
SOLVED = 0.9  # exact match a median must reach for an arm to have solved a split
RESULTS = "attention/dates_cpu.json"
COMMAND = "python -m course_utils sweep --suite dates --out results/attention/dates_cpu.json"
LEDGER_HEADERS = ["claim", "verdict (from the data)", "regime"]


def arms(data: TR.Data, hidden: int = HIDDEN) -> tuple[dict[str, Callable], dict[str, dict]]:
    """(arm -> factory, arm -> {"size", "ff", "params"}) at equal total parameters."""
    ns, nt = data.sizes
    sizes = M.matched(ns, nt, hidden=hidden)
    return {a: M.factory(a, sizes[a], ns, nt) for a in M.ARMS}, sizes


def make_fit(data: TR.Data, eval_every: int = EVAL_EVERY, progress: bool = False) -> P.Fit:
    def fit(make: Callable, lr: float, seed: int, budget: P.Budget) -> list[dict[str, Any]]:
        return TR.fit_run(make, lr, seed, int(budget.updates), data, eval_every=eval_every,
                          progress=progress, desc=f"{getattr(make, 'arm', '')} lr={lr:g} s={seed}")
    return fit


# --------------------------------------------------------------------------- reading results
def scores(result: dict[str, Any], key: str = "test") -> dict[str, list[float]]:
    """arm -> per-seed ``key`` exact match at the best validation checkpoint, chosen lr."""
    trial = _trial(result)
    return P.test_scores(result["records"], result["chosen_lr"], trial, key=key)


def _trial(result: dict[str, Any]) -> P.Trial:
    return P.Trial({a: (lambda: None) for a in result["arms"]}, result["lrs"], result["seeds"],
                   P.Budget(updates=result["budget"]["updates"]), higher_is_better=True,
                   select_seeds=result["select_seeds"])


def seconds_to(result: dict[str, Any], threshold: float = SOLVED, key: str = "seconds"
               ) -> dict[str, list[float]]:
    """arm -> per-seed training seconds (or updates) until validation exact match first reached
    ``threshold``, censored at the run's total when it never did (chosen lr)."""
    return {arm: [v for v, _ in pairs] for arm, pairs in _reached(result, threshold, key).items()}


def _reached(result: dict[str, Any], threshold: float, key: str
             ) -> dict[str, list[tuple[float, bool]]]:
    out: dict[str, list[tuple[float, bool]]] = {}
    for arm, lr in result["chosen_lr"].items():
        runs = sorted((r for r in result["records"] if r["arm"] == arm and r["lr"] == lr),
                      key=lambda r: r["seed"])
        vals = []
        for r in runs:
            xs, ys = [e[key] for e in r["evals"]], [e["valid"] for e in r["evals"]]
            t = P.time_to_threshold(xs, ys, threshold, higher_is_better=True)
            vals.append((float(xs[-1] if t is None else t), t is not None))
        out[arm] = vals
    return out


def speed_verdict(result: dict[str, Any], claim: str, other: str, key: str = "seconds",
                  threshold: float = SOLVED) -> P.Verdict:
    """"``claim`` reaches ``threshold`` validation exact match in fewer seconds (or updates)".

    Per-seed times, a run that never got there counted as its total (a lower bound, so the rule
    stays conservative); the protocol's interval rule decides; not decided when neither arm's
    median run got there (a censored median is a bound, not a time). The sentence says how many
    seeds of each arm got there."""
    reached = _reached(result, threshold, key)
    b = P.Budget(updates=result["budget"]["updates"])
    unit = "training seconds" if key == "seconds" else "updates"
    metric = f"{unit} to {threshold:.0%} validation exact match"
    vals = {a: [v for v, _ in reached[a]] for a in (claim, other)}
    got = {a: sum(ok for _, ok in reached[a]) for a in (claim, other)}
    n = {a: len(reached[a]) for a in (claim, other)}
    counts = (f"{claim} got there in {got[claim]} of {n[claim]} seeds, {other} in {got[other]} "
              f"of {n[other]}; a run that never did counts as its total")
    iv = {a: P.median_interval(vals[a]) for a in (claim, other)}
    nums = f"{metric}, median [95 % bootstrap interval]: " + ", ".join(
        f"{a} {iv[a].fmt('.4g')}" for a in (claim, other))
    if all(2 * got[a] <= n[a] for a in (claim, other)):
        return P.Verdict("not decided", f"Not decided ({unit}): neither median run reached "
                         f"{threshold:.0%} validation exact match within {b.label} ({counts}).",
                         iv, {claim: False, other: False}, b.label)
    if iv[claim].overlaps(iv[other]):
        return P.Verdict("no difference", f"No difference detected in {unit} within {b.label}: "
                         f"the intervals overlap ({nums}; {counts}).", iv, budget=b.label)
    faster = claim if iv[claim].median < iv[other].median else other
    status = "holds" if faster == claim else "reversed"
    return P.Verdict(status, f"{'Holds' if status == 'holds' else 'Reversed'}: {faster} needs "
                     f"fewer {unit} within {b.label}, and the intervals do not overlap ({nums}; "
                     f"{counts}).", iv, budget=b.label)


def regime(result: dict[str, Any]) -> str:
    p = sorted({a["params"] for a in result["arms"].values()})
    t = result["task"]
    return (f"dates → ISO (char level, held-out dates), inputs ≤ {t['max_train_len']} characters "
            f"(longer split: {t['longer_lengths'][0]}–{t['longer_lengths'][1]}); "
            f"{p[0]:,}–{p[-1]:,} parameters per model; {result['budget']['updates']:,} updates of "
            f"batch {result['batch']}; lr per model from {', '.join(map(str, result['lrs']))} on "
            f"validation; {len(result['seeds'])} seeds; Transformer 1+1 layers, post-norm, no "
            f"warm-up; CPU, one thread ({result['file']})")


def ledger_rows(result: dict[str, Any] | None) -> list[list[str]]:
    """[claim, verdict, regime] rows, each verdict from :func:`course_utils.lib.protocol.verdict`
    on the committed results (or "not measured yet" naming the command)."""
    claims = ["Attention helps a recurrent encoder–decoder (Bahdanau et al. 2015)",
              "Attention helps on inputs longer than any seen in training",
              "Transformers replaced both: at equal parameters a Transformer beats a gated RNN "
              "with attention",
              "LSTM vs GRU on a seq2seq task",
              "A Transformer learns faster (per update, and per second: parallel over time)"]
    if result is None:
        return [[c, f"not measured yet (run `{COMMAND}`)", "—"] for c in claims]
    b = P.Budget(updates=result["budget"]["updates"])
    reg = regime(result)
    test, longer = scores(result, "test"), scores(result, "longer")

    def v(sc: dict, a: str, o: str, metric: str) -> P.Verdict:
        return P.verdict(sc, a, o, b, SOLVED, True, metric, fmt=".3f")

    ti, lo = "test exact match", "longer-input exact match"
    rows = []
    both = [v(test, f"{c}+attn", c, ti) for c in ("GRU", "LSTM")]
    rows.append([claims[0], _join(both), reg])
    both = [v(longer, f"{c}+attn", c, lo) for c in ("GRU", "LSTM")]
    rows.append([claims[1], _join(both), reg])
    tr = [v(test, "Transformer", c, ti) for c in ("GRU+attn", "LSTM+attn")]
    tr += [v(longer, "Transformer", c, lo) for c in ("GRU+attn", "LSTM+attn")]
    rows.append([claims[2], _join(tr), reg])
    lg = [v(test, "LSTM+attn", "GRU+attn", ti), v(test, "LSTM", "GRU", ti)]
    rows.append([claims[3], _join(lg), reg])
    sp = [speed_verdict(result, "Transformer", c, key) for c in ("GRU+attn", "LSTM+attn")
          for key in ("update", "seconds")]
    rows.append([claims[4], _join(sp), reg + "; seconds on a shared machine (noisy)"])
    return rows


def _join(vs: list[P.Verdict]) -> str:
    return " ".join(f"[{x.short}] {x.sentence}" for x in vs)


def load(name: str = RESULTS, complete: bool = True) -> dict[str, Any] | None:
    """The committed results (with ``"file"`` set), or None when the sweep has not been run (or,
    with ``complete``, has not finished every arm)."""
    from ...lib import results

    try:
        out = results.load_json(name)
    except FileNotFoundError:
        return None
    if complete and not out.get("complete"):
        return None
    out["file"] = f"results/{name}"
    return out
