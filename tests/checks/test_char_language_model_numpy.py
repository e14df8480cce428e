"""Notebook 07, part 1 (numpy): ``adam_step`` and ``lm_train_step``.

Correct implementations in several styles pass; the wrong ones below were written as a learner
would write them, before the spec's catalogue, and must fail with a message naming the slip.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from course_utils.checks import SPECS, run_spec  # noqa: E402


# --------------------------------------------------------------------------- adam_step: right
def adam_loop(params, grads, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    if state is None:
        state = {"t": 0, "m": [np.zeros_like(p) for p in params],
                 "v": [np.zeros_like(p) for p in params]}
    t = state["t"] + 1
    new_p, new_m, new_v = [], [], []
    for p, g, m, v in zip(params, grads, state["m"], state["v"]):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
        new_p.append(p - lr * m_hat / (np.sqrt(v_hat) + eps))
        new_m.append(m)
        new_v.append(v)
    return new_p, {"t": t, "m": new_m, "v": new_v}


def adam_float32(params, grads, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    f = np.float32
    params = [np.asarray(p, f) for p in params]
    grads = [np.asarray(g, f) for g in grads]
    n = len(params)
    t = 1 if state is None else state["t"] + 1
    ms = [np.zeros_like(p) for p in params] if state is None else [np.asarray(m, f) for m in state["m"]]
    vs = [np.zeros_like(p) for p in params] if state is None else [np.asarray(v, f) for v in state["v"]]
    ms = [f(beta1) * ms[i] + f(1 - beta1) * grads[i] for i in range(n)]
    vs = [f(beta2) * vs[i] + f(1 - beta2) * grads[i] ** 2 for i in range(n)]
    step = lr / (1 - beta1 ** t)
    out = [params[i] - f(step) * ms[i] / (np.sqrt(vs[i]) / f(math.sqrt(1 - beta2 ** t)) + f(eps))
           for i in range(n)]
    return out, {"t": t, "m": ms, "v": vs}


@pytest.mark.parametrize("fn", [adam_loop, adam_float32])
def test_adam_correct_styles_pass(fn):
    assert run_spec(SPECS["adam_step"], fn).passed, run_spec(SPECS["adam_step"], fn).message
    assert run_spec(SPECS["adam_step"], fn, seed=5).passed


# --------------------------------------------------------------------------- adam_step: wrong
def _init(params, state):
    if state is None:
        return 0, [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
    return state["t"], list(state["m"]), list(state["v"])


def adam_no_bias_correction(params, grads, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, ms, vs = _init(params, state)
    ms = [beta1 * m + (1 - beta1) * g for m, g in zip(ms, grads)]
    vs = [beta2 * v + (1 - beta2) * g ** 2 for v, g in zip(vs, grads)]
    return ([p - lr * m / (np.sqrt(v) + eps) for p, m, v in zip(params, ms, vs)],
            {"t": t + 1, "m": ms, "v": vs})


def adam_old_t(params, grads, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, ms, vs = _init(params, state)
    ms = [beta1 * m + (1 - beta1) * g for m, g in zip(ms, grads)]
    vs = [beta2 * v + (1 - beta2) * g ** 2 for v, g in zip(vs, grads)]
    out = [p - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)
           for p, m, v in zip(params, ms, vs)]                      # t not yet incremented
    return out, {"t": t + 1, "m": ms, "v": vs}


def adam_eps_in_sqrt(params, grads, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, ms, vs = _init(params, state)
    t += 1
    ms = [beta1 * m + (1 - beta1) * g for m, g in zip(ms, grads)]
    vs = [beta2 * v + (1 - beta2) * g ** 2 for v, g in zip(vs, grads)]
    out = [p - lr * (m / (1 - beta1 ** t)) / np.sqrt(v / (1 - beta2 ** t) + eps)
           for p, m, v in zip(params, ms, vs)]
    return out, {"t": t, "m": ms, "v": vs}


def adam_shared_moments(params, grads, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    if state is None:
        m, v = np.zeros_like(params[0]), np.zeros_like(params[0])
        state = {"t": 0, "m": [m] * len(params), "v": [v] * len(params)}
    t = state["t"] + 1
    out = []
    for i, (p, g) in enumerate(zip(params, grads)):
        m, v = state["m"][i], state["v"][i]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        out.append(p - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps))
    return out, {"t": t, "m": state["m"], "v": state["v"]}


def adam_updates_params_in_place(params, grads, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, ms, vs = _init(params, state)
    t += 1
    for i, (p, g) in enumerate(zip(params, grads)):
        ms[i] = beta1 * ms[i] + (1 - beta1) * g
        vs[i] = beta2 * vs[i] + (1 - beta2) * g * g
        p -= lr * (ms[i] / (1 - beta1 ** t)) / (np.sqrt(vs[i] / (1 - beta2 ** t)) + eps)
    return params, {"t": t, "m": ms, "v": vs}


def adam_stores_corrected(params, grads, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, ms, vs = _init(params, state)
    t += 1
    ms = [(beta1 * m + (1 - beta1) * g) / (1 - beta1 ** t) for m, g in zip(ms, grads)]
    vs = [(beta2 * v + (1 - beta2) * g ** 2) / (1 - beta2 ** t) for v, g in zip(vs, grads)]
    return ([p - lr * m / (np.sqrt(v) + eps) for p, m, v in zip(params, ms, vs)],
            {"t": t, "m": ms, "v": vs})


def adam_no_sqrt(params, grads, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, ms, vs = _init(params, state)
    t += 1
    ms = [beta1 * m + (1 - beta1) * g for m, g in zip(ms, grads)]
    vs = [beta2 * v + (1 - beta2) * g ** 2 for v, g in zip(vs, grads)]
    return ([p - lr * (m / (1 - beta1 ** t)) / (v / (1 - beta2 ** t) + eps)
             for p, m, v in zip(params, ms, vs)], {"t": t, "m": ms, "v": vs})


def adam_swapped_weights(params, grads, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, ms, vs = _init(params, state)
    t += 1
    ms = [(1 - beta1) * m + beta1 * g for m, g in zip(ms, grads)]
    vs = [(1 - beta2) * v + beta2 * g ** 2 for v, g in zip(vs, grads)]
    return ([p - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)
             for p, m, v in zip(params, ms, vs)], {"t": t, "m": ms, "v": vs})


def adam_t_not_saved(params, grads, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    new, st = adam_loop(params, grads, state, lr, beta1, beta2, eps)
    st["t"] = 1
    return new, st


def adam_plus(params, grads, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    new, st = adam_loop(params, grads, state, lr, beta1, beta2, eps)
    return [2 * p - n for p, n in zip(params, new)], st


def adam_paper_eps(params, grads, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, ms, vs = _init(params, state)
    t += 1
    ms = [beta1 * m + (1 - beta1) * g for m, g in zip(ms, grads)]
    vs = [beta2 * v + (1 - beta2) * g ** 2 for v, g in zip(vs, grads)]
    alpha = lr * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
    return [p - alpha * m / (np.sqrt(v) + eps) for p, m, v in zip(params, ms, vs)], \
        {"t": t, "m": ms, "v": vs}


ADAM_WRONG = [
    (adam_no_bias_correction, "no bias correction"),
    (adam_old_t, "step count"),
    (adam_eps_in_sqrt, "inside the square root"),
    (adam_shared_moments, "shared"),
    (adam_updates_params_in_place, "in place"),
    (adam_stores_corrected, "bias-corrected moments stored"),
    (adam_no_sqrt, "square root missing"),
    (adam_swapped_weights, "weights swapped"),
    (adam_t_not_saved, "step count not carried"),
    (adam_plus, "uphill"),
    (adam_paper_eps, "paper's"),
]


@pytest.mark.parametrize("fn,named", ADAM_WRONG, ids=[f.__name__ for f, _ in ADAM_WRONG])
def test_adam_mistakes_fail_and_are_named(fn, named):
    res = run_spec(SPECS["adam_step"], fn)
    assert not res.passed
    assert named in res.message, res.message


# --------------------------------------------------------------------------- lm_train_step
ORDER = ("W_ih", "W_hh", "b_ih", "b_hh", "W_hy", "b_y")


def lm_step(params, opt_state, x, y, h0, c0, lr, max_norm, lstm_forward, lstm_backward,
            adam_step, *, bug=None):
    """A learner's step; ``bug`` switches on one slip, as a learner would make it."""
    V = params["W_hy"].shape[0]
    X = np.zeros(x.shape + (V,))
    np.put_along_axis(X, x[..., None], 1.0, axis=-1)                   # one-hot (T, B, V)
    if bug == "zeros":
        h0, c0 = np.zeros_like(h0), np.zeros_like(c0)
    out, (h_n, c_n) = lstm_forward(X, h0, c0, params["W_ih"], params["W_hh"], params["b_ih"],
                                   params["b_hh"])
    logits = out @ params["W_hy"].T + params["b_y"]
    logits = logits - logits.max(axis=-1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=-1, keepdims=True)
    T, B = x.shape
    if bug == "inputs_as_targets":
        y = x
    picked = np.take_along_axis(probs, y[..., None], axis=-1)[..., 0]
    loss = -np.log(picked).mean() if bug == "nats" else -np.log2(picked).mean()
    d = probs.copy()
    if bug != "no_target":
        np.put_along_axis(d, y[..., None], np.take_along_axis(d, y[..., None], -1) - 1, axis=-1)
    d /= np.log(2) * (1 if bug == "sum" else T * B)
    dW_hy = np.tensordot(d, out, axes=([0, 1], [0, 1]))
    db_y = d.sum(axis=(0, 1))
    g = lstm_backward(X, h0, c0, params["W_ih"], params["W_hh"], params["b_ih"], params["b_hh"],
                      d @ params["W_hy"])
    grads = [g["W_ih"], g["W_hh"], g["b_ih"], g["b_hh"], dW_hy, db_y]
    if bug == "per_param":
        grads = [gr * min(1, max_norm / (np.linalg.norm(gr) + 1e-6)) for gr in grads]
    elif bug != "no_clip":
        total = np.sqrt(sum(np.sum(gr * gr) for gr in grads))
        if total > max_norm:
            grads = [gr * (max_norm / (total + 1e-6)) for gr in grads]
    new, st = adam_step([params[k] for k in ORDER], grads, opt_state, lr=lr)
    new_params = dict(zip(ORDER, new))
    return float(loss), new_params, st, ((h0, c0) if bug == "initial" else (h_n, c_n))


