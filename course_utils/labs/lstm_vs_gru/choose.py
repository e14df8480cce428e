"""The sources' LSTM-vs-GRU comparison table, rebuilt with a measured value in every cell, and
"when to choose which": recommendations that each cite a ledger row and the regime it holds in.

Both read :class:`.ledger.Evidence` and the ledger rows of :func:`.sources.claims_ledger`, so
they change with the measurements; nothing here is typed in by hand but the wording.

References: Chung et al. (2014); Greff et al. (2017), "LSTM: a search space odyssey" (the
learning rate mattered more than the variant); Weiss, Goldberg & Yahav (2018).
"""

from __future__ import annotations

from typing import Any

from ...lib import counts
from .ledger import Evidence
from .speed import speed_ratios

COMPARISON_HEADERS = ["", "LSTM", "GRU", "measured here by"]


def _rng(v: list[float]) -> str:
    lo, hi = f"{min(v):.2f}", f"{max(v):.2f}"
    return lo if lo == hi else f"{lo}–{hi}"


def _structure(I: int, H: int) -> dict[str, dict[str, Any]]:
    """Gate blocks and returned state of ``nn.LSTM(I, H)`` and ``nn.GRU(I, H)``, measured."""
    import torch

    torch.manual_seed(0)
    x = torch.randn(5, 3, I)  # (T, B, I)
    out = {}
    for kind, cls in (("lstm", torch.nn.LSTM), ("gru", torch.nn.GRU)):
        m = cls(I, H)
        _, state = m(x)
        cell = isinstance(state, tuple) and not torch.allclose(state[0], state[1])
        out[kind] = {"blocks": m.weight_ih_l0.shape[0] // H, "cell": cell,
                     "params": sum(p.numel() for p in m.parameters())}
    return out


def comparison_table(ev: Evidence, I: int = 2) -> list[list[str]]:
    """Rows of the sources' table (gates, memory cell, parameters, computational cost,
    expressive flexibility), every cell from a measurement; headers :data:`COMPARISON_HEADERS`."""
    H = ev.h_lstm
    s = _structure(I, H)
    lf, gf = (counts.step_flops(k, 1, I, H)["total"] for k in ("lstm", "gru"))
    on, off = speed_ratios(ev.speed)
    rows = [["gate blocks", f"{s['lstm']['blocks']}: 3 gates (i, f, o) + candidate g",
             f"{s['gru']['blocks']}: 2 gates (r, z) + candidate n",
             "rows of `weight_ih_l0` ÷ H"],
            ["separate memory cell", "yes: returns (h, c), c ≠ h" if s["lstm"]["cell"] else "no",
             "yes" if s["gru"]["cell"] else "no: returns h only, h is the memory",
             "the state `nn.LSTM` / `nn.GRU` return"],
            [f"parameters (I={I}, H={H})", f"{s['lstm']['params']}",
             f"{s['gru']['params']} (×{s['gru']['params'] / s['lstm']['params']:.2f}); "
             f"H={ev.h_gru} for equal count", "counting the modules' tensors"],
            ["computational cost", f"{lf} FLOPs / step / sequence; time ×1",
             f"{gf} FLOPs (×{gf / lf:.2f}); time ×{_rng(on)} on PyTorch's CPU default, "
             f"×{_rng(off)} on the same backend", "`counts.step_flops`; the live speed table"]]
    if ev.memory:
        mem = [r["gru"] / r["lstm_mkldnn"] for r in ev.memory]
        same = [r["gru"] / r["lstm_native"] for r in ev.memory]
        rows.append(["activation memory (training)", "×1",
                     f"×{_rng(mem)} (CPU default), ×{_rng(same)} (same backend)",
                     "bytes saved for backward"])
    if ev.counting:
        c = ev.counting
        lim = {k: ", ".join(map(str, v["limit"])) for k, v in c.items()}
        n = next(iter(c.values()))["train_n"]
        rows.append(["expressive flexibility (counting)",
                     "; ".join(f"{k}: n = {v}" for k, v in lim.items() if k.startswith("LSTM")),
                     "; ".join(f"{k}: n = {v}" for k, v in lim.items() if k.startswith("GRU")),
                     f"largest n of aⁿbⁿ counted per seed, trained on n ≤ {n}"])
    else:
        rows.append(["expressive flexibility (counting)", "not measured yet", "not measured yet",
                     "the counting sweep (claim 9)"])
    return rows


