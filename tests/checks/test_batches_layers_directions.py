"""Unit tests of the notebook-06 checkers (``lstm_stack_forward``, ``lstm_forward_padded``).

Every implementation below is written the way a learner would write it, independently of the
spec's mistake functions in ``course_utils/checks/specs/batches_layers_directions/``: correct
ones in several styles pass (one computes in float32), each realistic mistake fails with a
message that names it, and an uncatalogued error is located (layer / direction, sequence).
"""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.checks import check_lstm_forward_padded, check_lstm_stack_forward, get_spec
from course_utils.checks.judging import _all_close
from course_utils.checks.structure import flatten


def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def cell(x_t, h, c, W_ih, W_hh, b_ih, b_hh):
    H = h.shape[1]
    z = x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh          # (B, 4H)
    c = sig(z[:, H:2 * H]) * c + sig(z[:, :H]) * np.tanh(z[:, 2 * H:3 * H])
    return sig(z[:, 3 * H:]) * np.tanh(c), c


def run(x, h, c, p, step=cell):
    outs = []
    for x_t in x:
        h, c = step(x_t, h, c, *p)
        outs.append(h)
    return np.stack(outs), h, c


# =========================================================================== correct stacks
def stack_loops(x, h0, c0, params, num_layers, bidirectional):
    """Style 1: lists of halves, x[::-1] for the reverse direction, flipped back."""
    D = 2 if bidirectional else 1
    inp, hs, cs = x, [], []
    for k in range(num_layers):
        halves = []
        for d in range(D):
            j = k * D + d
            seq = inp if d == 0 else inp[::-1]
            out, h, c = run(seq, h0[j], c0[j], params[j])
            halves.append(out if d == 0 else out[::-1])
            hs.append(h)
            cs.append(c)
        inp = np.concatenate(halves, axis=-1)
    return inp, (np.stack(hs), np.stack(cs))


def stack_hoisted(x, h0, c0, params, num_layers, bidirectional):
    """Style 2: preallocated arrays, input projections for all steps at once, reverse loop
    over t = T-1 ... 0 writing straight into its half."""
    T, B, _ = x.shape
    H = h0.shape[2]
    D = 2 if bidirectional else 1
    h_n, c_n = np.empty_like(h0), np.empty_like(c0)
    inp = x
    for k in range(num_layers):
        out = np.empty((T, B, D * H))
        for d in range(D):
            W_ih, W_hh, b_ih, b_hh = params[k * D + d]
            xw = np.einsum("tbi,gi->tbg", inp, W_ih) + b_ih + b_hh    # (T, B, 4H)
            h, c = h0[k * D + d], c0[k * D + d]
            for t in (range(T) if d == 0 else range(T - 1, -1, -1)):
                i, f, g, o = np.split(xw[t] + h @ W_hh.T, 4, axis=1)
                c = sig(f) * c + sig(i) * np.tanh(g)
                h = sig(o) * np.tanh(c)
                out[t, :, d * H:(d + 1) * H] = h
            h_n[k * D + d], c_n[k * D + d] = h, c
        inp = out
    return inp, (h_n, c_n)


def stack_float32(x, h0, c0, params, num_layers, bidirectional):
    """Style 3: float32 throughout, params converted first."""
    p32 = [tuple(a.astype(np.float32) for a in p) for p in params]
    return stack_loops(x.astype(np.float32), h0.astype(np.float32), c0.astype(np.float32),
                       p32, num_layers, bidirectional)


@pytest.mark.parametrize("fn", [stack_loops, stack_hoisted, stack_float32])
@pytest.mark.parametrize("seed", [None, 7])
def test_correct_stacks_pass(fn, seed):
    result = check_lstm_stack_forward(fn, seed=seed)
    assert result.passed, result.message


# =========================================================================== wrong stacks
def make_stack(layer_fn, feed=None, final=None):
    """A stack whose per-layer work is ``layer_fn(inp, h0, c0, params, k, D) -> (halves,
    finals)``; ``feed(halves)`` builds the next layer's input; ``final`` arranges h_n."""
    def fn(x, h0, c0, params, num_layers, bidirectional):
        D = 2 if bidirectional else 1
        inp, finals = x, []
        for k in range(num_layers):
            halves, fin = layer_fn(inp, h0, c0, params, k, D)
            finals += fin
            out = np.concatenate(halves, axis=-1)
            inp = feed(halves) if feed is not None and D == 2 else out
        hs = [f[0] for f in finals]
        cs = [f[1] for f in finals]
        if final is not None:
            hs, cs = final(hs, num_layers, D), final(cs, num_layers, D)
        return out, (np.stack(hs), np.stack(cs))
    return fn


