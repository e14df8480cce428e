"""Tests of the ``rnn_backward`` checker (notebook 02).

Correct implementations in three styles must pass; realistic wrong ones, written here the way
a learner would write them (independently of the spec's mistake functions), must fail with a
message that names the mistake.
"""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.checks import check_rnn_backward
from course_utils.checks import check_rnn_backward as generic_check
from course_utils.checks.specs import vanishing_gradients as bptt


# --------------------------------------------------------------------------- correct versions
def backward_loop(x, h0, W_ih, W_hh, b_ih, b_hh, grad_output):
    """Textbook loop, float64, caches the states in a list."""
    T = x.shape[0]
    hs = [h0]
    for t in range(T):
        hs.append(np.tanh(x[t] @ W_ih.T + b_ih + hs[-1] @ W_hh.T + b_hh))
    dx = np.zeros_like(x)
    dW_ih, dW_hh = np.zeros_like(W_ih), np.zeros_like(W_hh)
    db_ih, db_hh = np.zeros_like(b_ih), np.zeros_like(b_hh)
    dh_next = np.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        da = (grad_output[t] + dh_next) * (1 - hs[t + 1] ** 2)
        dx[t] = da @ W_ih
        dW_ih += da.T @ x[t]
        dW_hh += da.T @ hs[t]
        db_ih += da.sum(axis=0)
        db_hh += da.sum(axis=0)
        dh_next = da @ W_hh
    return {"x": dx, "h0": dh_next, "W_ih": dW_ih, "W_hh": dW_hh, "b_ih": db_ih, "b_hh": db_hh}


def backward_einsum_float32(x, h0, W_ih, W_hh, b_ih, b_hh, grad_output):
    """Everything in float32; stores da for all steps, then builds the weight gradients with einsum."""
    f = np.float32
    x, h0, W_ih, W_hh, b_ih, b_hh, g = (np.asarray(a, dtype=f) for a in
                                        (x, h0, W_ih, W_hh, b_ih, b_hh, grad_output))
    T, B, _ = x.shape
    H = h0.shape[1]
    H_all = np.empty((T + 1, B, H), dtype=f)
    H_all[0] = h0
    for t in range(T):
        H_all[t + 1] = np.tanh(np.einsum("bi,hi->bh", x[t], W_ih) + b_ih
                               + np.einsum("bk,hk->bh", H_all[t], W_hh) + b_hh)
    dA = np.empty((T, B, H), dtype=f)
    carry = np.zeros((B, H), dtype=f)
    for t in reversed(range(T)):
        dA[t] = (g[t] + carry) * (1 - H_all[t + 1] * H_all[t + 1])
        carry = np.einsum("bh,hk->bk", dA[t], W_hh)
    return {"x": np.einsum("tbh,hi->tbi", dA, W_ih), "h0": carry,
            "W_ih": np.einsum("tbh,tbi->hi", dA, x), "W_hh": np.einsum("tbh,tbk->hk", dA, H_all[:-1]),
            "b_ih": dA.sum(axis=(0, 1)), "b_hh": dA.sum(axis=(0, 1))}


def backward_torch_autograd(x, h0, W_ih, W_hh, b_ih, b_hh, grad_output):
    """A learner who lets autograd do it with their own forward loop (returns tensors)."""
    import torch

    p = {k: torch.tensor(v, requires_grad=True) for k, v in
         dict(x=x, h0=h0, W_ih=W_ih, W_hh=W_hh, b_ih=b_ih, b_hh=b_hh).items()}
    h, outs = p["h0"], []
    for t in range(x.shape[0]):
        h = torch.tanh(p["x"][t] @ p["W_ih"].T + p["b_ih"] + h @ p["W_hh"].T + p["b_hh"])
        outs.append(h)
    (torch.stack(outs) * torch.from_numpy(grad_output)).sum().backward()
    return {k: v.grad for k, v in p.items()}


@pytest.mark.parametrize("fn", [backward_loop, backward_einsum_float32, backward_torch_autograd])
@pytest.mark.parametrize("seed", [0, 7])
def test_correct_versions_pass(fn, seed):
    result = check_rnn_backward(fn, seed=seed)
    assert result.passed, result.message
    assert generic_check(fn, seed=seed).passed
    assert "checks passed (3 cases)" in result.message


