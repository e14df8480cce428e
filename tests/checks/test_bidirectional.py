"""Unit tests of the notebook-06 bidirectional checkers (``bilstm_forward_padded``,
``last_valid_output``).

The wrong implementations below were written first, the way a learner writes them, before the
spec's catalogue (``course_utils/checks/specs/batches_layers_directions/bidirectional.py``) and
independently of its mistake functions; correct ones come in several styles (one in float32,
one that calls a padded one-direction LSTM twice, one that flips with index arrays, one with a
per-sequence loop).
"""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.checks import check_bilstm_forward_padded, check_last_valid_output, get_spec


def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def cell(x_t, h, c, W_ih, W_hh, b_ih, b_hh):
    H = h.shape[1]
    z = x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh            # (B, 4H)
    c = sig(z[:, H:2 * H]) * c + sig(z[:, :H]) * np.tanh(z[:, 2 * H:3 * H])
    return sig(z[:, 3 * H:]) * np.tanh(c), c


def padded_one_direction(x, lengths, h, c, p, alive_le=False):
    """Notebook 06's lstm_forward_padded, as a learner reuses it (optionally off by one)."""
    out = np.zeros((x.shape[0], x.shape[1], h.shape[1]))
    for t in range(x.shape[0]):
        alive = ((t <= lengths) if alive_le else (t < lengths))[:, None]
        h_new, c_new = cell(x[t], h, c, *p)
        h, c = np.where(alive, h_new, h), np.where(alive, c_new, c)
        out[t] = np.where(alive, h_new, 0.0)
    return out, h, c


def reverse_within(x, lengths):
    """x[t, b] -> x[lengths[b] - 1 - t, b] for t < lengths[b]; the padding stays where it is."""
    y = x.copy()
    for b, n in enumerate(lengths):
        y[:n, b] = x[:n, b][::-1]
    return y


# =========================================================================== correct styles
def bi_reuse(x, lengths, h0, c0, params, batch_first=False):
    """Style 1: the padded one-direction LSTM twice; the reverse one on each sequence reversed
    within its own length, its output reversed back the same way."""
    lengths = np.asarray(lengths)
    if batch_first:
        x = x.transpose(1, 0, 2)
    fwd, hf, cf = padded_one_direction(x, lengths, h0[0], c0[0], params[0])
    rev, hr, cr = padded_one_direction(reverse_within(x, lengths), lengths, h0[1], c0[1], params[1])
    out = np.concatenate([fwd, reverse_within(rev, lengths)], axis=2)
    if batch_first:
        out = out.transpose(1, 0, 2)
    return out, (np.stack([hf, hr]), np.stack([cf, cr]))


def bi_index(x, lengths, h0, c0, params, batch_first=False):
    """Style 2: a gather index idx[t, b] = lengths[b] - 1 - t (clipped), reverse loop writing
    straight into the reverse half, masks from a (T, B) boolean array."""
    xt = np.swapaxes(x, 0, 1) if batch_first else x
    T, B, _ = xt.shape
    H = h0.shape[2]
    lengths = np.asarray(lengths)
    mask = np.arange(T)[:, None] < lengths[None, :]                       # (T, B)
    idx = np.clip(lengths[None, :] - 1 - np.arange(T)[:, None], 0, T - 1)  # (T, B)
    x_rev = xt[idx, np.arange(B)[None, :]]                                 # (T, B, I)
    out = np.zeros((T, B, 2 * H))
    states = []
    for d, seq in enumerate((xt, x_rev)):
        h, c = h0[d], c0[d]
        for t in range(T):
            hn, cn = cell(seq[t], h, c, *params[d])
            m = mask[t][:, None]
            h, c = np.where(m, hn, h), np.where(m, cn, c)
            if d == 0:
                out[t, :, :H] = np.where(m, hn, 0.0)
            else:
                rows = np.nonzero(mask[t])[0]
                out[idx[t, rows], rows, H:] = hn[rows]
        states.append((h, c))
    if batch_first:
        out = np.swapaxes(out, 0, 1)
    return out, (np.stack([s[0] for s in states]), np.stack([s[1] for s in states]))


