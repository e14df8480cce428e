"""Tests of the checkers of notebook 05: ``numerical_gradient``, ``lstm_backward``,
``gru_backward``, ``clip_grad_norm``.

Correct implementations in several styles (loop over time, vectorised gates, float32) must pass;
wrong ones, written here the way a learner would write them (independently of the spec's
mistake functions), must fail with a message that names the mistake.
"""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.checks import (
    SPECS,
    check_clip_grad_norm,
    check_gru_backward,
    check_lstm_backward,
    check_numerical_gradient,
    run_spec,
)
from course_utils.checks.judging import expected_leaves
from course_utils.checks.structure import flatten


def sig(a):
    return 1 / (1 + np.exp(-a))


# =========================================================================== numerical_gradient
def numgrad_copy(f, x, eps=1e-6):
    """A fresh copy per probe; never touches x."""
    grad = np.zeros(x.shape)
    for i in range(x.size):
        step = np.zeros(x.size)
        step[i] = eps
        step = step.reshape(x.shape)
        grad.flat[i] = (f(x + step) - f(x - step)) / (2 * eps)
    return grad


def numgrad_inplace(f, x, eps=1e-6):
    """CS231n style: np.nditer, moves x[ix] in place and restores it."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + eps
        fp = f(x)
        x[ix] = old - eps
        fm = f(x)
        x[ix] = old
        grad[ix] = (fp - fm) / (2 * eps)
        it.iternext()
    return grad


def numgrad_list(f, x, eps=1e-6):
    """Builds a list of floats, then reshapes."""
    flat = x.reshape(-1).copy()
    out = []
    for i in range(len(flat)):
        up, down = flat.copy(), flat.copy()
        up[i] += eps
        down[i] -= eps
        out.append((f(up.reshape(x.shape)) - f(down.reshape(x.shape))) / (eps + eps))
    return np.array(out).reshape(x.shape)


@pytest.mark.parametrize("fn", [numgrad_copy, numgrad_inplace, numgrad_list])
@pytest.mark.parametrize("seed", [0, 11])
def test_numerical_gradient_correct_versions_pass(fn, seed):
    result = check_numerical_gradient(fn, seed=seed)
    assert result.passed, result.message


def ng_forward(f, x, eps=1e-6):
    g = np.zeros_like(x)
    fx = f(x)
    for i in np.ndindex(x.shape):
        xs = x.copy()
        xs[i] = xs[i] + eps
        g[i] = (f(xs) - fx) / eps
    return g


def ng_over_eps(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        a, b = x.copy(), x.copy()
        a[i] += eps
        b[i] -= eps
        g[i] = (f(a) - f(b)) / eps
    return g


def ng_not_restored(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += eps
        fp = f(x)
        x[i] -= 2 * eps                      # ... and never put back
        g[i] = (fp - f(x)) / (2 * eps)
    return g


def ng_all_at_once(f, x, eps=1e-6):
    return (f(x + eps) - f(x - eps)) / (2 * eps) * np.ones_like(x)


def ng_tiny_eps(f, x, eps=1e-6):
    h = 1e-12                                # "smaller is more accurate"
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        a, b = x.copy(), x.copy()
        a[i] += h
        b[i] -= h
        g[i] = (f(a) - f(b)) / (2 * h)
    return g


def ng_huge_eps(f, x, eps=1e-6):
    h = 0.01
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        a, b = x.copy(), x.copy()
        a[i] += h
        b[i] -= h
        g[i] = (f(a) - f(b)) / (2 * h)
    return g


NUMERICAL_MISTAKES = [
    (ng_forward, "forward differences"),
    (ng_over_eps, "dividing by eps instead of 2 * eps"),
    (ng_not_restored, "x not restored"),
    (ng_all_at_once, "all entries perturbed at once"),
    (ng_tiny_eps, "eps far too small for float64"),
    (ng_huge_eps, "eps far too large"),
]


@pytest.mark.parametrize("fn, name", NUMERICAL_MISTAKES,
                         ids=[f.__name__ for f, _ in NUMERICAL_MISTAKES])
def test_numerical_gradient_mistakes_are_named(fn, name):
    for seed in (None, 5):
        result = check_numerical_gradient(fn, seed=seed)
        assert not result.passed
        assert name in result.message, result.message
    assert name in {m.name for m in SPECS["numerical_gradient"].mistakes}


def test_numerical_gradient_unknown_error_says_how_far():
    result = check_numerical_gradient(lambda f, x, eps=1e-6: 1.001 * numgrad_copy(f, x, eps))
    assert not result.passed and result.mistake is None
    assert "relative error" in result.message and "entries" in result.message


def test_numerical_gradient_x_left_moved_after_return_is_an_in_place_change():
    def last_probe_not_undone(f, x, eps=1e-6):
        g, prev = np.zeros_like(x), None
        for i in np.ndindex(x.shape):
            if prev is not None:
                x[prev[0]] = prev[1]             # restores the previous entry, not the last one
            old = x[i]
            x[i] = old + eps
            fp = f(x)
            x[i] = old - eps
            g[i] = (fp - f(x)) / (2 * eps)
            prev = (i, old)
        return g

    result = check_numerical_gradient(last_probe_not_undone)
    assert not result.passed and "modified its input `x` in place" in result.message


def test_numerical_gradient_cases_rebuild_from_source():
    spec = SPECS["numerical_gradient"]
    for case in spec.cases(3):
        assert case.source is not None
        (f, x), kwargs = case.inputs()
        assert isinstance(x, np.ndarray) and isinstance(f(x), float)
        assert set(kwargs) <= {"eps"}
    assert len({c.inputs()[0][1].shape for c in spec.cases(3)}) == 4


# =========================================================================== lstm_backward
def lstm_backward_loop(x, h0, c0, W_ih, W_hh, b_ih, b_hh, grad_output):
    """Textbook: forward with a cache of tuples, then a loop backwards over time."""
    T, H = x.shape[0], h0.shape[1]
    h, c, cache = h0, c0, []
    for t in range(T):
        a = x[t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh
        i = sig(a[:, :H])
        f = sig(a[:, H:2 * H])
        g = np.tanh(a[:, 2 * H:3 * H])
        o = sig(a[:, 3 * H:])
        c_new = f * c + i * g
        h_new = o * np.tanh(c_new)
        cache.append((h, c, i, f, g, o, c_new))
        h, c = h_new, c_new
    dx = np.zeros_like(x)
    dW_ih, dW_hh, db = np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros_like(b_ih)
    dh_next, dc_next = np.zeros_like(h0), np.zeros_like(c0)
    for t in range(T - 1, -1, -1):
        h_prev, c_prev, i, f, g, o, c_t = cache[t]
        dh = grad_output[t] + dh_next
        tc = np.tanh(c_t)
        dc = dc_next + dh * o * (1 - tc ** 2)
        da = np.hstack([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g ** 2),
                        dh * tc * o * (1 - o)])
        dx[t] = da @ W_ih
        dW_ih += da.T @ x[t]
        dW_hh += da.T @ h_prev
        db += da.sum(axis=0)
        dh_next = da @ W_hh
        dc_next = dc * f
    return {"x": dx, "h0": dh_next, "c0": dc_next, "W_ih": dW_ih, "W_hh": dW_hh,
            "b_ih": db, "b_hh": db.copy()}


def lstm_backward_vectorised_f32(x, h0, c0, W_ih, W_hh, b_ih, b_hh, grad_output):
    """float32; stores all gates as (T, B, 4H) arrays and builds the weights' gradients with
    one einsum each after the time loop."""
    x, h0, c0, W_ih, W_hh, b, go = (np.asarray(a, np.float32) for a in
                                    (x, h0, c0, W_ih, W_hh, b_ih + b_hh, grad_output))
    T, B, _ = x.shape
    H = h0.shape[1]
    hs = np.empty((T + 1, B, H), np.float32)
    cs = np.empty((T + 1, B, H), np.float32)
    A = np.empty((T, B, 4 * H), np.float32)          # activated gates i, f, g, o
    hs[0], cs[0] = h0, c0
    for t in range(T):
        a = np.einsum("bi,gi->bg", x[t], W_ih) + np.einsum("bh,gh->bg", hs[t], W_hh) + b
        A[t] = np.concatenate([sig(a[:, :2 * H]), np.tanh(a[:, 2 * H:3 * H]),
                               sig(a[:, 3 * H:])], axis=1)
        i, f, g, o = np.split(A[t], 4, axis=1)
        cs[t + 1] = f * cs[t] + i * g
        hs[t + 1] = o * np.tanh(cs[t + 1])
    dA = np.empty_like(A)
    dh = np.zeros((B, H), np.float32)
    dc = np.zeros((B, H), np.float32)
    for t in reversed(range(T)):
        i, f, g, o = np.split(A[t], 4, axis=1)
        dh = dh + go[t]
        tc = np.tanh(cs[t + 1])
        dc = dc + dh * o * (1 - tc * tc)
        dA[t] = np.concatenate([dc * g, dc * cs[t], dc * i, dh * tc], axis=1) * np.concatenate(
            [i * (1 - i), f * (1 - f), 1 - g * g, o * (1 - o)], axis=1)
        dh = dA[t] @ W_hh
        dc = dc * f
    db = dA.sum(axis=(0, 1))
    return {"x": np.einsum("tbg,gi->tbi", dA, W_ih), "h0": dh, "c0": dc,
            "W_ih": np.einsum("tbg,tbi->gi", dA, x), "W_hh": np.einsum("tbg,tbh->gh", dA, hs[:-1]),
            "b_ih": db, "b_hh": db}


@pytest.mark.parametrize("fn", [lstm_backward_loop, lstm_backward_vectorised_f32])
@pytest.mark.parametrize("seed", [0, 7])
def test_lstm_backward_correct_versions_pass(fn, seed):
    result = check_lstm_backward(fn, seed=seed)
    assert result.passed, result.message
    assert "checks passed (3 cases)" in result.message


def _lstm_bug(x, h0, c0, W_ih, W_hh, b_ih, b_hh, go, bug):
    """A learner's loop with one bug switched on by name."""
    T, H = x.shape[0], h0.shape[1]
    hs, cs, gs = [h0], [c0], []
    for t in range(T):
        a = x[t] @ W_ih.T + hs[-1] @ W_hh.T + b_ih + b_hh
        i, f = sig(a[:, :H]), sig(a[:, H:2 * H])
        g, o = np.tanh(a[:, 2 * H:3 * H]), sig(a[:, 3 * H:])
        cs.append(f * cs[-1] + i * g)
        hs.append(o * np.tanh(cs[-1]))
        gs.append((i, f, g, o))
    d = {"x": np.zeros_like(x), "W_ih": np.zeros_like(W_ih), "W_hh": np.zeros_like(W_hh),
         "b": np.zeros_like(b_ih)}
    dh_next, dc_next = 0 * h0, 0 * c0
    for t in reversed(range(T)):
        i, f, g, o = gs[t]
        dh = go[t] if bug == "no dh_next" else go[t] + dh_next
        tanh_slope = 1.0 if bug == "no tanh'" else 1 - np.tanh(cs[t + 1]) ** 2
        from_h = 0.0 if bug == "no output path" else dh * o * tanh_slope
        dc = from_h if bug == "carousel cut" else dc_next + from_h
        c_for_f = cs[t + 1] if bug == "c_t in df" else cs[t]
        ds = (lambda s: s) if bug == "sigmoid' = s" else (lambda s: s * (1 - s))
        di = dc * g * ds(i)
        df = dc * c_for_f * ds(f)
        dg = dc * i * (1 - g * g)
        do = dh * np.tanh(cs[t + 1]) * ds(o)
        blocks = [di, df, do, dg] if bug == "ifog" else [di, df, dg, do]
        da = np.concatenate(blocks, axis=1)
        d["x"][t] = da @ W_ih
        d["W_ih"] += da.T @ x[t]
        d["W_hh"] += da.T @ (hs[t + 1] if bug == "h_t in dW_hh" else hs[t])
        d["b"] += da.sum(0)
        dh_next = da @ W_hh
        dc_next = dc * f
    return {"x": d["x"], "h0": dh_next, "c0": dc_next, "W_ih": d["W_ih"], "W_hh": d["W_hh"],
            "b_ih": d["b"], "b_hh": d["b"]}


