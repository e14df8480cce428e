"""check_rnn_cell_forward / check_rnn_forward: correct code in several styles passes, realistic
wrong code fails with a message that names the mistake. The wrong implementations below are
written as a learner would write them, independently of the spec's mistake catalogue."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.checks import check_rnn_cell_forward, check_rnn_forward


# --------------------------------------------------------------------------- correct cells
def cell_matmul(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)


def cell_einsum(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    a = np.einsum("bi,hi->bh", x_t, W_ih) + np.einsum("bk,hk->bh", h_prev, W_hh)
    return np.tanh(a + (b_ih + b_hh)[None, :])


def cell_float32(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    f = np.float32
    a = x_t.astype(f) @ W_ih.T.astype(f) + h_prev.astype(f) @ W_hh.T.astype(f)
    return np.tanh(a + b_ih.astype(f) + b_hh.astype(f))


def cell_per_row(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    rows = [np.tanh(W_ih @ x + b_ih + W_hh @ h + b_hh) for x, h in zip(x_t, h_prev)]
    return np.array(rows)


def cell_torch(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    import torch

    t = [torch.from_numpy(a) for a in (x_t, h_prev, W_ih, W_hh, b_ih, b_hh)]
    return torch.tanh(t[0] @ t[2].T + t[4] + t[1] @ t[3].T + t[5])  # a tensor is accepted


@pytest.mark.parametrize("fn", [cell_matmul, cell_einsum, cell_float32, cell_per_row, cell_torch])
def test_correct_cells_pass(fn):
    result = check_rnn_cell_forward(fn)
    assert result.passed, result.message
    assert bool(result) and result.status == "passed"
    assert "public checks passed" in result.message


@pytest.mark.parametrize("seed", [1, 7, 123])
def test_correct_cell_passes_hidden_seeds(seed):
    result = check_rnn_cell_forward(cell_matmul, seed=seed)
    assert result.passed and "hidden checks passed" in result.message


# --------------------------------------------------------------------------- wrong cells
def no_b_hh(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T)


def relu(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    z = x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    return z * (z > 0)


def sigmoid(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return 1 / (1 + np.exp(-(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)))


def untransposed_W_hh(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(np.dot(x_t, W_ih.T) + np.dot(h_prev, W_hh) + b_ih + b_hh)


def ignores_h_prev(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x_t @ W_ih.T + b_ih + b_hh)


def pre_activation(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    z = x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    h = np.tanh(z)  # noqa: F841 - computed, then the wrong variable returned
    return z


def first_row_only(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(W_ih @ x_t[0] + b_ih + W_hh @ h_prev[0] + b_hh)


def modifies_h_prev(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    h_prev[:] = np.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)
    return h_prev


def returns_none(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    h = np.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)  # noqa: F841


def raises(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x_t @ W_ih + h_prev @ W_hh.T + b_ih + b_hh)  # W_ih untransposed: shapes fail


def nan(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh) * np.nan


def bias_after_tanh(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x_t @ W_ih.T + h_prev @ W_hh.T) + b_ih + b_hh


WRONG_CELLS = [
    (no_b_hh, "missing bias b_hh"),
    (relu, "ReLU instead of tanh"),
    (sigmoid, "sigmoid instead of tanh"),
    (untransposed_W_hh, "W_hh not transposed"),
    (ignores_h_prev, "h_prev ignored"),
    (pre_activation, "pre-activation returned"),
    (first_row_only, "only the first batch row"),
    (modifies_h_prev, "modified its input `h_prev` in place"),
    (returns_none, "returned None"),
    (raises, "raised ValueError"),
    (nan, "NaN"),
    (bias_after_tanh, "biases added after tanh"),
]


@pytest.mark.parametrize("fn,expected", WRONG_CELLS, ids=[f.__name__ for f, _ in WRONG_CELLS])
def test_wrong_cells_fail_with_named_mistake(fn, expected):
    result = check_rnn_cell_forward(fn)
    assert not result.passed
    assert result.status == "failed"
    assert expected in result.message, result.message


def test_exception_message_points_at_learner_line():
    message = check_rnn_cell_forward(raises).message
    assert "in raises, line" in message and "x_t @ W_ih" in message
    assert "/" not in message.split("(in raises")[1]  # no file paths


def test_mistake_attribute_is_set():
    assert check_rnn_cell_forward(untransposed_W_hh).mistake == "W_hh not transposed"
    assert check_rnn_cell_forward(no_b_hh).mistake == "a missing bias b_hh"


# --------------------------------------------------------------------------- sequences
def forward_loop(x, h0, W_ih, W_hh, b_ih, b_hh):
    h, out = h0, []
    for x_t in x:
        h = cell_matmul(x_t, h, W_ih, W_hh, b_ih, b_hh)
        out.append(h)
    return np.stack(out), h


def forward_preallocated_float32(x, h0, W_ih, W_hh, b_ih, b_hh):
    T, B, _ = x.shape
    H = W_hh.shape[0]
    out = np.empty((T, B, H), dtype=np.float32)
    xs = x.astype(np.float32) @ W_ih.T.astype(np.float32) + (b_ih + b_hh).astype(np.float32)  # hoisted
    h = h0.astype(np.float32)
    for t in range(T):
        h = np.tanh(xs[t] + h @ W_hh.T.astype(np.float32))
        out[t] = h
    return out, out[-1]


def forward_list_return(x, h0, *params):
    out, h = forward_loop(x, h0, *params)
    return [out, h]  # a list instead of a tuple is fine


@pytest.mark.parametrize("fn", [forward_loop, forward_preallocated_float32, forward_list_return])
def test_correct_forwards_pass(fn):
    result = check_rnn_forward(fn)
    assert result.passed, result.message


def state_not_carried(x, h0, W_ih, W_hh, b_ih, b_hh):
    out = [cell_matmul(x[t], h0, W_ih, W_hh, b_ih, b_hh) for t in range(len(x))]
    return np.array(out), out[-1]


def outputs_reversed(x, h0, *p):
    out, h = forward_loop(x, h0, *p)
    return out[::-1], h


def off_by_one(x, h0, W_ih, W_hh, b_ih, b_hh):
    h, out = h0, []
    for t in range(x.shape[0]):
        out.append(h)  # appended before the update
        h = cell_matmul(x[t], h, W_ih, W_hh, b_ih, b_hh)
    return np.stack(out), h


def h_n_from_first_step(x, h0, *p):
    out, _ = forward_loop(x, h0, *p)
    return out, out[0]


def batch_first(x, h0, *p):
    out, h = forward_loop(x, h0, *p)
    return np.stack(list(out), axis=1), h


def inner_missing_bias(x, h0, W_ih, W_hh, b_ih, b_hh):
    h, out = h0, []
    for t in range(len(x)):
        h = no_b_hh(x[t], h, W_ih, W_hh, b_ih, b_hh)
        out.append(h)
    return np.stack(out), h


def forward_modifies_x(x, h0, *p):
    x *= 1.0
    x[0] = 0.0
    return forward_loop(x, h0, *p)


def forward_one_value(x, h0, *p):
    out, h = forward_loop(x, h0, *p)
    return out


def forward_drifts(x, h0, *p):  # an unknown mistake: right until t = 2
    out, h = forward_loop(x, h0, *p)
    out = out.copy()
    out[2:] *= 1.5
    return out, h


WRONG_FORWARDS = [
    (state_not_carried, "hidden state not carried"),
    (outputs_reversed, "outputs in reversed order"),
    (off_by_one, "off-by-one in time"),
    (h_n_from_first_step, "h_n taken from the first step"),
    (batch_first, "batch-first / time-major confusion"),
    (inner_missing_bias, "missing bias b_hh (inside the time step)"),
    (forward_modifies_x, "modified its input `x` in place"),
    (forward_one_value, "returned a ndarray; expected a tuple (output, h_n)"),
    (forward_drifts, "the first wrong time step is t=2"),
]


@pytest.mark.parametrize("fn,expected", WRONG_FORWARDS, ids=[f.__name__ for f, _ in WRONG_FORWARDS])
def test_wrong_forwards_fail_with_named_mistake(fn, expected):
    result = check_rnn_forward(fn)
    assert not result.passed
    assert expected in result.message, result.message


# --------------------------------------------------------------------------- sharper checkers
def forward_from_zeros(x, h0, W_ih, W_hh, b_ih, b_hh):
    h = np.zeros_like(h0)  # the given h0 is never read
    out = []
    for x_t in x:
        h = cell_matmul(x_t, h, W_ih, W_hh, b_ih, b_hh)
        out.append(h)
    return np.stack(out), h


def test_starting_from_zeros_is_named():
    result = check_rnn_forward(forward_from_zeros)
    assert result.mistake == "starting from zeros instead of the given h0", result.message


def test_zeros_and_a_slip_asks_whether_h0_is_used():
    def forward(x, h0, W_ih, W_hh, b_ih, b_hh):
        h, out = np.zeros_like(h0), []
        for x_t in x:
            h = np.tanh(x_t @ W_ih.T + h @ W_hh + b_ih + b_hh)  # and W_hh not transposed
            out.append(h)
        return np.stack(out), h

    result = check_rnn_forward(forward)
    assert result.mistake is None
    assert "the first step is already wrong: is h0 used?" in result.message, result.message


def test_batch_loop_reading_row_0_says_passes_at_batch_1():
    def forward(x, h0, W_ih, W_hh, b_ih, b_hh):
        T, B, _ = x.shape
        out = np.zeros((T, B, h0.shape[1]))
        for b in range(B):
            h = h0[b:b + 1]
            for t in range(T):
                h = cell_matmul(x[t, 0:1], h, W_ih, W_hh, b_ih, b_hh)  # 0 where b was meant
                out[t, b] = h[0]
        return out, out[-1]

    result = check_rnn_forward(forward)
    assert "passes at batch 1, fails at batch 2 and 3" in result.message, result.message


def test_hand_written_tanh_overflows_in_the_tail_case():
    def cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
        a = x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
        return (np.exp(a) - np.exp(-a)) / (np.exp(a) + np.exp(-a))

    result = check_rnn_cell_forward(cell)
    assert not result.passed and result.n_passed == 3
    assert "NaN or inf" in result.message and "in the tails" in result.message
    assert check_rnn_cell_forward(cell_float32)  # float32 stays within tolerance in the tails