def lm_step_float32(params, opt_state, x, y, h0, c0, lr, max_norm, lstm_forward, lstm_backward,
                    adam_step):
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    return lm_step(p32, opt_state, x, y, h0.astype(np.float32), c0.astype(np.float32), lr,
                   max_norm, lstm_forward, lstm_backward, adam_step)


def _buggy(bug):
    def fn(params, opt_state, x, y, h0, c0, lr, max_norm, lstm_forward, lstm_backward, adam_step):
        return lm_step(params, opt_state, x, y, h0, c0, lr, max_norm, lstm_forward,
                       lstm_backward, adam_step, bug=bug)
    fn.__name__ = f"lm_step_{bug}"
    return fn


def test_lm_step_correct_passes():
    res = run_spec(SPECS["lm_train_step"], lm_step)
    assert res.passed, res.message
    assert run_spec(SPECS["lm_train_step"], lm_step, seed=3).passed


def test_lm_step_float32_is_not_held_to_float64():
    res = run_spec(SPECS["lm_train_step"], lm_step_float32)
    assert res.passed, res.message


LM_WRONG = [("nats", "nats"), ("no_target", "without the target"), ("no_clip", "no clipping"),
            ("per_param", "each parameter separately"), ("zeros", "carried state not used"),
            ("initial", "initial state returned"), ("sum", "summed"),
            ("inputs_as_targets", "loss is already wrong")]


