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


# The public cases, one per pattern of the contract's divisibility properties:
# (N, B, T, distinct ids) with (N - 1) % B, N % B and L % T (L = (N - 1) // B) each zero and not.
PUBLIC_SIZES = ((104, 3, 5, True),   # (N-1) % B = 1: a character of the text unused; rest 4
                (40, 1, 6, True),    # B = 1; a ragged rest of 3
                (64, 4, 3, True),    # B divides N (L = 15, not N // B = 16); no ragged rest
                (89, 2, 4, False))   # (N-1) % B = 0, no rest; a small vocabulary (repeats)


def _pattern(n: int, b: int, t: int) -> tuple[bool, bool, bool, bool]:
    L = (n - 1) // b
    return (n - 1) % b != 0, n % b == 0, L % t != 0, b == 1


def _draw(rng: np.random.Generator, like: tuple[int, int, int, bool]) -> tuple[int, int, int]:
    """Sizes with the same divisibility pattern as ``like`` (and at least 2 windows)."""
    want = _pattern(*like[:3])
    while True:
        b = 1 if like[1] == 1 else int(rng.integers(2, 6))
        t = int(rng.integers(2, 8))
        n = int(rng.integers(2 * b * t + 1, 130))
        if t != b and _pattern(n, b, t) == want and ((n - 1) // b) // t >= 2:
            return n, b, t


def make_cases(seed: int) -> list[Case]:
    """Four cases, one per divisibility pattern (see PUBLIC_SIZES); the public seed uses those
    sizes, any other seed draws sizes with the same patterns. Distinct ids where they can."""
    cases = []
    for i, like in enumerate(PUBLIC_SIZES):
        rng = rng_for(seed, 500 + i)
        n, b, t = like[:3] if seed == 0 else _draw(rng, like)
        data = rng.permutation(n) + 7 if like[3] else rng.integers(0, 11, n)
        L = (n - 1) // b
        rest, unused = L % t, (n - 1) % b
        label = (f"N={n}, batch_size={b}, seq_len={t}: {L} characters per stream, {L // t} "
                 f"windows" + (f", a ragged rest of {rest} to drop" if rest else ", no rest")
                 + (f", {unused} character(s) at the end of the text unused" if unused else ""))
        cases.append(Case(label, (data.astype(np.int64), b, t), dims={"B": b}))
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


def _trim_start(data, batch_size, seq_len):
    """The ragged rest of each stream dropped at its start instead of its end."""
    data = np.asarray(data)
    B, T = batch_size, seq_len
    L = (len(data) - 1) // B
    K = L // T
    s = data[:B * L].reshape(B, L)[:, L - K * T:]
    t = data[1:B * L + 1].reshape(B, L)[:, L - K * T:]
    return s.reshape(B, K, T).transpose(1, 2, 0), t.reshape(B, K, T).transpose(1, 2, 0)


def _text_from_end(data, batch_size, seq_len):
    """The unused characters cut from the start of the text instead of its end."""
    data = np.asarray(data)
    N = len(data)
    L = (N - 1) // batch_size
    return ref_tbptt_batches(data[N - 1 - batch_size * L:], batch_size, seq_len)


def _rolled(data, batch_size, seq_len):
    """Targets made with np.roll inside each stream: the last target wraps to the stream's
    first character."""
    data = np.asarray(data)
    B, T = batch_size, seq_len
    L = (len(data) - 1) // B
    K = L // T
    s = data[:B * L].reshape(B, L)
    t = np.roll(s, -1, axis=1)
    s, t = s[:, :K * T], t[:, :K * T]
    return s.reshape(B, K, T).transpose(1, 2, 0), t.reshape(B, K, T).transpose(1, 2, 0)


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
    Mistake("the ragged rest dropped at the start of each stream", "keep the first K*T "
            "characters of each stream and drop the rest at its END ([:, :K*T]): window 0 must "
            "start where the stream starts", _trim_start),
    Mistake("the unused characters cut from the start of the text", "when N - 1 is not a "
            "multiple of B, the characters left over are the LAST ones: inputs = data[:B*L], "
            "targets = data[1:B*L + 1]", _text_from_end),
    Mistake("targets rolled within each stream (np.roll)", "np.roll wraps the stream's first "
            "character round to the last target; the target after a stream's last input is the "
            "next character of the TEXT: targets = data[1:B*L + 1].reshape(B, L)", _rolled),
]


def check_types(case, value) -> str | None:
    """The notebook says: two int arrays."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        return None
    for name, v in zip("xy", value):
        if isinstance(v, np.ndarray) and v.dtype.kind not in "iu":
            return (f"{name} has dtype {v.dtype}: return int arrays (character ids) — float "
                    "ids cannot index an embedding table (nn.Embedding raises on them, and "
                    "np.zeros makes float64 buffers by default: pass dtype=np.int64 or build "
                    "x and y by slicing data)")
    return None


def recognise(got: dict, exp: dict, data, batch_size, seq_len) -> tuple[str, str] | None:
    """Window counts and layouts that the shapes and the text itself reveal."""
    x, y, ex = got["x"], got["y"], exp["x"]
    data = np.asarray(data)
    N, B, T = len(data), batch_size, seq_len
    L = (N - 1) // B
    K, rest = L // T, L % T
    if x.shape == (K, B, T) and x.shape != ex.shape and np.array_equal(
            x.transpose(0, 2, 1), ex) and np.array_equal(y.transpose(0, 2, 1), exp["y"]):
        return ("windows batch-major", "each window is (B, T) = (batch, time) here: the windows "
                "must be time-major, (T, B), so that x[k][t] is the batch's input at step t "
                "(transpose each window: (K, B, T) -> (K, T, B))")
    if x.ndim == 3 and x.shape[1:] == (T, B) and x.shape[0] != K:
        k = x.shape[0]
        text = f"{k} windows instead of K = L // T = {K} (L = (N - 1) // B = {L})"
        if rest and k == K + 1:
            return ("the partial last window kept", text + f": the last {rest} characters of "
                    "each stream do not fill a window; drop that ragged rest (K = L // T)")
        if not rest and k == K - 1:
            return ("one whole window dropped", text + f": L = {L} is a multiple of T = {T}, "
                    "so all K windows are whole and none is dropped ((L - 1) // T?)")
        return ("the wrong number of windows", text)
    flat = data.reshape(-1)
    if x.shape == ex.shape and len(np.unique(flat)) == len(flat) and not np.array_equal(x, ex) \
            and np.array_equal(np.sort(x, axis=None), np.sort(ex, axis=None)):
        where = {int(v): i for i, v in enumerate(flat)}
        pos = np.vectorize(where.get)(x)
        if (pos < N - 1).all() and np.array_equal(y, flat[pos + 1]):
            return ("windows scrambled (reshape without transpose)", "every y is the character "
                    "that follows its x in the text and x holds the right characters, but in "
                    "the wrong places: x[k][t, b] must be character k*T + t of stream b — "
                    "streams.reshape(B, K, T).transpose(1, 2, 0), not a reshape to (K, T, B) "
                    "alone")
    return None


def explain_error(error: str, data, batch_size, seq_len) -> str | None:
    N, B = len(data), batch_size
    if N % B == 0 and f"size {N - 1} into shape ({B},{N // B})" in error:
        return (f"here B = {B} divides N = {N}, so L = N // B = {N // B} leaves no character "
                f"for the last target: keep one back, L = (N - 1) // B = {(N - 1) // B}")
    return None


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
            rtol=0.0, atol=0.0, points=2, diagnose=diagnose, check_types=check_types,
            recognise=recognise, explain_error=explain_error)