def bi_per_sequence(x, lengths, h0, c0, params, batch_first=False):
    """Style 3: one sequence at a time, no masks at all (each cut to its own length)."""
    T = x.shape[1] if batch_first else x.shape[0]
    B = len(lengths)
    H = h0.shape[2]
    out = np.zeros((B, T, 2 * H)) if batch_first else np.zeros((T, B, 2 * H))
    h_n, c_n = np.zeros_like(h0), np.zeros_like(c0)
    for b in range(B):
        n = int(lengths[b])
        seq = x[b, :n] if batch_first else x[:n, b]                       # (n, I)
        for d in range(2):
            h, c = h0[d, b:b + 1], c0[d, b:b + 1]
            steps = range(n) if d == 0 else range(n - 1, -1, -1)
            for t in steps:
                h, c = cell(seq[t:t + 1], h, c, *params[d])
                if batch_first:
                    out[b, t, d * H:(d + 1) * H] = h[0]
                else:
                    out[t, b, d * H:(d + 1) * H] = h[0]
            h_n[d, b], c_n[d, b] = h[0], c[0]
    return out, (h_n, c_n)


def bi_reverse_loop(x, lengths, h0, c0, params, batch_first=False):
    """Style 5: the reverse direction as a loop t = T-1 .. 0 with the same mask: steps past a
    sequence's length leave its state at h0, so it starts at its own end."""
    if batch_first:
        x = np.transpose(x, (1, 0, 2))
    lengths = np.asarray(lengths)
    T = x.shape[0]
    fwd, hf, cf = padded_one_direction(x, lengths, h0[0], c0[0], params[0])
    rev = np.zeros_like(fwd)
    h, c = h0[1], c0[1]
    for t in range(T - 1, -1, -1):
        alive = (t < lengths)[:, None]
        hn, cn = cell(x[t], h, c, *params[1])
        h, c = np.where(alive, hn, h), np.where(alive, cn, c)
        rev[t] = np.where(alive, hn, 0.0)
    out = np.concatenate([fwd, rev], axis=2)
    if batch_first:
        out = np.transpose(out, (1, 0, 2))
    return out, (np.stack([hf, h]), np.stack([cf, c]))


def bi_float32(x, lengths, h0, c0, params, batch_first=False):
    """Style 4: style 1 computed in float32."""
    f = np.float32
    out, (h, c) = bi_reuse(x.astype(f), lengths, h0.astype(f), c0.astype(f),
                           [tuple(w.astype(f) for w in p) for p in params], batch_first)
    return out, (h, c)


@pytest.mark.parametrize("fn", [bi_reuse, bi_index, bi_per_sequence, bi_reverse_loop, bi_float32])
@pytest.mark.parametrize("seed", [0, 11])
def test_correct_bidirectional_pass(fn, seed):
    result = check_bilstm_forward_padded(fn, seed=seed)
    assert result.passed, result.message


# =========================================================================== wrong ones
def w_reverse_padded_length(x, lengths, h0, c0, params, batch_first=False):
    """x[::-1] for the reverse direction, as for an unpadded batch, through the same masked
    function: for a short sequence it reads the padding first, then its end is cut off."""
    if batch_first:
        x = x.transpose(1, 0, 2)
    lengths = np.asarray(lengths)
    fwd, hf, cf = padded_one_direction(x, lengths, h0[0], c0[0], params[0])
    rev, hr, cr = padded_one_direction(x[::-1], lengths, h0[1], c0[1], params[1])
    out = np.concatenate([fwd, rev[::-1]], axis=2)
    if batch_first:
        out = out.transpose(1, 0, 2)
    return out, (np.stack([hf, hr]), np.stack([cf, cr]))


def w_reverse_unmasked(x, lengths, h0, c0, params, batch_first=False):
    """The reverse direction as a plain LSTM over x[::-1] (reads the padding first), its
    outputs zeroed past each length afterwards."""
    if batch_first:
        x = x.transpose(1, 0, 2)
    lengths = np.asarray(lengths)
    fwd, hf, cf = padded_one_direction(x, lengths, h0[0], c0[0], params[0])
    h, c, outs = h0[1], c0[1], []
    for x_t in x[::-1]:
        h, c = cell(x_t, h, c, *params[1])
        outs.append(h)
    rev = np.stack(outs)[::-1]
    mask = (np.arange(x.shape[0])[:, None] < lengths[None, :])[..., None]
    out = np.concatenate([fwd, rev * mask], axis=2)
    if batch_first:
        out = out.transpose(1, 0, 2)
    return out, (np.stack([hf, h]), np.stack([cf, c]))


def w_batch_first_ignored(x, lengths, h0, c0, params, batch_first=False):
    """Correct for time-major input; batch_first never looked at."""
    return bi_reuse(x, lengths, h0, c0, params, batch_first=False)


