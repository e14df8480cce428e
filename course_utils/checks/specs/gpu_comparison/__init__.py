"""Spec of notebook gpu_comparison: ``lstm_forward_hoisted``, a *peephole* LSTM in PyTorch with
the input GEMM hoisted out of the time loop.

    xw = x W_ih^T + b_ih + b_hh (all steps at once)          # (T, B, 4H), blocks i, f, g, o
    for t: a = xw[t] + h_{t-1} W_hh^T                          # (B, 4H): one GEMM per step
           i = σ(a_i + p_i ⊙ c_{t-1});  f = σ(a_f + p_f ⊙ c_{t-1});  g = tanh(a_g)
           c_t = f ⊙ c_{t-1} + i ⊙ g;  o = σ(a_o + p_o ⊙ c_t);  h_t = o ⊙ tanh(c_t)

Peepholes: Gers, Schraudolph & Schmidhuber (2002), "Learning precise timing with LSTM recurrent
networks", JMLR 3; the form of Graves (2013), arXiv:1308.0850, eqs. 7-11. Hoisting: Appleyard,
Kociský & Blunsom (2016), arXiv:1604.01946, section 3.1.

Why a variant (issue 26): ``torch.nn.LSTM`` has no switch for peepholes and the cases' peephole
weights are never zero, so a fused library call gives the wrong answer and the grader needs no
rule inside the learner's process. *How* the learner computes (the input GEMM hoisted, staying in
PyTorch so gradients flow, no tensor pinned to the CPU, no fused kernel) is checked by
:mod:`.probe` in the notebook only, as a hint. Inputs and outputs are torch
tensors; cases are float64 and float32 CPU tensors; the output must keep the input's dtype.
"""

from __future__ import annotations

from typing import Any

from ...recurrent import DIMS, random_params, rng_for
from ...spec import Case, Mistake, Spec
from .probe import FUSED_RNN, probe_hoisted
from .profile import SPEC as TIME_SHARES

__all__ = ["ARGS", "FUSED_RNN", "SPECS", "make_cases", "ref_lstm_forward_hoisted"]

ARGS = ("x", "h0", "c0", "W_ih", "W_hh", "b_ih", "b_hh", "p_i", "p_f", "p_o")
FLOAT32_DIMS = (5, 4, 3, 6)  # (T, B, I, H) of the float32 case: all distinct, batch 4


def _peepholes(rng: Any, H: int) -> tuple[Any, ...]:
    """p_i, p_f, p_o (H,): no entry near 0, so every peephole shows in the output."""
    import numpy as np

    return tuple(rng.choice([-1.0, 1.0], H) * (0.3 + np.abs(rng.normal(0.0, 0.6, H)))
                 for _ in range(3))


def make_cases(seed: int) -> list[Case]:
    """Three float64 cases (all of T, B, I, H distinct; B = 3, 1, 2) and one float32 case
    (B = 4): non-zero h0, c0 and peepholes, unequal biases."""
    import torch

    cases = []
    for i, (T, B, I, H) in enumerate((*DIMS, FLOAT32_DIMS)):
        rng = rng_for(seed, 300 + i)
        arrays = (rng.normal(size=(T, B, I)), rng.normal(0.0, 0.8, (B, H)),
                  rng.normal(0.0, 1.2, (B, H)), *random_params(rng, 4, I, H), *_peepholes(rng, H))
        dtype = torch.float32 if i == len(DIMS) else torch.float64
        label = f"T={T}, B={B}, I={I}, H={H}" + (", float32" if dtype == torch.float32 else "")
        cases.append(Case(label, tuple(torch.from_numpy(a.copy()).to(dtype) for a in arrays),
                          dims={"T": T, "B": B, "I": I, "H": H}))
    return cases


