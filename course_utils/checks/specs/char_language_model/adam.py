"""``adam_step(params, grads, state, lr, beta1, beta2, eps) -> (new_params, new_state)``: Adam.

Kingma & Ba (2015), "Adam: a method for stochastic optimization", Algorithm 1, in the form
``torch.optim.Adam`` computes (no weight decay, no amsgrad)::

    t = state["t"] + 1                       # steps taken, this one included (state None: t = 1)
    m = beta1 m + (1 - beta1) g              # first moment,  per parameter array, m0 = 0
    v = beta2 v + (1 - beta2) g**2           # second moment, per parameter array, v0 = 0
    m_hat = m / (1 - beta1**t);  v_hat = v / (1 - beta2**t)      # bias correction
    p_new = p - lr * m_hat / (sqrt(v_hat) + eps)

``params`` and ``grads`` are lists of numpy arrays (one per parameter, any shapes); ``state`` is
None before the first step, else the dict the previous call returned:
``{"t": int, "m": [arrays like params], "v": [...]}``, the raw (uncorrected) moments. Nothing is
changed in place: new arrays are returned.

Cases (from one seed): the first step (state None) with three parameters of one shape (where
moments shared between parameters show), and later steps (t = 3 and t = 40, with moments from a
real ``torch.optim.Adam`` run) with parameters of distinct shapes; one case with a large ``eps``
and small gradients, where the place of eps shows. Reference: ``torch.optim.Adam`` in float64,
its state loaded from ``state``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...recurrent import rng_for
from ...spec import Case, Int, Mistake, Spec

ARGS = ("params", "grads", "state", "lr", "beta1", "beta2", "eps")
N_PARAMS = 3
OUTPUT = (tuple(f"new_params[{i}]" for i in range(N_PARAMS)),
          {"t": Int("state['t']"), "m": tuple(f"state['m'][{i}]" for i in range(N_PARAMS)),
           "v": tuple(f"state['v'][{i}]" for i in range(N_PARAMS))})


def _torch_state(rng: np.random.Generator, shapes: list[tuple[int, ...]], steps: int,
                 lr: float, betas: tuple[float, float], eps: float, scale: float) -> dict:
    """Moments after ``steps`` real Adam steps on random gradients (so they are consistent)."""
    import torch

    ps = [torch.tensor(rng.normal(size=s)) for s in shapes]
    for p in ps:
        p.requires_grad_(True)
    opt = torch.optim.Adam(ps, lr=lr, betas=betas, eps=eps)
    for _ in range(steps):
        for p in ps:
            p.grad = torch.tensor(rng.normal(0.0, scale, size=p.shape))
        opt.step()
    return {"t": steps, "m": [opt.state[p]["exp_avg"].numpy().copy() for p in ps],
            "v": [opt.state[p]["exp_avg_sq"].numpy().copy() for p in ps]}


def make_cases(seed: int) -> list[Case]:
    settings = [  # label, shapes, steps before, lr, betas, eps, gradient scale
        ("first step (state None), three parameters of shape (6,)", [(6,)] * 3, 0,
         1e-3, (0.9, 0.999), 1e-8, 1.0),
        ("step t=4, shapes (4, 3), (4,), (2, 5), lr=0.01, betas=(0.8, 0.99)",
         [(4, 3), (4,), (2, 5)], 3, 1e-2, (0.8, 0.99), 1e-8, 1.0),
        ("step t=41, shapes (3, 5), (5,), (3,), lr=0.05, eps=1e-3, gradients of about 1e-3",
         [(3, 5), (5,), (3,)], 40, 5e-2, (0.9, 0.999), 1e-3, 1e-3),
        ("first step (state None), shapes (5, 2), (2,), (5,), lr=0.1, betas=(0.7, 0.9)",
         [(5, 2), (2,), (5,)], 0, 1e-1, (0.7, 0.9), 1e-8, 1.0),
    ]
    cases = []
    for i, (label, shapes, steps, lr, betas, eps, scale) in enumerate(settings):
        rng = rng_for(seed, 700 + i)
        state = _torch_state(rng, shapes, steps, lr, betas, eps, scale) if steps else None
        params = [rng.normal(size=s) for s in shapes]
        grads = [rng.normal(0.0, scale, size=s) for s in shapes]
        cases.append(Case(label, args=(params, grads, state, lr, betas[0], betas[1], eps),
                          dims={"t": steps + 1}))
    return cases


def ref_adam_step(params, grads, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8) -> Any:
    """One step of ``torch.optim.Adam`` (float64) from ``state``; returns numpy arrays."""
    import torch

    ps = [torch.tensor(np.asarray(p, dtype=np.float64), requires_grad=True) for p in params]
    opt = torch.optim.Adam(ps, lr=lr, betas=(beta1, beta2), eps=eps)
    for i, (p, g) in enumerate(zip(ps, grads)):
        p.grad = torch.tensor(np.asarray(g, dtype=np.float64))
        if state is not None:
            opt.state[p] = {"step": torch.tensor(float(state["t"])),
                            "exp_avg": torch.tensor(np.asarray(state["m"][i], dtype=np.float64)),
                            "exp_avg_sq": torch.tensor(np.asarray(state["v"][i], dtype=np.float64))}
    opt.step()
    t = 1 if state is None else int(state["t"]) + 1
    return ([p.detach().numpy().copy() for p in ps],
            {"t": t, "m": [opt.state[p]["exp_avg"].numpy().copy() for p in ps],
             "v": [opt.state[p]["exp_avg_sq"].numpy().copy() for p in ps]})


# --------------------------------------------------------------------------- mistakes
def _adam(params, grads, state, lr, beta1, beta2, eps, *, correct: str = "new_t",
          eps_at: str = "outside", sqrt: bool = True, store: str = "raw", sign: float = 1.0,
          weights: str = "right", saved_t: str = "new") -> Any:
    """Adam with switches that reproduce the catalogued slips (defaults: correct)."""
    t0 = 0 if state is None else int(state["t"])
    ms = [np.zeros_like(np.asarray(p, float)) for p in params] if state is None else state["m"]
    vs = [np.zeros_like(np.asarray(p, float)) for p in params] if state is None else state["v"]
    t = t0 + 1
    tc = {"new_t": t, "old_t": t0}.get(correct, t)
    out, new_m, new_v = [], [], []
    for p, g, m, v in zip(params, grads, ms, vs):
        if weights == "right":
            m, v = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g
        else:
            m, v = (1 - beta1) * m + beta1 * g, (1 - beta2) * v + beta2 * g * g
        if correct == "none":
            m_hat, v_hat = m, v
        else:
            m_hat, v_hat = m / (1 - beta1 ** tc), v / (1 - beta2 ** tc)
        if eps_at == "inside":
            denom = np.sqrt(v_hat + eps)
        elif eps_at == "paper":
            denom = (np.sqrt(v) + eps) * (1 - beta1 ** t) / math.sqrt(1 - beta2 ** t)
            m_hat = m
        else:
            denom = (np.sqrt(v_hat) if sqrt else v_hat) + eps
        out.append(p - sign * lr * m_hat / denom)
        new_m.append(m_hat if store == "corrected" else m)
        new_v.append(v_hat if store == "corrected" else v)
    return out, {"t": {"new": t, "old": t0, "one": 1}[saved_t], "m": new_m, "v": new_v}


def _shared(params, grads, state, lr, beta1, beta2, eps) -> Any:
    """One m and one v for every parameter (``[np.zeros(...)] * n`` updated in place)."""
    if state is not None:
        raise ValueError("only visible from a first step")
    m = np.zeros_like(np.asarray(params[0], float))
    v = np.zeros_like(m)
    out = []
    for p, g in zip(params, grads):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        out.append(p - lr * (m / (1 - beta1)) / (np.sqrt(v / (1 - beta2)) + eps))
    return out, {"t": 1, "m": [m] * len(params), "v": [v] * len(params)}


def _variant(**switches: Any):
    def fn(params, grads, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        return _adam(params, grads, state, lr, beta1, beta2, eps, **switches)
    return fn


MISTAKES = [
    Mistake("no bias correction", "divide m by (1 - beta1**t) and v by (1 - beta2**t) before the "
            "update: m and v start at 0, so early on they are too small (at t=1, m is only "
            "(1 - beta1) g)", _variant(correct="none")),
    Mistake("bias correction with the wrong step count", "count this step first (t = "
            "state['t'] + 1, so t = 1 at the first step) and use that t in 1 - beta**t; with the "
            "old count the first step divides by 1 - beta**0 = 0", _variant(correct="old_t")),
    Mistake("step count not carried", "return t = state['t'] + 1 (1 after the first step) in the "
            "new state, so the next call's bias correction uses the right step count",
            _variant(saved_t="one")),
    Mistake("eps inside the square root", "torch.optim.Adam (and the paper's Algorithm 1) adds "
            "eps to sqrt(v_hat), not to v_hat under the root: m_hat / (sqrt(v_hat) + eps)",
            _variant(eps_at="inside")),
    Mistake("the paper's 'efficient' form", "lr * sqrt(1 - beta2**t) / (1 - beta1**t) * m / "
            "(sqrt(v) + eps) puts eps before the bias correction (Kingma & Ba, end of section 2); "
            "torch.optim.Adam computes m_hat / (sqrt(v_hat) + eps) — they differ when v is small "
            "next to eps**2", _variant(eps_at="paper")),
    Mistake("moments shared between parameters", "each parameter array needs its own m and v "
            "(`[np.zeros_like(p) for p in params]`, not `[np.zeros(...)] * n`, which is one array "
            "n times): here every parameter updates the same moments", _shared),
    Mistake("bias-corrected moments stored", "keep the raw m and v in the state; the bias "
            "correction is applied afresh at every step (from t), never stored",
            _variant(store="corrected")),
    Mistake("square root missing", "divide by sqrt(v_hat) + eps: v is a mean of SQUARED "
            "gradients, its root has the gradient's scale", _variant(sqrt=False)),
    Mistake("moment weights swapped", "m = beta1 * m + (1 - beta1) * g: the old moment keeps the "
            "large weight beta1, the new gradient gets 1 - beta1 (likewise for v with beta2)",
            _variant(weights="swapped")),
    Mistake("step goes uphill", "subtract the step (p - lr * ...): gradient DEscent",
            _variant(sign=-1.0)),
]


def diagnose(got: dict, exp: dict, brief: bool = False) -> str | None:
    """Which part of the returned state or parameters is wrong first."""
    def bad(prefix: str) -> list[str]:
        return [k for k in exp if k.startswith(prefix) and not np.allclose(
            np.asarray(got[k], float), np.asarray(exp[k], float), rtol=1e-6, atol=1e-10)]

    wrong_m, wrong_v, wrong_p = bad("state['m']"), bad("state['v']"), bad("new_params")
    if brief:
        return None
    if wrong_m or wrong_v:
        which = ", ".join((wrong_m + wrong_v)[:3])
        return (f"the moments in the returned state are wrong ({which}): m = beta1 m + (1 - beta1) "
                "g and v = beta2 v + (1 - beta2) g**2, the raw ones, one pair per parameter array")
    if wrong_p:
        return (f"the moments are right but the new parameters are not ({', '.join(wrong_p[:3])}): "
                "look at the update, p - lr * m_hat / (sqrt(v_hat) + eps) with m_hat = m / (1 - "
                "beta1**t), v_hat = v / (1 - beta2**t)")
    return None


SPEC = Spec(id="adam_step", title="one step of Adam (as torch.optim.Adam)",
            notebook="07_char_language_model", arg_names=ARGS, output=OUTPUT,
            make_cases=make_cases, reference=ref_adam_step, mistakes=MISTAKES, rtol=1e-5,
            atol=1e-7, points=2, diagnose=diagnose)