def w_batch_first_output_time_major(x, lengths, h0, c0, params, batch_first=False):
    """The input transposed for batch_first, the output not transposed back."""
    if batch_first:
        x = x.transpose(1, 0, 2)
    return bi_reuse(x, lengths, h0, c0, params, batch_first=False)


def w_mask_off_by_one(x, lengths, h0, c0, params, batch_first=False):
    """alive = t <= lengths: one padded step too many in each direction."""
    lengths = np.asarray(lengths)
    if batch_first:
        x = x.transpose(1, 0, 2)
    fwd, hf, cf = padded_one_direction(x, lengths, h0[0], c0[0], params[0], alive_le=True)
    rev, hr, cr = padded_one_direction(reverse_within(x, lengths), lengths, h0[1], c0[1],
                                       params[1], alive_le=True)
    out = np.concatenate([fwd, reverse_within(rev, lengths)], axis=2)
    if batch_first:
        out = out.transpose(1, 0, 2)
    return out, (np.stack([hf, hr]), np.stack([cf, cr]))


def w_halves_reverse_first(x, lengths, h0, c0, params, batch_first=False):
    out, states = bi_reuse(x, lengths, h0, c0, params, batch_first)
    H = h0.shape[2]
    return np.concatenate([out[..., H:], out[..., :H]], axis=-1), states


def w_rev_not_flipped_back(x, lengths, h0, c0, params, batch_first=False):
    """The reverse direction's output left in reversed-time order."""
    lengths = np.asarray(lengths)
    if batch_first:
        x = x.transpose(1, 0, 2)
    fwd, hf, cf = padded_one_direction(x, lengths, h0[0], c0[0], params[0])
    rev, hr, cr = padded_one_direction(reverse_within(x, lengths), lengths, h0[1], c0[1], params[1])
    out = np.concatenate([fwd, rev], axis=2)
    if batch_first:
        out = out.transpose(1, 0, 2)
    return out, (np.stack([hf, hr]), np.stack([cf, cr]))


def w_rev_flipped_back_over_T(x, lengths, h0, c0, params, batch_first=False):
    """Reversed within each length on the way in, but flipped back with [::-1] over all T."""
    lengths = np.asarray(lengths)
    if batch_first:
        x = x.transpose(1, 0, 2)
    fwd, hf, cf = padded_one_direction(x, lengths, h0[0], c0[0], params[0])
    rev, hr, cr = padded_one_direction(reverse_within(x, lengths), lengths, h0[1], c0[1], params[1])
    out = np.concatenate([fwd, rev[::-1]], axis=2)
    if batch_first:
        out = out.transpose(1, 0, 2)
    return out, (np.stack([hf, hr]), np.stack([cf, cr]))


def w_h_n_reverse_from_last_output(x, lengths, h0, c0, params, batch_first=False):
    """h_n read off the output at each sequence's last step, for both directions."""
    out, (h_n, c_n) = bi_reuse(x, lengths, h0, c0, params, batch_first)
    H = h0.shape[2]
    o = out.transpose(1, 0, 2) if batch_first else out
    rows = np.arange(len(lengths))
    last = o[np.asarray(lengths) - 1, rows]                  # (B, 2H)
    return out, (np.stack([last[:, :H], last[:, H:]]), c_n)


def w_h_n_swapped(x, lengths, h0, c0, params, batch_first=False):
    out, (h_n, c_n) = bi_reuse(x, lengths, h0, c0, params, batch_first)
    return out, (h_n[::-1], c_n[::-1])


def w_same_weights_both(x, lengths, h0, c0, params, batch_first=False):
    """The forward weights used for the reverse direction too."""
    return bi_reuse(x, lengths, h0, c0, [params[0], params[0]], batch_first)


WRONG_BI = [
    (w_reverse_padded_length, "the reverse direction started at T-1"),
    (w_reverse_unmasked, "the reverse direction run over the padding"),
    (w_mask_off_by_one, "the mask off by one"),
    (w_halves_reverse_first, "the halves swapped"),
    (w_rev_not_flipped_back, "the reverse output not flipped back"),
    (w_rev_flipped_back_over_T, "the reverse output flipped back over all T"),
    (w_h_n_reverse_from_last_output, "the reverse h_n taken at the last valid step"),
    (w_h_n_swapped, "h_n, c_n in the wrong direction order"),
    (w_same_weights_both, "the forward weights used for the reverse direction"),
]


