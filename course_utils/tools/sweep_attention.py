"""``python -m course_utils sweep --suite attention-copy | attention-deploy``: notebook 10's runs.

    python -m course_utils sweep --suite attention-copy --out results/attention/copy_cpu.json
    python -m course_utils sweep --suite attention-deploy --out results/attention/deploy_cpu.json
    python -m course_utils sweep --suite attention-copy --quick --out /tmp/copy.json   # seconds

attention-copy ("memory that copies", one core): notebook 07's LSTM
(embedding 64, LSTM 256) and a causal Transformer of about the same parameter count, both trained
for the same number of updates (default 1,500, as ``results/charlm_long``) on the same number of
predicted characters per update (64 streams x 100 for the LSTM's truncated BPTT, 6,400 / window
windows of ``window`` characters for the Transformer); then bits/char of every validation
character under each model and under lzma given the training text, split into new text and
repeated passages (:mod:`course_utils.labs.attention.copying`). Cost on one quiet core: about
2 min of lzma, 4-5 min for the LSTM and 8-10 min per Transformer learning rate (``--tf-lrs``: the
grid, default four rates; ``--tf-lrs 4e-3`` alone, the committed choice, keeps the run near 17
min); a shared core takes two to three times as long.

attention-deploy: per-token generation latency and state/cache memory as the output grows, and
training time per sequence as T grows (:mod:`course_utils.labs.attention.deploy`).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

SUITES = ("attention-copy", "attention-deploy")


def _lr(base: float, u: int, total: int, warmup: int) -> float:
    """Linear warm-up over ``warmup`` updates, then cosine decay to 0 at ``total``."""
    if u < warmup:
        return base * (u + 1) / warmup
    return base * 0.5 * (1.0 + math.cos(math.pi * (u - warmup) / max(1, total - warmup)))


def train_lstm(model: Any, ids: np.ndarray, updates: int, lr: float, batch: int = 64,
               T: int = 100, reset_every: int = 10, progress: bool = False) -> dict[str, Any]:
    """07's truncated BPTT: ``batch`` contiguous streams, windows of ``T``, the state carried
    (detached) and reset every ``reset_every`` windows (07's ``fit`` with chunk 10), Adam,
    gradient-norm clipping at 1, cosine decay. Returns seconds and the training-loss curve."""
    import torch
    import torch.nn.functional as F
    from tqdm.auto import tqdm

    L = (len(ids) - 1) // batch
    xs = torch.from_numpy(ids[: batch * L].reshape(batch, L).T.copy())          # (L, B)
    ys = torch.from_numpy(ids[1: batch * L + 1].reshape(batch, L).T.copy())
    windows = L // T
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    state, curve, seconds = None, [], 0.0
    for u in tqdm(range(updates), desc="LSTM", disable=not progress, mininterval=10):
        t0 = time.perf_counter()
        w = u % windows
        if u % reset_every == 0 or w == 0:
            state = None
        for g in opt.param_groups:
            g["lr"] = _lr(lr, u, updates, 0)
        logits, state = model(xs[w * T:(w + 1) * T], state)                      # (T, B, V)
        state = tuple(s.detach() for s in state)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ys[w * T:(w + 1) * T].reshape(-1))
        _update(model, opt, loss)
        seconds += time.perf_counter() - t0
        curve.append(float(loss.detach()) / math.log(2))
    return {"seconds": seconds, "train_bits": curve}


def _update(model: Any, opt: Any, loss: Any) -> None:
    """One Adam update of ``loss`` with the global gradient norm clipped at 1 (both models)."""
    import torch

    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()


def train_transformer(model: Any, ids: np.ndarray, updates: int, lr: float, window: int,
                      chars_per_update: int = 6400, warmup: int = 100, seed: int = 0,
                      progress: bool = False) -> dict[str, Any]:
    """``chars_per_update // window`` random windows of the training text per update (every
    position predicts its next character), Adam, clipping at 1, warm-up then cosine decay."""
    import torch
    import torch.nn.functional as F
    from tqdm.auto import tqdm

    B = max(1, chars_per_update // window)
    rng = np.random.default_rng(seed)
    ids_t = torch.from_numpy(ids)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    curve, seconds = [], 0.0
    for u in tqdm(range(updates), desc="Transformer", disable=not progress, mininterval=10):
        t0 = time.perf_counter()
        starts = torch.from_numpy(rng.integers(0, len(ids) - window - 1, size=B))
        idx = starts[:, None] + torch.arange(window + 1)                          # (B, W+1)
        chunk = ids_t[idx]
        for g in opt.param_groups:
            g["lr"] = _lr(lr, u, updates, warmup)
        logits = model(chunk[:, :-1])                                              # (B, W, V)
        loss = F.cross_entropy(logits.transpose(1, 2), chunk[:, 1:])
        _update(model, opt, loss)
        seconds += time.perf_counter() - t0
        curve.append(float(loss.detach()) / math.log(2))
    return {"seconds": seconds, "train_bits": curve}


def copy_experiment(updates: int = 1500, window: int = 256, lstm_lr: float = 1e-2,
                    tf_lrs: Sequence[float] = (1e-3, 2e-3, 4e-3, 8e-3), layers: int = 3, heads: int = 4,
                    min_len: int = 20, seed: int = 0, lstm_hidden: int = 256,
                    lstm_embed: int = 64, valid_chars: int | None = None,
                    progress: bool = False) -> dict[str, Any]:
    """The whole attention-copy run (see the module docstring); returns the result dict. The
    Transformer is trained once per learning rate of ``tf_lrs`` and the one with the lowest
    validation bits/char is compared (the LSTM's rate is the best of ``results/charlm_long``,
    also chosen on validation: both choices are optimistic in the same way)."""
    import torch

    from ..labs.attention import copying as C
    from ..labs.attention.deploy_models import n_params, transformer_lm
    from ..labs.char_language_model import char_model
    from ..lib.text import corpus_fingerprint, load_corpus

    corpus = load_corpus()
    train_ids = corpus.encode(corpus.train)
    valid = corpus.valid if valid_chars is None else corpus.valid[:valid_chars]
    valid_ids = corpus.encode(valid)
    V = corpus.vocab_size
    torch.manual_seed(seed)
    lstm = char_model(V, "lstm", lstm_embed, lstm_hidden)
    target = n_params(lstm)
    d = min(range(2 * heads, 1025, 2 * heads),
            key=lambda d: abs(n_params(transformer_lm(V, d, layers, heads)) - target))
    labels = C.repeat_classes(corpus.train, valid, min_len, window)
    t0 = time.perf_counter()
    lz = C.lzma_class_bits(corpus.train, valid, labels, progress=progress)
    lz["seconds"] = round(time.perf_counter() - t0, 1)

    def summary(model: Any, hist: dict[str, Any], bits: np.ndarray) -> dict[str, Any]:
        return {"params": n_params(model), "bits_per_char": float(bits.mean()),
                "per_class": C.class_bits(bits, labels[1:]),
                "training_seconds": round(hist["seconds"], 1),
                "train_bits_every_50": [round(float(np.mean(hist["train_bits"][i:i + 50])), 4)
                                        for i in range(0, updates, 50)]}

    grid, best = {}, None
    for lr in tf_lrs:
        torch.manual_seed(seed)
        tf = transformer_lm(V, d, layers, heads)
        hist = train_transformer(tf, train_ids, updates, lr, window, seed=seed, progress=progress)
        bits = C.transformer_char_bits(tf, valid_ids, window)
        grid[f"{lr:g}"] = summary(tf, hist, bits)
        if best is None or bits.mean() < best[1].mean():
            best = (lr, bits)
    hist = train_lstm(lstm, train_ids, updates, lstm_lr, progress=progress)
    lstm_bits = C.recurrent_char_bits(lstm, valid_ids)
    out_models = {"transformer": dict(grid[f"{best[0]:g}"], lr=best[0]),
                  "lstm": dict(summary(lstm, hist, lstm_bits), lr=lstm_lr)}
    return finish_copy(out_models, grid, best[1], lstm_bits, labels, lz, window, min_len, updates,
                       d, layers, heads, lstm_embed, lstm_hidden, len(valid), corpus_fingerprint(corpus))


def finish_copy(out_models: dict[str, Any], grid: dict[str, Any], tf_bits: np.ndarray,
                lstm_bits: np.ndarray, labels: np.ndarray, lz: dict[str, Any], window: int,
                min_len: int, updates: int, d: int, layers: int, heads: int, lstm_embed: int,
                lstm_hidden: int, valid_chars: int, corpus: dict[str, Any]) -> dict[str, Any]:
    """The result dict of :func:`copy_experiment` from its pieces (gaps, config, ledger rows)."""
    from ..labs.attention import copying as C

    gaps = {n: [round(v, 4) for v in C.gap_interval(tf_bits, lstm_bits, labels[1:], i)]
            for i, n in enumerate(C.CLASS_NAMES) if (labels[1:] == i).sum() > 0}
    res = {"window": window, "min_len": min_len, "lzma": lz, "models": out_models,
           "transformer_lr_grid": grid,
           "class_share": {n: round(float((labels == i).mean()), 4)
                           for i, n in enumerate(C.CLASS_NAMES)},
           "gaps_transformer_minus_lstm": gaps,
           "budget": {"updates": updates, "chars_per_update": 6400},
           "config": {"transformer": {"d": d, "layers": layers, "heads": heads, "mlp": 4,
                                      "window": window, "batch": 6400 // window,
                                      "lr_grid": [float(k) for k in grid],
                                      "lr": out_models["transformer"]["lr"],
                                      "schedule": "100 warm-up updates, then cosine to 0",
                                      "positions": "sinusoidal"},
                      "lstm": {"embed": lstm_embed, "hidden": lstm_hidden, "batch": 64, "T": 100,
                               "lr": out_models["lstm"]["lr"],
                               "schedule": "cosine to 0 (as results/charlm_long/cosine.json)",
                               "state": "carried, reset every 10 windows"},
                      "both": "Adam, gradient-norm clipping at 1, final weights (no early "
                              "stopping), one seed; the Transformer's learning rate chosen on "
                              "the validation text from lr_grid, the LSTM's from the runs of "
                              "results/charlm_long (also on validation)"},
           "scoring": {"lstm": "the validation text as one stream, state carried from its first "
                               "character",
                       "transformer": f"windows of {window} with stride {window // 2}: every "
                                      f"character scored once with >= {window // 2} characters "
                                      "of context",
                       "lzma": "8 x difference of compressed sizes of train + valid prefixes at "
                               "the boundaries of same-class runs",
                       "chars": "validation characters 2..N (the first has no context)"},
           "valid_chars": valid_chars, "corpus": corpus}
    res["ledger_rows"] = C.copy_rows(res)
    return res


def _meta(command: str, started: float, load: tuple[float, ...]) -> dict[str, Any]:
    import torch

    from ..lib.measure import machine_info

    return {"command": command, "wall_seconds": round(time.perf_counter() - started, 1),
            "threads": torch.get_num_threads(),
            "load_average_before_after": [round(load[0], 2), round(os.getloadavg()[0], 2)],
            "note": "measured on a CPU shared with other jobs (2 cores, several runs side by "
                    "side): timings are noisy upper bounds; prose reads them qualitatively",
            "machine": machine_info()}


def main(argv: list[str] | None = None, suite: str = "attention-copy") -> int:
    p = argparse.ArgumentParser(prog=f"python -m course_utils sweep --suite {suite}",
                                description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="JSON file to write")
    p.add_argument("--quick", action="store_true", help="smoke test: tiny sizes, seconds")
    p.add_argument("--updates", type=int, default=1500, help="attention-copy: updates per model")
    p.add_argument("--window", type=int, default=256, help="attention-copy: Transformer context")
    p.add_argument("--tf-lrs", type=float, nargs="+", default=[1e-3, 2e-3, 4e-3, 8e-3],
                   help="attention-copy: the Transformer's learning-rate grid (best on validation)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--suite", choices=SUITES, default=suite)
    args = p.parse_args(argv)
    suite = args.suite
    import torch

    torch.set_num_threads(1)
    started, load = time.perf_counter(), os.getloadavg()
    rest = [a for a in (argv or []) if a not in ("--suite", suite)]
    command = f"python -m course_utils sweep --suite {suite} " + " ".join(rest)
    if suite == "attention-copy":
        kw = (dict(updates=6, window=32, lstm_hidden=32, lstm_embed=8, valid_chars=3000,
                   tf_lrs=(2e-3,)) if args.quick else
              dict(updates=args.updates, window=args.window, tf_lrs=tuple(args.tf_lrs)))
        res = copy_experiment(progress=not args.no_progress, **kw)
    else:
        from ..labs.attention.deploy import deploy_experiment

        res = deploy_experiment(quick=args.quick, progress=not args.no_progress)
    res.update(_meta(command.strip(), started, load))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=1) + "\n")
    print(json.dumps({k: res[k] for k in ("ledger_rows", "wall_seconds")}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
