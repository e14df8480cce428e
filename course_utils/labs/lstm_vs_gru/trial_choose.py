"""The sources' comparison table, the literature beside the course's verdicts, and "when to
choose which" — each generated from :class:`.trial_ledger.Findings`, each line with its regime.

References: see :mod:`.trial_ledger`.
"""

from __future__ import annotations

from typing import Any

from ...lib import counts
from . import verdicts as V
from .choose import _structure
from .speed import speed_ratios
from .trial_ledger import Findings

COMPARISON_HEADERS = ["", "LSTM", "GRU", "measured here by (regime)"]
LITERATURE_HEADERS = ["study", "task", "what it found", "this course (regime)"]

# (study, task, finding, which course verdict to set beside it)
LITERATURE = [
    ("Chung et al. 2014", "polyphonic music (4 sets), Ubisoft speech (2 sets); ~equal parameters",
     "gated units beat the tanh RNN; the GRU ahead on most music sets, the LSTM better on one "
     "speech set; the authors \"could not make concrete conclusion\" on LSTM vs GRU", "accuracy"),
    ("Jozefowicz et al. 2015", "arithmetic, XML modelling, Penn Treebank LM, music; 10,000 "
     "architectures searched", "the GRU beat the LSTM on most tasks except language modelling, "
     "where the LSTM was ahead; an LSTM with forget bias 1 closed most of the gap", "data size"),
    ("Greff et al. 2017", "speech (TIMIT), handwriting (IAM), music (JSB); 8 LSTM variants, "
     "random search", "no variant clearly beat the vanilla LSTM; the learning rate was the most "
     "important hyperparameter (coupled input-forget gates, GRU-like, did not hurt)", "lr"),
    ("Britz et al. 2017", "machine translation (WMT En→De), large NMT models",
     "LSTM cells consistently beat GRU cells", "none"),
    ("Melis et al. 2018", "language modelling (PTB, WikiText-2, Hutter), large-scale tuning",
     "with careful hyperparameter tuning a plain LSTM beat newer architectures: tuning mattered "
     "more than the cell", "lr"),
    ("Weiss et al. 2018", "formal languages (aⁿbⁿ, aⁿbⁿcⁿ); finite precision",
     "a property of the function class: an LSTM can count (unbounded cell), a GRU cannot; their "
     "trained LSTMs generalised past the training lengths, their GRUs did not", "counting"),
]


def literature_table(f: Findings) -> list[list[str]]:
    """Rows [study, task, finding, this course's verdict with its regime]."""
    rows = []
    for study, task, finding, which in LITERATURE:
        if which == "accuracy":
            mine = _accuracy(f)
        elif which == "data size":
            c = f.charlm()
            mine = (V.brief(f.trials["charlm-size"], f.trials["charlm-size"]["trials"][-1])
                    .replace("100% of the topics", "random topic subsets") + ": " + "; ".join(
                f"{fr:.0%} {b}: {V.ahead(vs['equal params'])}" for (fr, b), vs in sorted(c.items()))
                if c else "not decided: not run")
        elif which == "counting":
            c = f.counting()
            mine = (f"a training outcome: {V.ahead(c['equal params'])} (LSTM vs GRU at equal "
                    f"parameters; aⁿbⁿ, {V.brief(f.trials['counting'], f.trials['counting']['trials'][0])})"
                    if c else "not decided: not run")
        elif which == "lr":
            mine = _lr_note(f)
        else:
            from .attention_rows import seq2seq_note

            mine = seq2seq_note()
        rows.append([study, task, finding, mine])
    return rows


def _accuracy(f: Findings) -> str:
    a = f.adding()
    parts = [f"adding T={T}: {V.ahead(v['equal params'])}" for T, v in a.items()]
    parts += [f"copy: {V.ahead(v['equal params'])}" for v in f.copy().values()]
    s = f.trials.get("adding")
    where = (f" ({V.brief(s, s['trials'][0]).split(', T=')[0]}, {s['budget']['updates']:,} "
             "updates)" if s else "")
    return "; ".join(parts) + where if parts else "not decided: not run"


