"""``lm_train_step``: one training step of a character-level LSTM language model, in numpy.

    loss_bits, new_params, new_opt_state, (h_n, c_n) = lm_train_step(
        params, opt_state, x, y, h0, c0, lr, max_norm, lstm_forward, lstm_backward, adam_step)

``params`` = {"W_ih" (4H, V), "W_hh" (4H, H), "b_ih", "b_hh" (4H,), "W_hy" (V, H), "b_y" (V,)}
(:data:`KEYS`, the order the gradients go to ``adam_step``); ``x``, ``y`` (T, B) int character
ids (``y`` the next characters); ``h0``, ``c0`` (B, H) the carried state. The step::

    X = one_hot(x)                              # (T, B, V): the LSTM's input is the character
    out, (h_n, c_n) = lstm_forward(X, h0, c0, W_ih, W_hh, b_ih, b_hh)     # (T, B, H)
    z = out @ W_hy.T + b_y                      # (T, B, V) logits
    loss_bits = mean over T*B of -log2 softmax(z)[y]
    dz = (softmax(z) - one_hot(y)) / (T * B * ln 2)       # d loss_bits / dz
    dW_hy = sum dz^T out;  db_y = sum dz;  dout = dz @ W_hy
    grads of the LSTM = lstm_backward(X, h0, c0, W_ih, W_hh, b_ih, b_hh, dout)
    clip: norm = sqrt(sum of every gradient's squares); if norm > max_norm, multiply every
          gradient by max_norm / (norm + 1e-6)             (torch.nn.utils.clip_grad_norm_)
    new params, new_opt_state = adam_step([params in KEYS order], [grads], opt_state, lr=lr)

The gradient stops at the window's start (h0, c0 are constants): truncated BPTT, as
``train_tbptt`` in part 2. The functions are arguments, so the checker hands in its own
(torch-based) ``lstm_forward``, ``lstm_backward`` and ``adam_step``: this check is about the
step, whatever state your earlier functions are in.

Reference: the identical PyTorch model (``nn.LSTM(V, H)`` on one-hot input, ``nn.Linear(H, V)``,
``F.cross_entropy / ln 2``, ``clip_grad_norm_``, ``torch.optim.Adam``) in float64, the optimizer
state loaded from ``opt_state``. :func:`.follow.follow_pytorch` runs a learner's step for many updates
beside that model and says at which update, and in which parameter, the two part.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...spec import Case, Int, Mistake, Spec

KEYS = ("W_ih", "W_hh", "b_ih", "b_hh", "W_hy", "b_y")
ARGS = ("params", "opt_state", "x", "y", "h0", "c0", "lr", "max_norm", "lstm_forward",
        "lstm_backward", "adam_step")
LN2 = math.log(2.0)
OUTPUT = ("loss_bits", {k: f"new_params['{k}']" for k in KEYS},
          {"t": Int("opt_state['t']"), "m": tuple(f"opt_state['m'][{i}]" for i in range(6)),
           "v": tuple(f"opt_state['v'][{i}]" for i in range(6))}, ("h_n", "c_n"))

# torch-based stand-ins for the learner's earlier functions (self-contained: the grader rebuilds
# them in its sandbox from this text)
TOOLS = '''
import numpy as np
import torch


def _t(a):
    return torch.tensor(np.asarray(a, dtype=np.float64))


def _lstm(W_ih, W_hh, b_ih, b_hh):
    m = torch.nn.LSTM(W_ih.shape[1], W_hh.shape[1]).double()
    with torch.no_grad():
        for p, v in zip((m.weight_ih_l0, m.weight_hh_l0, m.bias_ih_l0, m.bias_hh_l0),
                        (W_ih, W_hh, b_ih, b_hh)):
            p.copy_(_t(v))
    return m


def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    with torch.no_grad():
        out, (h, c) = _lstm(W_ih, W_hh, b_ih, b_hh)(_t(x), (_t(h0)[None], _t(c0)[None]))
    return out.numpy(), (h[0].numpy(), c[0].numpy())


def lstm_backward(x, h0, c0, W_ih, W_hh, b_ih, b_hh, grad_output):
    m = _lstm(W_ih, W_hh, b_ih, b_hh)
    xs, hs, cs = (_t(a).requires_grad_(True) for a in (x, h0, c0))
    out, _ = m(xs, (hs[None], cs[None]))
    (out * _t(grad_output)).sum().backward()
    return {"x": xs.grad.numpy(), "h0": hs.grad.numpy(), "c0": cs.grad.numpy(),
            "W_ih": m.weight_ih_l0.grad.numpy(), "W_hh": m.weight_hh_l0.grad.numpy(),
            "b_ih": m.bias_ih_l0.grad.numpy(), "b_hh": m.bias_hh_l0.grad.numpy()}


def adam_step(params, grads, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    ps = [_t(p).requires_grad_(True) for p in params]
    opt = torch.optim.Adam(ps, lr=lr, betas=(beta1, beta2), eps=eps)
    for i, (p, g) in enumerate(zip(ps, grads)):
        p.grad = _t(g)
        if state is not None:
            opt.state[p] = {"step": torch.tensor(float(state["t"])), "exp_avg": _t(state["m"][i]),
                            "exp_avg_sq": _t(state["v"][i])}
    opt.step()
    return ([p.detach().numpy().copy() for p in ps],
            {"t": 1 if state is None else state["t"] + 1,
             "m": [opt.state[p]["exp_avg"].numpy().copy() for p in ps],
             "v": [opt.state[p]["exp_avg_sq"].numpy().copy() for p in ps]})
'''

CASE = '''
V, H, T, B, steps, lr, max_norm = {V}, {H}, {T}, {B}, {steps}, {lr}, {max_norm}
rng = np.random.default_rng({seed})
shapes = {{"W_ih": (4 * H, V), "W_hh": (4 * H, H), "b_ih": (4 * H,), "b_hh": (4 * H,),
          "W_hy": (V, H), "b_y": (V,)}}
params = {{k: rng.normal(0.0, 0.5, s) for k, s in shapes.items()}}
opt_state = None
for _ in range(steps):      # a state from real Adam steps (on random gradients)
    _, opt_state = adam_step(list(params.values()), [rng.normal(0.0, 0.05, s)
                             for s in shapes.values()], opt_state, lr=lr)
x = rng.integers(0, V, (T, B))
y = rng.integers(0, V, (T, B))
h0, c0 = rng.normal(0.0, 0.5, (B, H)), rng.normal(0.0, 0.5, (B, H))
args = (params, opt_state, x, y, h0, c0, lr, max_norm, lstm_forward, lstm_backward, adam_step)
'''


def make_cases(seed: int) -> list[Case]:
    """First step and later steps; clipping active and not; batch 3, 1 and 2."""
    settings = [(7, 5, 6, 3, 3, 0.01, 0.3), (6, 4, 5, 1, 0, 0.02, 0.2),
                (5, 3, 4, 2, 5, 0.05, 100.0)]
    cases = []
    for i, (V, H, T, B, steps, lr, max_norm) in enumerate(settings):
        label = (f"V={V}, H={H}, T={T}, B={B}, " + ("first step" if not steps else
                 f"step {steps + 1}") + f", lr={lr}, max_norm={max_norm}"
                 + (" (clipping active)" if max_norm < 1 else " (no clipping)"))
        cases.append(Case(label, source=TOOLS + CASE.format(V=V, H=H, T=T, B=B, steps=steps, lr=lr,
                                                    max_norm=max_norm, seed=1000 * seed + i),
                          dims={"T": T, "B": B, "V": V, "H": H}))
    return cases


def torch_twin(params: dict[str, np.ndarray]) -> tuple[Any, list[Any]]:
    """nn.LSTM(V, H) + nn.Linear(H, V) in float64 holding ``params``; (lstm, head, params in
    KEYS order as torch Parameters)."""
    import torch

    V, H = params["W_hy"].shape
    lstm, head = torch.nn.LSTM(V, H).double(), torch.nn.Linear(H, V).double()
    ps = [lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0, head.weight,
          head.bias]
    with torch.no_grad():
        for p, k in zip(ps, KEYS):
            p.copy_(torch.tensor(np.asarray(params[k], dtype=np.float64)))
    return (lstm, head), ps


def twin_step(twin: tuple[Any, Any], ps: list[Any], opt: Any, x: np.ndarray, y: np.ndarray,
              h0: np.ndarray, c0: np.ndarray, max_norm: float) -> tuple[float, tuple]:
    """One step of the PyTorch twin: loss (bits) and the final (h, c)."""
    import torch
    import torch.nn.functional as F

    lstm, head = twin
    V = head.weight.shape[0]
    X = F.one_hot(torch.as_tensor(np.asarray(x)), V).double()                     # (T, B, V)
    out, (h, c) = lstm(X, (torch.tensor(h0)[None], torch.tensor(c0)[None]))       # (T, B, H)
    z = head(out)                                                                 # (T, B, V)
    loss = F.cross_entropy(z.reshape(-1, V), torch.as_tensor(np.asarray(y)).reshape(-1)) / LN2
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(ps, max_norm)
    opt.step()
    return float(loss.detach()), (h[0].detach().numpy().copy(), c[0].detach().numpy().copy())


def ref_lm_train_step(params, opt_state, x, y, h0, c0, lr, max_norm, lstm_forward=None,
                      lstm_backward=None, adam_step=None) -> Any:
    """The identical PyTorch model, one step (the given functions are not used)."""
    import torch

    twin, ps = torch_twin(params)
    opt = torch.optim.Adam(ps, lr=lr)
    if opt_state is not None:
        for i, p in enumerate(ps):
            opt.state[p] = {"step": torch.tensor(float(opt_state["t"])),
                            "exp_avg": torch.tensor(np.asarray(opt_state["m"][i], dtype=float)),
                            "exp_avg_sq": torch.tensor(np.asarray(opt_state["v"][i], dtype=float))}
    loss, (h, c) = twin_step(twin, ps, opt, x, y, h0, c0, max_norm)
    new = {k: p.detach().numpy().copy() for k, p in zip(KEYS, ps)}
    state = {"t": 1 if opt_state is None else int(opt_state["t"]) + 1,
             "m": [opt.state[p]["exp_avg"].numpy().copy() for p in ps],
             "v": [opt.state[p]["exp_avg_sq"].numpy().copy() for p in ps]}
    return loss, new, state, (h, c)


# --------------------------------------------------------------------------- mistakes
def _step(params, opt_state, x, y, h0, c0, lr, max_norm, lstm_forward, lstm_backward, adam_step,
          *, unit: str = "bits", onehot: bool = True, clip: str = "global", zero_state: bool = False,
          returned: str = "final", mean: bool = True) -> Any:
    """The numpy step with switches that reproduce the catalogued slips (defaults: correct)."""
    W_ih, W_hh, b_ih, b_hh, W_hy, b_y = (np.asarray(params[k], float) for k in KEYS)
    V = W_hy.shape[0]
    if zero_state:
        h0, c0 = np.zeros_like(h0), np.zeros_like(c0)
    X = np.eye(V)[x]                                                  # (T, B, V)
    out, (h_n, c_n) = lstm_forward(X, h0, c0, W_ih, W_hh, b_ih, b_hh)  # (T, B, H)
    z = out @ W_hy.T + b_y                                            # (T, B, V)
    z = z - z.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    Y = np.eye(V)[y]
    N = y.size
    loss = -(logp * Y).sum() / N / (LN2 if unit == "bits" else 1.0)
    dz = (np.exp(logp) - (Y if onehot else 0.0)) / ((N if mean else 1.0) * LN2)
    grads = lstm_backward(X, h0, c0, W_ih, W_hh, b_ih, b_hh, dz @ W_hy)
    g = [grads["W_ih"], grads["W_hh"], grads["b_ih"], grads["b_hh"],
         np.einsum("tbv,tbh->vh", dz, out), dz.sum((0, 1))]
    if clip == "global":
        norm = math.sqrt(sum(float((a ** 2).sum()) for a in g))
        g = [a * min(1.0, max_norm / (norm + 1e-6)) for a in g]
    elif clip == "each":
        g = [a * min(1.0, max_norm / (float(np.sqrt((a ** 2).sum())) + 1e-6)) for a in g]
    new, state = adam_step([np.asarray(params[k], float) for k in KEYS], g, opt_state, lr=lr)
    hc = (h_n, c_n) if returned == "final" else (h0, c0)
    return loss, dict(zip(KEYS, new)), state, hc


def _variant(**switches: Any):
    def fn(params, opt_state, x, y, h0, c0, lr, max_norm, lstm_forward, lstm_backward, adam_step):
        return _step(params, opt_state, x, y, h0, c0, lr, max_norm, lstm_forward, lstm_backward,
                     adam_step, **switches)
    return fn


MISTAKES = [
    Mistake("loss in nats", "report the loss in bits: the mean of -log p divided by ln 2 "
            "(np.log is the natural logarithm)", _variant(unit="nats")),
    Mistake("softmax gradient without the target", "d loss / d z is softmax(z) - one_hot(y) "
            "(divided by T*B*ln 2): the 1 at the target must be subtracted",
            _variant(onehot=False)),
    Mistake("no clipping", "clip the gradients' GLOBAL norm to max_norm before the Adam step, "
            "as clip_grad_norm_ does", _variant(clip="none")),
    Mistake("clipping each parameter separately", "clip_grad_norm_ takes ONE norm over every "
            "gradient together (the square root of the sum of all their squares) and scales them "
            "all by the same factor", _variant(clip="each")),
    Mistake("gradient summed over the window, not averaged", "the loss is a MEAN over the T*B "
            "characters, so its gradient is divided by T*B (and by ln 2 for bits)",
            _variant(mean=False)),
    Mistake("carried state not used", "start the LSTM from the given h0, c0 (the state carried "
            "from the previous window), not from zeros", _variant(zero_state=True)),
    Mistake("initial state returned", "return the state at the END of the window, (h_n, c_n) "
            "from lstm_forward, so the next window continues from it", _variant(returned="initial")),
]


def diagnose(got: dict, exp: dict, brief: bool = False) -> str | None:
    """Which of loss, parameters, optimizer state and carried state is wrong first."""
    def close(k: str) -> bool:
        return bool(np.allclose(np.asarray(got[k], float), np.asarray(exp[k], float), rtol=1e-5,
                                atol=1e-7))

    if brief:
        return None
    if not close("loss_bits"):
        return ("the loss is already wrong, before any gradient: one-hot input, lstm_forward from "
                "(h0, c0), logits out @ W_hy.T + b_y, mean of -log2 softmax at the targets")
    wrong = [k for k in KEYS if not close(f"new_params['{k}']")]
    if wrong:
        head_ok = "W_hy" not in wrong and "b_y" not in wrong
        hint = (" the head's are right, so look at the gradient handed to lstm_backward "
                "(dz @ W_hy) and at which gradients go to adam_step, in KEYS order" if head_ok
                else " look at dz = (softmax - one_hot(y)) / (T*B*ln 2), the head's gradients, "
                "the clipping (one global norm) and the order of the gradients given to adam_step")
        return f"the loss is right but the new {', '.join(wrong)} differ;{hint}"
    if not (close("h_n") and close("c_n")):
        return "the parameters are right but the returned (h_n, c_n) is not the window's final state"
    return None


SPEC = Spec(id="lm_train_step", title="one training step of a numpy LSTM language model",
            notebook="07_char_language_model", arg_names=ARGS, output=OUTPUT,
            make_cases=make_cases, reference=ref_lm_train_step, mistakes=MISTAKES, rtol=1e-5,
            atol=1e-7, points=3, sandbox_modules=("torch",), diagnose=diagnose)