@pytest.mark.parametrize("bug,named", LM_WRONG, ids=[b for b, _ in LM_WRONG])
def test_lm_step_mistakes_fail_and_are_named(bug, named):
    res = run_spec(SPECS["lm_train_step"], _buggy(bug))
    assert not res.passed
    assert named in res.message, res.message


def test_follow_pytorch_agrees_and_names_where_it_parts():
    from course_utils.checks.specs.char_language_model.follow import follow_pytorch
    from course_utils.checks.specs.char_language_model.numpy_lm import TOOLS

    ns: dict = {}
    exec(TOOLS, ns)  # noqa: S102 - the checker's own torch-based stand-ins
    fns = (ns["lstm_forward"], ns["lstm_backward"], ns["adam_step"])
    ok, rec = follow_pytorch(lm_step, *fns, updates=10)
    assert ok.passed, ok.message
    assert len(rec["numpy"]) == 10 and rec["max_loss_diff"] < 1e-10
    bad, rec = follow_pytorch(_buggy("per_param"), *fns, updates=10)
    assert not bad.passed and "part at update" in bad.message
    assert rec["parameter"] is not None and rec["parameter"][1] in bad.message
    first, _ = follow_pytorch(_buggy("nats"), *fns, updates=10)
    assert "update 1" in first.message and "before any update" in first.message
