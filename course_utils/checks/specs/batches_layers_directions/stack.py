"""Spec of ``lstm_stack_forward``: a multi-layer, optionally bidirectional LSTM (``nn.LSTM``).

Signature and layouts (PyTorch's, see the ``torch.nn.LSTM`` documentation)::

    lstm_stack_forward(x, h0, c0, params, num_layers, bidirectional) -> (output, (h_n, c_n))
    x       (T, B, I)                 time-major
    h0, c0  (num_layers * D, B, H)    D = 2 if bidirectional else 1; slot k * D + d holds
                                      layer k, direction d (0 forward, 1 reverse): layer-major
    params  list of num_layers * D tuples (W_ih, W_hh, b_ih, b_hh) in the same order, i.e. the
            order of nn.LSTM's weight_ih_l{k}{_reverse}; W_ih is (4H, I) in layer 0 and
            (4H, D * H) above it (an upper layer reads both halves of the layer below)
    output  (T, B, D * H)             the last layer's states, forward half then reverse half,
                                      both aligned with the input time t
    h_n, c_n (num_layers * D, B, H)   final states, same slot order as h0; the reverse
                                      direction ends at t = 0

Deep RNNs: Graves, Mohamed & Hinton (2013), "Speech recognition with deep recurrent neural
networks"; bidirectional RNNs: Schuster & Paliwal (1997), "Bidirectional recurrent neural
networks", IEEE Trans. Signal Processing 45(11).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ...properties import aliased_steps, both_orders, state_mistake
from ...recurrent import random_params, rng_for, sigmoid, unroll
from ...spec import Case, Mistake, Spec
from ..lstm import CELL_MISTAKES, SEQ_MISTAKES

ARGS = ("x", "h0", "c0", "params", "num_layers", "bidirectional")
RTOL, ATOL = 1e-4, 1e-5
DIRECTIONS = ("forward", "reverse")

# (num_layers, bidirectional, T, B, I, H): T, B, I, H distinct, and num_layers * D differs from
# B and H, so a swapped axis cannot hide; batch 1 and batch > 1; every (layers, direction) kind.
CONFIGS: tuple[tuple[int, bool, int, int, int, int], ...] = (
    (1, True, 6, 3, 5, 4), (2, True, 5, 1, 3, 7), (3, False, 7, 2, 4, 5),
    (3, True, 4, 2, 7, 5), (2, False, 6, 4, 3, 5))


def make_cases(seed: int, group: str = "public") -> list[Case]:
    """Inputs for every configuration; weights large enough that nonlinearities matter."""
    cases = []
    for n, (L, bi, T, B, I, H) in enumerate(CONFIGS):
        rng = rng_for(seed, 600 + n)
        D = 2 if bi else 1
        x = rng.normal(size=(T, B, I))
        h0 = rng.normal(0.0, 0.8, size=(L * D, B, H))
        c0 = rng.normal(size=(L * D, B, H))
        params = [random_params(rng, 4, I if k == 0 else D * H, H)
                  for k in range(L) for _ in range(D)]
        label = f"num_layers={L}, bidirectional={bi}, T={T}, B={B}, I={I}, H={H}"
        cases.append(Case(label, (x, h0, c0, params, L, bi), group=group,
                          dims={"T": T, "B": B, "I": I, "H": H}))
    return cases


def ref_lstm_stack_forward(x: np.ndarray, h0: np.ndarray, c0: np.ndarray, params: Any,
                           num_layers: int, bidirectional: bool) -> Any:
    """``torch.nn.LSTM(I, H, num_layers, bidirectional=...)`` in float64 with ``params`` copied
    into ``weight_ih_l{k}{_reverse}`` etc.; returns ``(output, (h_n, c_n))`` as numpy."""
    import torch

    D = 2 if bidirectional else 1
    lstm = torch.nn.LSTM(x.shape[2], h0.shape[2], num_layers=num_layers,
                         bidirectional=bool(bidirectional)).double()
    with torch.no_grad():
        for k in range(num_layers):
            for d in range(D):
                suffix = f"_l{k}" + ("_reverse" if d else "")
                for name, value in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"),
                                       params[k * D + d]):
                    getattr(lstm, name + suffix).copy_(torch.as_tensor(np.asarray(value)))
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # tiny problems: more threads only spin (100x slower if loaded)
        try:
            out, (h_n, c_n) = lstm(torch.from_numpy(np.asarray(x, dtype=np.float64)),
                                   (torch.from_numpy(np.asarray(h0, dtype=np.float64)),
                                    torch.from_numpy(np.asarray(c0, dtype=np.float64))))
        finally:
            torch.set_num_threads(threads)
    return out.numpy(), (h_n.numpy(), c_n.numpy())


# --------------------------------------------------------------------------- mistakes
def _layer(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    """A correct one-direction LSTM (notebook 03): (T, B, H) outputs and the final (h, c)."""
    h, c, outs = h0, c0, []
    for x_t in x:
        i, f, g, o = np.split(x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh, 4, axis=1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        outs.append(h)
    return np.stack(outs), (h, c)


def _stack(run: Callable = _layer, flip_back: bool = True, reverse_first: bool = False,
           forward_half_only: bool = False, states_direction_major: bool = False,
           hn_direction_major: bool = False, reverse_from_forward: bool = False,
           reverse_not_reversed: bool = False, reverse_hn_at_end: bool = False,
           same_initial_state: bool = False, forward_weights_both: bool = False,
           output_from_first: bool = False, slot_k_plus_d: bool = False) -> Callable[..., Any]:
    """A stacked / bidirectional LSTM with deliberate deviations from nn.LSTM (flags)."""
    def stack(x, h0, c0, params, num_layers, bidirectional):
        D, L = (2 if bidirectional else 1), num_layers

        def slot(k: int, d: int, direction_major: bool) -> int:
            return d * L + k if direction_major else k * D + d

        inp, first, hs, cs = x, None, [None] * (L * D), [None] * (L * D)
        for k in range(L):
            halves, fwd_final = [], None
            for d in range(D):
                i0 = 0 if same_initial_state else slot(k, d, states_direction_major)
                i0 = k + d if slot_k_plus_d else i0
                h_init, c_init = h0[i0], c0[i0]
                if d == 1 and reverse_from_forward:
                    h_init, c_init = fwd_final
                p = params[k * D] if (d == 1 and forward_weights_both) else params[k * D + d]
                backwards = d == 1 and not reverse_not_reversed
                out, (h, c) = run(inp[::-1] if backwards else inp, h_init, c_init, *p)
                if backwards and flip_back:
                    out = out[::-1]
                if d == 1 and reverse_hn_at_end:
                    h = out[-1]
                fwd_final = (h, c)
                j = slot(k, d, states_direction_major or hn_direction_major)
                hs[j], cs[j] = h, c
                halves.append(out)
            out_k = np.concatenate(halves[::-1] if reverse_first else halves, axis=2)
            first = out_k if first is None else first
            inp = out_k
            if forward_half_only and D == 2:
                inp = np.concatenate([halves[0], np.zeros_like(halves[1])], axis=2)
        return (first if output_from_first else out_k), (np.stack(hs), np.stack(cs))
    return stack


LAYOUT_MISTAKES = [
    Mistake("the reverse direction's output not flipped back in time",
            "the reverse direction reads x[T-1], ..., x[0]; flip its outputs back (out[::-1]) so "
            "that output[t] holds both directions' states for the same input x[t]",
            _stack(flip_back=False)),
    Mistake("the forward and reverse halves concatenated in the wrong order",
            "output[..., :H] is the forward direction and output[..., H:] the reverse one "
            "(np.concatenate([forward, reverse], axis=2))", _stack(reverse_first=True)),
    Mistake("upper layers fed only the forward half",
            "layer k > 0 reads the whole output of the layer below, both halves: its W_ih has "
            "D * H columns", _stack(forward_half_only=True)),
    Mistake("h0 and h_n ordered direction-major",
            "PyTorch orders the state slots layer-major: slot k * D + d is layer k, direction d "
            "(l0, l0_reverse, l1, l1_reverse, ...), for h0/c0 and for h_n/c_n",
            _stack(states_direction_major=True)),
    Mistake("h_n ordered direction-major",
            "h_n/c_n use the same layer-major slots as h0: slot k * D + d is layer k, "
            "direction d (l0, l0_reverse, l1, l1_reverse, ...)", _stack(hn_direction_major=True)),
    Mistake("the reverse pass starting from the forward pass's final state",
            "both directions start from their own initial state: h0[k * D + 1], c0[k * D + 1] "
            "for layer k's reverse direction", _stack(reverse_from_forward=True)),
    Mistake("the reverse direction not reversed (it reads x forwards)",
            "the reverse direction runs over x[::-1] (from t = T-1 down to 0), with its own "
            "weights", _stack(reverse_not_reversed=True)),
    Mistake("the reverse direction's h_n taken at t = T-1 (output[-1])",
            "the reverse direction *ends* at t = 0: its h_n is output[0, :, H:], the state after "
            "it has read x[T-1], ..., x[0]", _stack(reverse_hn_at_end=True)),
    Mistake("the same initial state h0[0], c0[0] for every layer and direction",
            "each layer and direction starts from its own slot: h0[k * D + d], c0[k * D + d]",
            _stack(same_initial_state=True)),
    Mistake("the forward weights used for the reverse direction too",
            "each direction has its own weights: params[k * D + 1] (weight_ih_l{k}_reverse ...) "
            "for layer k's reverse direction", _stack(forward_weights_both=True)),
    Mistake("the initial state read from slot k + d instead of k * D + d",
            "with two directions, layer k's slots are k * D + d (2k and 2k + 1): h0[k + d] makes "
            "layer 1's forward direction start from layer 0's reverse state",
            _stack(slot_k_plus_d=True)),
    Mistake("output taken from the first layer",
            "output holds the *last* layer's states; h_n/c_n hold every layer's final states",
            _stack(output_from_first=True)),
]

STACK_MISTAKES = LAYOUT_MISTAKES + [
    Mistake(f"{m.name} (in every layer and direction)", m.explain, _stack(run=m.fn))
    for m in SEQ_MISTAKES[:10]
] + [
    Mistake(f"{m.name} (inside the time step)", both_orders(m),
            _stack(run=unroll(m.fn, lstm=True))) for m in CELL_MISTAKES
]


# --------------------------------------------------------------------------- where it goes wrong
def _steps(bad: np.ndarray) -> str:
    t = np.nonzero(bad.reshape(bad.shape[0], -1).any(axis=1))[0]
    return f"t={t[0]}" if t[0] == t[-1] else f"t={t[0]}..{t[-1]}"


def _slots(bad: list[int], D: int) -> str:
    return ", ".join(f"[{j}] (layer {j // D}, {DIRECTIONS[j % D]})" for j in bad)


def diagnose(got: dict[str, Any], exp: dict[str, Any], brief: bool) -> str | None:
    """Which half of ``output`` (and which time steps), which slots of h_n / c_n are wrong."""
    H = exp["h_n"].shape[2]
    D = exp["output"].shape[2] // H
    L = exp["h_n"].shape[0] // D
    where = []
    for d in range(D):
        cols = slice(d * H, (d + 1) * H)
        bad = ~np.isclose(got["output"][..., cols], exp["output"][..., cols], RTOL, ATOL)
        if bad.any():
            half = f"output[:, :, {d * H}:{(d + 1) * H}]" if D == 2 else "output"
            where.append(f"the {DIRECTIONS[d]} half {half} at {_steps(bad)}" if D == 2
                         else f"{half} at {_steps(bad)}")
    bad = {leaf: [j for j in range(L * D)
                  if not np.allclose(got[leaf][j], exp[leaf][j], RTOL, ATOL)]
           for leaf in ("h_n", "c_n")}
    if bad["h_n"] and bad["h_n"] == bad["c_n"]:
        where.append("h_n and c_n at " + _slots(bad["h_n"], D))
    else:
        where += [f"{leaf} at " + _slots(js, D) for leaf, js in bad.items() if js]
    if not where:
        return None
    text = "wrong: " + "; ".join(where)
    wrong_layers = {j // D for js in bad.values() for j in js}
    if not brief and L > 1 and wrong_layers and 0 not in wrong_layers:
        text += " — layer 0 is right: look at what the upper layers receive"
    return text


def recognise(got: dict[str, Any], exp: dict[str, Any], x, h0, c0, params, num_layers,
              bidirectional) -> tuple[str, str] | None:
    """Aliased buffers, swapped or never-updated states and stacking along the wrong axis, from
    the shapes and values of the learner's output alone."""
    out, h_n, c_n = got["output"], got["h_n"], got["c_n"]
    e_out, e_h, e_c = exp["output"], exp["h_n"], exp["c_n"]
    T, B, DH = e_out.shape
    LD, _, H = e_h.shape
    D = DH // H
    if out.shape == (D * T, B, H) and D == 2 and np.allclose(out[:T], e_out[..., :H], RTOL, ATOL):
        return ("the halves concatenated along the time axis", f"output has shape {out.shape}: "
                "the two directions' outputs were concatenated along axis 0 (time); concatenate "
                "them along the last axis, np.concatenate([forward, reverse], axis=-1) -> "
                f"(T, B, D * H) = {e_out.shape}")
    for name, g, e in (("h_n", h_n, e_h), ("c_n", c_n, e_c)):
        if g.shape == (B, LD, H) and g.shape != e.shape and np.allclose(
                g.transpose(1, 0, 2), e, RTOL, ATOL):
            return (f"{name} stacked along axis 1", f"{name} has shape {g.shape}, the slots "
                    f"along axis 1: stack the final states along axis 0, np.stack(states) -> "
                    f"(num_layers * D, B, H) = {e.shape}")
    if out.shape == e_out.shape:
        text = aliased_steps(out, e_out)
        if text:
            return "the same buffer at every step (aliasing)", text
    return state_mistake(h_n, c_n, c0, e_h, e_c)


STACK_SPEC = Spec(
    id="lstm_stack_forward", title="a stacked, bidirectional LSTM (nn.LSTM's layouts)",
    notebook="06_batches_layers_directions", arg_names=ARGS,
    output=("output", ("h_n", "c_n")), make_cases=make_cases, reference=ref_lstm_stack_forward,
    mistakes=STACK_MISTAKES, points=3, rtol=RTOL, atol=ATOL, time_axis={"output": 0},
    initial_state=("h0", "c0"),
    diagnose=diagnose, recognise=recognise)
