"""The deployment side of "RNN vs Transformer": what one more generated token costs, in time and in
memory, as the output grows; and what training costs per sequence as the sequence grows.

    from course_utils.labs.attention.deploy import deploy_models, decode_latency, train_time
    models = deploy_models()                          # GRU, LSTM, Transformer, equal parameters
    rows = decode_latency(models, lengths=(1, 64, 512), batch=1, repeats=20)
    rows[0]                  # {"model", "length", "batch", "median_ms", "iqr_ms", "state_bytes"}

Per-token latency at length n is the time of the step that produces token n, i.e. with n - 1
tokens already in the Transformer's key/value cache (a recurrent decoder's step is the same at
every n: its state has a fixed size). Every length times the models *interleaved* (one call of
each per round) with :func:`course_utils.lib.measure.time_interleaved`, after warm-up calls, one
torch thread, under ``torch.inference_mode``. Memory is computed exactly from tensor sizes: the
bytes of the live cache (2 x layers x n x d float32 per sequence) or of the state (H or 2H); the
weights (the same for all: equal parameter counts) are reported beside them. These are
measurements on one machine, not seeded trials.

References: Vaswani et al. (2017), "Attention is all you need"; Pope et al. (2022), "Efficiently
scaling Transformer inference" (the key/value cache); Katharopoulos et al. (2020), "Transformers
are RNNs" (the fixed-state view).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from ...lib.measure import onednn, time_interleaved, torch_threads
from .deploy_models import matched_recurrent, n_params, recurrent_lm, transformer_lm

LENGTHS = tuple(2 ** k for k in range(12))            # 1, 2, 4, ..., 2048
TRAIN_T = (16, 32, 64, 128, 256, 512, 1024)
SIZES = {"vocab": 64, "d": 64, "layers": 2, "heads": 4, "embed": 32}


def deploy_models(vocab: int = SIZES["vocab"], d: int = SIZES["d"], layers: int = SIZES["layers"],
                  heads: int = SIZES["heads"], embed: int = SIZES["embed"],
                  seed: int = 0) -> dict[str, Any]:
    """A Transformer decoder (``d``, ``layers``, ``heads``) and a GRU and an LSTM decoder
    (embedding ``embed``) whose hidden sizes make their parameter counts closest to it."""
    import torch

    torch.manual_seed(seed)
    tf = transformer_lm(vocab, d, layers, heads)
    out: dict[str, Any] = {}
    for cell in ("gru", "lstm"):
        H, _ = matched_recurrent(cell, vocab, embed, n_params(tf))
        out[cell.upper()] = recurrent_lm(cell, vocab, embed, H)
    out["Transformer"] = tf
    for m in out.values():
        m.eval()
    return out


def describe(models: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    """{name: {"params", "hidden" or "d", "layers"}} of :func:`deploy_models`' models."""
    info = {}
    for name, m in models.items():
        row = {"params": n_params(m)}
        row.update({"hidden": m.hidden} if hasattr(m, "hidden") else
                   {"d": m.d, "layers": len(m.blocks), "heads": m.heads})
        info[name] = row
    return info


def _stepper(model: Any, batch: int, length: int, max_len: int) -> tuple[Any, int]:
    """A zero-argument call that generates token ``length`` (``length - 1`` already seen), and
    the bytes of the state/cache that token leaves behind."""
    import torch

    tok = torch.zeros(batch, dtype=torch.long)
    if hasattr(model, "new_cache"):
        cache = model.new_cache(batch, max_len)
        for _ in range(length - 1):                       # fill the cache (not timed)
            model.step(tok, cache)

        def call() -> None:
            cache.length = length - 1                     # rewrite the same position each time
            model.step(tok, cache)

        call()
        return call, cache.live_bytes()
    state = model.new_state(batch)
    _, after = model.step(tok, state)
    return (lambda: model.step(tok, state)), model.state_bytes(after)


def decode_latency(models: Mapping[str, Any], lengths: Iterable[int] = LENGTHS, batch: int = 1,
                   warmup: int = 3, repeats: int = 25, threads: int = 1,
                   progress: bool = False) -> list[dict[str, Any]]:
    """Per-token generation latency (median and IQR over ``repeats`` interleaved calls, ms) and
    state/cache bytes per batch, for every model at every output length."""
    import torch
    from tqdm.auto import tqdm

    lengths = sorted(set(int(n) for n in lengths))
    if not lengths or lengths[0] < 1:
        raise ValueError(f"lengths must be positive, got {lengths}")
    rows = []
    with torch_threads(threads), torch.inference_mode():
        for n in tqdm(lengths, desc=f"decode latency (batch {batch})", disable=not progress):
            calls, sizes = {}, {}
            for name, m in models.items():
                calls[name], sizes[name] = _stepper(m, batch, n, max(lengths))
            timed = time_interleaved(calls, warmup=warmup, repeats=repeats)
            for name, t in timed.items():
                rows.append({"model": name, "length": n, "batch": batch,
                             "median_ms": round(t.median_ms, 5), "iqr_ms": round(t.iqr_ms, 5),
                             "q1_ms": round(t.q1_ms, 5), "q3_ms": round(t.q3_ms, 5),
                             "min_ms": round(t.min_ms, 5), "repeats": t.repeats,
                             "state_bytes": sizes[name]})
    return rows