def _lstm_learner(bug):
    def fn(x, h0, c0, W_ih, W_hh, b_ih, b_hh, grad_output):
        return _lstm_bug(x, h0, c0, W_ih, W_hh, b_ih, b_hh, grad_output, bug)
    fn.__name__ = bug
    return fn


LSTM_MISTAKES = [
    ("carousel cut", "the carousel cut (dc_next * f not carried)"),
    ("no output path", "the output path o * tanh'(c) missing from dc"),
    ("c_t in df", "the forget-gate gradient taken with c_t instead of c_{t-1}"),
    ("ifog", "the gate blocks in the wrong order (i, f, o, g) in da"),
    ("sigmoid' = s", "sigmoid' written as s instead of s * (1 - s)"),
    ("no tanh'", "tanh'(c_t) missing on the output path"),
    ("no dh_next", "dh from the next step not added"),
    ("h_t in dW_hh", "dW_hh built from h_t instead of h_{t-1}"),
]


def test_the_buggy_learner_is_right_without_a_bug():
    assert check_lstm_backward(_lstm_learner("none")).passed


@pytest.mark.parametrize("bug, name", LSTM_MISTAKES, ids=[b for b, _ in LSTM_MISTAKES])
def test_lstm_backward_mistakes_are_named(bug, name):
    for seed in (None, 3):
        result = check_lstm_backward(_lstm_learner(bug), seed=seed)
        assert not result.passed
        assert result.mistake == name and f"looks like {name}" in result.message, result.message
    assert name in {m.name for m in SPECS["lstm_backward"].mistakes}


