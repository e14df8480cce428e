"""The sources' other claims (8-11), the whole ledger, the sources' comparison table rebuilt
from measurements, and "when to choose which".

Claim 8 (memory) is measured live and exactly (:func:`memory_table`, bytes saved for backward);
claim 9 (expressiveness) reads the counting sweep (:mod:`.counting`); claim 10 (larger
datasets) reads notebook 07's data-size sweep; each says "not measured yet" and names the
command while its results file is missing.

References: Weiss, Goldberg & Yahav (2018), ACL; Chung et al. (2014), arXiv:1412.3555;
Greff et al. (2017), IEEE TNNLS 28(10); Vaswani et al. (2017).
"""

from __future__ import annotations

from statistics import fmean as _mean
from typing import Any, Iterable

from ...lib.counts import matched_hidden, param_count
from ...lib.runs import ranges_overlap
from . import ledger as L

MEMORY_SIZES = ((50, 32, 32, 48), (50, 32, 32, 256))  # (T, B, I, H of the LSTM)
COUNTING_CMD = ("python -m course_utils sweep --suite counting "
                "--out results/sweeps/counting_cpu.json")
CHARLM_CMD = "python -m course_utils sweep --suite charlm --out results/sweeps/charlm_cpu.json"


# --------------------------------------------------------------------------- claim 8: memory
def memory_table(sizes: Iterable[tuple[int, int, int, int]] = MEMORY_SIZES) -> list[dict]:
    """Activation bytes saved for backward by one forward pass (:func:`~course_utils.lib.
    memory.rnn_saved_bytes`), per (T, B, I, H): the LSTM with oneDNN on (PyTorch's CPU default)
    and off, the GRU at the same H, and the GRU at the LSTM's parameter count (``H_gru``).
    One torch thread (several threads on a busy CPU wait for each other)."""
    import torch

    from ...lib.measure import onednn, torch_threads
    from ...lib.memory import rnn_saved_bytes as saved

    rows = []
    with torch_threads(1):
        for T, B, I, H in sizes:
            torch.manual_seed(0)
            x = torch.randn(T, B, I)  # (T, B, I)
            Hp = matched_hidden("gru", I, param_count("lstm", I, H))
            lstm, gru, gru_p = torch.nn.LSTM(I, H), torch.nn.GRU(I, H), torch.nn.GRU(I, Hp)
            row: dict[str, Any] = {"T": T, "B": B, "I": I, "H": H, "H_gru": Hp}
            for flag in (True, False):
                with onednn(flag):
                    row[f"lstm_{'mkldnn' if flag else 'native'}"] = saved(lstm, x).bytes
            row["gru"], row["gru_params"] = saved(gru, x).bytes, saved(gru_p, x).bytes
            rows.append(row)
    return rows