def _lr_note(f: Findings) -> str:
    """How often the chosen learning rate differed between the LSTM and the GRU of a task."""
    diff = total = 0
    for s in f.trials.values():
        if not s:
            continue
        for t in s["trials"]:
            lstm, _, gru_p = V.arm_names(t)
            total += 1
            diff += t["chosen_lr"][lstm] != t["chosen_lr"][gru_p]
    return (f"the lr chosen on validation differed between the LSTM and the equal-parameter GRU "
            f"in {diff} of {total} tasks — a single shared lr would have favoured one cell"
            if total else "not run")


def comparison_table(f: Findings, I: int = 2) -> list[list[str]]:
    """The sources' table: gates, memory cell, parameters, cost, accuracy, long sequences,
    expressive flexibility — every cell from a measurement or a protocol verdict."""
    H = f.h_lstm
    s = _structure(I, H)
    lf, gf = (counts.step_flops(k, 1, I, H)["total"] for k in ("lstm", "gru"))
    on, off = speed_ratios(f.speed)
    rng = lambda v: f"{min(v):.2f}–{max(v):.2f}"  # noqa: E731
    rows = [["gate blocks", f"{s['lstm']['blocks']}: 3 gates (i, f, o) + candidate g",
             f"{s['gru']['blocks']}: 2 gates (r, z) + candidate n", "rows of `weight_ih_l0` ÷ H"],
            ["separate memory cell", "yes: returns (h, c)" if s["lstm"]["cell"] else "no",
             "yes" if s["gru"]["cell"] else "no: h is the memory", "the state the modules return"],
            [f"parameters (I={I}, H={H})", f"{s['lstm']['params']}",
             f"{s['gru']['params']} (×{s['gru']['params'] / s['lstm']['params']:.2f})",
             "counting tensors (exact, any device)"],
            ["computational cost", f"{lf} FLOPs / step; time ×1",
             f"{gf} FLOPs (×{gf / lf:.2f}); time ×{rng(on)} on PyTorch's CPU default, ×{rng(off)} "
             "on the same backend", f"FLOP count; live timing ({f.cpu}, noisy)"]]
    a = f.adding()
    if a:
        T = max(a)
        s = f.trials["adding"]
        rows.append([f"accuracy, adding T={T} (equal params)", *_two(a[T]["equal params"]),
                     "protocol trial: " + V.brief(s, s["trials"][-1])])
    g = f.gated()
    if g:
        T = max(g)
        s = f.trials["adding"]
        rows.append([f"vs a tanh RNN, adding T={T} (equal params)",
                     _vs_rnn(g[T]["LSTM vs RNN"]), _vs_rnn(g[T]["GRU vs RNN"]),
                     "protocol trial: " + V.brief(s, s["trials"][-1])])
    c = f.counting()
    if c:
        rows.append(["counting past the training range (equal params)",
                     *_two(c["equal params"]), "protocol trial (a training outcome; Weiss et al. "
                     "2018 prove the capability): " + V.brief(f.trials["counting"],
                                                               f.trials["counting"]["trials"][0])])
    return rows


def _two(v: Any) -> list[str]:
    ivs = list(v.intervals.items())
    lstm = next((i for k, i in ivs if k.startswith("LSTM")), None)
    gru = next((i for k, i in ivs if k.startswith("GRU")), None)
    tail = f" — {v.short}"
    return [f"median {lstm.fmt()}" if lstm else "—", (f"median {gru.fmt()}" if gru else "—") + tail]


def _vs_rnn(v: Any) -> str:
    """"holds: median 1e-4 [...] vs the RNN's 0.17 [...]" for a gated-vs-RNN verdict."""
    (_, mine), (_, rnn) = list(v.intervals.items())
    return f"{v.short}: median {mine.fmt()} vs the RNN's {rnn.fmt()}"