def test_lstm_backward_unknown_error_names_gradients_and_step_from_the_end():
    def late_bug(*args):
        d = lstm_backward_loop(*args)
        d["x"] = d["x"].copy()
        d["x"][:-2] *= 1.05
        return d

    msg = check_lstm_backward(late_bug).message
    assert msg.startswith("wrong gradient: dx")
    assert "right: dh0, dc0, dW_ih, dW_hh, db_ih, db_hh" in msg
    assert "dx is right for the last 2 steps and first differs 3 steps from the end (t=3)" in msg

    def dc0_zero(*args):
        return {**lstm_backward_loop(*args), "c0": np.zeros_like(args[2])}

    msg = check_lstm_backward(dc0_zero).message
    assert msg.startswith("wrong gradient: dc0") and "steps from the end" not in msg


def test_lstm_backward_named_mistake_also_says_where():
    msg = check_lstm_backward(_lstm_learner("h_t in dW_hh")).message
    assert "(wrong: dW_hh; right: dx, dh0, dc0, dW_ih, db_ih, db_hh)" in msg


# =========================================================================== gru_backward
def gru_backward_loop(x, h0, W_ih, W_hh, b_ih, b_hh, grad_output):
    T, H = x.shape[0], h0.shape[1]
    h, cache = h0, []
    for t in range(T):
        gi = x[t] @ W_ih.T + b_ih
        gh = h @ W_hh.T + b_hh
        r = sig(gi[:, :H] + gh[:, :H])
        z = sig(gi[:, H:2 * H] + gh[:, H:2 * H])
        hn = gh[:, 2 * H:]
        n = np.tanh(gi[:, 2 * H:] + r * hn)
        cache.append((h, r, z, n, hn))
        h = (1 - z) * n + z * h
    dx = np.zeros_like(x)
    dW_ih, dW_hh = np.zeros_like(W_ih), np.zeros_like(W_hh)
    db_ih, db_hh = np.zeros_like(b_ih), np.zeros_like(b_hh)
    dh_next = np.zeros_like(h0)
    for t in reversed(range(T)):
        h_prev, r, z, n, hn = cache[t]
        dh = grad_output[t] + dh_next
        dn = dh * (1 - z) * (1 - n ** 2)
        dz = dh * (h_prev - n) * z * (1 - z)
        dr = dn * hn * r * (1 - r)
        d_gi = np.concatenate([dr, dz, dn], axis=1)
        d_gh = np.concatenate([dr, dz, dn * r], axis=1)
        dx[t] = d_gi @ W_ih
        dW_ih += d_gi.T @ x[t]
        dW_hh += d_gh.T @ h_prev
        db_ih += d_gi.sum(0)
        db_hh += d_gh.sum(0)
        dh_next = dh * z + d_gh @ W_hh
    return {"x": dx, "h0": dh_next, "W_ih": dW_ih, "W_hh": dW_hh, "b_ih": db_ih, "b_hh": db_hh}