def gpu_memory_ratios(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """GRU/LSTM peak-memory ratios (training, same H, B, dtype) of each committed GPU bench
    result: ``{"gpu", "ratios"}``; results without peak memory are left out."""
    out = []
    for r in results:
        g = [e for e in r.get("grid", []) if e["mode"] == "training" and e["peak_mem_mib"]]
        lstm = {(e["H"], e["B"], e["dtype"]): e["peak_mem_mib"] for e in g if e["kind"] == "lstm"}
        ratios = [e["peak_mem_mib"] / lstm[k] for e in g if e["kind"] == "gru"
                  for k in [(e["H"], e["B"], e["dtype"])] if k in lstm]
        if ratios:
            out.append({"gpu": r["meta"]["gpu"], "ratios": ratios})
    return out


def _word(ratios: list[float], tol: float = 0.02) -> str:
    """"less", "more" or "the same" (within ±``tol``) activation memory, from GRU/LSTM ratios."""
    return "/".join(sorted({"less" if x < 1 - tol else "more" if x > 1 + tol else "the same"
                            for x in ratios}))


def _rng(v: list[float]) -> str:
    return f"{min(v):.2f}" if f"{min(v):.2f}" == f"{max(v):.2f}" else f"{min(v):.2f}–{max(v):.2f}"


def claim_memory(ev: L.Evidence) -> list[str]:
    claim = "8 · GRU uses less memory"
    if not ev.memory:
        return [claim, "no activation measurement", "not measured"]
    ratio = {(eq, be): [r["gru" if eq == "H" else "gru_params"]
                        / r["lstm_mkldnn" if be == "on" else "lstm_native"] for r in ev.memory]
             for eq in ("H", "params") for be in ("on", "off")}
    sizes = ", ".join(f"H={r['H']} (GRU {r['H_gru']})" for r in ev.memory)
    r0 = ev.memory[0]
    measure = (f"CPU activation bytes saved for backward, GRU/LSTM, T={r0['T']}, B={r0['B']}, "
               f"I={r0['I']}, LSTM {sizes}: equal H {_rng(ratio['H', 'on'])} with oneDNN on "
               f"(the default), {_rng(ratio['H', 'off'])} off; equal parameters "
               f"{_rng(ratio['params', 'on'])} on, {_rng(ratio['params', 'off'])} off; "
               f"weights {ev.param_ratio:.2f} at equal H, 1 at equal parameters")
    gpu = ("; GPU peak memory: " + "; ".join(
        f"{g['gpu']} {_rng(g['ratios'])}" for g in ev.gpu_memory)
        if ev.gpu_memory else "; GPU: not measured (no results/gpu_*.json committed)")
    w = {k: _word(v) for k, v in ratio.items()}
    head = ("holds" if w["H", "on"] == w["H", "off"] == "less" else
            "holds only with PyTorch's CPU defaults" if w["H", "on"] == "less" else
            "does not hold on CPU")
    verdict = (f"{head}: activation memory, GRU vs LSTM, with oneDNN on (the default) "
               f"{w['H', 'on']} at equal H and {w['params', 'on']} at equal parameters; with "
               f"oneDNN off {w['H', 'off']} and {w['params', 'off']}")
    if w["H", "on"] != w["H", "off"]:
        verdict += (" — the difference is oneDNN's workspace, a property of the backend, "
                    "not the cell")
    return [claim, measure + gpu, verdict]


# --------------------------------------------------------------------------- claim 9: counting
def claim_expressive(ev: L.Evidence) -> list[str]:
    claim = "9 · LSTM is more expressive (it can count; Weiss et al. 2018)"
    c = ev.counting
    if not c:
        return [claim, "aⁿbⁿ counting sweep not loaded", f"not measured yet: run {COUNTING_CMD}"]
    lstm = [k for k in c if k.startswith("LSTM")]
    grus = [k for k in c if k.startswith("GRU")]
    s = c[lstm[0]]
    measure = (f"aⁿbⁿ next-symbol task, trained on n ≤ {s['train_n']} for {s['steps']} updates, "
               f"tested to n = {s['test_n']}; largest n counted per seed: " + "; ".join(
                   f"{k} ({c[k]['params']} params): {', '.join(map(str, c[k]['limit']))}"
                   for k in lstm + grus))
    lim_l, lim_g = ([x for k in ks for x in c[k]["limit"]] for ks in (lstm, grus))
    best_l, best_g = ([x for k in ks for x in c[k]["best"]] for ks in (lstm, grus))
    measure += (f"; best limit at any evaluation: LSTM {min(best_l)}–{max(best_l)}, GRU "
                f"{min(best_g)}–{max(best_g)}")
    beyond = sum(x > s["train_n"] for x in lim_l)
    if min(lim_l) > max(lim_g):
        verdict = (f"holds in this budget: every LSTM seed counted further than every GRU seed; "
                   f"{beyond} of {len(lim_l)} LSTM seeds counted past the training range, "
                   f"no GRU beyond n = {max(lim_g)}")
    elif max(lim_l) <= min(lim_g):
        verdict = "does not hold here: every GRU seed counted at least as far as every LSTM seed"
    else:
        verdict = (f"not resolved in this budget: the final limits overlap (LSTM "
                   f"{min(lim_l)}–{max(lim_l)}, GRU {min(lim_g)}–{max(lim_g)})")
        if min(best_l) > max(best_g):
            verdict += ("; at their best during training every LSTM seed counted further than "
                        "any GRU seed ever did — a hint, not a verdict")
    return [claim, measure, verdict]


# --------------------------------------------------------------------------- claim 10: data size
def charlm_bits(runs: list[dict[str, Any]]) -> dict[tuple[str, float], list[float]]:
    """(cell, data fraction) -> per-seed final validation bits/char of notebook 07's sweep."""
    out: dict[tuple[str, float], list[float]] = {}
    for r in runs:
        out.setdefault((r["config"]["cell"], r["config"]["fraction"]), []).append(
            r["final_valid_bits"])
    return out


def claim_data_size(ev: L.Evidence) -> list[str]:
    claim = "10 · LSTM is more accurate on larger datasets"
    if not ev.charlm:
        return [claim, "notebook 07's data-size sweep (results/sweeps/charlm_cpu.json) not found",
                f"not measured yet: run {CHARLM_CMD}"]
    bits = charlm_bits(ev.charlm)
    fr = sorted({f for _, f in bits})
    cfg = ev.charlm[0]["config"]
    gap = {f: _mean(bits["gru", f]) - _mean(bits["lstm", f]) for f in fr}  # > 0: LSTM better
    seeds = len(bits["lstm", fr[0]])
    measure = (f"char LM (notebook 07), equal parameters, {cfg['updates']} updates, {seeds} "
               "seeds, mean validation bits/char LSTM vs GRU: " + "; ".join(
                   f"{f:.0%} of the text: {_mean(bits['lstm', f]):.3f} vs "
                   f"{_mean(bits['gru', f]):.3f}" for f in fr))
    big = fr[-1]
    apart = not ranges_overlap(bits["lstm", big], bits["gru", big])
    grows = all(gap[a] < gap[b] for a, b in zip(fr, fr[1:]))
    if gap[big] > 0 and apart:
        verdict = ("holds at this budget: the LSTM is ahead on the most data"
                   + (" and its lead grows with the data" if grows else
                      ", but its lead does not grow steadily with the data"))
    elif gap[big] < 0 and apart:
        verdict = "does not hold at this budget: the GRU is ahead on the most data"
    else:
        verdict = "not resolved at this budget: on the most data the seed ranges overlap"
    return [claim, measure, verdict]


# --------------------------------------------------------------------------- the ledger
LEDGER_HEADERS = ["claim", "measurement", "verdict"]
CLAIMS = (L.claim_params, L.claim_speed, L.claim_accuracy, L.claim_long_range,
          L.claim_equal_params, L.claim_gated, L.claim_forget_bias, claim_memory,
          claim_expressive, claim_data_size)
TRANSFORMERS = ["11 · Transformers replaced both; RNNs still fit small models and time series",
                "not measured (no attention baseline here)", "stated, see below"]


def claims_ledger(ev: L.Evidence) -> list[list[str]]:
    """The ledger's rows [claim, measurement, verdict], claims 1-11, each judged from ``ev``."""
    return [claim(ev) for claim in CLAIMS] + [list(TRANSFORMERS)]
