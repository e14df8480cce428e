"""Notebook 10's deployment and "memory that copies" figures and tables, drawn from the result
dicts of ``python -m course_utils sweep --suite attention-deploy | attention-copy`` (or the live
rows of :mod:`.deploy`).

    fig = plot_decode(res)          # per-token latency and memory vs output length
    fig = plot_train(res)           # training time per sequence vs T
    fig = plot_copy(res)            # bits/char per class: lzma, LSTM, Transformer
    display(Markdown(ledger_markdown(res["ledger_rows"])))
"""

from __future__ import annotations

from typing import Any, Sequence

LEDGER_HEADERS = ["claim", "verdict (from the data)", "regime"]   # notebook 08's ledger columns
COLOURS = {"GRU": "tab:green", "LSTM": "tab:blue", "Transformer": "tab:red",
           "LSTM (oneDNN off)": "tab:cyan"}


def _series(rows: Sequence[dict[str, Any]], model: str, x: str, y: str, **match: Any
            ) -> tuple[list[Any], list[float]]:
    pts = sorted((r[x], r[y]) for r in rows if r["model"] == model
                 and all(r[k] == v for k, v in match.items()))
    return [p[0] for p in pts], [p[1] for p in pts]


def plot_decode(res: dict[str, Any], title_suffix: str = "") -> Any:
    """Two panels: per-token latency (median, IQR band) and state/cache bytes per sequence,
    against the output length, log-log, one line per model and batch size."""
    import matplotlib.pyplot as plt

    rows = res["decode"]
    reps = rows[0]["repeats"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for b, style in zip(sorted({r["batch"] for r in rows}), ("-", "--", ":")):
        for model in dict.fromkeys(r["model"] for r in rows):
            xs, med = _series(rows, model, "length", "median_ms", batch=b)
            ax1.plot(xs, med, style, marker="o", ms=3, color=COLOURS.get(model),
                     label=f"{model}, batch {b}")
            if "q1_ms" in rows[0]:
                ax1.fill_between(xs, _series(rows, model, "length", "q1_ms", batch=b)[1],
                                 _series(rows, model, "length", "q3_ms", batch=b)[1],
                                 color=COLOURS.get(model), alpha=0.12)
    b0 = min(r["batch"] for r in rows)
    for model in dict.fromkeys(r["model"] for r in rows):
        xs, by = _series(rows, model, "length", "state_bytes", batch=b0)
        ax2.plot(xs, [v / b0 for v in by], marker="o", ms=3, color=COLOURS.get(model), label=model)
    ax1.set(xscale="log", yscale="log", xlabel="output length n (tokens already generated + 1)",
            ylabel="time to generate token n (ms)",
            title=f"Per-token latency (median of {reps} repeats, band: quartiles){title_suffix}")
    ax2.set(xscale="log", yscale="log", xlabel="output length n (tokens)",
            ylabel="bytes per sequence (float32)",
            title="Memory carried between tokens: cache vs state")
    ax1.legend(fontsize=7)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_train(res: dict[str, Any]) -> Any:
    """Training time (forward + backward) per sequence against T, log-log, one line per model."""
    import matplotlib.pyplot as plt

    rows = res["train"]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for model in dict.fromkeys(r["model"] for r in rows):
        xs, ys = _series(rows, model, "T", "median_ms_per_sequence")
        ax.plot(xs, ys, marker="o", ms=3, color=COLOURS.get(model), label=model,
                ls="--" if "off" in model else "-")
    ax.set(xscale="log", yscale="log", xlabel="sequence length T (steps)",
           ylabel="forward + backward per sequence (ms)",
           title=f"Training cost per sequence (median of {rows[0]['repeats']} repeats, "
                 f"batch {rows[0]['batch']})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_copy(res: dict[str, Any]) -> Any:
    """Grouped bars: bits/char of lzma (given the training text), the LSTM and the Transformer
    on each class of validation characters and on all of them."""
    import matplotlib.pyplot as plt
    import numpy as np

    classes = [c for c in res["lzma"]["per_class"] if res["lzma"]["per_class"][c] is not None]
    labels = [f"{c}\n({100 * res['class_share'][c]:.0f} % of chars)" for c in classes] + ["all"]
    series = {"lzma given train": [res["lzma"]["per_class"][c] for c in classes]
              + [res["lzma"]["total"]]}
    for m, name in (("lstm", "LSTM"), ("transformer", "Transformer")):
        series[name] = ([res["models"][m]["per_class"][c] for c in classes]
                        + [res["models"][m]["bits_per_char"]])
    fig, ax = plt.subplots(figsize=(9, 4))
    x = np.arange(len(labels))
    for k, (name, vals) in enumerate(series.items()):
        ax.bar(x + (k - 1) * 0.27, vals, 0.27, label=name,
               color={"LSTM": "tab:blue", "Transformer": "tab:red"}.get(name, "tab:gray"))
    ax.set_xticks(x, labels, fontsize=8)
    ax.set(ylabel="bits per character (validation)",
           title=f"Who gains on repeated text ({res['budget']['updates']:,} updates, one seed "
                 f"per model; window {res['window']})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def ledger_markdown(rows: Sequence[Sequence[str]]) -> str:
    """Notebook 08's ledger as a Markdown table (pipes in the text escaped)."""
    def esc(s: str) -> str:
        return str(s).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(LEDGER_HEADERS) + " |", "|" + "---|" * len(LEDGER_HEADERS)]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