def gru_backward_f32_blocks(x, h0, W_ih, W_hh, b_ih, b_hh, grad_output):
    """float32, the weights split into per-gate blocks first."""
    f32 = np.float32
    x, h0, go = x.astype(f32), h0.astype(f32), grad_output.astype(f32)
    Wi = np.split(W_ih.astype(f32), 3)
    Wh = np.split(W_hh.astype(f32), 3)
    bi = np.split(b_ih.astype(f32), 3)
    bh = np.split(b_hh.astype(f32), 3)
    hs, rs, zs, ns, hns = [h0], [], [], [], []
    for t in range(len(x)):
        h = hs[-1]
        rs.append(sig(x[t] @ Wi[0].T + bi[0] + h @ Wh[0].T + bh[0]))
        zs.append(sig(x[t] @ Wi[1].T + bi[1] + h @ Wh[1].T + bh[1]))
        hns.append(h @ Wh[2].T + bh[2])
        ns.append(np.tanh(x[t] @ Wi[2].T + bi[2] + rs[-1] * hns[-1]))
        hs.append((1 - zs[-1]) * ns[-1] + zs[-1] * h)
    gWi = [np.zeros_like(w) for w in Wi]
    gWh = [np.zeros_like(w) for w in Wh]
    gbi = [np.zeros_like(b) for b in bi]
    gbh = [np.zeros_like(b) for b in bh]
    dx = np.zeros_like(x)
    carry = np.zeros_like(h0)
    for t in reversed(range(len(x))):
        r, z, n, hn, hp = rs[t], zs[t], ns[t], hns[t], hs[t]
        dh = go[t] + carry
        a = [None, None, None]
        a[2] = dh * (1 - z) * (1 - n * n)
        a[1] = dh * (hp - n) * z * (1 - z)
        a[0] = a[2] * hn * r * (1 - r)
        ah = [a[0], a[1], a[2] * r]
        dx[t] = sum(a[k] @ Wi[k] for k in range(3))
        carry = dh * z + sum(ah[k] @ Wh[k] for k in range(3))
        for k in range(3):
            gWi[k] += a[k].T @ x[t]
            gWh[k] += ah[k].T @ hp
            gbi[k] += a[k].sum(0)
            gbh[k] += ah[k].sum(0)
    return {"x": dx, "h0": carry, "W_ih": np.concatenate(gWi), "W_hh": np.concatenate(gWh),
            "b_ih": np.concatenate(gbi), "b_hh": np.concatenate(gbh)}


