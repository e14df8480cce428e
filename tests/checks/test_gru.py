"""Unit tests of the notebook-04 GRU checkers (course_utils/checks/gru.py).

The learner code below is written independently of the spec's mistake functions, the way a
learner would write it, so a change in the spec cannot make a test pass by construction.
"""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.checks import check_gru_cell_forward, check_gru_forward


def sig(a):
    return 1.0 / (1.0 + np.exp(-a))


# --------------------------------------------------------------------------- correct cells
def cell_split(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    """Style 1: split the stacked weights into named blocks."""
    H = h_prev.shape[1]
    W_ir, W_iz, W_in = W_ih[:H], W_ih[H:2 * H], W_ih[2 * H:]
    W_hr, W_hz, W_hn = W_hh[:H], W_hh[H:2 * H], W_hh[2 * H:]
    b_ir, b_iz, b_in = b_ih[:H], b_ih[H:2 * H], b_ih[2 * H:]
    b_hr, b_hz, b_hn = b_hh[:H], b_hh[H:2 * H], b_hh[2 * H:]
    r = sig(x_t @ W_ir.T + b_ir + h_prev @ W_hr.T + b_hr)
    z = sig(x_t @ W_iz.T + b_iz + h_prev @ W_hz.T + b_hz)
    n = np.tanh(x_t @ W_in.T + b_in + r * (h_prev @ W_hn.T + b_hn))
    return (1 - z) * n + z * h_prev


def cell_fused32(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    """Style 2: two fused GEMMs (cuDNN style), computed in float32, h' = n + z (h - n)."""
    x_t, h_prev, W_ih, W_hh, b_ih, b_hh = (a.astype(np.float32) for a in
                                           (x_t, h_prev, W_ih, W_hh, b_ih, b_hh))
    gi = np.einsum("bi,gi->bg", x_t, W_ih) + b_ih
    gh = np.einsum("bh,gh->bg", h_prev, W_hh) + b_hh
    i_r, i_z, i_n = np.split(gi, 3, axis=1)
    h_r, h_z, h_n = np.split(gh, 3, axis=1)
    rz = 1 / (1 + np.exp(-(np.concatenate([i_r, i_z], 1) + np.concatenate([h_r, h_z], 1))))
    r, z = np.split(rz, 2, axis=1)
    n = np.tanh(i_n + r * h_n)
    return n + z * (h_prev - n)


def cell_torch(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    """Style 3: returns a torch tensor (the checker converts it)."""
    import torch

    t = [torch.tensor(a) for a in (x_t, h_prev, W_ih, W_hh, b_ih, b_hh)]
    return torch.ops.aten.gru_cell(t[0], t[1], t[2], t[3], t[4], t[5])


@pytest.mark.parametrize("fn", [cell_split, cell_fused32, cell_torch])
@pytest.mark.parametrize("seed", [None, 7])
def test_correct_cells_pass(fn, seed):
    res = check_gru_cell_forward(fn, seed=seed)
    assert res.passed, res.message
    assert res.n_cases == 4  # three ordinary cases and one in the tails


def seq_loop(x, h0, W_ih, W_hh, b_ih, b_hh):
    h = h0
    out = np.zeros((x.shape[0],) + h0.shape)
    for t in range(x.shape[0]):
        h = cell_split(x[t], h, W_ih, W_hh, b_ih, b_hh)
        out[t] = h
    return out, h


def seq_precomputed32(x, h0, W_ih, W_hh, b_ih, b_hh):
    """Input projections of all steps in one GEMM (as cuDNN does), float32, lists + stack."""
    x, h, W_ih, W_hh, b_ih, b_hh = (a.astype(np.float32) for a in (x, h0, W_ih, W_hh, b_ih, b_hh))
    gi_all = x @ W_ih.T + b_ih                       # (T, B, 3H)
    hs = []
    for gi in gi_all:
        i_r, i_z, i_n = np.split(gi, 3, axis=-1)
        h_r, h_z, h_n = np.split(h @ W_hh.T + b_hh, 3, axis=-1)
        r, z = sig(i_r + h_r), sig(i_z + h_z)
        h = (1 - z) * np.tanh(i_n + r * h_n) + z * h
        hs.append(h)
    return np.stack(hs), hs[-1]


@pytest.mark.parametrize("fn", [seq_loop, seq_precomputed32])
@pytest.mark.parametrize("seed", [None, 3])
def test_correct_sequences_pass(fn, seed):
    res = check_gru_forward(fn, seed=seed)
    assert res.passed, res.message


# --------------------------------------------------------------------------- wrong cells
def _blocks(a, H):
    return a[:H], a[H:2 * H], a[2 * H:]


def wrong_z_flipped(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    gi, gh = x_t @ W_ih.T + b_ih, h_prev @ W_hh.T + b_hh
    r = sig(gi[:, :H] + gh[:, :H])
    z = sig(gi[:, H:2 * H] + gh[:, H:2 * H])
    n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
    return z * n + (1 - z) * h_prev


def wrong_reset_before(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    W_ir, W_iz, W_in = _blocks(W_ih, H)
    W_hr, W_hz, W_hn = _blocks(W_hh, H)
    b_ir, b_iz, b_in = _blocks(b_ih, H)
    b_hr, b_hz, b_hn = _blocks(b_hh, H)
    r = sig(x_t @ W_ir.T + b_ir + h_prev @ W_hr.T + b_hr)
    z = sig(x_t @ W_iz.T + b_iz + h_prev @ W_hz.T + b_hz)
    n = np.tanh(x_t @ W_in.T + b_in + (r * h_prev) @ W_hn.T + b_hn)
    return (1 - z) * n + z * h_prev


def wrong_colah(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    """Copied from colah's blog: h = (1 - z) h + z h~, h~ = tanh(W [r*h, x])."""
    H = h_prev.shape[1]
    r = sig(x_t @ W_ih[:H].T + h_prev @ W_hh[:H].T + b_ih[:H] + b_hh[:H])
    z = sig(x_t @ W_ih[H:2 * H].T + h_prev @ W_hh[H:2 * H].T + b_ih[H:2 * H] + b_hh[H:2 * H])
    h_tilde = np.tanh(x_t @ W_ih[2 * H:].T + (r * h_prev) @ W_hh[2 * H:].T + b_ih[2 * H:] + b_hh[2 * H:])
    return (1 - z) * h_prev + z * h_tilde


def wrong_order_zrn(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    gi, gh = x_t @ W_ih.T + b_ih, h_prev @ W_hh.T + b_hh
    i_z, i_r, i_n = np.split(gi, 3, axis=1)
    h_z, h_r, h_n = np.split(gh, 3, axis=1)
    r, z = sig(i_r + h_r), sig(i_z + h_z)
    n = np.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h_prev


def wrong_no_reset(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    gi, gh = x_t @ W_ih.T + b_ih, h_prev @ W_hh.T + b_hh
    i_r, i_z, i_n = np.split(gi, 3, axis=1)
    h_r, h_z, h_n = np.split(gh, 3, axis=1)
    z = sig(i_z + h_z)
    n = np.tanh(i_n + h_n)
    return (1 - z) * n + z * h_prev


def wrong_bhn_outside(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    b = b_ih + b_hh                                  # "the biases just add up"
    pre = x_t @ W_ih.T + b
    hh = h_prev @ W_hh.T
    r = sig(pre[:, :H] + hh[:, :H])
    z = sig(pre[:, H:2 * H] + hh[:, H:2 * H])
    n = np.tanh(pre[:, 2 * H:] + r * hh[:, 2 * H:])
    return (1 - z) * n + z * h_prev


def wrong_sigmoid_candidate(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    gi, gh = x_t @ W_ih.T + b_ih, h_prev @ W_hh.T + b_hh
    i_r, i_z, i_n = np.split(gi, 3, axis=1)
    h_r, h_z, h_n = np.split(gh, 3, axis=1)
    r, z = sig(i_r + h_r), sig(i_z + h_z)
    n = sig(i_n + r * h_n)
    return (1 - z) * n + z * h_prev


def wrong_no_update(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    gi, gh = x_t @ W_ih.T + b_ih, h_prev @ W_hh.T + b_hh
    i_r, _, i_n = np.split(gi, 3, axis=1)
    h_r, _, h_n = np.split(gh, 3, axis=1)
    return np.tanh(i_n + sig(i_r + h_r) * h_n)


def wrong_missing_bhh(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    gi, gh = x_t @ W_ih.T + b_ih, h_prev @ W_hh.T
    i_r, i_z, i_n = np.split(gi, 3, axis=1)
    h_r, h_z, h_n = np.split(gh, 3, axis=1)
    r, z = sig(i_r + h_r), sig(i_z + h_z)
    return (1 - z) * np.tanh(i_n + r * h_n) + z * h_prev


CELL_WRONG = [
    (wrong_z_flipped, "z flipped"),
    (wrong_reset_before, "reset gate applied before the matmul"),
    (wrong_colah, "colah's / Chung et al.'s equations"),
    (wrong_order_zrn, "order z, r, n"),
    (wrong_no_reset, "no reset gate"),
    (wrong_bhn_outside, "b_hn outside the reset product"),
    (wrong_sigmoid_candidate, "sigmoid on the candidate"),
    (wrong_no_update, "update gate missing"),
    (wrong_missing_bhh, "missing bias b_hh"),
]


@pytest.mark.parametrize("fn,name", CELL_WRONG, ids=[n for _, n in CELL_WRONG])
def test_cell_mistakes_named(fn, name):
    res = check_gru_cell_forward(fn)
    assert not res.passed
    assert res.mistake is not None and name in res.mistake
    assert f"looks like {res.mistake}" in res.message


# --------------------------------------------------------------------------- wrong sequences
def wrong_state_not_carried(x, h0, W_ih, W_hh, b_ih, b_hh):
    outs = [cell_split(x[t], h0, W_ih, W_hh, b_ih, b_hh) for t in range(len(x))]
    return np.array(outs), outs[-1]


def wrong_hn_first(x, h0, *p):
    out, _ = seq_loop(x, h0, *p)
    return out, out[0]


def wrong_seq_z_flipped(x, h0, *p):
    h, out = h0, []
    for x_t in x:
        h = wrong_z_flipped(x_t, h, *p)
        out.append(h)
    return np.stack(out), h


def wrong_seq_reset_before(x, h0, *p):
    h, out = h0, np.empty((len(x),) + h0.shape)
    for t in range(len(x)):
        h = wrong_reset_before(x[t], h, *p)
        out[t] = h
    return out, h


def wrong_h0_included(x, h0, *p):
    out, h = seq_loop(x, h0, *p)
    return np.concatenate([h0[None], out]), h


SEQ_WRONG = [
    (wrong_state_not_carried, "hidden state not carried"),
    (wrong_hn_first, "h_n taken from the first step"),
    (wrong_seq_z_flipped, "z flipped (h' = z * n + (1 - z) * h_prev) (inside the time step)"),
    (wrong_seq_reset_before, "reset gate applied before the matmul (Cho et al. 2014 v3) (inside"),
    (wrong_h0_included, "h0 included in output"),
]


@pytest.mark.parametrize("fn,name", SEQ_WRONG, ids=[n[:30] for _, n in SEQ_WRONG])
def test_sequence_mistakes_named(fn, name):
    res = check_gru_forward(fn)
    assert not res.passed
    assert res.mistake is not None and name in res.mistake
    assert name.split(" (")[0] in res.message


# --------------------------------------------------------------------------- robustness
def test_not_implemented_is_friendly():
    def stub(*a):
        raise NotImplementedError()
    res = check_gru_cell_forward(stub)
    assert res.status == "not_implemented" and not res.passed
    assert "not implemented yet" in res.message


def test_none_is_reported():
    res = check_gru_forward(lambda *a: None)
    assert not res.passed and "None" in res.message and "return" in res.message


def test_exception_points_at_learner_line():
    def boom(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
        return x_t @ W_hh  # shapes do not fit
    res = check_gru_cell_forward(boom)
    assert not res.passed
    assert "ValueError" in res.message and "in boom" in res.message


def test_nan_is_reported():
    res = check_gru_cell_forward(lambda x_t, h, *p: np.full_like(h, np.nan))
    assert not res.passed and "NaN" in res.message


def test_mutation_is_reported():
    def mutating(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
        b_ih += b_hh  # in place on the caller's array
        H = h_prev.shape[1]
        gi, gh = x_t @ W_ih.T + b_ih, h_prev @ W_hh.T
        r = sig(gi[:, :H] + gh[:, :H])
        z = sig(gi[:, H:2 * H] + gh[:, H:2 * H])
        return (1 - z) * np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:]) + z * h_prev
    res = check_gru_cell_forward(mutating)
    assert not res.passed and res.mistake == "modified an input in place"
    assert "`b_ih`" in res.message


def test_wrong_shape_is_reported():
    res = check_gru_forward(lambda x, h0, *p: (np.zeros((x.shape[1], x.shape[0], h0.shape[1])), h0))
    assert not res.passed and "shape" in res.message


def test_not_a_function():
    res = check_gru_cell_forward(None)
    assert not res.passed and "pass the function itself" in res.message


# --------------------------------------------------------------------------- sharper checkers
def wrong_reset_on_input(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    """The reset gate scales the input's candidate part instead of the hidden part."""
    H = h_prev.shape[1]
    gi, gh = x_t @ W_ih.T + b_ih, h_prev @ W_hh.T + b_hh
    r = sig(gi[:, :H] + gh[:, :H])
    z = sig(gi[:, H:2 * H] + gh[:, H:2 * H])
    n = np.tanh(r * gi[:, 2 * H:] + gh[:, 2 * H:])
    return (1 - z) * n + z * h_prev


def wrong_reset_on_both(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    i_r, i_z, i_n = np.split(x_t @ W_ih.T + b_ih, 3, axis=1)
    h_r, h_z, h_n = np.split(h_prev @ W_hh.T + b_hh, 3, axis=1)
    r, z = sig(i_r + h_r), sig(i_z + h_z)
    n = np.tanh(r * (i_n + h_n))
    return (1 - z) * n + z * h_prev


@pytest.mark.parametrize("fn,name", [
    (wrong_reset_on_input, "the reset gate applied to the input side"),
    (wrong_reset_on_both, "the reset gate applied to both the input and the hidden side"),
])
def test_reset_gate_on_the_wrong_side_is_named(fn, name):
    res = check_gru_cell_forward(fn)
    assert res.mistake is not None and res.mistake.startswith(name), res.message

    def forward(x, h0, *p):
        h, out = h0, []
        for x_t in x:
            h = fn(x_t, h, *p)
            out.append(h)
        return np.stack(out), h

    seq = check_gru_forward(forward)
    assert seq.mistake is not None and seq.mistake.startswith(name), seq.message
    assert seq.mistake.endswith("(inside the time step)")


def wrong_seq_from_zeros(x, h0, W_ih, W_hh, b_ih, b_hh):
    h = np.zeros(h0.shape)
    out = np.empty((len(x),) + h0.shape)
    for t in range(len(x)):
        h = cell_split(x[t], h, W_ih, W_hh, b_ih, b_hh)
        out[t] = h
    return out, h


def test_starting_from_zeros_is_named():
    res = check_gru_forward(wrong_seq_from_zeros)
    assert res.mistake == "starting from zeros instead of the given h0", res.message


def test_batch_only_bug_says_where():
    def cell_flat(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
        """Written for one example: x_t and h_prev flattened to vectors."""
        gi = W_ih @ x_t.reshape(-1) + b_ih
        gh = W_hh @ h_prev.reshape(-1) + b_hh
        H = gh.size // 3
        r, z = sig(gi[:H] + gh[:H]), sig(gi[H:2 * H] + gh[H:2 * H])
        n = np.tanh(gi[2 * H:] + r * gh[2 * H:])
        return ((1 - z) * n + z * h_prev.reshape(-1)).reshape(1, -1)

    res = check_gru_cell_forward(cell_flat)
    assert "passes at batch 1, fails at batch 2, 3 and 4" in res.message, res.message
