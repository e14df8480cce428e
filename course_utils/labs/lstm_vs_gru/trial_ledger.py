"""Notebook 08's claims ledger, comparison table, literature table and "when to choose which",
all rebuilt from the protocol's verdicts (:mod:`.verdicts`) and the live exact measurements
(parameters, activation memory) and the live, noisy timing.

Each ledger row is [claim, verdict, regime]: the verdict's sentence is generated from the data
(:func:`course_utils.lib.protocol.verdict`); the regime names the device, sizes, sequence length,
budget and seeds it was measured in. A training outcome is reported as a training outcome: the
counting row never calls it a property of the function class.

References: Chung, Gulcehre, Cho & Bengio (2014), arXiv:1412.3555; Jozefowicz, Zaremba &
Sutskever (2015), ICML; Greff et al. (2017), IEEE TNNLS 28(10); Britz, Goldie, Luong & Le (2017),
"Massive exploration of neural machine translation architectures", EMNLP; Melis, Dyer & Blunsom
(2018), ICLR; Weiss, Goldberg & Yahav (2018), ACL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...lib import protocol as P
from ...lib import tasks
from . import verdicts as V
from .speed import sides, speed_ratios

LEDGER_HEADERS = ["claim", "verdict (from the data)", "regime"]


@dataclass
class Findings:
    """What the ledger reads: the committed trials (:func:`.verdicts.load_trials`), the live
    speed table, the parameter ratio and the sizes of the exercise, the live memory table."""

    trials: dict[str, dict[str, Any] | None]
    speed: list[dict[str, Any]]
    param_ratio: float
    h_lstm: int
    h_gru: int
    memory: list[dict[str, Any]] | None = None
    gpu_memory: list[dict[str, Any]] = field(default_factory=list)
    cpu: str = "this CPU"

    # the verdicts, computed once
    def adding(self) -> dict[int, dict[str, P.Verdict]]:
        s = self.trials.get("adding")
        return {} if not s else {t["task"]["T"]: V.cell_verdicts(
            s, t, "lstm", tasks.ADDING_BASELINE_MSE / 10, "test MSE") for t in s["trials"]}

    def convergence(self) -> dict[int, dict[str, P.Verdict]]:
        s = self.trials.get("adding")
        return {} if not s else {t["task"]["T"]: {x: V.convergence_verdict(
            s, t, tasks.ADDING_BASELINE_MSE / 2, x) for x in ("update", "seconds")}
            for t in s["trials"]}

    def gated(self) -> dict[int, dict[str, P.Verdict]]:
        """T -> {"LSTM vs RNN", "GRU vs RNN"} at equal total parameters (claim 6); {} when the
        adding trial ran no tanh-RNN arm."""
        s = self.trials.get("adding")
        out = {} if not s else {t["task"]["T"]: V.gated_verdicts(
            s, t, tasks.ADDING_BASELINE_MSE / 10, "test MSE") for t in s["trials"]}
        return {T: v for T, v in out.items() if v}

    def copy(self) -> dict[int, dict[str, P.Verdict]]:
        s = self.trials.get("copy")
        return {} if not s else {t["task"]["T"]: V.cell_verdicts(
            s, t, "lstm", t["task"]["baseline"] / 10, "test cross-entropy") for t in s["trials"]}

    def counting(self) -> dict[str, P.Verdict]:
        s = self.trials.get("counting")
        if not s:
            return {}
        t = s["trials"][0]
        return V.cell_verdicts(s, t, "lstm", t["task"]["train_n"],
                               f"largest n counted (held-out n ≤ {t['task']['test_n']})", fmt=".0f")

    def series(self) -> dict[str, Any]:
        s = self.trials.get("series")
        return V.series_verdicts(s) if s else {}

    def charlm(self) -> dict[tuple[float, str], dict[str, P.Verdict]]:
        s = self.trials.get("charlm-size")
        return V.charlm_verdicts(s) if s else {}


def _say(v: P.Verdict) -> str:
    return v.sentence


def _nd(suite: str) -> list[str]:
    m = V.missing(suite)
    return [m.short, m.sentence]


def claim_params(f: Findings) -> list[str]:
    return ["1 · A GRU has 3/4 of an LSTM's parameters",
            f"holds, exactly: GRU/LSTM = {f.param_ratio:.4f} at equal hidden size (counted); equal "
            f"count needs GRU H={f.h_gru} for LSTM H={f.h_lstm}", "any device (a count)"]


def claim_speed(f: Findings) -> list[str]:
    """Live and noisy: judged with a ±5 % band per size; the prose never quotes it."""
    on, off = speed_ratios(f.speed)
    Hs = [r["H"] for r in f.speed]
    s_on, s_off = sides(on, Hs), sides(off, Hs)
    words = "; ".join(f"{k} at H = {', '.join(map(str, v))}" for k, v in s_on.items() if v)
    words_off = "; ".join(f"{k} at H = {', '.join(map(str, v))}" for k, v in s_off.items() if v)
    return ["2 · A GRU trains faster / is cheaper",
            f"machine-dependent (a live timing on a shared machine, not a protocol trial): with "
            f"PyTorch's defaults the GRU was {words} (GRU/LSTM time {min(on):.2f}–{max(on):.2f}); "
            f"with oneDNN off {words_off} ({min(off):.2f}–{max(off):.2f})",
            f"{f.cpu}, one thread, forward + backward, T = 50, B = 32–64, H = "
            + ", ".join(map(str, Hs)) + "; GPU: the gpu_comparison notebook"]


def claim_accuracy(f: Findings) -> list[str]:
    parts, regimes = [], []
    for T, vs in f.adding().items():
        parts.append(f"adding T={T}: {V.ahead(vs['equal params'])}")
    for T, vs in f.copy().items():
        parts.append(f"copy delay {T}: {V.ahead(vs['equal params'])}")
    c = f.counting()
    if c:
        parts.append(f"counting: {V.ahead(c['equal params'])}")
    s = f.series()
    if s:
        parts.append(f"GOOG series: {V.ahead(s['cells']['equal params'])}")
    for (fr, b), vs in f.charlm().items():
        parts.append(f"char LM {fr:.0%} ({b}): {V.ahead(vs['equal params'])}")
    if not parts:
        return ["3 · Comparable accuracy; differences are task-dependent", *_nd("adding")]
    regimes.append("LSTM vs GRU at equal total parameters, each task's regime in rows 4, 9, 10 "
                   "and §5")
    same = sum("no difference" in p for p in parts)
    head = (f"no difference detected in {same} of {len(parts)} comparisons; the others: "
            if same < len(parts) else "no difference detected in any comparison: ")
    return ["3 · Comparable accuracy; differences are task-dependent",
            head + "; ".join(p for p in parts if "no difference" not in p or same == len(parts)),
            regimes[0]]


def claim_long_range(f: Findings) -> list[str]:
    a = f.adding()
    if not a:
        return ["4 · The LSTM is better on long sequences", *_nd("adding")]
    T = max(a)
    v = a[T]
    s = f.trials["adding"]
    t = next(t for t in s["trials"] if t["task"]["T"] == T)
    missing_T = "" if s.get("complete", True) else (
        f" Longer sequences are not decided: {s.get('incomplete_note', 'the sweep is partial')}.")
    failed = sorted({k for x in v.values() for k, ok in x.solved.items() if not ok})
    if failed:
        missing_T += (f" {' and '.join(failed)} not solving it is a training outcome within this "
                      "budget — a plateau not shown to be a wall (no longer budget was run for "
                      "any cell), not a limit of what the cell can represent.")
    return ["4 · The LSTM is better on long sequences",
            f"at equal H: {v['equal H'].sentence} At equal parameters: "
            f"{v['equal params'].sentence}{missing_T}", V.regime(s, t)]


def claim_equal_params(f: Findings) -> list[str]:
    c = f.convergence()
    if not c:
        return ["5 · At equal parameters a GRU converges faster (Chung et al. 2014)",
                *_nd("adding")]
    s = f.trials["adding"]
    parts = [f"T={T}: in updates {v['update'].short}; in seconds {v['seconds'].short}"
             for T, v in c.items()]
    T = max(c)
    return ["5 · At equal parameters a GRU converges faster (Chung et al. 2014)",
            "; ".join(parts) + f". At T={T}: {c[T]['update'].sentence}",
            V.regime(s, s["trials"][-1]).replace(f"T={T}", "T=" + ", ".join(map(str, c)))
            + "; seconds are noisy on a shared machine"]


def claim_gated(f: Findings) -> list[str]:
    """Claim 6 from the adding trial's tanh-RNN arm (equal total parameters), per T."""
    claim = "6 · Gated units beat a tanh RNN on long-range dependencies"
    g = f.gated()
    if not g:
        return [claim, "not decided here: the adding trial ran no tanh-RNN arm under the "
                "protocol; notebook 02 measures its vanishing gradient", "—"]
    s = f.trials["adding"]
    parts = [f"T={T}: LSTM vs RNN {v['LSTM vs RNN'].short}, GRU vs RNN {v['GRU vs RNN'].short}"
             for T, v in sorted(g.items())]
    T = max(g)
    t = next(t for t in s["trials"] if t["task"]["T"] == T)
    return [claim, "; ".join(parts) + f". At T={T}: {g[T]['LSTM vs RNN'].sentence} "
            f"{g[T]['GRU vs RNN'].sentence}",
            V.regime(s, t).replace(f"T={T}", "T=" + ", ".join(map(str, sorted(g))))]


