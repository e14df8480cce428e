"""``tbptt_batches(data, batch_size, seq_len) -> (x, y)``: a corpus cut for truncated BPTT.

``data`` is a 1-D int array of N character ids. With B = batch_size and T = seq_len::

    L = (N - 1) // B                                  # characters per stream (one kept for the
    streams  = data[:B*L].reshape(B, L)               #   last target); stream b is the b-th
    targets  = data[1:B*L + 1].reshape(B, L)          #   contiguous slice of the text
    K = L // T                                        # whole windows; a ragged rest is dropped
    x[k] = streams[:, k*T:(k+1)*T].T                  # (T, B): window k, time-major
    y[k] = targets[:, k*T:(k+1)*T].T                  # the next character of every input

returned as two int arrays of shape (K, T, B). Column b of window k+1 continues column b of
window k, so the state the model ends window k with is the right start for window k+1 (the
layout of Zaremba, Sutskever & Vinyals 2014 and of char-rnn; truncated BPTT: Williams & Peng 1990).

The cases use distinct ids where they can, so that :func:`diagnose` can tell from the answer
alone whether windows continue each other and targets are the next inputs.
"""

from __future__ import annotations

import numpy as np

from ...recurrent import rng_for
from ...spec import Case, Mistake, Spec

ARGS = ("data", "batch_size", "seq_len")


def make_cases(seed: int) -> list[Case]:
    """Distinct ids (B = 3 with a ragged rest, B = 1, B = 4 with none) and a small vocabulary."""
    sizes = [(103, 3, 5, True), (40, 1, 6, True), (61, 4, 3, True), (89, 2, 4, False)]
    cases = []
    for i, (n, b, t, distinct) in enumerate(sizes):
        rng = rng_for(seed, 500 + i)
        data = rng.permutation(n) + 7 if distinct else rng.integers(0, 11, n)
        L = (n - 1) // b
        rest = L % t
        label = (f"N={n}, batch_size={b}, seq_len={t}: {L} characters per stream, {L // t} "
                 f"windows" + (f" and a ragged rest of {rest} to drop" if rest else ""))
        cases.append(Case(label, (data.astype(np.int64), b, t)))
    return cases


def ref_tbptt_batches(data, batch_size: int, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """B contiguous streams, K whole windows of T steps each: x, y of shape (K, T, B)."""
    data = np.asarray(data)
    B, T = batch_size, seq_len
    L = (len(data) - 1) // B
    K = L // T
    streams = data[:B * L].reshape(B, L)[:, :K * T]                  # (B, K*T)
    targets = data[1:B * L + 1].reshape(B, L)[:, :K * T]
    x = streams.reshape(B, K, T).transpose(1, 2, 0)                   # (K, T, B)
    y = targets.reshape(B, K, T).transpose(1, 2, 0)
    return x.copy(), y.copy()


# --------------------------------------------------------------------------- mistakes
def _interleaved(data, batch_size, seq_len):
    data = np.asarray(data)
    B, T = batch_size, seq_len
    L = (len(data) - 1) // B
    K = L // T
    xs = data[:B * L].reshape(L, B)[:K * T]                           # (K*T, B): interleaved
    ys = data[1:B * L + 1].reshape(L, B)[:K * T]
    return xs.reshape(K, T, B), ys.reshape(K, T, B)


def _not_shifted(data, batch_size, seq_len):
    x, _ = ref_tbptt_batches(data, batch_size, seq_len)
    return x, x.copy()


def _swapped(data, batch_size, seq_len):
    x, y = ref_tbptt_batches(data, batch_size, seq_len)
    return y, x


def _sliding(data, batch_size, seq_len):
    data = np.asarray(data)
    B, T = batch_size, seq_len
    L = (len(data) - 1) // B
    K = L // T
    s = data[:B * L].reshape(B, L)
    t = data[1:B * L + 1].reshape(B, L)
    return (np.stack([s[:, k:k + T].T for k in range(K)]),
            np.stack([t[:, k:k + T].T for k in range(K)]))


MISTAKES = [
    Mistake("streams interleaved (wrong reshape axis)", "stream b must be ONE contiguous slice "
            "of the text: data[:B*L].reshape(B, L) (then transpose windows to (T, B)); "
            "reshape(L, B) deals the characters out to the streams in turn",
            _interleaved),
    Mistake("targets not shifted", "the target at each position is the NEXT character: "
            "targets = data[1:B*L + 1], inputs = data[:B*L]", _not_shifted),
    Mistake("inputs and targets swapped", "x holds the characters the model reads, y the next "
            "ones it must predict: y[k][t] is the character after x[k][t]", _swapped),
    Mistake("overlapping windows", "window k starts at k*seq_len, not at k: consecutive windows "
            "must not share characters, so the state carried from window k fits window k+1",
            _sliding),
]


def diagnose(got: dict, exp: dict, brief: bool = False) -> str | None:
    """From the answer alone: are targets the next inputs, do windows continue each other?"""
    x, y = got["x"], got["y"]
    if brief or x.shape[0] == 0:
        return None
    if np.array_equal(x, exp["x"]) and not np.array_equal(y, exp["y"]):
        return "x is right but y is not: y[k][t] is the character that follows x[k][t]"
    if x.shape[1] > 1 and not np.array_equal(y[:, :-1], x[:, 1:]):
        return ("within a window, a target is not the next input of the same stream "
                "(y[k][t] should equal x[k][t+1]): look at how inputs and targets are cut")
    if x.shape[0] > 1 and not np.array_equal(x[1:, 0], y[:-1, -1]):
        k = int(np.nonzero((x[1:, 0] != y[:-1, -1]).any(axis=-1))[0][0])
        return (f"window {k + 1} does not continue window {k} in every stream (x[{k + 1}][0] "
                f"should be y[{k}][-1]): the windows must be consecutive slices of each stream, "
                "in order — not random, shuffled or overlapping")
    return None


SPEC = Spec(id="tbptt_batches", title="contiguous streams and consecutive windows for TBPTT",
            notebook="07_char_language_model", arg_names=ARGS, output=("x", "y"),
            make_cases=make_cases, reference=ref_tbptt_batches, mistakes=MISTAKES,
            rtol=0.0, atol=0.0, points=2, diagnose=diagnose)