def _peephole_loop(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o, *, order="ifgo",
                   carry_h=True, carry_c=True, layout="blocked", flatten="time-major",
                   fold_bhh=True, loop_bhh=False, tanh_c=True, zero_start=False, peep="right",
                   cand="tanh", out="h") -> tuple[Any, tuple[Any, Any]]:
    """The peephole LSTM in torch ops, with switches: defaults compute it right, each switch is
    one known mistake. Computes in the inputs' dtype."""
    import torch

    T, B, I = x.shape
    H = W_hh.shape[1]
    x2d = x.reshape(T * B, I) if flatten == "time-major" else x.transpose(0, 1).reshape(B * T, I)
    xw = (x2d @ W_ih.T + b_ih + (b_hh if fold_bhh else 0)).reshape(T, B, 4 * H)
    if zero_start:
        h0, c0 = h0 * 0, c0 * 0
    if peep == "none":
        p_i, p_f, p_o = p_i * 0, p_f * 0, p_o * 0
    elif peep == "swap_if":
        p_i, p_f = p_f, p_i
    elif peep == "no_o":
        p_o = p_o * 0
    h, c, outs = h0, c0, []
    for t in range(T):
        a = xw[t] + (h if carry_h else h0) @ W_hh.T + (b_hh if loop_bhh else 0)  # (B, 4H)
        if layout == "blocked":
            parts = dict(zip(order, a.chunk(4, dim=1)))
        else:  # read as (B, H, 4): interleaved columns
            parts = dict(zip(order, a.reshape(B, H, 4).unbind(dim=2)))
        c_prev = c if carry_c else c0
        g = torch.tanh(parts["g"]) if cand == "tanh" else torch.sigmoid(parts["g"])
        if peep == "after_sigmoid":
            i = torch.sigmoid(parts["i"]) + p_i * c_prev
            f = torch.sigmoid(parts["f"]) + p_f * c_prev
        else:
            i = torch.sigmoid(parts["i"] + p_i * c_prev)
            f = torch.sigmoid(parts["f"] + p_f * c_prev)
        c = f * c_prev + i * g
        if peep == "after_sigmoid":
            o = torch.sigmoid(parts["o"]) + p_o * c
        else:
            o = torch.sigmoid(parts["o"] + p_o * (c_prev if peep == "old_c" else c))
        h_prev, h = h, o * (torch.tanh(c) if tanh_c else c)
        outs.append({"h": h, "c": c, "late": h_prev}[out])
    return torch.stack(outs), (h, c)


