"""Notebook 08's ledger rows measured in notebook 10 (attention): every committed
``results/attention/*.json`` carries ``"ledger_rows"`` ([claim, verdict, regime], generated from
its data by :func:`course_utils.lib.protocol.verdict`); this module lists them, numbered after
08's own claims, or says which command makes them when none exists yet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ...lib import results

PATTERN = "attention/*.json"
# the sweep whose verdicts notebook 08's ledger expects at the least (notebook 10's trial)
DATES_COMMAND = "python -m course_utils sweep --suite dates --out results/attention/dates_cpu.json"
CLAIM = "Transformers replaced both; attention, LSTM vs GRU on seq2seq (notebook 10)"


def attention_files() -> list[Path]:
    """The committed results of notebook 10 (``results/attention/*.json``), sorted by name."""
    return results.matching(PATTERN)


def _rows_of(path: Path) -> tuple[list[list[str]], str | None]:
    """(rows, None) or ([], why not) for one results file."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        return [], f"unreadable ({err.__class__.__name__})"
    rows = data.get("ledger_rows") if isinstance(data, dict) else None
    if not rows:
        cmd = data.get("command", "its sweep") if isinstance(data, dict) else "its sweep"
        return [], f"no ledger rows yet (an unfinished sweep? rerun `{cmd}`)"
    ok = [list(map(str, r)) for r in rows if isinstance(r, (list, tuple)) and len(r) == 3]
    return ok, None if ok else "ledger rows malformed"


def attention_ledger_rows(start: int = 13) -> list[list[str]]:
    """Rows [claim, verdict, regime] of every ``results/attention/*.json``, claims numbered from
    ``start`` (``"13 · …"``); a file without rows gets one row saying why; no file at all gives
    one row "not measured yet" naming the command."""
    files = attention_files()
    if not files:
        return [[f"{start} · {CLAIM}", f"not measured yet (run `{DATES_COMMAND}`)", "—"]]
    out: list[list[str]] = []
    for path in files:
        rows, why = _rows_of(path)
        name = f"results/{path.parent.name}/{path.name}"
        if why:
            out.append([f"{start + len(out)} · {CLAIM}", f"not measured: {name} has {why}", "—"])
        for claim, verdict, regime in rows:
            out.append([f"{start + len(out)} · {claim}", verdict, regime])
    return out


def transformers_row(start: int = 13) -> list[str]:
    """Claim 11 of notebook 08, pointing at the rows measured in notebook 10 when they exist."""
    claim = "11 · Transformers replaced both; RNNs still fit small models and time series"
    rows = attention_ledger_rows(start)
    if len(rows) == 1 and rows[0][1].startswith("not measured yet"):
        return [claim, "stated, not measured here; notebook 10 measures it: "
                f"{rows[0][1]}", "—"]
    return [claim, f"measured in notebook 10 (attention) on a seq2seq task: rows {start}–"
            f"{start + len(rows) - 1} below; time series: row 12", "see those rows"]


def seq2seq_note() -> str:
    """Notebook 10's LSTM-vs-GRU seq2seq verdict for the literature table (Britz et al. 2017's
    row), or why there is none."""
    for claim, verdict, regime in attention_ledger_rows():
        if "LSTM vs GRU" in claim:
            return f"a small seq2seq task (notebook 10): {verdict} ({regime})"
    return "not measured (notebook 10's trial has not been run: `" + DATES_COMMAND + "`)"
