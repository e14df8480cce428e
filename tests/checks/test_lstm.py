"""Unit tests of the notebook-03 checkers (``lstm_cell_forward``, ``lstm_forward``).

Every implementation below is written the way a learner would write it, independently of the
spec's mistake functions in ``course_utils/checks/lstm.py``: correct ones in several styles
must pass (one computes in float32), and each realistic mistake must fail with a message that
names it.
"""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.checks import check_lstm_cell_forward, check_lstm_forward


def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


# =========================================================================== correct cells
def cell_slices(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    """Style 1: one matmul, then slice the four gate blocks."""
    H = h_prev.shape[1]
    z = x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh  # (B, 4H)
    i = sig(z[:, :H])
    f = sig(z[:, H:2 * H])
    g = np.tanh(z[:, 2 * H:3 * H])
    o = sig(z[:, 3 * H:])
    c = f * c_prev + i * g
    return o * np.tanh(c), c


def cell_reshape(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    """Style 2: reshape the weights into (4, H, ·) and compute each gate with einsum."""
    H = h_prev.shape[1]
    Wi = W_ih.reshape(4, H, -1)
    Wh = W_hh.reshape(4, H, H)
    b = (b_ih + b_hh).reshape(4, H)
    z = np.einsum("ghi,bi->gbh", Wi, x_t) + np.einsum("ghk,bk->gbh", Wh, h_prev) + b[:, None, :]
    i, f, g, o = sig(z[0]), sig(z[1]), np.tanh(z[2]), sig(z[3])
    c_new = f * c_prev + i * g
    h_new = o * np.tanh(c_new)
    return h_new, c_new


def cell_float32(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    """Style 3: everything in float32, gates split with np.split."""
    x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh = (a.astype(np.float32) for a in
                                                   (x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh))
    gates = x_t @ W_ih.T + h_prev @ W_hh.T + b_ih + b_hh
    i, f, g, o = np.split(gates, 4, axis=1)
    c = sig(f) * c_prev + sig(i) * np.tanh(g)
    h = sig(o) * np.tanh(c)
    return h, c


def cell_torch(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    """Style 4: torch tensors returned (the checker converts them)."""
    import torch

    t = [torch.from_numpy(a) for a in (x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh)]
    x, h, c, Wi, Wh, bi, bh = t
    i, f, g, o = (x @ Wi.T + bi + h @ Wh.T + bh).chunk(4, dim=1)
    c2 = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c2), c2


@pytest.mark.parametrize("fn", [cell_slices, cell_reshape, cell_float32, cell_torch])
def test_correct_cells_pass(fn):
    result = check_lstm_cell_forward(fn)
    assert result.passed, result.message
    assert result.n_cases == 4 and "passed" in result.message


@pytest.mark.parametrize("seed", [1, 12345])
def test_correct_cell_passes_hidden_seeds(seed):
    assert check_lstm_cell_forward(cell_float32, seed=seed).passed
    assert check_lstm_cell_forward(cell_reshape, seed=seed).passed


# =========================================================================== wrong cells
def _z(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh


def w_order_ifog(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    z = _z(x_t, h_prev, W_ih, W_hh, b_ih, b_hh)
    i, f, o = sig(z[:, :H]), sig(z[:, H:2 * H]), sig(z[:, 2 * H:3 * H])
    g = np.tanh(z[:, 3 * H:])
    c = f * c_prev + i * g
    return o * np.tanh(c), c


def w_order_figo(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    f, i, g, o = np.split(_z(x_t, h_prev, W_ih, W_hh, b_ih, b_hh), 4, axis=1)
    c = sig(f) * c_prev + sig(i) * np.tanh(g)
    return sig(o) * np.tanh(c), c


def w_order_igfo(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    i, j, f, o = np.split(_z(x_t, h_prev, W_ih, W_hh, b_ih, b_hh), 4, axis=1)  # TF1 naming
    c = sig(f) * c_prev + sig(i) * np.tanh(j)
    return sig(o) * np.tanh(c), c


def w_order_iofg(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    i, o, f, g = np.split(_z(x_t, h_prev, W_ih, W_hh, b_ih, b_hh), 4, axis=1)
    c = sig(f) * c_prev + sig(i) * np.tanh(g)
    return sig(o) * np.tanh(c), c


def w_all_tanh(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    i, f, g, o = np.tanh(np.split(_z(x_t, h_prev, W_ih, W_hh, b_ih, b_hh), 4, axis=1))
    c = f * c_prev + i * g
    return o * np.tanh(c), c


def w_tanh_output_gate(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    i, f, g, o = np.split(_z(x_t, h_prev, W_ih, W_hh, b_ih, b_hh), 4, axis=1)
    c = sig(f) * c_prev + sig(i) * np.tanh(g)
    return np.tanh(o) * np.tanh(c), c


def w_sigmoid_candidate(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    i, f, g, o = (sig(a) for a in np.split(_z(x_t, h_prev, W_ih, W_hh, b_ih, b_hh), 4, axis=1))
    c = f * c_prev + i * g
    return o * np.tanh(c), c


def w_no_input_gate(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    z = _z(x_t, h_prev, W_ih, W_hh, b_ih, b_hh)
    c = sig(z[:, H:2 * H]) * c_prev + np.tanh(z[:, 2 * H:3 * H])
    return sig(z[:, 3 * H:]) * np.tanh(c), c


def w_no_forget_gate(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    z = _z(x_t, h_prev, W_ih, W_hh, b_ih, b_hh)
    c = c_prev + sig(z[:, :H]) * np.tanh(z[:, 2 * H:3 * H])
    return sig(z[:, 3 * H:]) * np.tanh(c), c


def w_h_without_tanh(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    i, f, g, o = np.split(_z(x_t, h_prev, W_ih, W_hh, b_ih, b_hh), 4, axis=1)
    c = sig(f) * c_prev + sig(i) * np.tanh(g)
    return sig(o) * c, c


def w_h_from_c_prev(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    i, f, g, o = np.split(_z(x_t, h_prev, W_ih, W_hh, b_ih, b_hh), 4, axis=1)
    h = sig(o) * np.tanh(c_prev)
    c = sig(f) * c_prev + sig(i) * np.tanh(g)
    return h, c


def w_c_from_h_prev(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    i, f, g, o = np.split(_z(x_t, h_prev, W_ih, W_hh, b_ih, b_hh), 4, axis=1)
    c = sig(f) * h_prev + sig(i) * np.tanh(g)
    return sig(o) * np.tanh(c), c


def w_swapped_return(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    h, c = cell_slices(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh)
    return c, h


def w_no_b_hh(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    i, f, g, o = np.split(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T, 4, axis=1)
    c = sig(f) * c_prev + sig(i) * np.tanh(g)
    return sig(o) * np.tanh(c), c


def w_no_biases(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    i, f, g, o = np.split(x_t @ W_ih.T + h_prev @ W_hh.T, 4, axis=1)
    c = sig(f) * c_prev + sig(i) * np.tanh(g)
    return sig(o) * np.tanh(c), c


def w_order_fiog(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    z = _z(x_t, h_prev, W_ih, W_hh, b_ih, b_hh)
    f, i, o, g = (z[:, k * H:(k + 1) * H] for k in range(4))
    c = sig(f) * c_prev + sig(i) * np.tanh(g)
    return sig(o) * np.tanh(c), c


def w_order_oifg(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    o, i, f, g = np.split(_z(x_t, h_prev, W_ih, W_hh, b_ih, b_hh), 4, axis=1)
    c = sig(f) * c_prev + sig(i) * np.tanh(g)
    return sig(o) * np.tanh(c), c


def w_interleaved(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    B, H = h_prev.shape
    z = _z(x_t, h_prev, W_ih, W_hh, b_ih, b_hh).reshape(B, H, 4)
    i, f, g, o = sig(z[..., 0]), sig(z[..., 1]), np.tanh(z[..., 2]), sig(z[..., 3])
    c = f * c_prev + i * g
    return o * np.tanh(c), c


def w_tanh_input_gate(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    i, f, g, o = np.split(_z(x_t, h_prev, W_ih, W_hh, b_ih, b_hh), 4, axis=1)
    c = sig(f) * c_prev + np.tanh(i) * np.tanh(g)
    return sig(o) * np.tanh(c), c


def w_tanh_forget_gate(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    i, f, g, o = np.split(_z(x_t, h_prev, W_ih, W_hh, b_ih, b_hh), 4, axis=1)
    c = np.tanh(f) * c_prev + sig(i) * np.tanh(g)
    return sig(o) * np.tanh(c), c


def w_sigmoid_on_cell(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    i, f, g, o = np.split(_z(x_t, h_prev, W_ih, W_hh, b_ih, b_hh), 4, axis=1)
    c = sig(f) * c_prev + sig(i) * np.tanh(g)
    return sig(o) * sig(c), c


def w_no_gates_on_cell(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    i, f, g, o = np.split(_z(x_t, h_prev, W_ih, W_hh, b_ih, b_hh), 4, axis=1)
    c = c_prev + np.tanh(g)
    return sig(o) * np.tanh(c), c


def w_no_b_ih(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    i, f, g, o = np.split(x_t @ W_ih.T + h_prev @ W_hh.T + b_hh, 4, axis=1)
    c = sig(f) * c_prev + sig(i) * np.tanh(g)
    return sig(o) * np.tanh(c), c


CELL_WRONG = [
    (w_order_ifog, "gates in the order i, f, o, g"),
    (w_order_figo, "gates in the order f, i, g, o"),
    (w_order_igfo, "gates in the order i, g, f, o"),
    (w_order_iofg, "gates in the order i, o, f, g"),
    (w_all_tanh, "tanh on the gates"),
    (w_tanh_output_gate, "tanh on the output gate"),
    (w_sigmoid_candidate, "sigmoid on the candidate g"),
    (w_no_input_gate, "the input gate missing"),
    (w_no_forget_gate, "the forget gate missing"),
    (w_h_without_tanh, "h_t = o * c_t without the tanh"),
    (w_h_from_c_prev, "h_t computed from c_prev"),
    (w_c_from_h_prev, "h_prev used in place of c_prev"),
    (w_swapped_return, "(c_t, h_t) returned in the wrong order"),
    (w_no_b_hh, "a missing bias b_hh"),
    (w_no_biases, "both biases missing"),
    (w_order_fiog, "gates in the order f, i, o, g"),
    (w_order_oifg, "gates in the order o, i, f, g"),
    (w_interleaved, "the gates read interleaved"),
    (w_tanh_input_gate, "tanh on the input gate"),
    (w_tanh_forget_gate, "tanh on the forget gate"),
    (w_sigmoid_on_cell, "sigmoid instead of tanh on the cell state"),
    (w_no_gates_on_cell, "both gates on the cell missing"),
    (w_no_b_ih, "a missing bias b_ih"),
]


@pytest.mark.parametrize("fn,name", CELL_WRONG, ids=[f.__name__ for f, _ in CELL_WRONG])
def test_cell_mistakes_are_named(fn, name):
    result = check_lstm_cell_forward(fn)
    assert not result.passed
    assert result.mistake is not None and result.mistake.startswith(name), result.message
    assert f"looks like {name}" in result.message


# ---- robustness: None, exceptions, NaN, wrong shape, in-place mutation, not implemented
def w_returns_none(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    cell_slices(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh)


def w_returns_h_only(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    return cell_slices(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh)[0]


def w_raises(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    z = x_t @ W_ih + h_prev @ W_hh.T  # W_ih not transposed: shape error
    return z, z


def w_nan(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    h, c = cell_slices(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh)
    h = h.copy()
    h[0, 0] = np.nan
    return h, c


def w_inplace_c(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    i, f, g, o = np.split(_z(x_t, h_prev, W_ih, W_hh, b_ih, b_hh), 4, axis=1)
    c_prev *= sig(f)
    c_prev += sig(i) * np.tanh(g)
    return sig(o) * np.tanh(c_prev), c_prev


def w_not_implemented(*args):
    raise NotImplementedError()


@pytest.mark.parametrize("fn,needle", [
    (w_returns_none, "returned None"),
    (w_returns_h_only, "expected a tuple (h_t, c_t)"),
    (w_raises, "ValueError"),
    (w_nan, "NaN"),
    (w_inplace_c, "modified its input `c_prev` in place"),
    (w_not_implemented, "not implemented yet"),
])
def test_cell_robustness(fn, needle):
    result = check_lstm_cell_forward(fn)
    assert not result.passed
    assert needle in result.message, result.message


def test_cell_error_points_at_learner_line():
    result = check_lstm_cell_forward(w_raises)
    assert "in w_raises" in result.message and "x_t @ W_ih +" in result.message


def test_checker_not_given_a_function():
    result = check_lstm_cell_forward(None)
    assert not result.passed and "pass the function itself" in result.message


# =========================================================================== correct sequences
def seq_loop(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    """Style 1: a loop over a correct cell, outputs stacked at the end."""
    h, c, outs = h0, c0, []
    for x_t in x:
        h, c = cell_slices(x_t, h, c, W_ih, W_hh, b_ih, b_hh)
        outs.append(h)
    return np.stack(outs), (h, c)


def seq_preallocated_float32(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    """Style 2: input projection for all steps at once, preallocated output, float32."""
    x, h, c, W_ih, W_hh, b = (a.astype(np.float32) for a in (x, h0, c0, W_ih, W_hh, b_ih + b_hh))
    T, B, _ = x.shape
    H = h.shape[1]
    xw = x @ W_ih.T + b  # (T, B, 4H)
    out = np.empty((T, B, H), dtype=np.float32)
    for t in range(T):
        z = xw[t] + h @ W_hh.T
        i, f, g, o = sig(z[:, :H]), sig(z[:, H:2 * H]), np.tanh(z[:, 2 * H:3 * H]), sig(z[:, 3 * H:])
        c = f * c + i * g
        h = o * np.tanh(c)
        out[t] = h
    return out, (h, c)


@pytest.mark.parametrize("fn", [seq_loop, seq_preallocated_float32])
def test_correct_sequences_pass(fn):
    result = check_lstm_forward(fn)
    assert result.passed, result.message
    assert check_lstm_forward(fn, seed=7).passed


# =========================================================================== wrong sequences
def s_c_not_carried(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    h, outs = h0, []
    for t in range(len(x)):
        h, c = cell_slices(x[t], h, c0, W_ih, W_hh, b_ih, b_hh)
        outs.append(h)
    return np.stack(outs), (h, c)


def s_c_as_output(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    h, c, cs = h0, c0, []
    for x_t in x:
        h, c = cell_slices(x_t, h, c, W_ih, W_hh, b_ih, b_hh)
        cs.append(c)
    return np.array(cs), (h, c)


def s_final_swapped(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    out, (h, c) = seq_loop(x, h0, c0, W_ih, W_hh, b_ih, b_hh)
    return out, (c, h)


def s_h0_in_output(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    h, c, outs = h0, c0, [h0]
    for x_t in x:
        h, c = cell_slices(x_t, h, c, W_ih, W_hh, b_ih, b_hh)
        outs.append(h)
    return np.stack(outs), (h, c)


def s_batch_first(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    out, hc = seq_loop(x, h0, c0, W_ih, W_hh, b_ih, b_hh)
    return out.transpose(1, 0, 2), hc


def s_with_wrong_cell(cell):
    def forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
        h, c, outs = h0, c0, []
        for x_t in x:
            h, c = cell(x_t, h, c, W_ih, W_hh, b_ih, b_hh)
            outs.append(h)
        return np.stack(outs), (h, c)
    forward.__name__ = f"seq_with_{cell.__name__}"
    return forward


def s_h_not_carried(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    c, outs = c0, []
    for t in range(x.shape[0]):
        h, c = cell_slices(x[t], h0, c, W_ih, W_hh, b_ih, b_hh)
        outs.append(h)
    return np.stack(outs), (h, c)


def s_c_n_not_updated(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    h, c_step, outs = h0, c0, []
    for x_t in x:
        h, c_step = cell_slices(x_t, h, c_step, W_ih, W_hh, b_ih, b_hh)
        outs.append(h)
    return np.stack(outs), (h, c0)


def s_reversed_outputs(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    out, hc = seq_loop(x, h0, c0, W_ih, W_hh, b_ih, b_hh)
    return out[::-1], hc


def s_off_by_one(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    T = x.shape[0]
    h, c = h0, c0
    out = np.zeros((T, *h0.shape))
    for t in range(T):
        out[t] = h  # stores the state *before* the step
        h, c = cell_slices(x[t], h, c, W_ih, W_hh, b_ih, b_hh)
    return out, (h, c)


def s_final_from_first_step(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    outs, cs = [], []
    h, c = h0, c0
    for x_t in x:
        h, c = cell_slices(x_t, h, c, W_ih, W_hh, b_ih, b_hh)
        outs.append(h)
        cs.append(c)
    return np.stack(outs), (outs[0], cs[0])


SEQ_WRONG = [
    (s_c_not_carried, "the cell state not carried"),
    (s_c_as_output, "the cell states returned as output"),
    (s_final_swapped, "(h_n, c_n) swapped"),
    (s_h0_in_output, "h0 included in output"),
    (s_batch_first, "a batch-first / time-major confusion"),
    (s_with_wrong_cell(w_order_ifog), "gates in the order i, f, o, g"),
    (s_with_wrong_cell(w_no_forget_gate), "the forget gate missing"),
    (s_with_wrong_cell(w_h_from_c_prev), "h_t computed from c_prev"),
    (s_with_wrong_cell(w_no_b_hh), "a missing bias b_hh"),
    (s_h_not_carried, "the hidden state not carried"),
    (s_c_n_not_updated, "c_n left at c0"),
    (s_reversed_outputs, "the outputs in reversed order"),
    (s_off_by_one, "an off-by-one in time"),
    (s_final_from_first_step, "(h_n, c_n) taken from the first step"),
    (s_with_wrong_cell(w_swapped_return), "(c_t, h_t) returned in the wrong order"),
    (s_with_wrong_cell(w_interleaved), "the gates read interleaved"),
]


@pytest.mark.parametrize("fn,name", SEQ_WRONG, ids=[f.__name__ for f, _ in SEQ_WRONG])
def test_sequence_mistakes_are_named(fn, name):
    result = check_lstm_forward(fn)
    assert not result.passed
    assert result.mistake is not None and result.mistake.startswith(name), result.message
    assert f"looks like {name}" in result.message


def test_lifted_cell_mistake_says_inside_the_time_step():
    result = check_lstm_forward(s_with_wrong_cell(w_sigmoid_candidate))
    assert result.mistake == "sigmoid on the candidate g (inside the time step)"
    assert "check lstm_cell_forward" in result.message


def s_flat_return(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    out, (h, c) = seq_loop(x, h0, c0, W_ih, W_hh, b_ih, b_hh)
    return out, h, c


def s_inplace_h0(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    out, (h, c) = seq_loop(x, h0, c0, W_ih, W_hh, b_ih, b_hh)
    h0[...] = h
    return out, (h0, c)


@pytest.mark.parametrize("fn,needle", [
    (s_flat_return, "returned 3 values; expected 2"),
    (s_inplace_h0, "modified its input `h0` in place"),
    (w_not_implemented, "not implemented yet"),
])
def test_sequence_robustness(fn, needle):
    result = check_lstm_forward(fn)
    assert not result.passed
    assert needle in result.message, result.message


def test_unknown_wrong_values_report_first_wrong_step():
    def drift(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
        out, (h, c) = seq_loop(x, h0, c0, W_ih, W_hh, b_ih, b_hh)
        out = out.copy()
        out[2:] += 0.01  # an error no catalogued mistake explains
        return out, (h, c)

    result = check_lstm_forward(drift)
    assert result.mistake is None
    assert "first wrong time step is t=2" in result.message


# =========================================================================== the catalogue itself
@pytest.mark.parametrize("exercise", ["lstm_cell_forward", "lstm_forward"])
@pytest.mark.parametrize("seed", [0, 99])  # the public seed and a hidden one
def test_catalogue_is_distinguishable(exercise, seed):
    """Every catalogued mistake differs from the reference and from every other mistake on
    every case, so the checker can only name the right one."""
    from course_utils.checks import get_spec
    from course_utils.checks.judging import _all_close
    from course_utils.checks.structure import flatten

    spec = get_spec(exercise)
    cases = spec.cases(seed)
    expected = [flatten(spec.output, spec.expected(c)) for c in cases]
    outs = {m.name: [flatten(spec.output, m.fn(*c.args)) for c in cases] for m in spec.mistakes}
    names = list(outs)
    assert len(names) == len(set(names)), "duplicate mistake names"
    for k, name in enumerate(names):
        for got, exp in zip(outs[name], expected):
            assert not _all_close(got, exp, spec.rtol, spec.atol), f"{name} equals the reference"
        for other in names[k + 1:]:
            for a, b in zip(outs[name], outs[other]):
                assert not _all_close(a, b, spec.rtol, spec.atol), f"{name} == {other}"


# =========================================================================== sharper checkers
def w_cifg(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    """f = 1 - i: one sigmoid reused for both gates (the forget block is never read)."""
    H = h_prev.shape[1]
    z = x_t @ W_ih.T + h_prev @ W_hh.T + b_ih + b_hh
    i = sig(z[:, :H])
    c = (1 - i) * c_prev + i * np.tanh(z[:, 2 * H:3 * H])
    return sig(z[:, 3 * H:]) * np.tanh(c), c


def w_cifg_from_forget(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    """i = 1 - f: what is forgotten is exactly what is written."""
    i_, f_, g_, o_ = np.split(x_t @ W_ih.T + h_prev @ W_hh.T + b_ih + b_hh, 4, axis=1)
    f = sig(f_)
    c = f * c_prev + (1 - f) * np.tanh(g_)
    return sig(o_) * np.tanh(c), c


def s_from_zeros(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    h, c = np.zeros_like(h0), np.zeros_like(c0)
    outs = []
    for x_t in x:
        h, c = cell_slices(x_t, h, c, W_ih, W_hh, b_ih, b_hh)
        outs.append(h)
    return np.stack(outs), (h, c)


def s_c_from_zeros(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    B, H = h0.shape
    h, c, outs = h0, np.zeros((B, H)), []
    for x_t in x:
        h, c = cell_slices(x_t, h, c, W_ih, W_hh, b_ih, b_hh)
        outs.append(h)
    return np.stack(outs), (h, c)


def s_h_from_zeros(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    h, c, outs = 0 * h0, c0, []
    for x_t in x:
        h, c = cell_slices(x_t, h, c, W_ih, W_hh, b_ih, b_hh)
        outs.append(h)
    return np.stack(outs), (h, c)


@pytest.mark.parametrize("fn,name", [
    (w_cifg, "a coupled input and forget gate (f = 1 - i)"),
    (w_cifg_from_forget, "a coupled input and forget gate (i = 1 - f)"),
])
def test_coupled_gates_are_named_in_cell_and_sequence(fn, name):
    result = check_lstm_cell_forward(fn)
    assert result.mistake == name and "Greff" in result.message, result.message
    seq = check_lstm_forward(s_with_wrong_cell(fn))
    assert seq.mistake == f"{name} (inside the time step)", seq.message


@pytest.mark.parametrize("fn,name", [
    (s_from_zeros, "starting from zeros instead of the given h0 and c0"),
    (s_c_from_zeros, "starting from zeros instead of the given c0"),
    (s_h_from_zeros, "starting from zeros instead of the given h0"),
])
def test_zero_initial_state_is_named(fn, name):
    result = check_lstm_forward(fn)
    assert result.mistake == name, result.message
    assert f"looks like {name}" in result.message


def test_zeros_plus_another_bug_asks_whether_h0_and_c0_are_used():
    def zeros_and_order_ifog(x, h0, c0, *p):
        return s_with_wrong_cell(w_order_ifog)(x, 0 * h0, 0 * c0, *p)

    result = check_lstm_forward(zeros_and_order_ifog)
    assert result.mistake is None
    assert "the first step is already wrong: is h0 / c0 used?" in result.message, result.message


def test_a_hand_written_overflowing_sigmoid_fails_on_the_tail_case():
    def exp_ratio(a):
        return np.exp(a) / (1 + np.exp(a))

    def cell(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
        i, f, g, o = np.split(x_t @ W_ih.T + h_prev @ W_hh.T + b_ih + b_hh, 4, axis=1)
        c = exp_ratio(f) * c_prev + exp_ratio(i) * np.tanh(g)
        return exp_ratio(o) * np.tanh(c), c

    result = check_lstm_cell_forward(cell)
    assert not result.passed and result.n_passed == 3
    assert "NaN or inf" in result.message and "overflow" in result.message
    assert "in the tails" in result.message


def s_final_with_layer_axis(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    out, (h, c) = seq_loop(x, h0, c0, W_ih, W_hh, b_ih, b_hh)
    return out, (h[np.newaxis], c[np.newaxis])  # as torch.nn.LSTM returns them


def s_backwards(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    h, c, outs = h0, c0, []
    for t in range(len(x) - 1, -1, -1):
        h, c = cell_slices(x[t], h, c, W_ih, W_hh, b_ih, b_hh)
        outs.append(h)
    return np.stack(outs), (h, c)


@pytest.mark.parametrize("fn,name", [
    (s_final_with_layer_axis, "(h_n, c_n) with a leading layer axis"),
    (s_backwards, "the input read backwards in time"),
])
def test_generic_sequence_mistakes_now_reach_the_lstm(fn, name):
    result = check_lstm_forward(fn)
    assert result.mistake == name, result.message