def claim_forget_bias(f: Findings) -> list[str]:
    return ["7 · The forget-gate bias matters (Gers et al. 2000; Jozefowicz et al. 2015)",
            "not decided here: the earlier runs (one learning rate, 3 seeds, unequal budgets) "
            "were retired and the forget bias was not re-run under the protocol",
            "—"]


def claim_memory(f: Findings) -> list[str]:
    """Exact byte counts, said in plain words: which cell keeps less, on which backend."""
    claim = "8 · A GRU uses less memory"
    if not f.memory:
        return [claim, "not measured (no activation measurement)", "—"]

    def word(ratios: list[float]) -> str:
        lo, hi = min(ratios), max(ratios)
        kind = ("less" if hi < 0.98 else "more" if lo > 1.02 else "about the same")
        span = f"{lo:.2f}" if f"{lo:.2f}" == f"{hi:.2f}" else f"{lo:.2f}–{hi:.2f}"
        return f"{kind} (GRU/LSTM {span})"

    m = f.memory
    on_h = word([r["gru"] / r["lstm_mkldnn"] for r in m])
    on_p = word([r["gru_params"] / r["lstm_mkldnn"] for r in m])
    off_h = word([r["gru"] / r["lstm_native"] for r in m])
    off_p = word([r["gru_params"] / r["lstm_native"] for r in m])
    text = (f"Weights: the GRU has {f.param_ratio:.2f} of the LSTM's at equal hidden size, the "
            f"same at equal parameters. Activations kept for backward, with PyTorch's CPU "
            f"defaults (the LSTM on oneDNN): the GRU keeps {on_h} at equal hidden size and "
            f"{on_p} at equal parameters. On the same backend (oneDNN off): {off_h} at equal "
            f"hidden size and {off_p} at equal parameters — so the saving with the defaults "
            "comes from oneDNN's workspace, not from the cell.")
    gpu = ("" if not f.gpu_memory else " GPU peak memory: " + "; ".join(
        f"{g['gpu']} GRU/LSTM {min(g['ratios']):.2f}–{max(g['ratios']):.2f}" for g in f.gpu_memory))
    sizes = ", ".join(f"LSTM H={r['H']} (GRU {r['H_gru']})" for r in m)
    return [claim, text + gpu, f"CPU, exact byte count: T={m[0]['T']}, B={m[0]['B']}, "
            f"I={m[0]['I']}, {sizes}; GPU: the gpu_comparison notebook"]


