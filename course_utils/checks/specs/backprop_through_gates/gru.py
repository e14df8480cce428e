"""Spec ``gru_backward``: backpropagation through time for ``torch.nn.GRU`` (reset-after form).

Forward (notebook 04; gate blocks r, z, n; Cho et al. 2014 with PyTorch's reset-after candidate)::

    gi = x_t W_ih^T + b_ih ;  gh = h_{t-1} W_hh^T + b_hh            # (B, 3H) each
    r = sigmoid(gi_r + gh_r) ;  z = sigmoid(gi_z + gh_z)
    n = tanh(gi_n + r * gh_n)                                        # gh_n = W_hn h + b_hn
    h_t = (1 - z) * n + z * h_{t-1}                                  # output[t] = h_t

Backward of ``L = sum(output * grad_output)``::

    dh_t = grad_output[t] + (gradient sent back from step t+1)
    dn = dh_t (1 - z) ;  dz = dh_t (h_{t-1} - n) ;  da_n = dn (1 - n^2)
    da_r = da_n gh_n r(1-r) ;  da_z = dz z(1-z)
    dgi = [da_r, da_z, da_n] ;  dgh = [da_r, da_z, da_n * r]
    dx_t = dgi W_ih ; dW_ih += dgi^T x_t ; dW_hh += dgh^T h_{t-1} ; db_ih += sum dgi ;
    db_hh += sum dgh ;  dh_{t-1} = dh_t z + dgh W_hh

Reference: torch autograd through ``torch.nn.GRU`` in float64.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ....lib.measure import torch_threads
from ...backward import make_diagnose
from ...recurrent import sigmoid, torch_module
from ...spec import Mistake, Spec
from .common import backward_cases

ARGS = ("x", "h0", "W_ih", "W_hh", "b_ih", "b_hh", "grad_output")
KEYS = ("x", "h0", "W_ih", "W_hh", "b_ih", "b_hh")
OUTPUT = {k: "d" + k for k in KEYS}


def make_cases(seed: int):
    """GRU sequence cases (batch 3, 1, 2; all dimensions distinct) with ``grad_output``."""
    return backward_cases(seed, "gru")


def ref_gru_backward(x, h0, W_ih, W_hh, b_ih, b_hh, grad_output) -> dict[str, np.ndarray]:
    """Gradients of ``sum(output * grad_output)`` by autograd through torch.nn.GRU (float64)."""
    import torch

    gru = torch_module("gru", W_ih, W_hh, b_ih, b_hh, cell=False)
    xt, h0t = (torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in (x, h0))
    with torch_threads(1):                # tiny sizes: several threads only wait for each other
        out, _ = gru(xt, h0t[None])                           # (T, B, H)
        (out * torch.from_numpy(np.asarray(grad_output, dtype=np.float64))).sum().backward()
    return {"x": xt.grad.numpy(), "h0": h0t.grad.numpy(),
            "W_ih": gru.weight_ih_l0.grad.numpy(), "W_hh": gru.weight_hh_l0.grad.numpy(),
            "b_ih": gru.bias_ih_l0.grad.numpy(), "b_hh": gru.bias_hh_l0.grad.numpy()}


# --------------------------------------------------------------------------- mistakes
def _bptt(x, h0, W_ih, W_hh, b_ih, b_hh, g, *, z_sign: float = 1.0, reset_in_back: bool = True,
          dbhn_like_in: bool = False, direct: bool = True, reset_before: bool = False,
          carry_h: bool = True, tanh_n: bool = True) -> dict[str, np.ndarray]:
    """GRU BPTT with switches that reproduce the catalogued mistakes (defaults = correct)."""
    H = h0.shape[1]
    hs, cache = [h0], []
    for t in range(x.shape[0]):
        gi = x[t] @ W_ih.T + b_ih                                          # (B, 3H)
        gh = hs[-1] @ W_hh.T + b_hh                                        # (B, 3H)
        r = sigmoid(gi[:, :H] + gh[:, :H])
        z = sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
        n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
        hs.append((1 - z) * n + z * hs[-1])
        cache.append((r, z, n, gh[:, 2 * H:]))
    grads = {k: np.zeros_like(v) for k, v in
             (("x", x), ("W_ih", W_ih), ("W_hh", W_hh), ("b_ih", b_ih), ("b_hh", b_hh))}
    dh_next = np.zeros_like(h0)
    for t in reversed(range(x.shape[0])):
        r, z, n, gh_n = cache[t]
        h_prev = hs[t]
        dh = g[t] + dh_next if carry_h else g[t]
        da_n = dh * (1 - z) * ((1 - n ** 2) if tanh_n else 1.0)
        da_z = z_sign * dh * (h_prev - n) * z * (1 - z)
        if reset_before:                         # derivative of n = tanh(gi_n + W_hn (r h) + b_hn)
            d_rh = da_n @ W_hh[2 * H:]                                     # (B, H)
            da_r = d_rh * h_prev * r * (1 - r)
        else:
            da_r = da_n * gh_n * r * (1 - r)
        dgi = np.concatenate([da_r, da_z, da_n], axis=1)                   # (B, 3H)
        dgh_n = da_n * r if reset_in_back else da_n
        dgh = np.concatenate([da_r, da_z, dgh_n], axis=1)                  # (B, 3H)
        grads["x"][t] = dgi @ W_ih
        grads["W_ih"] += dgi.T @ x[t]
        grads["b_ih"] += dgi.sum(0)
        if reset_before:
            grads["W_hh"] += np.concatenate([dgh[:, :2 * H].T @ h_prev, da_n.T @ (r * h_prev)])
            grads["b_hh"] += np.concatenate([dgh[:, :2 * H].sum(0), da_n.sum(0)])
            dh_next = dgh[:, :2 * H] @ W_hh[:2 * H] + d_rh * r
        else:
            grads["W_hh"] += dgh.T @ h_prev
            grads["b_hh"] += (np.concatenate([dgh[:, :2 * H].sum(0), da_n.sum(0)])
                              if dbhn_like_in else dgh.sum(0))
            dh_next = dgh @ W_hh
        if direct:
            dh_next = dh_next + dh * z
    grads["h0"] = dh_next
    return {k: grads[k] for k in KEYS}


def _variant(**switches: Any) -> Callable[..., dict]:
    def fn(x, h0, W_ih, W_hh, b_ih, b_hh, grad_output):
        return _bptt(x, h0, W_ih, W_hh, b_ih, b_hh, grad_output, **switches)
    return fn


MISTAKES = [
    Mistake("the sign of (h - n) in dz flipped", "h_t = (1 - z) n + z h_{t-1} = n + z (h_{t-1} "
            "- n), so dz = dh_t * (h_{t-1} - n), not (n - h_{t-1})", _variant(z_sign=-1.0)),
    Mistake("the reset factor r forgotten on W_hn h + b_hn in the backward", "n = tanh(gi_n + "
            "r * (W_hn h + b_hn)): the gradient reaching W_hn h + b_hn is da_n * r, which then "
            "feeds dW_hh, db_hh and dh_{t-1}", _variant(reset_in_back=False)),
    Mistake("db_hn treated like db_in", "b_in sits outside the reset product and gets da_n, but "
            "b_hn sits inside it: db_hn = sum(da_n * r)", _variant(dbhn_like_in=True)),
    Mistake("the direct path z * dh to h_{t-1} missing", "h_t = (1 - z) n + z h_{t-1} uses "
            "h_{t-1} directly: add dh_t * z to the gradient sent back, besides dgh @ W_hh",
            _variant(direct=False)),
    Mistake("the reset-before derivative (Cho et al. 2014's n = tanh(W x + W_hn (r h) + b))",
            "torch.nn.GRU resets AFTER the product: n = tanh(gi_n + r * (W_hn h + b_hn)), so "
            "dr = da_n * (W_hn h + b_hn) and dW_hn += (da_n * r)^T h, not da_n^T (r h)",
            _variant(reset_before=True)),
    Mistake("tanh' of n missing", "n = tanh(...), so da_n = dh * (1 - z) * (1 - n**2)",
            _variant(tanh_n=False)),
    Mistake("dh from the next step not added", "h_t feeds step t+1, so the gradient reaching "
            "h_t is grad_output[t] PLUS what step t+1 sends back", _variant(carry_h=False)),
]

SPEC = Spec(id="gru_backward", title="backpropagation through time for the GRU (reset-after)",
            notebook="05_backprop_through_gates", arg_names=ARGS, output=OUTPUT,
            make_cases=make_cases, reference=ref_gru_backward, mistakes=MISTAKES,
            rtol=1e-4, atol=1e-5, points=4)
SPEC.diagnose = make_diagnose(
    SPEC.rtol, SPEC.atol,
    step_hint="(a gate derivative, the reset product, or the products with W_ih)",
    carry_hint="what is sent back to h_{t-1} (dh * z + dgh @ W_hh) is where to look")