@pytest.mark.parametrize("fn", [gru_backward_loop, gru_backward_f32_blocks])
@pytest.mark.parametrize("seed", [0, 7])
def test_gru_backward_correct_versions_pass(fn, seed):
    result = check_gru_backward(fn, seed=seed)
    assert result.passed, result.message


def _gru_bug(x, h0, W_ih, W_hh, b_ih, b_hh, go, bug):
    T, H = x.shape[0], h0.shape[1]
    hs, cache = [h0], []
    for t in range(T):
        gi = x[t] @ W_ih.T + b_ih
        gh = hs[-1] @ W_hh.T + b_hh
        r = sig(gi[:, :H] + gh[:, :H])
        z = sig(gi[:, H:2 * H] + gh[:, H:2 * H])
        n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
        cache.append((r, z, n, gh[:, 2 * H:]))
        hs.append((1 - z) * n + z * hs[-1])
    out = {k: np.zeros_like(v)
           for k, v in dict(x=x, W_ih=W_ih, W_hh=W_hh, b_ih=b_ih, b_hh=b_hh).items()}
    dh_next = np.zeros_like(h0)
    W_hn = W_hh[2 * H:]
    for t in reversed(range(T)):
        r, z, n, hn = cache[t]
        hp = hs[t]
        dh = go[t] if bug == "no dh_next" else go[t] + dh_next
        dn = dh * (1 - z) * (1 if bug == "no tanh'" else 1 - n * n)
        dz = dh * ((n - hp) if bug == "sign" else (hp - n)) * z * (1 - z)
        if bug == "reset before":
            drh = dn @ W_hn                  # n = tanh(W_in x + b_in + W_hn (r*h) + b_hn)
            dr = drh * hp * r * (1 - r)
        else:
            dr = dn * hn * r * (1 - r)
        dhn = dn if bug == "no r in back" else dn * r
        out["x"][t] = np.hstack([dr, dz, dn]) @ W_ih
        out["W_ih"] += np.hstack([dr, dz, dn]).T @ x[t]
        out["b_ih"] += np.hstack([dr, dz, dn]).sum(0)
        if bug == "reset before":
            out["W_hh"] += np.vstack([np.hstack([dr, dz]).T @ hp, dn.T @ (r * hp)])
            out["b_hh"] += np.hstack([dr.sum(0), dz.sum(0), dn.sum(0)])
            dh_next = np.hstack([dr, dz]) @ W_hh[:2 * H] + drh * r + dh * z
            continue
        out["W_hh"] += np.hstack([dr, dz, dhn]).T @ hp
        out["b_hh"] += np.hstack([dr.sum(0), dz.sum(0), (dn if bug == "db_hn" else dhn).sum(0)])
        dh_next = np.hstack([dr, dz, dhn]) @ W_hh
        if bug != "no direct":
            dh_next = dh_next + z * dh
    return {"x": out["x"], "h0": dh_next, "W_ih": out["W_ih"], "W_hh": out["W_hh"],
            "b_ih": out["b_ih"], "b_hh": out["b_hh"]}