def claim_expressive(f: Findings) -> list[str]:
    c = f.counting()
    claim = "9 · The LSTM is more expressive (it can count; Weiss et al. 2018)"
    if not c:
        return [claim, *_nd("counting")]
    s = f.trials["counting"]
    t = s["trials"][0]
    return [claim, "a training outcome, not a proof about the function class: at equal H "
            f"{c['equal H'].sentence} At equal parameters: {c['equal params'].sentence} (Weiss et "
            "al. proved the capability: an LSTM's cell can hold an unbounded count, a GRU's "
            "bounded state cannot, under finite precision.)",
            V.regime(s, t) + f"; checkpoint and lr chosen on n ≤ {t['task']['valid_n']}"]


def claim_data_size(f: Findings) -> list[str]:
    claim = "10 · The LSTM is more accurate on larger datasets"
    c = f.charlm()
    if not c:
        return [claim, *_nd("charlm-size")]
    s = f.trials["charlm-size"]
    parts = [f"{fr:.0%} of the text, {b}: {vs['equal params'].sentence}"
             for (fr, b), vs in sorted(c.items())]
    full = max(fr for fr, _ in c)
    v = c[full, "equal updates"]["equal params"]
    head = ("holds on the full text" if v.status == "holds" else
            "reversed on the full text" if v.status == "reversed" else
            "no difference detected on the full text")
    tfull = next(t for t in s["trials"] if t["task"]["fraction"] == full)
    early, n = V.stopped_early(s, tfull)
    if early < n:
        head += (f" — at a budget, not at convergence: {n - early} of {n} full-text runs were "
                 f"still improving at the {s['budget']['updates']:,}-update cap")
    return [claim, f"{head}. " + " ".join(parts),
            V.regime(s, s["trials"][-1]).replace(f"on {full:.0%} of the training topics",
                                                 "on random topic subsets")
            + f"; early stopping on validation; equal epochs = {V.epochs_of(s):.1f} passes"]


def claim_series(f: Findings) -> list[str]:
    claim = "12 · On a real series, a recurrent net beats the simple baselines"
    s = f.series()
    if not s:
        return [claim, *_nd("series")]
    sw = f.trials["series"]
    best = s["baseline"]
    vs = " ".join(v.sentence for v in s["versus"].values())
    head = (f"a cell beat the {best} baseline" if s["beaten"] else
            f"no cell beat the {best} baseline (the baseline with the lowest validation MSE)")
    return [claim, f"{head}: {vs}", V.regime(sw, sw["trials"][0])]


TRANSFORMERS = ["11 · Transformers replaced both; RNNs still fit small models and time series",
                "stated, not measured (no attention model in the course yet)", "—"]


def claims_ledger(f: Findings) -> list[list[str]]:
    """Rows [claim, verdict, regime] of claims 1-12, each from the data, then the rows measured
    in notebook 10 (``results/attention/*.json``, :mod:`.attention_rows`) from 13 on."""
    from .attention_rows import attention_ledger_rows, transformers_row

    return [claim_params(f), claim_speed(f), claim_accuracy(f), claim_long_range(f),
            claim_equal_params(f), claim_gated(f), claim_forget_bias(f), claim_memory(f),
            claim_expressive(f), claim_data_size(f), transformers_row(13), claim_series(f),
            *attention_ledger_rows(13)]