# --------------------------------------------------------------------------- learners' mistakes
def _forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    hs = [h0]
    for t in range(x.shape[0]):
        hs.append(np.tanh(x[t] @ W_ih.T + b_ih + hs[-1] @ W_hh.T + b_hh))
    return hs


def truncated(x, h0, W_ih, W_hh, b_ih, b_hh, grad_output):
    hs = _forward(x, h0, W_ih, W_hh, b_ih, b_hh)
    grads = {"x": np.zeros_like(x), "W_ih": 0 * W_ih, "W_hh": 0 * W_hh, "b_ih": 0 * b_ih, "b_hh": 0 * b_hh}
    for t in reversed(range(x.shape[0])):
        da = grad_output[t] * (1 - hs[t + 1] ** 2)          # forgot "+ dh_next"
        grads["x"][t] = da @ W_ih
        grads["W_ih"] += da.T @ x[t]
        grads["W_hh"] += da.T @ hs[t]
        grads["b_ih"] += da.sum(0)
        grads["b_hh"] += da.sum(0)
        dh_prev = da @ W_hh
    grads["h0"] = dh_prev
    return grads


def no_tanh_derivative(x, h0, W_ih, W_hh, b_ih, b_hh, grad_output):
    hs = _forward(x, h0, W_ih, W_hh, b_ih, b_hh)
    out = {k: np.zeros_like(v) for k, v in dict(x=x, W_ih=W_ih, W_hh=W_hh, b_ih=b_ih, b_hh=b_hh).items()}
    dh = np.zeros_like(h0)
    for t in range(x.shape[0] - 1, -1, -1):
        da = grad_output[t] + dh                            # forgot * (1 - h**2)
        out["x"][t] = da @ W_ih
        out["W_ih"] = out["W_ih"] + da.T @ x[t]
        out["W_hh"] = out["W_hh"] + da.T @ hs[t]
        out["b_ih"] = out["b_ih"] + da.sum(0)
        out["b_hh"] = out["b_hh"] + da.sum(0)
        dh = da @ W_hh
    out["h0"] = dh
    return out


def derivative_at_previous_state(x, h0, W_ih, W_hh, b_ih, b_hh, grad_output):
    hs = _forward(x, h0, W_ih, W_hh, b_ih, b_hh)
    dx = np.zeros_like(x)
    dWi, dWh, dbi, dbh = 0 * W_ih, 0 * W_hh, 0 * b_ih, 0 * b_hh
    dh = np.zeros_like(h0)
    for t in reversed(range(len(x))):
        da = (grad_output[t] + dh) * (1 - hs[t] ** 2)       # hs[t] is h_{t-1}
        dx[t] = da @ W_ih
        dWi += da.T @ x[t]
        dWh += da.T @ hs[t]
        dbi += da.sum(0)
        dbh += da.sum(0)
        dh = da @ W_hh
    return {"x": dx, "h0": dh, "W_ih": dWi, "W_hh": dWh, "b_ih": dbi, "b_hh": dbh}


def _generic(x, h0, W_ih, W_hh, b_ih, b_hh, g, slope, state_for_Whh=-1, back=None, bias_hh=True,
             sign=1.0, keep_dh0=True):
    """A compact learner version with knobs, used by the one-line mistakes below."""
    hs = np.stack(_forward(x, h0, W_ih, W_hh, b_ih, b_hh))  # (T+1, B, H)
    dx, dWi, dWh = np.zeros_like(x), np.zeros_like(W_ih), np.zeros_like(W_hh)
    dbi, dbh = np.zeros_like(b_ih), np.zeros_like(b_hh)
    dh = np.zeros_like(h0)
    for t in reversed(range(len(x))):
        da = (g[t] + dh) * slope(hs[t + 1])
        dx[t] = da @ W_ih
        dWi += da.T @ x[t]
        dWh += da.T @ (hs[t + 1] if state_for_Whh == 0 else hs[t])
        dbi += da.sum(0)
        if bias_hh:
            dbh += da.sum(0)
        dh = da @ (back if back is not None else W_hh)
    d = {"x": dx, "h0": dh if keep_dh0 else np.zeros_like(h0), "W_ih": dWi, "W_hh": dWh,
         "b_ih": dbi, "b_hh": dbh}
    return {k: sign * v for k, v in d.items()}


