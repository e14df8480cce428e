"""Specs of notebook 06's bidirectional exercises over a padded batch.

``bilstm_forward_padded(x, lengths, h0, c0, params, batch_first=False) -> (output, (h_n, c_n))``
    x        (T, B, I), or (B, T, I) with ``batch_first``; sequence b is its first lengths[b]
             steps, the rest is padding holding noise
    lengths  (B,) ints in 1..T, any order
    h0, c0   (2, B, H): slot 0 forward, slot 1 reverse (as nn.LSTM; batch_first does not change
             the states' layout)
    params   [(W_ih, W_hh, b_ih, b_hh) forward, (...) reverse], gate blocks i, f, g, o
    output   (T, B, 2H) or (B, T, 2H): [..., :H] forward, [..., H:] reverse, both aligned with
             input step t, exactly 0 past each length
    h_n, c_n (2, B, H): forward after step lengths[b] - 1, reverse after step 0
``last_valid_output(output, lengths, batch_first=False) -> (B, 2H)``
    the feature a classifier reads from a bidirectional output: the forward half at each
    sequence's last valid step t = lengths[b] - 1, the reverse half at t = 0 (where the reverse
    direction ends).

The reverse direction of a padded sequence starts at the sequence's *own* end (t = lengths[b]-1),
not at T - 1: that is what ``nn.LSTM(bidirectional=True)`` does on ``pack_padded_sequence``
(the reference, float64, unpacked with ``pad_packed_sequence(..., total_length=T)``; PyTorch
documentation of ``torch.nn.utils.rnn``). Schuster & Paliwal (1997), "Bidirectional recurrent
neural networks", IEEE TSP 45(11).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ...recurrent import random_params, rng_for, sigmoid
from ...spec import Case, Mistake, Spec

RTOL, ATOL = 1e-4, 1e-5
BI_ARGS = ("x", "lengths", "h0", "c0", "params", "batch_first")
LAST_ARGS = ("output", "lengths", "batch_first")

# (T, B, I, H, lengths, batch_first): T, B, I, H distinct; lengths distinct within a batch,
# unsorted, including 1 and T, and one batch whose longest sequence is shorter than T (a
# total_length as pad_packed_sequence pads to); time-major cases first.
CONFIGS: tuple[tuple[int, int, int, int, tuple[int, ...], bool], ...] = (
    (6, 3, 5, 4, (4, 6, 1), False), (5, 1, 3, 7, (3,), False),
    (7, 4, 2, 5, (2, 7, 5, 1), True), (8, 2, 6, 3, (5, 3), True))


def _label(T: int, B: int, I: int, H: int, lengths: tuple[int, ...], batch_first: bool) -> str:
    layout = "batch_first=True: x (B, T, I), output (B, T, 2H)" if batch_first else "time-major"
    return f"T={T}, B={B}, I={I}, H={H}, lengths={list(lengths)}, {layout}"


def make_bi_cases(seed: int, group: str = "public") -> list[Case]:
    cases = []
    for n, (T, B, I, H, lengths, bf) in enumerate(CONFIGS):
        rng = rng_for(seed, 900 + n)
        x = rng.normal(size=(T, B, I))                              # (T, B, I), padding = noise
        h0 = rng.normal(0.0, 0.8, size=(2, B, H))
        c0 = rng.normal(size=(2, B, H))
        params = [random_params(rng, 4, I, H), random_params(rng, 4, I, H)]
        if bf:
            x = np.ascontiguousarray(x.transpose(1, 0, 2))          # (B, T, I)
        cases.append(Case(_label(T, B, I, H, lengths, bf),
                          (x, np.array(lengths, dtype=np.int64), h0, c0, params),
                          {"batch_first": True} if bf else {}, group=group,
                          dims={"T": T, "B": B, "I": I, "H": H}))
    return cases


def ref_bilstm_forward_padded(x, lengths, h0, c0, params, batch_first=False) -> Any:
    """``nn.LSTM(bidirectional=True, batch_first=...)`` on a packed batch, float64, numpy out."""
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    x = np.asarray(x, dtype=np.float64)
    I, H = x.shape[2], np.asarray(h0).shape[2]
    T = x.shape[1] if batch_first else x.shape[0]
    lstm = torch.nn.LSTM(I, H, bidirectional=True, batch_first=batch_first).double()
    with torch.no_grad():
        for suffix, p in zip(("_l0", "_l0_reverse"), params):
            for name, w in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), p):
                getattr(lstm, name + suffix).copy_(torch.from_numpy(np.asarray(w, np.float64)))
    packed = pack_padded_sequence(torch.from_numpy(x), torch.as_tensor(np.asarray(lengths)),
                                  batch_first=batch_first, enforce_sorted=False)
    state = (torch.from_numpy(np.asarray(h0, np.float64)),
             torch.from_numpy(np.asarray(c0, np.float64)))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny problems: more threads only spin
    try:
        with torch.no_grad():
            out, (h_n, c_n) = lstm(packed, state)
    finally:
        torch.set_num_threads(threads)
    out, _ = pad_packed_sequence(out, batch_first=batch_first, total_length=T)
    return out.numpy(), (h_n.numpy(), c_n.numpy())


# --------------------------------------------------------------------------- bilstm mistakes
def _cell(x_t, h, c, W_ih, W_hh, b_ih, b_hh):
    i, f, g, o = np.split(x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh, 4, axis=1)
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c), c


def _masked(x, mask, h, c, p):
    """A one-direction loop over the (T, B, 1) ``mask``: frozen state, zero output where 0."""
    outs = []
    for t in range(x.shape[0]):
        hn, cn = _cell(x[t], h, c, *p)
        h, c = np.where(mask[t], hn, h), np.where(mask[t], cn, c)
        outs.append(np.where(mask[t], hn, 0.0))
    return np.stack(outs), h, c


def _flip_within(a, lengths):
    """a[t, b] -> a[lengths[b] - 1 - t, b] for t < lengths[b]; entries past it unchanged."""
    T = a.shape[0]
    t = np.arange(T)[:, None]
    idx = np.where(t < lengths[None, :], lengths[None, :] - 1 - t, t)      # (T, B)
    return a[idx, np.arange(a.shape[1])[None, :]]


def _bi(reverse: str = "within", flip: str = "within", order: str = "fwd", shift: int = 0,
        h_n: str = "state", same_weights: bool = False) -> Callable:
    """A bidirectional padded LSTM with deliberate deviations.

    reverse: "within" (correct: each sequence reversed inside its own length), "whole" (x[::-1]
    with the mask unchanged), "unmasked" (a plain LSTM on x[::-1], output zeroed past the length
    afterwards); flip (how the reverse output is put back): "within" (correct), "none", "whole"
    ([::-1] over T); order: "fwd" (correct) or "rev" first in output; shift: the mask is
    t < lengths + shift; h_n: "state" (correct), "last_step" (both halves of output at
    lengths - 1), "swapped" (direction order); same_weights: the forward weights for both.
    """
    def forward(x, lengths, h0, c0, params, batch_first=False):
        lengths = np.asarray(lengths)
        if batch_first:
            x = np.swapaxes(x, 0, 1)
        T = x.shape[0]
        mask = (np.arange(T)[:, None] < (lengths + shift)[None, :])[..., None]   # (T, B, 1)
        p_rev = params[0] if same_weights else params[1]
        fwd, hf, cf = _masked(x, mask, h0[0], c0[0], params[0])
        if reverse == "within":
            rev, hr, cr = _masked(_flip_within(x, lengths), mask, h0[1], c0[1], p_rev)
        elif reverse == "whole":
            rev, hr, cr = _masked(x[::-1], mask, h0[1], c0[1], p_rev)
        else:                                                         # plain LSTM on x[::-1]
            rev, hr, cr = _masked(x[::-1], np.ones_like(mask), h0[1], c0[1], p_rev)
        if reverse == "unmasked":
            rev = rev[::-1] * mask                                   # zeroed past each length
        elif flip == "within":
            rev = _flip_within(rev, lengths)
        elif flip == "whole":
            rev = rev[::-1]
        out = np.concatenate([fwd, rev] if order == "fwd" else [rev, fwd], axis=2)  # (T, B, 2H)
        hs, cs = np.stack([hf, hr]), np.stack([cf, cr])
        if h_n == "last_step":
            H = hf.shape[1]
            last = out[lengths - 1, np.arange(len(lengths))]         # (B, 2H)
            hs = np.stack([last[:, :H], last[:, H:]])
        elif h_n == "swapped":
            hs, cs = hs[::-1], cs[::-1]
        if batch_first:
            out = np.swapaxes(out, 0, 1)
        return out, (hs, cs)
    return forward


BI_MISTAKES = [
    Mistake("the reverse direction started at T-1 (x[::-1] over the padded length)",
            "flipping the whole padded tensor puts each short sequence's padding first, so the "
            "reverse direction reads padding and never its own last steps; reverse each "
            "sequence inside its own length (step lengths[b]-1 first), and put its output back "
            "the same way", _bi(reverse="whole", flip="whole")),
    Mistake("the reverse direction run over the padding (no mask on it)",
            "the reverse direction must start at each sequence's own end with h0: run it "
            "masked (frozen past the length) on the sequence reversed inside its length",
            _bi(reverse="unmasked")),
    Mistake("the mask off by one (t <= lengths)",
            "step t is real when t < lengths[b] (t counts from 0): one padded step too many "
            "moves the state", _bi(shift=1)),
    Mistake("the halves swapped (reverse first in output)",
            "output[..., :H] is the forward direction, output[..., H:] the reverse one",
            _bi(order="rev")),
    Mistake("the reverse output not flipped back",
            "the reverse direction's output at its k-th step belongs to input step "
            "lengths[b]-1-k: put it back in input order so that output[t] holds both "
            "directions' states for x[t]", _bi(flip="none")),
    Mistake("the reverse output flipped back over all T instead of within each length",
            "undo the reversal the way it was done: inside each sequence's length "
            "(t -> lengths[b]-1-t); [::-1] over T moves a short sequence's outputs into the "
            "padding", _bi(flip="whole")),
    Mistake("the reverse h_n taken at the last valid step (where the forward one ends)",
            "the reverse direction ends at t = 0: its h_n is output[0, b, H:], not "
            "output[lengths[b]-1, b, H:]", _bi(h_n="last_step")),
    Mistake("h_n, c_n in the wrong direction order",
            "slot 0 of h_n, c_n is the forward direction, slot 1 the reverse one (as h0, c0)",
            _bi(h_n="swapped")),
    Mistake("the forward weights used for the reverse direction",
            "the reverse direction has its own parameters: params[1]", _bi(same_weights=True)),
]


def _layout(exp_out: np.ndarray, B: int) -> tuple[bool, int]:
    """(batch_first?, T) of an expected output, from its shape (T != B in every case)."""
    batch_first = exp_out.shape[0] == B and exp_out.shape[1] != B
    return batch_first, exp_out.shape[1] if batch_first else exp_out.shape[0]


def diagnose_bi(got: dict[str, Any], exp: dict[str, Any], brief: bool) -> str | None:
    """Which half, which sequence, inside or past its length; which h_n / c_n slots."""
    B = exp["h_n"].shape[1]
    batch_first, T = _layout(exp["output"], B)
    og, oe = got["output"], exp["output"]
    if batch_first:
        og, oe = np.swapaxes(og, 0, 1), np.swapaxes(oe, 0, 1)                # (T, B, 2H)
    H = oe.shape[2] // 2
    lengths = [int((np.abs(oe[:, b, :H]).sum(axis=1) > 0).sum()) for b in range(B)]
    where = []
    for d, half in enumerate(("forward", "reverse")):
        for b, n in enumerate(lengths):
            bad = (~np.isclose(og[:, b, d * H:(d + 1) * H], oe[:, b, d * H:(d + 1) * H],
                               RTOL, ATOL)).any(axis=1)                       # (T,)
            if bad[:n].any():
                steps = np.nonzero(bad[:n])[0]
                first = int(steps.max() if d else steps.min())
                where.append(f"{half} half of sequence {b} (length {n}) "
                             f"{'counting back from its end, first at' if d else 'from'} t={first}")
            if bad[n:].any():
                where.append(f"{half} half of sequence {b} (length {n}) past its length "
                             f"(t >= {n}: should be 0)")
    for leaf in ("h_n", "c_n"):
        for d, half in enumerate(("forward", "reverse")):
            rows = [b for b in range(B) if not np.allclose(got[leaf][d, b], exp[leaf][d, b],
                                                           RTOL, ATOL)]
            if rows:
                where.append(f"{leaf}[{d}] ({half}) of sequence{'s' * (len(rows) > 1)} "
                             + ", ".join(map(str, rows)))
    if not where:
        return None
    return "wrong: " + "; ".join(where[:6]) + (" …" if len(where) > 6 else "")


BILSTM_SPEC = Spec(
    id="bilstm_forward_padded",
    title="a bidirectional LSTM over a padded batch (the reverse direction starts at each end)",
    notebook="06_batches_layers_directions", arg_names=BI_ARGS,
    output=("output", ("h_n", "c_n")), make_cases=make_bi_cases, reference=ref_bilstm_forward_padded,
    mistakes=BI_MISTAKES, points=3, rtol=RTOL, atol=ATOL, initial_state=("h0", "c0"),
    diagnose=diagnose_bi)


# --------------------------------------------------------------------------- last valid output
def make_last_cases(seed: int, group: str = "public") -> list[Case]:
    """A bidirectional output: noise inside each length, exact zeros past it (as
    pad_packed_sequence returns it)."""
    cases = []
    for n, (T, B, _, H, lengths, bf) in enumerate(CONFIGS):
        rng = rng_for(seed, 950 + n)
        out = rng.normal(size=(T, B, 2 * H))
        out[np.arange(T)[:, None] >= np.array(lengths)[None, :]] = 0.0     # (T, B, 2H)
        if bf:
            out = np.ascontiguousarray(out.transpose(1, 0, 2))               # (B, T, 2H)
        label = _label(T, B, 2 * H, H, lengths, bf).replace("x (B, T, I), ", "")
        label = label.replace(f"I={2 * H}, ", "")
        cases.append(Case(label, (out, np.array(lengths, dtype=np.int64)),
                          {"batch_first": True} if bf else {}, group=group,
                          dims={"T": T, "B": B, "H": H}))
    return cases


def ref_last_valid_output(output, lengths, batch_first=False) -> np.ndarray:
    """torch.gather of the forward half at lengths - 1 and the reverse half at 0 (float64)."""
    import torch

    o = torch.from_numpy(np.asarray(output, dtype=np.float64))
    if batch_first:
        o = o.transpose(0, 1)                                                 # (T, B, 2H)
    H = o.shape[2] // 2
    idx = torch.as_tensor(np.asarray(lengths) - 1).view(1, -1, 1).expand(1, o.shape[1], H)
    fwd = o[..., :H].gather(0, idx)[0]                                        # (B, H)
    return torch.cat([fwd, o[0, :, H:]], dim=1).numpy()                       # (B, 2H)


def _last(fwd_at: str = "length", rev_at: str = "zero", swap: bool = False,
          ignore_bf: bool = False) -> Callable:
    """fwd_at / rev_at: "length" (t = lengths - 1), "T" (t = T - 1), "zero" (t = 0),
    "length+1" (t = lengths, clipped to T - 1; on a padded output the same values as "T")."""
    def fn(output, lengths, batch_first=False):
        o = np.swapaxes(output, 0, 1) if batch_first and not ignore_bf else output
        T, B, H2 = o.shape
        H = H2 // 2
        lengths = np.asarray(lengths)
        rows = np.arange(B)
        at = {"length": lengths - 1, "T": np.full(B, T - 1), "zero": np.zeros(B, int),
              "length+1": np.minimum(lengths, T - 1)}
        f, r = o[at[fwd_at], rows, :H], o[at[rev_at], rows, H:]
        return np.concatenate([r, f] if swap else [f, r], axis=1)
    return fn


LAST_MISTAKES = [
    Mistake("output[-1] for both halves (t = T-1)",
            "output[-1] is zero for every sequence shorter than T, and the reverse direction "
            "ends at t = 0; take the forward half at lengths[b]-1, the reverse half at 0",
            _last(fwd_at="T", rev_at="T")),
    Mistake("both halves taken at the last valid step (t = lengths-1)",
            "the forward half is right there, but the reverse direction has read the whole "
            "sequence only at t = 0: take output[0, b, H:] for it", _last(rev_at="length")),
    Mistake("the reverse half taken at T-1",
            "the reverse direction ends at t = 0 (and output[T-1] is zero for a short "
            "sequence): take output[0, b, H:]", _last(rev_at="T")),
    Mistake("the forward half taken past the sequence's end (at T-1, or at lengths[b])",
            "both read a zero for every sequence shorter than T (the two are indistinguishable "
            "on a padded output); time steps count from 0, so the last valid one is "
            "t = lengths[b] - 1: take output[lengths[b]-1, b, :H]",
            _last(fwd_at="T")),
    Mistake("the halves swapped",
            "keep the forward half first, as in the output: [forward at lengths-1, reverse at 0]",
            _last(swap=True)),
]


LAST_SPEC = Spec(
    id="last_valid_output",
    title="the last valid output of a padded bidirectional batch (forward at its end, reverse at 0)",
    notebook="06_batches_layers_directions", arg_names=LAST_ARGS, output="last",
    make_cases=make_last_cases, reference=ref_last_valid_output, mistakes=LAST_MISTAKES,
    points=1, rtol=RTOL, atol=ATOL)