def train_time(models: Mapping[str, Any], Ts: Iterable[int] = TRAIN_T, batch: int = 8,
               warmup: int = 1, repeats: int = 5, threads: int = 1,
               lstm_onednn_off: bool = True, progress: bool = False) -> list[dict[str, Any]]:
    """Forward + backward (cross-entropy on every position) of a batch of ``batch`` sequences of
    length T, per sequence (ms): the recurrent layers step through time, the Transformer
    processes all positions at once (causal mask). With ``lstm_onednn_off`` the LSTM is timed
    again with oneDNN disabled (``"LSTM (oneDNN off)"``); the others run with the defaults."""
    import torch
    import torch.nn.functional as F
    from tqdm.auto import tqdm

    def fwd_bwd(m: Any, x: Any, off: bool = False) -> Any:
        def call() -> None:
            with onednn(not off):
                logits = m(x)                                               # (B, T, V)
                F.cross_entropy(logits.transpose(1, 2), x).backward()
        return call

    rows = []
    with torch_threads(threads):
        for T in tqdm(sorted(set(Ts)), desc="training time", disable=not progress):
            x = torch.randint(0, models["Transformer"].head.out_features, (batch, T))
            calls = {name: fwd_bwd(m, x) for name, m in models.items()}
            if lstm_onednn_off and "LSTM" in models:
                calls["LSTM (oneDNN off)"] = fwd_bwd(models["LSTM"], x, off=True)
            for t_name, t in time_interleaved(calls, warmup=warmup, repeats=repeats).items():
                rows.append({"model": t_name, "T": T, "batch": batch,
                             "median_ms_per_sequence": round(t.median_ms / batch, 5),
                             "iqr_ms_per_sequence": round(t.iqr_ms / batch, 5),
                             "repeats": t.repeats})
            for m in models.values():
                m.zero_grad(set_to_none=True)
    return rows


def crossover(rows: list[dict[str, Any]], key: str, a: str, b: str, x: str = "length"
              ) -> dict[str, Any]:
    """Where ``a``'s ``key`` first exceeds ``b``'s along ``x``: {"first_x_a_above_b": x or None,
    "a_above_b_at": [x ...], "ratio_a_over_b": {x: ratio}}."""
    va = {r[x]: r[key] for r in rows if r["model"] == a}
    vb = {r[x]: r[key] for r in rows if r["model"] == b}
    xs = sorted(set(va) & set(vb))
    if not xs:
        raise ValueError(f"no common {x} for {a} and {b}")
    above = [v for v in xs if va[v] > vb[v]]
    return {"first_x_a_above_b": above[0] if above else None, "a_above_b_at": above,
            "ratio_a_over_b": {str(v): round(va[v] / vb[v], 3) for v in xs}}


def _side(c: dict[str, Any], x: str, unit: str, xs: list[Any]) -> str:
    """"dearer from x = 4 on" / "dearer at every x measured" / "never dearer" (first / last)."""
    first, above = c["first_x_a_above_b"], c["a_above_b_at"]
    if first is None:
        return f"cheaper at every {x} measured ({xs[0]}..{xs[-1]} {unit})"
    if len(above) == len(xs):
        return f"dearer at every {x} measured ({xs[0]}..{xs[-1]} {unit})"
    if set(above) == {v for v in xs if v >= first}:
        return f"cheaper below {x} = {first}, dearer from {first} on"
    below = [v for v in xs if v not in above][0]
    if set(above) == {v for v in xs if v < below}:
        return f"dearer below {x} = {below}, cheaper from {below} on"
    return f"dearer at {x} in {above}, cheaper elsewhere (no clean crossover)"


def deploy_summary(res: dict[str, Any]) -> dict[str, Any]:
    """Crossovers of the Transformer against each recurrent decoder: per-token latency (each
    batch), state/cache memory, and training time per sequence (recurrent above Transformer)."""
    out: dict[str, Any] = {}
    for rec in ("GRU", "LSTM"):
        for b in sorted({r["batch"] for r in res["decode"]}):
            rows = [r for r in res["decode"] if r["batch"] == b]
            out[f"latency {rec} batch {b}"] = crossover(rows, "median_ms", "Transformer", rec)
        rows1 = [r for r in res["decode"] if r["batch"] == res["decode"][0]["batch"]]
        out[f"memory {rec}"] = crossover(rows1, "state_bytes", "Transformer", rec)
        out[f"training {rec}"] = crossover(res["train"], "median_ms_per_sequence", rec,
                                           "Transformer", x="T")
    return out