def layer_ok(inp, h0, c0, params, k, D, no_flip=False, swap=False, rev_from_fwd=False,
             rev_forwards=False, rev_hn_last=False, same_init=False, fwd_weights=False,
             dir_major_read=False, num_layers=None, step=cell):
    halves, finals, prev = [], [], None
    for d in range(D):
        j = k * D + d
        if dir_major_read:
            j = d * num_layers + k
        if same_init:
            j = 0
        h_i, c_i = (prev if (d == 1 and rev_from_fwd) else (h0[j], c0[j]))
        p = params[k * D] if (d == 1 and fwd_weights) else params[k * D + d]
        seq = inp[::-1] if (d == 1 and not rev_forwards) else inp
        out, h, c = run(seq, h_i, c_i, p, step)
        if d == 1 and not rev_forwards and not no_flip:
            out = out[::-1]
        if d == 1 and rev_hn_last:
            h = out[-1]
        prev = (h, c)
        halves.append(out)
        finals.append((h, c))
    return (halves[::-1] if swap else halves), finals


def direction_major(states, L, D):
    return [states[k * D + d] for d in range(D) for k in range(L)]


def w_dir_major_both(x, h0, c0, params, num_layers, bidirectional):
    def layer(inp, h0_, c0_, p, k, D):
        return layer_ok(inp, h0_, c0_, p, k, D, dir_major_read=True, num_layers=num_layers)
    return make_stack(layer, final=direction_major)(x, h0, c0, params, num_layers,
                                                    bidirectional)


def w_output_first_layer(x, h0, c0, params, num_layers, bidirectional):
    D = 2 if bidirectional else 1
    out, (h_n, c_n) = stack_loops(x, h0, c0, params, num_layers, bidirectional)
    first, _ = stack_loops(x, h0[:D], c0[:D], params[:D], 1, bidirectional)
    return first, (h_n, c_n)