@pytest.mark.parametrize("fn, name", WRONG_BI, ids=[n for _, n in WRONG_BI])
def test_bidirectional_mistakes_are_named(fn, name):
    result = check_bilstm_forward_padded(fn)
    assert not result.passed
    assert result.mistake is not None and result.mistake.startswith(name), result.message
    assert f"looks like {name}" in result.message


@pytest.mark.parametrize("fn", [w_batch_first_ignored, w_batch_first_output_time_major])
def test_batch_first_slips_are_located(fn):
    """They raise or return the wrong shape on the batch_first cases only: the message names
    the case's layout and says the time-major cases passed (not a catalogued mistake: the
    learner's own exception or shape speaks)."""
    result = check_bilstm_forward_padded(fn)
    assert not result.passed and result.mistake is None
    assert "batch_first=True: x (B, T, I), output (B, T, 2H)" in result.message, result.message
    assert "2 of 4 public cases passed" in result.message


def test_last_batch_first_ignored_is_located():
    result = check_last_valid_output(l_batch_first_ignored)
    assert not result.passed and result.mistake is None
    assert "batch_first=True" in result.message and "2 of 4 public cases passed" in result.message


def test_bidirectional_uncatalogued_error_is_located():
    def reverse_c_leaks(x, lengths, h0, c0, params, batch_first=False):
        out, (h_n, c_n) = bi_reuse(x, lengths, h0, c0, params, batch_first)
        c_n = c_n.copy()
        c_n[1] = c_n[1] * 1.5                                   # the reverse c_n scaled
        return out, (h_n, c_n)

    result = check_bilstm_forward_padded(reverse_c_leaks)
    assert not result.passed and result.mistake is None
    assert "c_n[1] (reverse)" in result.message, result.message


def test_bidirectional_not_implemented_and_inplace():
    def todo(x, lengths, h0, c0, params, batch_first=False):
        raise NotImplementedError()

    assert "not implemented" in check_bilstm_forward_padded(todo).message.lower()

    def sorts_lengths(x, lengths, h0, c0, params, batch_first=False):
        lengths.sort()
        return bi_reuse(x, lengths, h0, c0, params, batch_first)

    assert "modified its input `lengths`" in check_bilstm_forward_padded(sorts_lengths).message


# =========================================================================== last valid output
def last_fancy(output, lengths, batch_first=False):
    """Style 1: fancy indexing, forward half at lengths - 1, reverse half at 0."""
    o = np.swapaxes(output, 0, 1) if batch_first else output   # (T, B, 2H)
    H = o.shape[2] // 2
    rows = np.arange(o.shape[1])
    return np.concatenate([o[np.asarray(lengths) - 1, rows, :H], o[0, :, H:]], axis=1)


def last_loop(output, lengths, batch_first=False):
    """Style 2: a loop over the batch."""
    H = output.shape[2] // 2
    rows = []
    for b, n in enumerate(lengths):
        seq = output[b] if batch_first else output[:, b]          # (T, 2H)
        rows.append(np.concatenate([seq[n - 1, :H], seq[0, H:]]))
    return np.stack(rows)


def last_take_along(output, lengths, batch_first=False):
    """Style 3: np.take_along_axis, in float32."""
    o = output.astype(np.float32)
    axis = 1 if batch_first else 0
    H = o.shape[2] // 2
    idx = np.asarray(lengths) - 1
    idx = idx[:, None, None] if batch_first else idx[None, :, None]
    fwd = np.take_along_axis(o[..., :H], idx, axis=axis).squeeze(axis)
    rev = (o[:, 0] if batch_first else o[0])[:, H:]
    return np.concatenate([fwd, rev], axis=1)


@pytest.mark.parametrize("fn", [last_fancy, last_loop, last_take_along])
@pytest.mark.parametrize("seed", [0, 5])
def test_correct_last_valid_output_pass(fn, seed):
    result = check_last_valid_output(fn, seed=seed)
    assert result.passed, result.message


def l_minus_one(output, lengths, batch_first=False):
    o = np.swapaxes(output, 0, 1) if batch_first else output
    return o[-1]


def l_both_at_length(output, lengths, batch_first=False):
    o = np.swapaxes(output, 0, 1) if batch_first else output
    return o[np.asarray(lengths) - 1, np.arange(o.shape[1])]