def deploy_rows(res: dict[str, Any]) -> list[list[str]]:
    """Notebook 08's ledger rows [claim, verdict (from the data), regime] from a deploy result."""
    s, info = res["summary"], res["models"]
    params = ", ".join(f"{k} {v['params']:,}" for k, v in info.items())
    lengths = sorted({r["length"] for r in res["decode"]})
    batches = sorted({r["batch"] for r in res["decode"]})
    Ts = sorted({r["T"] for r in res["train"]})
    meas = (f"a measurement on this CPU ({res['threads_timed']} thread, medians of interleaved "
            "repeats, shared machine), not a seeded trial; parameters: " + params)

    def at(model: str, n: int, b: int, key: str = "median_ms") -> float:
        return next(r[key] for r in res["decode"] if r["model"] == model and r["length"] == n
                    and r["batch"] == b)

    lat = "; ".join(
        f"batch {b}: the Transformer's step is "
        + ", ".join(f"{_side(s[f'latency {rec} batch {b}'], 'n', 'tokens', lengths)} than the "
                    f"{rec}'s" for rec in ("GRU", "LSTM"))
        + f" (Transformer/GRU {at('Transformer', lengths[0], b) / at('GRU', lengths[0], b):.2g}x "
          f"at n = {lengths[0]}, {at('Transformer', lengths[-1], b) / at('GRU', lengths[-1], b):.2g}x"
          f" at n = {lengths[-1]})" for b in batches)
    b0 = batches[0]
    def first(rec: str) -> str:
        n = s[f"memory {rec}"]["first_x_a_above_b"]
        return "never (within the lengths measured)" if n is None else f"from n = {n}"

    mem = (f"the Transformer's cache outgrows the GRU's state {first('GRU')}, the LSTM's "
           f"{first('LSTM')}; at n = {lengths[-1]} it holds "
           f"{at('Transformer', lengths[-1], b0, 'state_bytes'):,} bytes per sequence against "
           f"{at('GRU', lengths[-1], b0, 'state_bytes'):,} (GRU) and "
           f"{at('LSTM', lengths[-1], b0, 'state_bytes'):,} (LSTM), whatever n (weights, about "
           f"equal: {info['Transformer']['params'] * 4:,} bytes)")
    tr = "; ".join(f"{rec}: {_side(s[f'training {rec}'], 'T', 'steps', Ts)}".replace(
        "cheaper", "faster per sequence").replace("dearer", "slower per sequence")
        for rec in ("GRU", "LSTM"))
    return [
        ["Recurrent models are cheaper to deploy than Transformers (per-token latency)", lat,
         f"generation with a key/value cache, output lengths {lengths[0]}..{lengths[-1]}; " + meas],
        ["Recurrent models are cheaper to deploy than Transformers (memory per sequence)", mem,
         "float32; bytes computed exactly from tensor sizes (not measured RSS); equal parameters"],
        ["Transformers train faster than recurrent nets because they are parallel over time",
         "recurrent vs Transformer, forward + backward per sequence: " + tr,
         f"batch {res['train'][0]['batch']}, T = {Ts[0]}..{Ts[-1]}, oneDNN on (LSTM also timed "
         "with it off); " + meas]]


def deploy_experiment(quick: bool = False, progress: bool = False) -> dict[str, Any]:
    """The whole attention-deploy run: latency and memory at batch 1 and 32 for output lengths
    1..2048, and training time per sequence for T = 16..1024 (``quick``: tiny, seconds)."""
    import os

    import torch

    models = deploy_models()
    lengths, Ts, reps = ((1, 4, 16), (8, 16), 3) if quick else (LENGTHS, TRAIN_T, 25)
    decode = []
    for b in ((1,) if quick else (1, 32)):
        decode += decode_latency(models, lengths, batch=b, repeats=reps, progress=progress)
    train = train_time(models, Ts, repeats=3 if quick else 5, progress=progress)
    res: dict[str, Any] = {
        "models": describe(models), "sizes": dict(SIZES), "decode": decode, "train": train,
        "threads_timed": 1, "onednn": {"enabled_default": bool(torch.backends.mkldnn.enabled),
                                       "ATEN_CPU_CAPABILITY": os.environ.get("ATEN_CPU_CAPABILITY")},
        "protocol": {"decode": "per-token latency of the step producing token n (n - 1 tokens "
                               "cached), median/IQR over interleaved repeats after 3 warm-up "
                               "calls, inference_mode, untrained weights (cost does not depend "
                               "on them)",
                     "memory": "state_bytes: live key/value cache (Transformer) or hidden state "
                               "(GRU h; LSTM h and c), float32, per batch; from tensor sizes",
                     "train": "forward + backward of cross-entropy over all positions, batch 8, "
                              "ms per sequence"}}
    res["summary"] = deploy_summary(res)
    res["ledger_rows"] = deploy_rows(res)
    return res
