"""Notebook 10's figures and tables: the attention map, learning curves per update and per
second (median over seeds with the range), and the accuracy table with bootstrap intervals."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ...lib import protocol as P
from . import trial as TL

COLOURS = {"GRU": "tab:blue", "LSTM": "tab:orange", "GRU+attn": "tab:green",
           "LSTM+attn": "tab:red", "Transformer": "tab:purple"}


def attention_map(weights: np.ndarray, source: str, output: str, title: str, ax: Any = None) -> Any:
    """Heat map of attention weights (output steps × source characters); tick labels are the
    characters ("␣" for a space, "</s>" for the end token); a colour bar says the weight."""
    import matplotlib.pyplot as plt

    w = np.asarray(weights, dtype=float)
    if w.shape != (len(output) + 1, len(source)) and w.shape != (len(output), len(source)):
        raise ValueError(f"weights {w.shape} do not match output {len(output)} (+ end) × source "
                         f"{len(source)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(0.32 * len(source) + 2.5, 0.32 * w.shape[0] + 1.6))
    im = ax.imshow(w, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(source)), [c if c != " " else "␣" for c in source])
    rows = list(output) + (["</s>"] if w.shape[0] == len(output) + 1 else [])
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel("input character (source position)")
    ax.set_ylabel("output character (decoder step)")
    ax.set_title(title)
    ax.figure.colorbar(im, ax=ax, label="attention weight (each row sums to 1)")
    return ax


def curves(result: dict[str, Any], x: str = "update", key: str = "valid", ax: Any = None) -> Any:
    """Validation (or test / longer) exact match against updates or training seconds: the median
    over seeds at the chosen learning rate, shaded between the lowest and highest seed."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4))
    for arm, lr in result["chosen_lr"].items():
        runs = [r for r in result["records"] if r["arm"] == arm and r["lr"] == lr]
        ys = np.array([[e[key] for e in r["evals"]] for r in runs])
        if x == "update":
            xs = np.array([e["update"] for e in runs[0]["evals"]], dtype=float)
        else:  # seconds differ per seed: use the median seconds at each evaluation
            xs = np.median(np.array([[e["seconds"] for e in r["evals"]] for r in runs]), 0)
        c = COLOURS.get(arm)
        ax.plot(xs, np.median(ys, 0), color=c, label=f"{arm} (lr {lr:g}), median of {len(runs)}")
        ax.fill_between(xs, ys.min(0), ys.max(0), color=c, alpha=0.15)
    ax.set_xlabel("parameter updates" if x == "update" else "training seconds (median over seeds; "
                  "one thread, shared machine)")
    ax.set_ylabel(f"{'validation' if key == 'valid' else key} exact match (fraction)")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, title="median over seeds; band: min–max", title_fontsize=8)
    return ax


def accuracy_table(result: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """(headers, rows): per arm the parameter count, chosen lr, and the median [95 % bootstrap
    interval] of exact match on the test split and on the longer-input split."""
    test, longer = TL.scores(result, "test"), TL.scores(result, "longer")
    rows = []
    for arm, meta in result["arms"].items():
        lr = result["chosen_lr"][arm]
        edge = " (grid's edge)" if lr in (min(result["lrs"]), max(result["lrs"])) else ""
        rows.append([arm, f"{meta['params']:,}", f"{lr:g}{edge}",
                     P.median_interval(test[arm]).fmt(".3f"),
                     P.median_interval(longer[arm]).fmt(".3f")])
    n = len(next(iter(test.values())))
    return (["model", "parameters", "lr (chosen on validation)",
             f"test exact match, median [95 % CI], {n} seeds",
             f"longer inputs exact match, median [95 % CI], {n} seeds"], rows)


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(out)
