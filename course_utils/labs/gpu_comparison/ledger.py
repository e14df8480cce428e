"""Claims-ledger rows (notebook 08's ledger) from one ``bench`` run: only what the run measured
is judged; the rest reads "not measured"."""

from __future__ import annotations

from typing import Any

from ...lib import counts

MODES = ("inference", "training")
Results = dict[str, Any]


def _where(m: dict[str, Any]) -> str:
    where = (f"{m['gpu']} (torch {m['torch']}, cuDNN {m['cudnn']})" if m["device"] == "cuda"
             else f"CPU {m['cpu']['model']}, {m['cpu']['torch_threads']} thread(s), "
                  f"torch {m['torch']}")
    return where + (", quick grid" if m["quick"] else "")


def _verdict(below_one: Any) -> str:
    return ("supported" if below_one.all() else "mixed" if below_one.any()
            else "not supported")


def _speed_rows(r: Results, where: str) -> list[dict[str, str]]:
    import numpy as np

    rows = []
    for mode in MODES:
        x = np.array([q["time_ratio"] for q in r.get("gru_lstm_ratios", [])
                      if q["mode"] == mode and q["dtype"] == "fp32"])
        if x.size == 0:
            continue
        faster = float((x < 1).mean())
        rows.append({"claim": f"GRU is faster than LSTM ({mode}, fp32)",
                     "verdict": _verdict(x < 1),
                     "evidence": f"GRU/LSTM time median {np.median(x):.2f} (range "
                                 f"{x.min():.2f}-{x.max():.2f}) over {x.size} shapes; GRU faster"
                                 f" on {round(100 * faster)}%; FLOP ratio 0.75",
                     "where": where})
    return rows


def _memory_row(r: Results, where: str) -> dict[str, str]:
    import numpy as np

    claim = "GRU uses less memory than LSTM (training)"
    grid = r.get("grid", [])
    pairs = [(e, o) for e in grid for o in grid
             if e["kind"] == "gru" and o["kind"] == "lstm" and e["peak_mem_mib"] is not None
             and o["peak_mem_mib"] is not None and e["mode"] == o["mode"] == "training"
             and (e["H"], e["B"], e["dtype"]) == (o["H"], o["B"], o["dtype"])]
    if not pairs:
        return {"claim": claim, "verdict": "not measured", "where": where,
                "evidence": "peak memory is recorded on CUDA only "
                            "(torch.cuda.max_memory_allocated)"}
    x = np.array([e["peak_mem_mib"] / o["peak_mem_mib"] for e, o in pairs])
    return {"claim": claim, "verdict": _verdict(x < 1), "where": where,
            "evidence": f"peak-memory ratio GRU/LSTM median {np.median(x):.2f} "
                        f"(range {x.min():.2f}-{x.max():.2f}) over {x.size} shapes"}


def _h100_row(r: Results, where: str) -> dict[str, str]:
    m, lad = r["meta"], r.get("ladder")
    claim = "the course's fast LSTM forward is within 1.5x of cuDNN on an H100"
    if (lad and m["device"] == "cuda" and m["gpu"] and "H100" in m["gpu"] and not m["quick"]
            and "lstm" in lad["fast_forward_ratio_to_torch_nn"]):
        x = lad["fast_forward_ratio_to_torch_nn"]["lstm"]
        return {"claim": claim, "verdict": "supported" if x <= 1.5 else "not supported",
                "evidence": f"fast / cuDNN forward time {x:.2f}x at T={lad['T']}, "
                            f"B={lad['B']}, H={lad['H']}", "where": where}
    return {"claim": claim, "verdict": "not measured", "where": where,
            "evidence": "needs a full run on an H100: python -m course_utils bench --device cuda"}


def ledger_rows(r: Results) -> list[dict[str, str]]:
    """Claims-ledger rows (claim, verdict, evidence, where) from one bench run.

    Verdicts: "supported" / "not supported" / "mixed" (GRU faster on some shapes, slower on
    others) / "not measured". Only what this run measured is judged; the rest says so."""
    where = _where(r["meta"])
    g_gru, g_lstm = counts.gate_blocks("gru"), counts.gate_blocks("lstm")
    flops = {"claim": "GRU needs fewer FLOPs than LSTM", "verdict": "supported",
             "evidence": f"{g_gru} vs {g_lstm} gate blocks per step (GRU: 2 gates + candidate, "
                         f"LSTM: 3 + candidate), GEMM FLOP ratio "
                         f"{g_gru / g_lstm:.2f} at every shape (by count)",
             "where": "any device"}
    return _speed_rows(r, where) + [flops, _memory_row(r, where), _h100_row(r, where)]


def print_ledger(runs: list[tuple[str, Results]]) -> None:
    """Every run's ledger rows as plain text."""
    for label, r in runs:
        print(f"== {label}")
        for row in ledger_rows(r):
            print(f"  [{row['verdict']}] {row['claim']}\n      {row['evidence']}  ({row['where']})")


def gpu_status_lines(gpu_results: list[Results], device: str) -> list[str]:
    """What this notebook can say about GPUs, generated from the committed results (true with
    and without a ``results/gpu_*.json``)."""
    if not gpu_results:
        return ["No GPU result is committed (no results/gpu_*.json): every GPU figure below is "
                "absent and every GPU row of the ledger reads 'not measured'. To make one, on a "
                "machine with an NVIDIA GPU run",
                "    python -m course_utils bench --device cuda",
                "and commit the file it writes (results/gpu_<name>_full.json). Until then this "
                f"notebook shows only what it measures live on this device: {device}."]
    lines = []
    for r in gpu_results:
        m = r["meta"]
        lines.append(f"committed GPU result: {m['gpu']}, torch {m['torch']}, CUDA {m['cuda']}, "
                     f"cuDNN {m['cudnn']}, {m['date'][:10]}"
                     + (" (quick grid)" if m["quick"] else " (full grid)"))
    return lines