def _gru_learner(bug):
    def fn(x, h0, W_ih, W_hh, b_ih, b_hh, grad_output):
        return _gru_bug(x, h0, W_ih, W_hh, b_ih, b_hh, grad_output, bug)
    return fn


GRU_MISTAKES = [
    ("sign", "the sign of (h - n) in dz flipped"),
    ("no r in back", "the reset factor r forgotten on W_hn h + b_hn in the backward"),
    ("db_hn", "db_hn treated like db_in"),
    ("no direct", "the direct path z * dh to h_{t-1} missing"),
    ("reset before",
     "the reset-before derivative (Cho et al. 2014's n = tanh(W x + W_hn (r h) + b))"),
    ("no tanh'", "tanh' of n missing"),
    ("no dh_next", "dh from the next step not added"),
]


def test_the_buggy_gru_learner_is_right_without_a_bug():
    assert check_gru_backward(_gru_learner("none")).passed


@pytest.mark.parametrize("bug, name", GRU_MISTAKES, ids=[b for b, _ in GRU_MISTAKES])
def test_gru_backward_mistakes_are_named(bug, name):
    for seed in (None, 3):
        result = check_gru_backward(_gru_learner(bug), seed=seed)
        assert not result.passed
        assert result.mistake == name and f"looks like {name}" in result.message, result.message
    assert name in {m.name for m in SPECS["gru_backward"].mistakes}


def test_gru_backward_unknown_error_says_where():
    def bad(*args):
        d = gru_backward_loop(*args)
        return {**d, "x": d["x"] * 1.1}

    msg = check_gru_backward(bad).message
    assert msg.startswith("wrong gradient: dx") and "dx already differs at the last step" in msg


# =========================================================================== clip_grad_norm
def clip_numpy(grads, max_norm):
    total = np.sqrt(sum((g ** 2).sum() for g in grads))
    coef = min(1.0, max_norm / (total + 1e-6))
    return [g * coef for g in grads], total


def clip_float32_concat(grads, max_norm):
    flat = np.concatenate([np.ravel(g).astype(np.float32) for g in grads])
    total = float(np.linalg.norm(flat))
    scale = max_norm / total if total > max_norm else 1.0
    return tuple(np.float32(scale) * g.astype(np.float32) for g in grads), np.float32(total)


