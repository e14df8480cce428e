"""``python -m course_utils sweep --suite charlm``: notebook 07's sweep on the pydoc_data corpus.

    python -m course_utils sweep --suite charlm --out results/sweeps/charlm_cpu.json
    python -m course_utils sweep --suite charlm --quick --out /tmp/charlm.json      # seconds

A tanh RNN, an LSTM and a GRU at (approximately) equal recurrent-layer parameter count, trained
with the same budget of updates (Adam, clipping, truncated BPTT, state carried across windows)
on 10 %, 30 % and 100 % of the training text, several seeds each; validation bits/char after
every ``chunk`` updates, and the training seconds at each point, so the notebook can compare
the cells in updates and in seconds, and read notebook 08's claim "the LSTM is more accurate
on larger datasets" at this budget. The training loop is the reference of the notebook's
``train_tbptt`` exercise; one torch thread per run (fair, repeatable timings on a shared CPU).

References: Karpathy (2015), char-rnn; Chung, Gulcehre, Cho & Bengio (2014); Jozefowicz,
Zaremba & Sutskever (2015); Williams & Peng (1990), truncated BPTT.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

CELLS = ("rnn", "lstm", "gru")
FRACTIONS = (0.1, 0.3, 1.0)


@dataclass
class CharRun:
    """One run of the sweep (recorded next to its results)."""

    cell: str
    hidden: int
    fraction: float
    seed: int
    embed: int = 32
    updates: int = 300
    batch: int = 32
    seq_len: int = 100
    lr: float = 3e-3
    clip: float = 1.0
    chunk: int = 50


def equal_param_hidden(embed: int, lstm_hidden: int) -> dict[str, int]:
    """Hidden sizes of the three cells at the LSTM's recurrent-layer parameter count."""
    from ..lib.counts import layer_params, matched_hidden

    target = layer_params("lstm", embed, lstm_hidden)
    return {"lstm": lstm_hidden, "gru": matched_hidden("gru", embed, target),
            "rnn": matched_hidden("rnn", embed, target)}


def plan(fractions: tuple[float, ...] = FRACTIONS, seeds: tuple[int, ...] = (0, 1, 2),
         lstm_hidden: int = 128, embed: int = 32, updates: int = 300,
         chunk: int = 50) -> list[CharRun]:
    sizes = equal_param_hidden(embed, lstm_hidden)
    return [CharRun(cell, sizes[cell], f, s, embed=embed, updates=updates, chunk=chunk)
            for f in fractions for s in seeds for cell in CELLS]


def run_one(cfg: CharRun, valid_chars: int | None = None) -> dict[str, Any]:
    """Train one model; returns its config, parameter count, history and final bits/char."""
    import torch

    from ..checks.specs.char_language_model.batches import ref_tbptt_batches
    from ..checks.specs.char_language_model.training import ref_train_tbptt
    from ..labs.char_language_model import char_model, count_params, evaluate_bits, fit
    from ..lib.text import load_corpus

    corpus = load_corpus(fraction=cfg.fraction)
    train_ids, valid_ids = corpus.encode(corpus.train), corpus.encode(corpus.valid)
    x, y = ref_tbptt_batches(train_ids, cfg.batch, cfg.seq_len)
    torch.manual_seed(cfg.seed)
    model = char_model(corpus.vocab_size, cfg.cell, cfg.embed, cfg.hidden)
    hist = fit(model, ref_train_tbptt, x, y, valid_ids, updates=cfg.updates, chunk=cfg.chunk,
               lr=cfg.lr, max_norm=cfg.clip, valid_chars=valid_chars, progress=False)
    return {"config": asdict(cfg), "params": count_params(model), "train_chars": len(train_ids),
            "history": hist.to_dict(),
            "final_valid_bits": round(evaluate_bits(model, valid_ids), 4)}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(prog="python -m course_utils sweep --suite charlm",
                                description="Notebook 07's char-LM sweep: cells x data size.")
    p.add_argument("--out", required=True, help="JSON file (e.g. results/sweeps/charlm_cpu.json)")
    p.add_argument("--quick", action="store_true", help="smoke test: tiny models, 6 updates")
    p.add_argument("--updates", type=int, default=300, help="parameter updates per run")
    p.add_argument("--seeds", type=int, default=2, help="seeds 0..N-1")
    p.add_argument("--hidden", type=int, default=128, help="the LSTM's hidden size")
    p.add_argument("--fractions", type=float, nargs="+", default=list(FRACTIONS))
    p.add_argument("--valid-chars", type=int, default=20_000,
                   help="validation characters read during training (the final figure reads all)")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    import torch
    from tqdm.auto import tqdm

    from ..lib.measure import machine_info

    torch.set_num_threads(1)
    if args.quick:
        items = plan((0.1,), (0,), lstm_hidden=8, embed=4, updates=6, chunk=3)
    else:
        items = plan(tuple(args.fractions), tuple(range(args.seeds)), lstm_hidden=args.hidden,
                     updates=args.updates)
    start = time.perf_counter()
    runs = [run_one(cfg, valid_chars=2000 if args.quick else args.valid_chars)
            for cfg in tqdm(items, desc="charlm sweep", disable=args.no_progress)]
    result = {"command": "python -m course_utils sweep --suite charlm " + " ".join(argv),
              "machine": machine_info(), "wall_seconds": round(time.perf_counter() - start, 1),
              "note": "one torch thread per run, niced, on a CPU shared with other jobs: seconds "
                      "(training only, no evaluation) are upper bounds; the budget (updates, "
                      "seeds) was sized to finish on that loaded machine",
              "runs": runs}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, separators=(",", ":")) + "\n")
    print(f"wrote {out}: {len(runs)} runs in {result['wall_seconds']} s")
    return 0