def _ok_slope(h):
    return 1 - h ** 2


def dWhh_from_current_state(x, h0, W_ih, W_hh, b_ih, b_hh, g):
    return _generic(x, h0, W_ih, W_hh, b_ih, b_hh, g, _ok_slope, state_for_Whh=0)


def no_bhh_gradient(x, h0, W_ih, W_hh, b_ih, b_hh, g):
    return _generic(x, h0, W_ih, W_hh, b_ih, b_hh, g, _ok_slope, bias_hh=False)


def sign_flipped(x, h0, W_ih, W_hh, b_ih, b_hh, g):
    grads = backward_loop(x, h0, W_ih, W_hh, b_ih, b_hh, g)
    return {k: -v for k, v in grads.items()}                # "gradient descent direction"


def tanh_twice(x, h0, W_ih, W_hh, b_ih, b_hh, g):
    return _generic(x, h0, W_ih, W_hh, b_ih, b_hh, g, lambda h: 1 - np.tanh(h) ** 2)


def Whh_transposed_backwards(x, h0, W_ih, W_hh, b_ih, b_hh, g):
    return _generic(x, h0, W_ih, W_hh, b_ih, b_hh, g, _ok_slope, back=W_hh.T)


def dh0_zero(x, h0, W_ih, W_hh, b_ih, b_hh, g):
    return _generic(x, h0, W_ih, W_hh, b_ih, b_hh, g, _ok_slope, keep_dh0=False)


def overwritten(x, h0, W_ih, W_hh, b_ih, b_hh, g):
    hs = _forward(x, h0, W_ih, W_hh, b_ih, b_hh)
    dx = np.zeros_like(x)
    dh = np.zeros_like(h0)
    for t in reversed(range(len(x))):
        da = (g[t] + dh) * (1 - hs[t + 1] ** 2)
        dx[t] = da @ W_ih
        dW_ih = da.T @ x[t]                                  # = instead of +=
        dW_hh = da.T @ hs[t]
        db_ih = da.sum(0)
        db_hh = da.sum(0)
        dh = da @ W_hh
    return {"x": dx, "h0": dh, "W_ih": dW_ih, "W_hh": dW_hh, "b_ih": db_ih, "b_hh": db_hh}


MISTAKE_CASES = [
    (truncated, "no gradient carried from later steps (truncated to one step)"),
    (no_tanh_derivative, "the tanh derivative missing"),
    (derivative_at_previous_state, "the tanh derivative taken at h_{t-1}"),
    (tanh_twice, "the tanh derivative applied to h_t twice (1 - tanh(h_t)**2)"),
    (dWhh_from_current_state, "dW_hh built from h_t instead of h_{t-1}"),
    (no_bhh_gradient, "the b_hh gradient missing (zeros)"),
    (sign_flipped, "the sign flipped"),
    (Whh_transposed_backwards, "W_hh transposed when sending the gradient back to h_{t-1}"),
    (overwritten, "the weight gradients overwritten instead of accumulated"),
    (dh0_zero, "dh0 left at zero"),
]


@pytest.mark.parametrize("fn, name", MISTAKE_CASES, ids=[f.__name__ for f, _ in MISTAKE_CASES])
def test_mistakes_are_named(fn, name):
    for check in (check_rnn_backward, generic_check):
        result = check(fn)
        assert not result.passed
        assert result.mistake == name
        assert f"looks like {name}" in result.message
    assert name in {m.name for m in bptt.MISTAKES}


