"""Spec ``lstm_backward``: backpropagation through time for ``torch.nn.LSTM`` (one layer).

Forward (notebook 03; gate blocks i, f, g, o)::

    a_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh              # (B, 4H)
    i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o);  g = tanh(a_g)
    c_t = f * c_{t-1} + i * g ;   h_t = o * tanh(c_t)            # output[t] = h_t

Backward of ``L = sum(output * grad_output)`` (Greff et al. 2017, "LSTM: A Search Space
Odyssey", IEEE TNNLS, appendix; CS231n assignment 3)::

    dh_t  = grad_output[t] + da_{t+1} W_hh                       # from the next step
    dc_t  = dc_{t+1} * f_{t+1}  +  dh_t * o_t * (1 - tanh(c_t)^2)  # carousel + output path
    da_i = dc_t g_t i(1-i);  da_f = dc_t c_{t-1} f(1-f);  da_g = dc_t i_t (1-g^2)
    da_o = dh_t tanh(c_t) o(1-o)
    dx_t = da_t W_ih;  dW_ih += da_t^T x_t;  dW_hh += da_t^T h_{t-1};  db = sum da_t

Reference: torch autograd through ``torch.nn.LSTM`` in float64.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ....lib.measure import torch_threads
from ...backward import make_diagnose
from ...recurrent import sigmoid, torch_module
from ...spec import Mistake, Spec
from .common import backward_cases

ARGS = ("x", "h0", "c0", "W_ih", "W_hh", "b_ih", "b_hh", "grad_output")
KEYS = ("x", "h0", "c0", "W_ih", "W_hh", "b_ih", "b_hh")
OUTPUT = {k: "d" + k for k in KEYS}


def make_cases(seed: int):
    """LSTM sequence cases (batch 3, 1, 2; all dimensions distinct) with ``grad_output``."""
    return backward_cases(seed, "lstm")


def ref_lstm_backward(x, h0, c0, W_ih, W_hh, b_ih, b_hh, grad_output) -> dict[str, np.ndarray]:
    """Gradients of ``sum(output * grad_output)`` by autograd through torch.nn.LSTM (float64)."""
    import torch

    lstm = torch_module("lstm", W_ih, W_hh, b_ih, b_hh, cell=False)
    xt, h0t, c0t = (torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)
                    for a in (x, h0, c0))
    with torch_threads(1):                # tiny sizes: several threads only wait for each other
        out, _ = lstm(xt, (h0t[None], c0t[None]))             # (T, B, H)
        (out * torch.from_numpy(np.asarray(grad_output, dtype=np.float64))).sum().backward()
    return {"x": xt.grad.numpy(), "h0": h0t.grad.numpy(), "c0": c0t.grad.numpy(),
            "W_ih": lstm.weight_ih_l0.grad.numpy(), "W_hh": lstm.weight_hh_l0.grad.numpy(),
            "b_ih": lstm.bias_ih_l0.grad.numpy(), "b_hh": lstm.bias_hh_l0.grad.numpy()}


# --------------------------------------------------------------------------- mistakes
def _bptt(x, h0, c0, W_ih, W_hh, b_ih, b_hh, g, *, out_path: bool = True,
          carry_c: bool = True, forget_with: str = "c_prev", order: str = "ifgo",
          sig_deriv: str = "s(1-s)", tanh_c: bool = True, carry_h: bool = True,
          dWhh_from: str = "h_prev") -> dict[str, np.ndarray]:
    """LSTM BPTT with switches that reproduce the catalogued mistakes (defaults = correct)."""
    H = h0.shape[1]
    hs, cs, gates = [h0], [c0], []
    for t in range(x.shape[0]):
        a = x[t] @ W_ih.T + b_ih + hs[-1] @ W_hh.T + b_hh                  # (B, 4H)
        i, f, gg, o = (sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]),
                       sigmoid(a[:, 3 * H:]))
        cs.append(f * cs[-1] + i * gg)
        hs.append(o * np.tanh(cs[-1]))
        gates.append((i, f, gg, o))
    grads = {k: np.zeros_like(v) for k, v in
             (("x", x), ("W_ih", W_ih), ("W_hh", W_hh), ("b_ih", b_ih), ("b_hh", b_hh))}
    dh_next, dc_next = np.zeros_like(h0), np.zeros_like(c0)                # (B, H)
    slope = (lambda s: s * (1 - s)) if sig_deriv == "s(1-s)" else (lambda s: s)
    for t in reversed(range(x.shape[0])):
        i, f, gg, o = gates[t]
        c, c_prev = cs[t + 1], cs[t]
        tc = np.tanh(c)
        dh = g[t] + dh_next if carry_h else g[t]
        dc = dc_next if carry_c else np.zeros_like(c)
        if out_path:
            dc = dc + dh * o * ((1 - tc ** 2) if tanh_c else 1.0)
        c_for_f = c_prev if forget_with == "c_prev" else c
        da = {"i": dc * gg * slope(i), "f": dc * c_for_f * slope(f),
              "g": dc * i * (1 - gg ** 2), "o": dh * tc * slope(o)}
        da = np.concatenate([da[k] for k in order], axis=1)                # (B, 4H)
        grads["x"][t] = da @ W_ih
        grads["W_ih"] += da.T @ x[t]
        grads["W_hh"] += da.T @ (hs[t] if dWhh_from == "h_prev" else hs[t + 1])
        grads["b_ih"] += da.sum(0)
        grads["b_hh"] += da.sum(0)
        dh_next, dc_next = da @ W_hh, dc * f
    grads["h0"], grads["c0"] = dh_next, dc_next
    return {k: grads[k] for k in KEYS}


def _variant(**switches: Any) -> Callable[..., dict]:
    def fn(x, h0, c0, W_ih, W_hh, b_ih, b_hh, grad_output):
        return _bptt(x, h0, c0, W_ih, W_hh, b_ih, b_hh, grad_output, **switches)
    return fn


MISTAKES = [
    Mistake("the carousel cut (dc_next * f not carried)", "c_t feeds c_{t+1} = f_{t+1} * c_t + "
            "..., so the gradient reaching c_t is dc_{t+1} * f_{t+1} PLUS the part from h_t; "
            "carry dc_prev = dc * f to the previous step and add it", _variant(carry_c=False)),
    Mistake("the output path o * tanh'(c) missing from dc", "h_t = o_t * tanh(c_t), so dc_t "
            "also receives dh_t * o_t * (1 - tanh(c_t)**2), not only what the next step carries",
            _variant(out_path=False)),
    Mistake("the forget-gate gradient taken with c_t instead of c_{t-1}", "c_t = f_t * c_{t-1} "
            "+ ..., so df_t = dc_t * c_{t-1}: the PREVIOUS cell state (c0 at t = 0)",
            _variant(forget_with="c_t")),
    Mistake("the gate blocks in the wrong order (i, f, o, g) in da", "the rows of W_ih, W_hh "
            "and the biases are in torch's order i, f, g, o: stack da_i, da_f, da_g, da_o in "
            "that order before the products with W and x", _variant(order="ifog")),
    Mistake("sigmoid' written as s instead of s * (1 - s)", "for a gate s = sigmoid(a), "
            "ds/da = s * (1 - s): multiply the gate's gradient by that, not by s",
            _variant(sig_deriv="s")),
    Mistake("tanh'(c_t) missing on the output path", "h_t = o_t * tanh(c_t), so the part of "
            "dc_t from h_t is dh_t * o_t * (1 - tanh(c_t)**2), not dh_t * o_t",
            _variant(tanh_c=False)),
    Mistake("dh from the next step not added", "h_t feeds the gates of step t+1, so the "
            "gradient reaching h_t is grad_output[t] PLUS da_{t+1} @ W_hh",
            _variant(carry_h=False)),
    Mistake("dW_hh built from h_t instead of h_{t-1}", "W_hh multiplies the PREVIOUS state in "
            "a_t = ... + h_{t-1} W_hh^T, so dW_hh += da_t.T @ h_{t-1} (h0 for t = 0)",
            _variant(dWhh_from="h_t")),
]

SPEC = Spec(id="lstm_backward", title="backpropagation through time for the LSTM",
            notebook="05_backprop_through_gates", arg_names=ARGS, output=OUTPUT,
            make_cases=make_cases, reference=ref_lstm_backward, mistakes=MISTAKES,
            rtol=1e-4, atol=1e-5, points=4)
SPEC.diagnose = make_diagnose(
    SPEC.rtol, SPEC.atol,
    step_hint="(a gate derivative, the products with W_ih, or the order of the gate blocks)",
    carry_hint="what is carried back in time (dh_next = da @ W_hh and dc_next = dc * f) is "
               "where to look")