def l_forward_ok_reverse_at_minus_one(output, lengths, batch_first=False):
    o = np.swapaxes(output, 0, 1) if batch_first else output
    H = o.shape[2] // 2
    return np.concatenate([o[np.asarray(lengths) - 1, np.arange(o.shape[1]), :H], o[-1, :, H:]], 1)


def l_forward_at_minus_one(output, lengths, batch_first=False):
    o = np.swapaxes(output, 0, 1) if batch_first else output
    H = o.shape[2] // 2
    return np.concatenate([o[-1, :, :H], o[0, :, H:]], 1)


def l_halves_swapped(output, lengths, batch_first=False):
    out = last_fancy(output, lengths, batch_first)
    H = out.shape[1] // 2
    return np.concatenate([out[:, H:], out[:, :H]], 1)


def l_batch_first_ignored(output, lengths, batch_first=False):
    return last_fancy(output, lengths, False)


def l_at_length_not_minus_one_clipped(output, lengths, batch_first=False):
    o = np.swapaxes(output, 0, 1) if batch_first else output
    H = o.shape[2] // 2
    idx = np.minimum(np.asarray(lengths), o.shape[0] - 1)   # "lengths" used as an index
    return np.concatenate([o[idx, np.arange(o.shape[1]), :H], o[0, :, H:]], 1)


WRONG_LAST = [
    (l_minus_one, "output[-1] for both halves"),
    (l_both_at_length, "both halves taken at the last valid step"),
    (l_forward_ok_reverse_at_minus_one, "the reverse half taken at T-1"),
    (l_forward_at_minus_one, "the forward half taken past the sequence's end (at T-1"),
    (l_halves_swapped, "the halves swapped"),
    (l_at_length_not_minus_one_clipped, "the forward half taken past the sequence's end"),
]


@pytest.mark.parametrize("fn, name", WRONG_LAST, ids=[n for _, n in WRONG_LAST])
def test_last_valid_output_mistakes_are_named(fn, name):
    result = check_last_valid_output(fn)
    assert not result.passed
    assert result.mistake is not None and result.mistake.startswith(name), result.message
    assert f"looks like {name}" in result.message


def test_cases_vary_what_the_contract_distinguishes():
    for exercise in ("bilstm_forward_padded", "last_valid_output"):
        cases = get_spec(exercise).cases(0)
        flags = {bool(c.kwargs.get("batch_first", False)) for c in cases}
        assert flags == {False, True}
        assert {c.dims["B"] for c in cases} >= {1, 3}
        for c in cases:
            assert len({c.dims["T"], c.dims["B"], c.dims["H"]}) == 3
        lengths = [(list(c.args[1]), c.dims["T"]) for c in cases]
        assert any(1 in ls for ls, _ in lengths) and any(T in ls for ls, T in lengths)
        assert any(max(ls) < T for ls, T in lengths)          # a batch whose longest is short


@pytest.mark.parametrize("exercise", ["bilstm_forward_padded", "last_valid_output"])
def test_reference_passes_its_checker(exercise):
    spec = get_spec(exercise)
    check = check_bilstm_forward_padded if exercise == "bilstm_forward_padded" \
        else check_last_valid_output
    assert check(spec.reference).passed


@pytest.mark.parametrize("exercise", ["bilstm_forward_padded", "last_valid_output"])
def test_every_catalogued_mistake_fails_and_is_told_apart(exercise):
    """Each mistake function is wrong on some public case, and no two give the same outputs on
    every case (else the first would always shadow the second)."""
    from course_utils.checks.judging import _all_close
    from course_utils.checks.structure import flatten

    spec = get_spec(exercise)
    cases = spec.cases(0)

    def outputs(fn):
        res = []
        for c in cases:
            args, kwargs = c.inputs()
            res.append(flatten(spec.output, fn(*args, **kwargs)))
        return res

    ref = outputs(spec.reference)
    outs = [outputs(m.fn) for m in spec.mistakes]
    assert len({m.name for m in spec.mistakes}) == len(spec.mistakes)
    for m, o in zip(spec.mistakes, outs):
        assert not all(_all_close(a, b, spec.rtol, spec.atol) for a, b in zip(o, ref)), m.name
    for i in range(len(outs)):
        for j in range(i + 1, len(outs)):
            same = all(_all_close(a, b, spec.rtol, spec.atol) for a, b in zip(outs[i], outs[j]))
            assert not same, (spec.mistakes[i].name, spec.mistakes[j].name)