def ref_lstm_forward_hoisted(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
    """The peephole LSTM in float64 torch ops; returns tensors of the inputs' dtype and device
    (the notebook's fallback when the learner's function does not pass yet)."""
    import torch

    args = [a.to(torch.float64) for a in (x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o)]
    out, (h, c) = _peephole_loop(*args)  # differentiable, like the learner's must be
    return out.to(x.dtype), (h.to(x.dtype), c.to(x.dtype))


# --------------------------------------------------------------------------- the stated types
def _dtype_name(value: Any) -> str | None:
    dtype = getattr(value, "dtype", None)
    return None if dtype is None else "torch." + str(dtype).replace("torch.", "")


def check_dtypes(case: Case, value: Any) -> tuple[str, str] | None:
    """The outputs keep the input's dtype (the notebook says so); checked on the value as
    returned, so the notebook checker and the grader agree."""
    if not isinstance(value, (tuple, list)) or len(value) != 2 \
            or not isinstance(value[1], (tuple, list)) or len(value[1]) != 2:
        return None  # the structure check says what is wrong
    want = _dtype_name(case.args[0])
    leaves = {"output": value[0], "h_n": value[1][0], "c_n": value[1][1]}
    wrong = {n: d for n, v in leaves.items() if (d := _dtype_name(v)) and d != want
             and d in ("torch.float32", "torch.float64", "torch.float16", "torch.bfloat16")}
    if not wrong:
        return None
    names = ", ".join(f"`{n}`" for n in wrong)
    got = sorted(set(wrong.values()))
    text = (f"{names} {'is' if len(wrong) == 1 else 'are'} {' / '.join(got)} for {want} inputs: "
            f"return the input's dtype (x.dtype), so the same function serves float32 on a GPU and "
            f"float64 in a check")
    if want == "torch.float64" and got == ["torch.float32"]:
        return (f"looks like float32 returned for float64 inputs: {text} (a .float() that is "
                "never undone, or a buffer made as float32?)", "float32 returned for float64 inputs")
    return (f"looks like the output's dtype fixed instead of following the input: {text} (a "
            "buffer made with a fixed dtype= or a .double()?)",
            "the output's dtype fixed instead of following the input")


# --------------------------------------------------------------------------- mistakes
def _variant(**switches: Any):
    def fn(*args):
        return _peephole_loop(*args, **switches)
    return fn


def _swapped_state(*args):
    out, (h, c) = _peephole_loop(*args)
    return out, (c, h)


def _no_b_ih(x, h0, c0, W_ih, W_hh, b_ih, b_hh, *peep):
    return _peephole_loop(x, h0, c0, W_ih, W_hh, b_ih * 0, b_hh, *peep)


def _no_biases(x, h0, c0, W_ih, W_hh, b_ih, b_hh, *peep):
    return _peephole_loop(x, h0, c0, W_ih, W_hh, b_ih * 0, b_hh, *peep, fold_bhh=False)


PEEP = "the peephole form: i = σ(a_i + p_i ⊙ c_{t-1}), f = σ(a_f + p_f ⊙ c_{t-1}), "
MISTAKES = [
    Mistake("no peepholes (a plain LSTM, as torch.nn.LSTM computes)",
            "this LSTM's gates also look at the cell state: " + PEEP + "o = σ(a_o + p_o ⊙ c_t); "
            "torch.nn.LSTM has no switch for that, so write the step yourself",
            _variant(peep="none")),
    Mistake("the output gate peeps at c_{t-1}", "i and f look at the previous cell state, but o "
            "looks at the *new* one: compute c_t first, then o = σ(a_o + p_o ⊙ c_t)",
            _variant(peep="old_c")),
    Mistake("the output gate's peephole missing", "o = σ(a_o + p_o ⊙ c_t) has a peephole too "
            "(p_o, on the new cell state)", _variant(peep="no_o")),
    Mistake("p_i and p_f swapped", "p_i belongs to the input gate i, p_f to the forget gate f",
            _variant(peep="swap_if")),
    Mistake("the peephole added after the sigmoid", "the peephole term goes inside the gate's "
            "sigmoid, with the pre-activation: σ(a_i + p_i ⊙ c_{t-1}), not σ(a_i) + p_i ⊙ c_{t-1}",
            _variant(peep="after_sigmoid")),
    Mistake("h0 used at every step (the recurrence hoisted too)",
            "only x_t W_ih^T can be computed for all steps before the loop; h_{t-1} W_hh^T needs "
            "the state of the previous step, so that GEMM stays inside the loop",
            _variant(carry_h=False)),
    Mistake("the cell state not carried", "c_t = f ⊙ c_{t-1} + i ⊙ g (and the peepholes) use the "
            "c of the previous step, not c0: update c inside the loop", _variant(carry_c=False)),
    Mistake("starting from zeros instead of the given h0 and c0", "the loop starts from the "
            "initial state passed in (h, c = h0, c0), not from zeros", _variant(zero_start=True)),
    Mistake("gates in the order i, f, o, g", "the rows of W_ih, W_hh and the biases are stacked "
            "i, f, g, o (input, forget, cell candidate, output), as in torch.nn.LSTM",
            _variant(order="ifog")),
    Mistake("gates in the order f, i, g, o", "the rows are stacked i, f, g, o",
            _variant(order="figo")),
    Mistake("the gates interleaved instead of blocked", "the 4H columns are four blocks of H "
            "(all of i, then all of f ...), not H groups of four", _variant(layout="interleaved")),
    Mistake("time and batch mixed up when flattening x", "x is (T, B, I): flattening time-major "
            "keeps each step's B rows together, so the result reshapes back to (T, B, 4H); "
            "flattening batch-major scrambles which input belongs to which step",
            _variant(flatten="batch-major")),
    Mistake("a missing bias b_hh", "PyTorch's layout keeps two bias vectors: add b_ih and b_hh "
            "(both are constant in time, so both fit in the hoisted part)",
            _variant(fold_bhh=False)),
    Mistake("a missing bias b_ih", "add both biases, b_ih and b_hh", _no_b_ih),
    Mistake("b_hh added twice", "b_hh is already in the hoisted part; adding it again inside the "
            "loop counts it twice", _variant(loop_bhh=True)),
    Mistake("both biases missing", "add b_ih and b_hh (both fit in the hoisted part)", _no_biases),
    Mistake("σ instead of tanh for the candidate g", "the candidate is g = tanh(a_g), in (-1, 1); "
            "only the gates i, f, o use σ", _variant(cand="sigmoid")),
    Mistake("tanh(c_t) missing in h_t", "h_t = o ⊙ tanh(c_t), not o ⊙ c_t",
            _variant(tanh_c=False)),
    Mistake("the cell states returned as output", "output stacks the hidden states h_1 ... h_T "
            "(like torch.nn.LSTM); the cell states stay inside, except c_n", _variant(out="c")),
    Mistake("output one step late (h_{t-1} stored)", "output[t] is h_t, the state *after* step t: "
            "store h after updating it (output[0] is h_1, not h0)", _variant(out="late")),
    Mistake("h_n and c_n swapped", "return (output, (h_n, c_n)) in that order, like torch.nn.LSTM",
            _swapped_state),
]

SPECS = [
    Spec(id="lstm_forward_hoisted",
         title="peephole LSTM forward in PyTorch with the input GEMM hoisted",
         notebook="11_gpu_comparison", arg_names=ARGS, output=("output", ("h_n", "c_n")),
         make_cases=make_cases, reference=ref_lstm_forward_hoisted, mistakes=MISTAKES,
         time_axis={"output": 0}, initial_state=("h0", "c0"), points=3,
         sandbox_modules=("torch",), check_types=check_dtypes, probe=probe_hoisted),
    TIME_SHARES,
]
