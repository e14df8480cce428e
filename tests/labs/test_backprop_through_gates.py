"""Tests of the helpers of notebook 05 (:mod:`course_utils.labs.backprop_through_gates`)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils.checks import get_spec
from course_utils.labs import backprop_through_gates as lab

T, I, H = 8, 3, 4


@pytest.fixture(scope="module")
def sequence():
    rng = np.random.default_rng(0)
    u = rng.normal(size=(1, H))
    return rng.normal(size=(T, 1, I)), u / np.linalg.norm(u)


def test_init_params_sets_the_gate_block():
    W_ih, W_hh, b_ih, b_hh = lab.init_params("lstm", I, H, seed=3, gate_bias=2.5)
    assert W_ih.shape == (4 * H, I) and W_hh.shape == (4 * H, H) and b_ih.shape == (4 * H,)
    assert np.all(b_ih[H:2 * H] == 2.5) and np.all(b_hh[H:2 * H] == 0.0)
    assert np.abs(W_hh).max() <= 1 / np.sqrt(H)
    assert lab.init_params("gru", I, H, seed=3)[0].shape == (3 * H, I)


def test_traces_match_torch(sequence):
    x, _ = sequence
    rng = np.random.default_rng(1)
    h0, c0 = rng.normal(size=(1, H)), rng.normal(size=(1, H))
    for kind, trace, states in (("lstm", lab.lstm_trace, (h0, c0)), ("gru", lab.gru_trace, (h0,))):
        params = lab.init_params(kind, I, H, seed=1)
        ref = get_spec(f"{kind}_forward").reference(x, *states, *params)
        assert np.allclose(trace(x, *states, *params)["h"][1:], ref[0], atol=1e-12)


def _autograd_state_grads(kind, x, params, u):
    """dL/dc_t (LSTM) or dL/dh_t (GRU) for states t = 1 .. T-1 by autograd, L = u . h_T."""
    cell = (torch.nn.LSTMCell if kind == "lstm" else torch.nn.GRUCell)(I, H).double()
    with torch.no_grad():
        for name, value in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), params):
            getattr(cell, name).copy_(torch.from_numpy(value))
    h = torch.zeros(1, H, dtype=torch.float64)
    c = torch.zeros(1, H, dtype=torch.float64)
    watched = []
    for t in range(T):
        if kind == "lstm":
            h, c = cell(torch.from_numpy(x[t]), (h, c))
            c.retain_grad()
            watched.append(c)
        else:
            h = cell(torch.from_numpy(x[t]), h)
            h.retain_grad()
            watched.append(h)
    (h * torch.from_numpy(u)).sum().backward()
    grads = [w.grad.norm().item() for w in watched[:-1]]        # states 1 .. T-1
    return np.array(grads[::-1])                                 # lag 1 .. T-1


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_state_gradients_equal_autograd(kind, sequence):
    x, u = sequence
    params = lab.init_params(kind, I, H, seed=2, gate_bias=1.0)
    res = lab.state_gradients(get_spec(f"{kind}_backward").reference, kind, x, params, u)
    assert list(res["lag"]) == list(range(1, T))
    np.testing.assert_allclose(res["full"], _autograd_state_grads(kind, x, params, u), rtol=1e-9)
    assert np.all(res["carousel"] <= res["carousel"][0] + 1e-15)    # a product of gates < 1
    if kind == "lstm":
        assert res["identity_error"] < 1e-12
        assert np.all(res["along_c"] > 0) and np.all(res["through_h"] > 0)


def test_carousel_keeps_gradient_only_with_forget_gates_open(sequence):
    x, u = sequence
    backward = get_spec("lstm_backward").reference
    closed = lab.state_gradients(backward, "lstm", x, lab.init_params("lstm", I, H, 1, -4.0), u)
    open_ = lab.state_gradients(backward, "lstm", x, lab.init_params("lstm", I, H, 1, 4.0), u)
    assert closed["gate_mean"] < 0.05 < 0.95 < open_["gate_mean"]
    assert open_["full"][-1] > 1e3 * closed["full"][-1]


def test_gradient_check_separates_right_from_wrong():
    rng = np.random.default_rng(4)
    args = (rng.normal(size=(3, 2, 3)), rng.normal(size=(2, 2)), rng.normal(size=(2, 2)),
            *lab.init_params("lstm", 3, 2, seed=2), rng.normal(size=(3, 2, 2)))
    spec = get_spec("lstm_backward")
    numeric = get_spec("numerical_gradient").reference
    good = lab.gradient_check(numeric, spec.reference, "lstm", args)
    assert set(good) == set(lab.KEYS["lstm"]) and max(good.values()) < 1e-7
    wrong = next(m.fn for m in spec.mistakes if m.name.startswith("dW_hh built from h_t"))
    bad = lab.gradient_check(numeric, wrong, "lstm", args)
    assert bad["W_hh"] > 1e-2 and max(v for k, v in bad.items() if k != "W_hh") < 1e-7


def test_relative_error_and_loss():
    assert lab.relative_error(np.ones(3), np.ones(3)) == 0.0
    assert lab.relative_error(np.ones(3), -np.ones(3)) == pytest.approx(1.0)
    assert lab.relative_error(np.zeros(2), np.zeros(2)) == 0.0
    rng = np.random.default_rng(5)
    x, h0 = rng.normal(size=(2, 1, 3)), rng.normal(size=(1, 2))
    params = lab.init_params("gru", 3, 2, seed=0)
    g = rng.normal(size=(2, 1, 2))
    out, _ = get_spec("gru_forward").reference(x, h0, *params)
    assert lab.sequence_loss("gru", x, h0, *params, g) == pytest.approx(float((out * g).sum()))