def _v(ledger: list[list[str]], n: int) -> str:
    """The verdict of ledger row ``n`` (its number before " · ")."""
    return next(r[2] for r in ledger if r[0].split(" · ")[0] == str(n))


def when_to_choose(ev: Evidence, ledger: list[list[str]], cpu: str) -> list[str]:
    """Markdown bullets: what to choose, the ledger row it rests on, the regime it holds in."""
    Ts = ", ".join(map(str, ev.T_values))
    adding = f"adding problem, T = {Ts}, H = {ev.h_lstm} / {ev.h_gru}, 700 updates, 3 seeds"
    speed_regime = (f"{cpu}, 1 thread, T = 50, B = 32–64, H = "
                    + ", ".join(str(r["H"]) for r in ev.speed))
    v2, v4, v6, v8, v9, v10 = (_v(ledger, n) for n in (2, 4, 6, 8, 9, 10))
    v2 = v2.removesuffix(" (GPU: see notebook 11)")
    c0 = next(iter(ev.counting.values())) if ev.counting else {}
    out = [f"**Any gated cell over a tanh RNN** once dependencies span more than a few steps — "
           f"row 6: {v6} ({adding})." if v6.startswith("holds") else
           f"**Gated vs tanh RNN**: row 6 did not separate them here ({adding})."]
    if v4.startswith("does not hold"):
        out.append(f"**Few updates, long dependencies: the GRU** — rows 4 and 5: it learned "
                   f"sooner ({adding}); row 4's 2000-update runs show the LSTM catching up at "
                   "T = 50, so a larger budget narrows the gap.")
    else:
        out.append(f"**Long dependencies**: row 4 reads \"{v4}\" ({adding}).")
    out.append("**Training time on a CPU with PyTorch: "
               + ("the LSTM** — row 2: " if v2.startswith("does not hold") else
                  "the GRU** — row 2: " if v2.startswith("holds") else "measure your size** — "
                  "row 2: ") + f"{v2} ({speed_regime}).")
    out.append(f"**Memory-bound, equal hidden size: the GRU's weights are 3/4** (row 1, any "
               f"device); activations — row 8: {v8} (CPU, T = 50, B = 32). At equal parameter "
               "count the weights are equal by construction.")
    out.append(("**Counting or nesting (unbounded structure): the LSTM** — row 9: " if
                v9.startswith("holds") else "**Counting (unbounded structure)** — row 9: ")
               + f"{v9}" + (f" (aⁿbⁿ trained on n ≤ {c0['train_n']}, {c0['steps']} updates, "
                             f"{', '.join(ev.counting)}, CPU)." if ev.counting else "."))
    if ev.charlm:
        cfg = ev.charlm[0]["config"]
        fr = sorted({r["config"]["fraction"] for r in ev.charlm})
        v10 += (f" (character LM of notebook 07 on {fr[0]:.0%}–{fr[-1]:.0%} of its corpus, "
                f"{cfg['updates']} "
                "updates, CPU); the sources mean models trained to convergence on far larger "
                "corpora, which this budget does not reach")
    out.append(f"**Larger datasets** — row 10: {v10}.")
    out.append("**A short, noisy real series: either** — row 3 (GOOG daily ranges, H = 32, 300 "
               "updates, 2 seeds): the cells were indistinguishable." if "GOOG: indist" in
               _v(ledger, 3) else f"**A short real series** — row 3: {_v(ledger, 3)}.")
    gpu = ("committed GPU results (notebook 11)" if ev.gpu_memory else
           "any GPU (no `results/gpu_*.json` is committed; notebook 11 measures them)")
    out.append(f"**Not measured by this course**: speed and memory on {gpu}; stacked and "
               "bidirectional layers; budgets beyond a few thousand updates and corpora beyond "
               "notebook 07's; hyperparameters tuned per cell (Greff et al. 2017 found the "
               "learning rate mattered more than the LSTM variant); Transformers (row 11).")
    return ["- " + b for b in out]