# --------------------------------------------------------------------------- diagnosis
def test_unknown_error_names_gradient_and_step_from_the_end():
    def late_bug(x, h0, W_ih, W_hh, b_ih, b_hh, g):
        d = backward_loop(x, h0, W_ih, W_hh, b_ih, b_hh, g)
        d["x"] = d["x"].copy()
        d["x"][:-2] *= 1.05                                  # last 2 steps right
        return d

    result = check_rnn_backward(late_bug)
    assert not result.passed and result.mistake is None
    assert "wrong gradient: dx" in result.message
    assert "right: dh0, dW_ih, dW_hh, db_ih, db_hh" in result.message
    assert "dx is right for the last 2 steps and first differs 3 steps from the end (t=3)" in result.message


def test_error_in_last_step_and_weight_only():
    def scaled(x, h0, W_ih, W_hh, b_ih, b_hh, g):
        d = backward_loop(x, h0, W_ih, W_hh, b_ih, b_hh, g)
        return {**d, "x": 2 * d["x"], "W_hh": 1.5 * d["W_hh"]}

    msg = check_rnn_backward(scaled).message
    assert "wrong gradients: dx" in msg and "dW_hh (max abs error" in msg
    assert "dx already differs at the last step (t=5)" in msg

    def weight_only(x, h0, W_ih, W_hh, b_ih, b_hh, g):
        d = backward_loop(x, h0, W_ih, W_hh, b_ih, b_hh, g)
        return {**d, "W_ih": d["W_ih"] + 0.1}

    msg = check_rnn_backward(weight_only).message
    assert msg.startswith("wrong gradient: dW_ih") and "right: dx, dh0, dW_hh, db_ih, db_hh" in msg
    assert "steps from the end" not in msg


# --------------------------------------------------------------------------- robustness
def _raises(*a):
    return {}["x"]


def _nan(*a):
    d = backward_loop(*a)
    d["W_hh"] = d["W_hh"] * np.nan
    return d


def _wrong_keys(*a):
    d = backward_loop(*a)
    return {("d" + k): v for k, v in d.items()}


def _not_implemented(*a):
    raise NotImplementedError()


def _mutates(x, h0, W_ih, W_hh, b_ih, b_hh, g):
    d = backward_loop(x, h0, W_ih, W_hh, b_ih, b_hh, g)
    g *= 0
    return d


@pytest.mark.parametrize("fn, text", [
    (lambda *a: None, "returned a NoneType"),
    (_raises, "your function raised KeyError"),
    (_nan, "dW_hh contains NaN or inf values"),
    (_wrong_keys, "lacks key(s) 'x', 'h0'"),
    (_not_implemented, "not implemented yet"),
    (_mutates, "modified its input `grad_output` in place"),
    (42, "pass the function itself"),
])
def test_bad_inputs_fail_cleanly(fn, text):
    result = check_rnn_backward(fn)
    assert not result.passed
    assert text in result.message, result.message


def test_reference_matches_numpy_bptt_and_cases_are_distinct():
    cases = bptt.make_cases(3)
    assert any(c.args[0].shape[1] == 1 for c in cases) and any(c.args[0].shape[1] > 1 for c in cases)
    for case in cases:
        T, B, I = case.args[0].shape
        H = case.args[1].shape[1]
        assert len({T, B, I, H}) == 4
        exp = bptt.ref_rnn_backward(*case.args)
        mine = backward_loop(*case.args)
        for k in bptt.KEYS:
            np.testing.assert_allclose(mine[k], exp[k], rtol=1e-10, atol=1e-12)


def test_named_mistake_also_says_where_it_shows():
    msg = check_rnn_backward(truncated).message
    assert msg.startswith("looks like no gradient carried from later steps")
    assert "(wrong: dx, dh0, dW_ih, dW_hh, db_ih, db_hh; dx is right for the last 1 step and " \
           "first differs 2 steps from the end (t=4))" in msg
    assert "(wrong: dh0; right: dx, dW_ih, dW_hh, db_ih, db_hh)" in check_rnn_backward(dh0_zero).message


def test_hidden_seed_says_hidden_and_registry_agrees():
    result = check_rnn_backward(backward_loop, seed=12345)
    assert result.passed and result.message.startswith("hidden checks passed")
    wrong = check_rnn_backward(no_bhh_gradient, seed=12345)
    assert wrong.mistake == generic_check(no_bhh_gradient, seed=12345).mistake
    assert "hidden cases passed" in wrong.message