def when_to_choose(f: Findings) -> list[str]:
    """Markdown bullets from the verdicts, each with its regime; the last lists what was not
    measured."""
    out = []
    a, conv = f.adding(), f.convergence()
    if a:
        T = max(a)
        v = a[T]["equal params"]
        who = {"holds": "the LSTM", "reversed": "the GRU"}.get(v.status)
        s = f.trials["adding"]
        t = next(t for t in s["trials"] if t["task"]["task"] == "adding" and t["task"]["T"] == T)
        out.append((f"**Long dependencies within a small budget: {who}**" if who else
                    "**Long dependencies: no winner detected**") + f" — row 4: {V.ahead(v)} "
                   f"(adding problem, {V.brief(s, t)})"
                   + ("; longer T not decided (not run in time)." if not s.get("complete", True)
                      else "."))
    g = f.gated()
    if g:
        T = max(g)
        s = f.trials["adding"]
        t = next(t for t in s["trials"] if t["task"]["T"] == T)
        both = {k: v.status for k, v in g[T].items()}
        head = ("**Long dependencies: a gated cell, not a tanh RNN**"
                if set(both.values()) == {"holds"} else
                "**Long dependencies: a gated cell or a tanh RNN?**")
        out.append(f"{head} — row 6 at T={T}: LSTM vs RNN {g[T]['LSTM vs RNN'].short}, GRU vs "
                   f"RNN {g[T]['GRU vs RNN'].short} (adding problem, {V.brief(s, t)}).")
    if conv:
        T = max(conv)
        v = conv[T]["update"]
        out.append(f"**Fewest updates to a usable model** — row 5: {v.short} for \"the GRU gets "
                   f"there sooner\" at T={T} (updates to half the baseline; seconds depend on the "
                   "backend, row 2).")
    out.append(f"**Training time on a CPU with PyTorch: measure it** — row 2 is a live timing "
               f"on {f.cpu}: the LSTM has a fused oneDNN kernel, the GRU does not.")
    out.append(f"**Memory-bound at equal hidden size: the GRU's weights are {f.param_ratio:.2f}** "
               "of the LSTM's (row 1, exact); activations depend on the backend (row 8).")
    c = f.counting()
    if c:
        v = c["equal params"]
        out.append(("**Counting (unbounded structure): the LSTM** — " if v.status == "holds" else
                    "**Counting** — ") + f"row 9: {v.short} (aⁿbⁿ, "
                   f"{V.brief(f.trials['counting'], f.trials['counting']['trials'][0])}); Weiss "
                   "et al. (2018) prove the LSTM can count and the GRU cannot.")
    ch = f.charlm()
    if ch:
        full = max(fr for fr, _ in ch)
        v = ch[full, "equal updates"]["equal params"]
        s = f.trials["charlm-size"]
        out.append(f"**More text** — row 10: {V.ahead(v)} on the full text (char LM, "
                   f"{V.brief(s, s['trials'][-1])}, early stopping"
                   + ("; the full-text runs were still improving at the cap"
                      if V.stopped_early(s, s["trials"][-1])[0] == 0 else "")
                   + "); Jozefowicz et al. (2015) "
                   "and Melis et al. (2018) found the LSTM ahead on language modelling at "
                   "scale.")
    s = f.series()
    if s:
        out.append("**A short, noisy real series: no recurrent net is needed** — row 12: no cell "
                   f"beat the {s['baseline']} baseline chosen on validation (GOOG daily range)."
                   if not s["beaten"] else
                   f"**A short real series** — row 12: a cell beat the {s['baseline']} baseline.")
    out.append("**Not decided here**: "
               + ("row 7 (forget bias) was" if g else "rows 6 and 7 (tanh RNN, forget bias) were")
               + " not re-run under the protocol; the copy task was not solved by any cell within "
               "the budget; GPUs (the GPU notebook, gpu_comparison); stacked, bidirectional and "
               "large models; Transformers (not yet in the course).")
    return ["- " + b for b in out]
