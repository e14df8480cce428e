"""Spec of notebook 02: ``rnn_backward`` — backpropagation through time for the tanh RNN.

Forward (notebook 01, time-major, PyTorch layout; Elman 1990)::

    a_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh        # (B, H)
    h_t = tanh(a_t)                                        # output[t] = h_t, t = 0 .. T-1

Backward of ``L = sum(output * grad_output)`` (Werbos 1990, "Backpropagation through time:
what it does and how to do it"; Goodfellow et al. 2016, *Deep Learning* §10.2.2)::

    dh_t   = grad_output[t] + da_{t+1} W_hh                # gradient reaching h_t
    da_t   = dh_t * (1 - h_t^2)                            # tanh'(a_t) = 1 - tanh(a_t)^2
    dx_t   = da_t W_ih ;  dW_ih += da_t^T x_t ;  dW_hh += da_t^T h_{t-1}
    db_ih  = db_hh = sum_t sum_batch da_t ;  dh0 = da_0 W_hh

Reference: torch autograd through ``torch.nn.RNN`` in float64.

The generic engine (:mod:`.spec`) names catalogued mistakes. For the rest, BPTT needs a more
specific diagnosis than "max abs error": *which* gradients are wrong, and for the per-step
gradient ``dx`` the first step, **counting back from the end**, where it goes wrong (errors in
BPTT start at the last step and travel backwards). :func:`diagnose` adds that through the
engine's ``Spec.diagnose`` hook, so the notebook's checker and the grader give the same message.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..backward import make_diagnose
from ..recurrent import rng_for, seq_cases, torch_module
from ..spec import Case, Mistake, Spec

ARGS = ("x", "h0", "W_ih", "W_hh", "b_ih", "b_hh", "grad_output")
KEYS = ("x", "h0", "W_ih", "W_hh", "b_ih", "b_hh")
OUTPUT = {k: "d" + k for k in KEYS}  # leaf names dx, dh0, dW_ih, dW_hh, db_ih, db_hh


# --------------------------------------------------------------------------- cases, reference
def make_cases(seed: int) -> list[Case]:
    """The RNN sequence cases of notebook 01 (T, B, I, H all distinct; batch 3, 1, 2) plus a
    random upstream gradient ``grad_output`` (T, B, H) from its own sub-seed."""
    cases = []
    for i, case in enumerate(seq_cases(seed, "rnn")):
        x, h0 = case.args[0], case.args[1]
        g = rng_for(seed, 200 + i).normal(size=(x.shape[0], x.shape[1], h0.shape[1]))  # (T, B, H)
        cases.append(Case(case.label, (*case.args, g), dims=case.dims))
    return cases


def ref_rnn_backward(x, h0, W_ih, W_hh, b_ih, b_hh, grad_output):
    """Gradients of ``sum(output * grad_output)``: torch autograd through torch.nn.RNN
    (float64)."""
    import torch

    rnn = torch_module("rnn", W_ih, W_hh, b_ih, b_hh, cell=False)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    h0t = torch.tensor(h0, dtype=torch.float64, requires_grad=True)
    out, _ = rnn(xt, h0t[None])                                # (T, B, H)
    (out * torch.from_numpy(np.asarray(grad_output, dtype=np.float64))).sum().backward()
    return {"x": xt.grad.numpy(), "h0": h0t.grad.numpy(),
            "W_ih": rnn.weight_ih_l0.grad.numpy(), "W_hh": rnn.weight_hh_l0.grad.numpy(),
            "b_ih": rnn.bias_ih_l0.grad.numpy(), "b_hh": rnn.bias_hh_l0.grad.numpy()}


# --------------------------------------------------------------------------- mistakes
def _states(x, h0, W_ih, W_hh, b_ih, b_hh) -> np.ndarray:
    """h_0 (the given h0), h_1 ... h_T stacked: (T + 1, B, H)."""
    hs = [h0]
    for t in range(x.shape[0]):
        hs.append(np.tanh(x[t] @ W_ih.T + b_ih + hs[-1] @ W_hh.T + b_hh))
    return np.stack(hs)


def _bptt(x, h0, W_ih, W_hh, b_ih, b_hh, g, *, carry: bool = True, deriv: str = "h_t",
          dWhh_from: str = "h_prev", accumulate: bool = True, Whh_back_T: bool = False,
          zero_dbhh: bool = False, zero_dh0: bool = False, sign: float = 1.0) -> dict:
    """BPTT with switches that reproduce the catalogued mistakes (all off = correct)."""
    hs = _states(x, h0, W_ih, W_hh, b_ih, b_hh)                  # (T+1, B, H)
    grads = {k: np.zeros_like(v) for k, v in
             (("x", x), ("W_ih", W_ih), ("W_hh", W_hh), ("b_ih", b_ih), ("b_hh", b_hh))}
    dh_next = np.zeros_like(h0)                                  # (B, H)
    for t in reversed(range(x.shape[0])):
        h, h_prev = hs[t + 1], hs[t]
        dh = g[t] + dh_next if carry else g[t]
        slope = {"h_t": 1 - h ** 2, "h_prev": 1 - h_prev ** 2, "none": 1.0,
                 "tanh_twice": 1 - np.tanh(h) ** 2}[deriv]
        da = dh * slope                                          # (B, H)
        grads["x"][t] = da @ W_ih
        step = {"W_ih": da.T @ x[t], "W_hh": da.T @ (h if dWhh_from == "h_t" else h_prev),
                "b_ih": da.sum(0), "b_hh": da.sum(0)}
        for k, v in step.items():
            grads[k] = grads[k] + v if accumulate else v
        dh_next = da @ (W_hh.T if Whh_back_T else W_hh)
    grads["h0"] = np.zeros_like(h0) if zero_dh0 else dh_next
    if zero_dbhh:
        grads["b_hh"] = np.zeros_like(b_hh)
    return {k: sign * grads[k] for k in KEYS}


def _variant(**switches: Any) -> Callable[..., dict]:
    def fn(x, h0, W_ih, W_hh, b_ih, b_hh, grad_output):
        return _bptt(x, h0, W_ih, W_hh, b_ih, b_hh, grad_output, **switches)
    return fn


MISTAKES = [
    Mistake("no gradient carried from later steps (truncated to one step)",
            "h_t feeds h_{t+1}, so the gradient reaching h_t is grad_output[t] PLUS the gradient "
            "sent back from step t+1 (dh_next = da_{t+1} @ W_hh); add it before the tanh "
            "derivative",
            _variant(carry=False)),
    Mistake("the tanh derivative missing", "h_t = tanh(a_t), so da_t = dh_t * (1 - h_t**2) "
            "before it flows into the weights, the input and h_{t-1}", _variant(deriv="none")),
    Mistake("the tanh derivative taken at h_{t-1}", "the slope belongs to the step's own output: "
            "tanh'(a_t) = 1 - h_t**2 with h_t = output[t], not 1 - h_{t-1}**2",
            _variant(deriv="h_prev")),
    Mistake("the tanh derivative applied to h_t twice (1 - tanh(h_t)**2)", "h_t is already "
            "tanh(a_t): the derivative is 1 - h_t**2, without another np.tanh",
            _variant(deriv="tanh_twice")),
    Mistake("dW_hh built from h_t instead of h_{t-1}", "W_hh multiplies the PREVIOUS state in "
            "a_t = ... + h_{t-1} W_hh^T, so dW_hh += da_t.T @ h_{t-1} (h0 for t = 0)",
            _variant(dWhh_from="h_t")),
    Mistake("the b_hh gradient missing (zeros)", "b_hh enters a_t exactly like b_ih, so its "
            "gradient is the same: da summed over time and batch", _variant(zero_dbhh=True)),
    Mistake("the sign flipped", "every gradient has the right size but the opposite sign: "
            "return dL/dtheta, not the descent direction -dL/dtheta", _variant(sign=-1.0)),
    Mistake("W_hh transposed when sending the gradient back to h_{t-1}", "a_t = ... + h_{t-1} "
            "W_hh^T, so dh_{t-1} = da_t @ W_hh (no .T)", _variant(Whh_back_T=True)),
    Mistake("the weight gradients overwritten instead of accumulated", "W_ih, W_hh and the "
            "biases are shared by every step: add each step's contribution (+=), do not replace it",
            _variant(accumulate=False)),
    Mistake("dh0 left at zero", "h0 feeds the first step, so dh0 = da_0 @ W_hh — the gradient "
            "sent back from t = 0", _variant(zero_dh0=True)),
]


SPEC = Spec(id="rnn_backward", title="backpropagation through time for the tanh RNN",
            notebook="02_vanishing_gradients", arg_names=ARGS, output=OUTPUT,
            make_cases=make_cases, reference=ref_rnn_backward, mistakes=MISTAKES,
            rtol=1e-4, atol=1e-5, points=4)
SPECS = [SPEC]


SPEC.diagnose = make_diagnose(
    SPEC.rtol, SPEC.atol,
    step_hint="(the tanh derivative or the products with W_ih), not in what flows back in time",
    carry_hint="the gradient carried back from later steps (dh_next = da @ W_hh) is where to look")
diagnose = SPEC.diagnose