@pytest.mark.parametrize("fn", [clip_numpy, clip_float32_concat])
@pytest.mark.parametrize("seed", [0, 9])
def test_clip_grad_norm_correct_versions_pass(fn, seed):
    result = check_clip_grad_norm(fn, seed=seed)
    assert result.passed, result.message


def clip_each(grads, max_norm):
    out = []
    for g in grads:
        n = np.linalg.norm(g)
        out.append(g * max_norm / n if n > max_norm else g)
    return out, np.sqrt(sum(np.linalg.norm(g) ** 2 for g in grads))


def clip_values(grads, max_norm):
    return ([np.clip(g, -max_norm, max_norm) for g in grads],
            np.sqrt(sum(np.sum(g * g) for g in grads)))


def clip_always_rescale(grads, max_norm):
    total = np.sqrt(sum(np.sum(g * g) for g in grads))
    return [g * (max_norm / total) for g in grads], total


def clip_squared_norm(grads, max_norm):
    total = sum(np.sum(g * g) for g in grads)
    return [g * min(1, max_norm / total) for g in grads], total


def clip_norm_after(grads, max_norm):
    total = np.sqrt(sum(np.sum(g * g) for g in grads))
    out = [g * min(1, max_norm / total) for g in grads]
    return out, np.sqrt(sum(np.sum(g * g) for g in out))


CLIP_MISTAKES = [
    (clip_each, "per-array clipping"),
    (clip_values, "clip-by-value"),
    (clip_always_rescale, "scaling up when the norm is below max_norm"),
    (clip_squared_norm, "the norm without the square root"),
    (clip_norm_after, "the norm returned after clipping"),
]


@pytest.mark.parametrize("fn, name", CLIP_MISTAKES, ids=[f.__name__ for f, _ in CLIP_MISTAKES])
def test_clip_grad_norm_mistakes_are_named(fn, name):
    for seed in (None, 4):
        result = check_clip_grad_norm(fn, seed=seed)
        assert not result.passed
        assert result.mistake == name and f"looks like {name}" in result.message, result.message
    assert name in {m.name for m in SPECS["clip_grad_norm"].mistakes}


# =========================================================================== every spec
IDS = ("numerical_gradient", "lstm_backward", "gru_backward", "clip_grad_norm")


@pytest.mark.parametrize("exercise", IDS)
def test_reference_passes_and_every_mistake_differs_on_public_cases(exercise):
    spec = SPECS[exercise]
    assert spec.notebook == "05_backprop_through_gates"
    assert run_spec(spec, spec.reference).passed
    assert run_spec(spec, spec.reference, seed=123).message.startswith("hidden checks passed")
    cases = spec.cases()
    for mistake in spec.mistakes:
        differs = False
        for case in cases:
            args, kwargs = case.inputs()
            wrong = flatten(spec.output, mistake.fn(*args, **kwargs))
            exp = expected_leaves(spec, case)
            differs |= not all(np.allclose(w, e, rtol=spec.rtol, atol=spec.atol)
                               for (_, w), (_, e) in zip(wrong, exp))
        assert differs, mistake.name


@pytest.mark.parametrize("exercise", ["lstm_backward", "gru_backward"])
def test_backward_cases_are_distinct_with_both_batch_kinds(exercise):
    cases = SPECS[exercise].cases(5)
    assert {c.args[0].shape[1] == 1 for c in cases} == {True, False}
    for case in cases:
        T, B, I = case.args[0].shape
        assert len({T, B, I, case.args[1].shape[1]}) == 4
        assert np.abs(case.args[1]).min() > 0


@pytest.mark.parametrize("fn, check, text", [
    (lambda *a: None, check_lstm_backward, "returned a NoneType"),
    (lambda *a, **k: {}["x"], check_gru_backward, "your function raised KeyError"),
    (lambda f, x, eps=1e-6: None, check_numerical_gradient, "returned None"),
    (lambda g, m: g, check_clip_grad_norm, "returned 3 values; expected 2"),
])
def test_bad_returns_fail_cleanly(fn, check, text):
    result = check(fn)
    assert not result.passed and text in result.message, result.message