def run_c_not_carried(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    h, outs = h0, []
    for x_t in x:
        h, c = cell(x_t, h, c0, W_ih, W_hh, b_ih, b_hh)
        outs.append(h)
    return np.stack(outs), h, c


def cell_order_ifog(x_t, h, c, W_ih, W_hh, b_ih, b_hh):
    i, f, o, g = np.split(x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh, 4, axis=1)
    c = sig(f) * c + sig(i) * np.tanh(g)
    return sig(o) * np.tanh(c), c


def _layer(**kw):
    return lambda inp, h0, c0, p, k, D: layer_ok(inp, h0, c0, p, k, D, **kw)


def w_c_not_carried(x, h0, c0, params, num_layers, bidirectional):
    D = 2 if bidirectional else 1
    inp, hs, cs = x, [], []
    for k in range(num_layers):
        halves = []
        for d in range(D):
            j = k * D + d
            out, h, c = run_c_not_carried(inp if d == 0 else inp[::-1], h0[j], c0[j],
                                          *params[j])
            halves.append(out if d == 0 else out[::-1])
            hs.append(h)
            cs.append(c)
        inp = np.concatenate(halves, axis=-1)
    return inp, (np.stack(hs), np.stack(cs))


def w_forward_half_buffer(x, h0, c0, params, num_layers, bidirectional):
    """Fills only the forward half of the next layer's input buffer."""
    def feed(halves):
        nxt = np.zeros(halves[0].shape[:2] + (2 * halves[0].shape[2],))
        nxt[..., :halves[0].shape[2]] = halves[0]
        return nxt
    return make_stack(_layer(), feed=feed)(x, h0, c0, params, num_layers, bidirectional)


STACK_WRONG = [
    (make_stack(_layer(no_flip=True)), "the reverse direction's output not flipped back"),
    (make_stack(_layer(swap=True)), "the forward and reverse halves concatenated in the wrong"),
    (w_forward_half_buffer, "upper layers fed only the forward half"),
    (w_dir_major_both, "h0 and h_n ordered direction-major"),
    (make_stack(_layer(), final=direction_major), "h_n ordered direction-major"),
    (make_stack(_layer(rev_from_fwd=True)),
     "the reverse pass starting from the forward pass's final state"),
    (make_stack(_layer(rev_forwards=True)), "the reverse direction not reversed"),
    (make_stack(_layer(rev_hn_last=True)), "the reverse direction's h_n taken at t = T-1"),
    (make_stack(_layer(same_init=True)), "the same initial state h0[0], c0[0]"),
    (make_stack(_layer(fwd_weights=True)), "the forward weights used for the reverse"),
    (w_output_first_layer, "output taken from the first layer"),
    (w_c_not_carried, "the cell state not carried (c0 at every step) (in every layer"),
    (make_stack(_layer(step=cell_order_ifog)), "gates in the order i, f, o, g"),
]


@pytest.mark.parametrize("fn,name", STACK_WRONG, ids=[n[:40] for _, n in STACK_WRONG])
def test_stack_mistakes_are_named(fn, name):
    result = check_lstm_stack_forward(fn)
    assert not result.passed
    assert result.mistake is not None and result.mistake.startswith(name), result.message
    assert f"looks like {name}" in result.message


def test_stack_uncatalogued_error_is_located():
    def drift_upper(x, h0, c0, params, num_layers, bidirectional):
        out, (h_n, c_n) = stack_loops(x, h0, c0, params, num_layers, bidirectional)
        D = 2 if bidirectional else 1
        h_n = h_n.copy()
        h_n[D:] += 0.01                        # upper layers' final states off
        return out, (h_n, c_n)

    result = check_lstm_stack_forward(drift_upper)
    assert result.mistake is None
    assert "h_n at [2] (layer 1, forward)" in result.message, result.message
    assert "layer 0 is right" in result.message


def test_stack_robustness():
    def inplace(x, h0, c0, params, num_layers, bidirectional):
        out, (h_n, c_n) = stack_loops(x, h0, c0, params, num_layers, bidirectional)
        h0[...] = h_n
        return out, (h_n, c_n)

    def last_layer_only(x, h0, c0, params, num_layers, bidirectional):
        D = 2 if bidirectional else 1
        out, (h_n, c_n) = stack_loops(x, h0, c0, params, num_layers, bidirectional)
        return out, (h_n[-D:], c_n[-D:])

    assert "modified its input `h0` in place" in check_lstm_stack_forward(inplace).message
    assert "h_n has shape" in check_lstm_stack_forward(last_layer_only).message


# =========================================================================== correct padded
def padded_where(x, lengths, h0, c0, W_ih, W_hh, b_ih, b_hh):
    """Style 1: a (T, B, 1) mask and np.where."""
    T = x.shape[0]
    mask = (np.arange(T)[:, None] < np.asarray(lengths)[None, :])[:, :, None]
    h, c, outs = h0, c0, []
    for t in range(T):
        h_new, c_new = cell(x[t], h, c, W_ih, W_hh, b_ih, b_hh)
        h, c = np.where(mask[t], h_new, h), np.where(mask[t], c_new, c)
        outs.append(np.where(mask[t], h_new, 0.0))
    return np.stack(outs), (h, c)


def padded_per_sequence(x, lengths, h0, c0, W_ih, W_hh, b_ih, b_hh):
    """Style 2: one sequence at a time, only its real steps."""
    T, B, _ = x.shape
    out = np.zeros((T, B, h0.shape[1]))
    h_n, c_n = np.zeros_like(h0), np.zeros_like(c0)
    for b in range(B):
        n = int(lengths[b])
        o, h, c = run(x[:n, b:b + 1], h0[b:b + 1], c0[b:b + 1], (W_ih, W_hh, b_ih, b_hh))
        out[:n, b] = o[:, 0]
        h_n[b], c_n[b] = h[0], c[0]
    return out, (h_n, c_n)


def padded_float32(x, lengths, h0, c0, W_ih, W_hh, b_ih, b_hh):
    """Style 3: float32 and a multiplicative mask."""
    args = [a.astype(np.float32) for a in (x, h0, c0, W_ih, W_hh, b_ih, b_hh)]
    x, h, c, *p = args
    outs = []
    for t in range(x.shape[0]):
        m = (t < lengths).astype(np.float32)[:, None]     # (B, 1)
        h_new, c_new = cell(x[t], h, c, *p)
        h, c = m * h_new + (1 - m) * h, m * c_new + (1 - m) * c
        outs.append(m * h_new)
    return np.stack(outs), (h, c)


@pytest.mark.parametrize("fn", [padded_where, padded_per_sequence, padded_float32])
@pytest.mark.parametrize("seed", [None, 7])
def test_correct_padded_pass(fn, seed):
    result = check_lstm_forward_padded(fn, seed=seed)
    assert result.passed, result.message


# =========================================================================== wrong padded
def p_masked(x, lengths, h0, c0, W_ih, W_hh, b_ih, b_hh, update="freeze", emit="zero",
             step=cell, freeze_c=True):
    T = x.shape[0]
    h, c, outs, states = h0, c0, [], [(h0, c0)]
    for t in range(T):
        alive = (t < lengths)[:, None]
        h_new, c_new = step(x[t], h, c, W_ih, W_hh, b_ih, b_hh)
        if update == "always":
            h, c = h_new, c_new
        elif update == "zero":
            h, c = h_new * alive, c_new * alive
        else:
            h = np.where(alive, h_new, h)
            c = np.where(alive, c_new, c) if freeze_c else c_new
        outs.append({"zero": h_new * alive, "state": h, "new": h_new}[emit])
        states.append((h, c))
    return np.stack(outs), (h, c), states


def pw(**kw):
    def fn(x, lengths, h0, c0, W_ih, W_hh, b_ih, b_hh):
        out, hc, _ = p_masked(x, lengths, h0, c0, W_ih, W_hh, b_ih, b_hh, **kw)
        return out, hc
    return fn


def p_last_output(x, lengths, h0, c0, W_ih, W_hh, b_ih, b_hh):
    out, (h, c), _ = p_masked(x, lengths, h0, c0, W_ih, W_hh, b_ih, b_hh)
    return out, (out[-1], c)


def p_zeroed_inputs(x, lengths, h0, c0, W_ih, W_hh, b_ih, b_hh):
    x = x.copy()
    for b, n in enumerate(lengths):
        x[n:, b] = 0.0
    out, h, c = run(x, h0, c0, (W_ih, W_hh, b_ih, b_hh))
    return out, (h, c)


def p_sorted_like_pack(x, lengths, h0, c0, W_ih, W_hh, b_ih, b_hh):
    order = sorted(range(len(lengths)), key=lambda b: -lengths[b])
    out, (h, c) = padded_where(x[:, order], lengths[order], h0[order], c0[order],
                               W_ih, W_hh, b_ih, b_hh)
    unsort = np.argsort(order)
    return out[:, unsort], (h, c)                     # forgot to unsort h_n, c_n


def p_one_step_early(x, lengths, h0, c0, W_ih, W_hh, b_ih, b_hh):
    out, _, states = p_masked(x, lengths, h0, c0, W_ih, W_hh, b_ih, b_hh)
    rows = range(len(lengths))
    return out, (np.stack([states[n - 1][0][b] for b, n in zip(rows, lengths)]),
                 np.stack([states[n - 1][1][b] for b, n in zip(rows, lengths)]))


def cell_sigmoid_candidate(x_t, h, c, W_ih, W_hh, b_ih, b_hh):
    i, f, g, o = np.split(sig(x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh), 4, axis=1)
    c = f * c + i * g
    return o * np.tanh(c), c


PADDED_WRONG = [
    (p_last_output, "h_n taken at T-1 for every sequence"),
    (pw(update="always"), "padded steps updating the state"),
    (pw(emit="state"), "outputs past the length not zeroed (the frozen state"),
    (pw(emit="new"), "outputs past the length not zeroed (each padded step"),
    (pw(update="always", emit="new"), "the padding ignored"),
    (p_zeroed_inputs, "the inputs zeroed past the length"),
    (pw(freeze_c=False), "only h frozen past the length"),
    (pw(update="zero"), "the state reset to zero past the length"),
    (p_sorted_like_pack, "(h_n, c_n) in length-sorted order"),
    (p_one_step_early, "(h_n, c_n) taken one step before"),
    (pw(step=cell_sigmoid_candidate), "sigmoid on the candidate g (inside the time step)"),
]


@pytest.mark.parametrize("fn,name", PADDED_WRONG, ids=[n[:40] for _, n in PADDED_WRONG])
def test_padded_mistakes_are_named(fn, name):
    result = check_lstm_forward_padded(fn)
    assert not result.passed
    assert result.mistake is not None and result.mistake.startswith(name), result.message
    assert f"looks like {name}" in result.message


def test_padded_uncatalogued_error_is_located():
    def drift_short(x, lengths, h0, c0, W_ih, W_hh, b_ih, b_hh):
        out, (h, c) = padded_where(x, lengths, h0, c0, W_ih, W_hh, b_ih, b_hh)
        h = h + 0.01 * (lengths < x.shape[0])[:, None]
        return out, (h, c)

    result = check_lstm_forward_padded(drift_short)
    assert result.mistake is None
    assert "h_n of sequences 0 (length 4), 2 (length 1)" in result.message, result.message
    assert "only sequences shorter than T=6" in result.message


def test_padded_lengths_modified_in_place():
    def sorts_lengths(x, lengths, h0, c0, W_ih, W_hh, b_ih, b_hh):
        out = padded_where(x, lengths, h0, c0, W_ih, W_hh, b_ih, b_hh)
        lengths.sort()
        return out

    assert "modified its input `lengths`" in check_lstm_forward_padded(sorts_lengths).message


# =========================================================================== the catalogues
def _outputs(spec, fn, cases):
    out = []
    for c in cases:
        args, kwargs = c.inputs()
        try:
            out.append(flatten(spec.output, fn(*args, **kwargs)))
        except Exception:  # noqa: BLE001 - a mistake that cannot apply to a case
            out.append(None)
    return out


@pytest.mark.parametrize("exercise", ["lstm_stack_forward", "lstm_forward_padded"])
@pytest.mark.parametrize("seed", [0, 99])   # the public seed and a hidden one
def test_catalogue_is_distinguishable(exercise, seed):
    """Every mistake differs from the reference on some case; where two mistakes both differ
    from the reference they differ from each other, so the checker names the right one."""
    spec = get_spec(exercise)
    cases = spec.cases(seed)
    expected = [flatten(spec.output, spec.expected(c)) for c in cases]
    outs = {m.name: _outputs(spec, m.fn, cases) for m in spec.mistakes}
    assert len(outs) == len(spec.mistakes), "duplicate mistake names"

    def wrong(got, exp):
        return got is not None and not _all_close(got, exp, spec.rtol, spec.atol)

    names = list(outs)
    for k, a in enumerate(names):
        assert any(wrong(g, e) for g, e in zip(outs[a], expected)), f"{a} equals the reference"
        for b in names[k + 1:]:
            for ga, gb, e in zip(outs[a], outs[b], expected):
                if wrong(ga, e) and wrong(gb, e):
                    assert not _all_close(ga, gb, spec.rtol, spec.atol), f"{a} == {b}"


def test_cases_cover_the_issue():
    stack = get_spec("lstm_stack_forward").cases()
    kinds = {(c.args[4], c.args[5]) for c in stack}
    assert kinds >= {(1, True), (2, True), (3, False), (3, True), (2, False)}
    assert {c.args[0].shape[1] for c in stack} >= {1, 2}
    for c in stack + get_spec("lstm_forward_padded").cases():
        T, B, I = c.args[0].shape
        H = c.args[2].shape[-1]
        assert len({T, B, I, H}) == 4, c.label
    for c in get_spec("lstm_forward_padded").cases():
        assert np.all(c.args[1] >= 1) and np.all(c.args[1] <= c.args[0].shape[0])
    lengths = [(c.args[1], c.args[0].shape[0]) for c in get_spec("lstm_forward_padded").cases()]
    assert any(1 in ls for ls, _ in lengths) and any(T in ls for ls, T in lengths)


@pytest.mark.parametrize("exercise", ["lstm_stack_forward", "lstm_forward_padded"])
def test_references_pass_and_survive_the_grader_transport(exercise):
    """The reference passes its own checker, and a case's inputs (nested lists of tuples of
    arrays, ints, a bool) go through the grader's serialisation unchanged."""
    from course_utils.grade.serialize import decode_inputs, encode_inputs

    spec = get_spec(exercise)
    assert check_lstm_stack_forward(spec.reference).passed if exercise == "lstm_stack_forward" \
        else check_lstm_forward_padded(spec.reference).passed
    for case in spec.cases(5):
        tree, arrays = encode_inputs(dict(zip(spec.arg_names, case.args)))
        back = {k: decode_inputs(v, arrays) for k, v in tree.items()}
        got = flatten(spec.output, spec.reference(**back))
        assert _all_close(got, flatten(spec.output, spec.expected(case)), 0, 0)
