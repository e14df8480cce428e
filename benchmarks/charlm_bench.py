"""Benchmark of notebook 07's live LSTM: bits/char on validation after 60 s of training.

    python benchmarks/charlm_bench.py [--seconds 60] [--threads 1] [--lr 1e-2] [--loop reference]
    python benchmarks/charlm_bench.py --seconds 600 --out results/charlm_best_cpu.json   # 10 min
    python benchmarks/charlm_bench.py --seconds 300 --lr 2e-3 --dropout 0.25 --decay cosine \
        --out results/charlm_regularised_cpu.json

Regularisation (notebook 07's "the same model, for longer"): ``--dropout`` on the embedding and
on the LSTM's output (Zaremba et al. 2014; no extra parameters), ``--decay cosine`` (the
learning rate falls to 0 over the budget, Loshchilov & Hutter 2017), and early stopping: the
weights at the lowest validation point are always kept and measured on the whole validation
text ("best"), beside the final weights ("final").

Trains the notebook's model (embedding 64, one nn.LSTM layer of 256, T = 100, B = 64, Adam 1e-2,
clipping at 1) with the ``train_tbptt`` of ``solutions/07_char_language_model.ipynb`` (the
learner's loop, as written in the solution; ``--loop reference`` uses the checker's reference)
for ``--seconds`` of *training* time (validation passes are not counted), then prints one JSON
line: the bits/char on the whole validation text, the updates done, when the validation subset
first reached 2.0 bits/char, the machine and its load average (a shared CPU makes every figure
an upper bound), and the best model of the committed sweep ``results/sweeps/charlm_cpu.json``.
With ``--out`` the same figures, the training curve and two samples (T = 0.5, 1.0) go to a file.
Target (issue 14): <= 2.0 bits/char within 60 s on 2 cores. Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def solution_loop() -> Callable[..., Any]:
    """``train_tbptt`` as defined in the solution notebook (its grader-context cell first)."""
    import nbformat

    nb = nbformat.read(ROOT / "solutions" / "07_char_language_model.ipynb", 4)
    ns: dict[str, Any] = {}
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "code" and ("grader-context" in tags
                                         or cell.source.startswith("def train_tbptt(")):
            exec(compile(cell.source, "<solution cell>", "exec"), ns)  # noqa: S102 - our notebook
    return ns["train_tbptt"]


def best_of_sweep() -> dict[str, Any] | None:
    path = ROOT / "results" / "sweeps" / "charlm_cpu.json"
    if not path.exists():
        return None
    sweep = json.loads(path.read_text())
    best = min(sweep["runs"], key=lambda r: r["final_valid_bits"])
    return {"bits_per_char": best["final_valid_bits"], "config": best["config"],
            "training_seconds": best["history"]["seconds"][-1], "command": sweep["command"]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=60.0, help="training seconds")
    p.add_argument("--updates", type=int, default=None,
                   help="a budget in updates instead of seconds (fair on a shared machine)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (the notebook's 1; on a busy CPU more threads spin-wait)")
    p.add_argument("--loop", choices=("solution", "reference"), default="solution")
    p.add_argument("--lr", type=float, default=1e-2, help="Adam's learning rate (the notebook's)")
    p.add_argument("--dropout", type=float, default=0.0,
                   help="dropout on the embedding and on the LSTM output (training only)")
    p.add_argument("--decay", choices=("none", "cosine"), default="none",
                   help="learning-rate schedule over the budget")
    p.add_argument("--out", help="also write the JSON (with the command) to this file")
    args = p.parse_args(argv)
    import torch

    from course_utils.checks.specs.char_language_model.batches import ref_tbptt_batches
    from course_utils.checks.specs.char_language_model.sampling import ref_next_char_probs
    from course_utils.checks.specs.char_language_model.training import ref_train_tbptt
    from course_utils.labs.char_language_model import char_model, evaluate_bits, fit, generate
    from course_utils.lib.measure import machine_info
    from course_utils.lib.text import corpus_fingerprint, load_corpus

    torch.set_num_threads(args.threads)
    loop = solution_loop() if args.loop == "solution" else ref_train_tbptt
    corpus = load_corpus()
    train_ids, valid_ids = corpus.encode(corpus.train), corpus.encode(corpus.valid)
    x, y = ref_tbptt_batches(train_ids, 64, 100)
    torch.manual_seed(0)
    model = char_model(corpus.vocab_size, "lstm", 64, 256, dropout=args.dropout)
    load_before = os.getloadavg()
    schedule = (lambda f: 0.5 * (1.0 + math.cos(math.pi * f))) if args.decay == "cosine" else None
    budget = ({"updates": args.updates} if args.updates else {"seconds": args.seconds})
    hist = fit(model, loop, x, y, valid_ids, **budget, chunk=10, lr=args.lr,
               max_norm=1.0, valid_chars=20_000, progress=False, lr_schedule=schedule,
               keep_best=True)
    final_bits = evaluate_bits(model, valid_ids)
    final_state = {k: v.clone() for k, v in model.state_dict().items()}
    low = min(range(len(hist.valid_bits)), key=hist.valid_bits.__getitem__)
    model.load_state_dict(hist.best_state)
    best_bits = evaluate_bits(model, valid_ids)
    model.load_state_dict(final_state)
    reached = next(((u, s) for u, s, b in zip(hist.updates, hist.seconds, hist.valid_bits)
                    if b <= 2.0), None)
    out = {"bits_per_char": round(final_bits, 4),
           "best_by_early_stopping": {
               "bits_per_char": round(best_bits, 4), "updates": hist.updates[low],
               "seconds": round(hist.seconds[low], 1),
               "chosen_on": "lowest bits/char on 20 000 validation characters (the curve)"},
           "validation_measures": {
               "bits_per_char": "the whole validation text, final weights",
               "history.valid_bits": "20 000 validation characters sampled evenly, every 10 "
                                     "updates"},
           "training_seconds": round(hist.seconds[-1], 1), "updates": hist.updates[-1],
           "first_at_or_below_2.0_on_20k_valid_chars": (
               {"updates": reached[0], "seconds": round(reached[1], 1)} if reached else None),
           "loop": args.loop, "threads": args.threads, "lr": args.lr,
           "dropout": args.dropout, "decay": args.decay,
           "corpus": corpus_fingerprint(corpus),
           "note": "timings from a CPU shared with other jobs: an upper bound, noisy",
           "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
           "machine": machine_info(), "best_of_committed_sweep": best_of_sweep()}
    print(json.dumps(out))
    if args.out:
        command = "python benchmarks/charlm_bench.py " + " ".join(
            sys.argv[1:] if argv is None else argv)
        samples = {str(t): generate(model, corpus.encode, corpus.decode, ref_next_char_probs,
                                    prompt="The ", n=300, temperature=t, seed=0)
                   for t in (0.5, 1.0)}
        Path(args.out).write_text(json.dumps({"command": command, **out, "samples": samples,
                                              "history": hist.to_dict()}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
