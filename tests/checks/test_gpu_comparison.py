"""check_lstm_forward_hoisted (notebook gpu_comparison): a hoisted *peephole* LSTM in PyTorch.

Correct implementations in several styles pass; realistic mistakes — written here as a learner
would, before and independently of the spec's catalogue — fail, most of them named. The
notebook-only probe (input-side GEMMs counted, gradients flowing, another device) names the
violations of the exercise's point that right values cannot show.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_utils.checks import check_lstm_forward_hoisted, get_spec, yours_or_reference


# --------------------------------------------------------------------------- correct answers
def hoisted_addmm(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
    T, B, I = x.shape
    H = h0.shape[1]
    xw = torch.addmm(b_ih + b_hh, x.reshape(T * B, I), W_ih.t()).view(T, B, 4 * H)
    h, c, out = h0, c0, []
    for t in range(T):
        i, f, g, o = torch.addmm(xw[t], h, W_hh.t()).chunk(4, dim=1)
        c = torch.sigmoid(f + p_f * c) * c + torch.sigmoid(i + p_i * c) * torch.tanh(g)
        h = torch.sigmoid(o + p_o * c) * torch.tanh(c)
        out.append(h)
    return torch.stack(out), (h, c)


def hoisted_float32_einsum_preallocated(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
    """Computes in float32 whatever comes in, then hands back the input's dtype; einsum for
    the hoisted GEMM, slices instead of chunk, an output buffer made with new_empty."""
    dt = x.dtype
    x, h, c = x.float(), h0.float(), c0.float()
    W_ih, W_hh, bias = W_ih.float(), W_hh.float(), (b_ih + b_hh).float()
    pi, pf, po = p_i.float(), p_f.float(), p_o.float()
    H = h.shape[1]
    pre = torch.einsum("tbi,gi->tbg", x, W_ih) + bias  # (T, B, 4H)
    output = x.new_empty(x.shape[0], x.shape[1], H)
    for t in range(x.shape[0]):
        z = pre[t] + h @ W_hh.T
        i = torch.sigmoid(z[:, :H] + pi * c)
        f = torch.sigmoid(z[:, H:2 * H] + pf * c)
        g = torch.tanh(z[:, 2 * H:3 * H])
        c = f * c + i * g
        o = torch.sigmoid(z[:, 3 * H:] + po * c)
        h = o * torch.tanh(c)
        output[t] = h
    return output.to(dt), (h.to(dt), c.to(dt))


def hoisted_functional_linear(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
    xw = F.linear(x, W_ih, b_ih)  # (T, B, 4H): linear handles the leading dims
    h, c, hs = h0, c0, []
    peep = torch.stack([p_i, p_f])  # (2, H)
    for x_part in xw.unbind(0):
        gates = x_part + F.linear(h, W_hh, b_hh)
        i, f, g, o = gates.split(h.shape[1], dim=-1)
        i, f = (torch.stack([i, f]) + peep[:, None, :] * c).sigmoid().unbind(0)
        c = f * c + i * g.tanh()
        h = (o + p_o * c).sigmoid() * c.tanh()
        hs.append(h)
    return torch.stack(hs, dim=0), (h, c)


def hoisted_per_gate_weights(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
    """Four weight blocks, four hoisted GEMMs (none per step), four recurrent ones per step."""
    Wi, Wf, Wg, Wo = W_ih.chunk(4)
    Ui, Uf, Ug, Uo = W_hh.chunk(4)
    bi, bf, bg, bo = (b_ih + b_hh).chunk(4)
    xi, xf, xg, xo = x @ Wi.T + bi, x @ Wf.T + bf, x @ Wg.T + bg, x @ Wo.T + bo  # (T, B, H)
    h, c, hs = h0, c0, []
    for t in range(x.shape[0]):
        i = torch.sigmoid(xi[t] + h @ Ui.T + p_i * c)
        f = torch.sigmoid(xf[t] + h @ Uf.T + p_f * c)
        c = f * c + i * torch.tanh(xg[t] + h @ Ug.T)
        h = torch.sigmoid(xo[t] + h @ Uo.T + p_o * c) * torch.tanh(c)
        hs.append(h)
    return torch.stack(hs), (h, c)


CORRECT = [hoisted_addmm, hoisted_float32_einsum_preallocated, hoisted_functional_linear,
           hoisted_per_gate_weights]


@pytest.mark.parametrize("fn", CORRECT)
def test_correct_implementations_pass(fn):
    result = check_lstm_forward_hoisted(fn)
    assert result.passed, result.message
    assert result.mistake is None


@pytest.mark.parametrize("seed", [1, 12345])
def test_correct_implementation_passes_hidden_seeds(seed):
    assert check_lstm_forward_hoisted(hoisted_addmm, seed=seed).passed


def test_cases_vary_dtype_batch_and_all_dims():
    cases = get_spec("lstm_forward_hoisted").cases()
    batches, dtypes = set(), set()
    for case in cases:
        x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o = case.args
        assert all(isinstance(a, torch.Tensor) and a.dtype == x.dtype for a in case.args)
        T, B, I = x.shape
        H = h0.shape[1]
        assert len({T, B, I, H}) == 4 and W_ih.shape == (4 * H, I) and W_hh.shape == (4 * H, H)
        assert p_i.shape == p_f.shape == p_o.shape == (H,)
        assert all(bool((p != 0).all()) for p in (p_i, p_f, p_o))  # nn.LSTM cannot match
        batches.add(B)
        dtypes.add(x.dtype)
    assert 1 in batches and any(b > 1 for b in batches)
    assert dtypes == {torch.float64, torch.float32}


def test_torch_nn_lstm_gives_the_wrong_answer_on_every_case():
    """The design fix of issue 26: no switch of torch.nn.LSTM computes this variant."""
    spec = get_spec("lstm_forward_hoisted")
    for case in spec.cases():
        x, h0, c0, W_ih, W_hh, b_ih, b_hh, *_ = case.inputs()[0]
        out = spec.expected(case)[0]
        fused = torch.nn.LSTM(x.shape[2], h0.shape[1]).to(x.dtype)
        with torch.no_grad():
            for name, v in zip(("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"),
                               (W_ih, W_hh, b_ih, b_hh)):
                getattr(fused, name).copy_(v)
            got = fused(x, (h0[None], c0[None]))[0]
        assert (got.double() - out).abs().max() > 1e-2


# --------------------------------------------------------------------------- learner mistakes
# Written from how the exercise goes wrong, before the spec's catalogue was written.
def _loop_body(gates, c, p_i, p_f, p_o):
    i, f, g, o = gates.chunk(4, 1)
    c = torch.sigmoid(f + p_f * c) * c + torch.sigmoid(i + p_i * c) * torch.tanh(g)
    return torch.sigmoid(o + p_o * c) * torch.tanh(c), c


def recurrence_hoisted_too(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
    gates_all = x @ W_ih.T + b_ih + h0 @ W_hh.T + b_hh  # "hoist everything", from h0
    c, hs = c0, []
    for t in range(x.shape[0]):
        h, c = _loop_body(gates_all[t], c, p_i, p_f, p_o)
        hs.append(h)
    return torch.stack(hs), (h, c)


def c_not_carried(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
    xw = x @ W_ih.T + b_ih + b_hh
    h, hs = h0, []
    for t in range(x.shape[0]):
        h, c = _loop_body(xw[t] + h @ W_hh.T, c0, p_i, p_f, p_o)
        hs.append(h)
    return torch.stack(hs), (h, c)


def order_ifog(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
    xw = x @ W_ih.T + b_ih + b_hh
    h, c, hs = h0, c0, []
    for t in range(x.shape[0]):
        i, f, o, g = (xw[t] + h @ W_hh.T).chunk(4, 1)
        c = torch.sigmoid(f + p_f * c) * c + torch.sigmoid(i + p_i * c) * torch.tanh(g)
        h = torch.sigmoid(o + p_o * c) * torch.tanh(c)
        hs.append(h)
    return torch.stack(hs), (h, c)


def interleaved_view(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
    B, H = h0.shape
    xw = x @ W_ih.T + b_ih + b_hh
    h, c, hs = h0, c0, []
    for t in range(x.shape[0]):
        gates = (xw[t] + h @ W_hh.T).view(B, H, 4)
        i, f, g, o = gates.unbind(-1)
        c = torch.sigmoid(f + p_f * c) * c + torch.sigmoid(i + p_i * c) * torch.tanh(g)
        h = torch.sigmoid(o + p_o * c) * torch.tanh(c)
        hs.append(h)
    return torch.stack(hs), (h, c)


def batch_major_flatten(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
    T, B, I = x.shape
    H = h0.shape[1]
    flat = x.permute(1, 0, 2).reshape(-1, I)  # (B*T, I), batch-major rows
    xw = (flat @ W_ih.T + b_ih + b_hh).reshape(T, B, 4 * H)
    h, c, hs = h0, c0, []
    for t in range(T):
        h, c = _loop_body(xw[t] + h @ W_hh.T, c, p_i, p_f, p_o)
        hs.append(h)
    return torch.stack(hs), (h, c)


def forgot_b_hh(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
    xw = x @ W_ih.T + b_ih
    h, c, hs = h0, c0, []
    for t in range(x.shape[0]):
        h, c = _loop_body(xw[t] + h @ W_hh.T, c, p_i, p_f, p_o)
        hs.append(h)
    return torch.stack(hs), (h, c)


def b_hh_twice(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
    xw = x @ W_ih.T + (b_ih + b_hh)
    h, c, hs = h0, c0, []
    for t in range(x.shape[0]):
        h, c = _loop_body(xw[t] + h @ W_hh.T + b_hh, c, p_i, p_f, p_o)
        hs.append(h)
    return torch.stack(hs), (h, c)


def no_tanh_on_c(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
    xw = x @ W_ih.T + b_ih + b_hh
    h, c, hs = h0, c0, []
    for t in range(x.shape[0]):
        i, f, g, o = (xw[t] + h @ W_hh.T).chunk(4, 1)
        c = torch.sigmoid(f + p_f * c) * c + torch.sigmoid(i + p_i * c) * torch.tanh(g)
        h = torch.sigmoid(o + p_o * c) * c
        hs.append(h)
    return torch.stack(hs), (h, c)


def from_zeros(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
    h, c = torch.zeros_like(h0), torch.zeros_like(c0)  # the given h0, c0 never read
    xw = x @ W_ih.T + b_ih + b_hh
    out = []
    for t in range(x.shape[0]):
        h, c = _loop_body(xw[t] + h @ W_hh.T, c, p_i, p_f, p_o)
        out.append(h)
    return torch.stack(out), (h, c)


def state_swapped(*args):
    out, (h, c) = hoisted_addmm(*args)
    return out, (c, h)


def output_peeks_at_old_c(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
    xw = x @ W_ih.T + b_ih + b_hh
    h, c, hs = h0, c0, []
    for t in range(x.shape[0]):
        i, f, g, o = (xw[t] + h @ W_hh.T).chunk(4, 1)
        i, f, o = (torch.sigmoid(i + p_i * c), torch.sigmoid(f + p_f * c),
                   torch.sigmoid(o + p_o * c))  # all three gates at once, from c_{t-1}
        c = f * c + i * torch.tanh(g)
        h = o * torch.tanh(c)
        hs.append(h)
    return torch.stack(hs), (h, c)


def peepholes_i_f_swapped(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
    return hoisted_addmm(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_f, p_i, p_o)


def no_peepholes(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
    zero = torch.zeros_like(p_i)
    return hoisted_addmm(x, h0, c0, W_ih, W_hh, b_ih, b_hh, zero, zero, zero)


def no_output_peephole(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
    return hoisted_addmm(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, torch.zeros_like(p_o))


def peephole_after_sigmoid(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
    xw = x @ W_ih.T + b_ih + b_hh
    h, c, hs = h0, c0, []
    for t in range(x.shape[0]):
        i, f, g, o = (xw[t] + h @ W_hh.T).chunk(4, 1)
        c_new = (torch.sigmoid(f) + p_f * c) * c + (torch.sigmoid(i) + p_i * c) * torch.tanh(g)
        h = (torch.sigmoid(o) + p_o * c_new) * torch.tanh(c_new)
        c = c_new
        hs.append(h)
    return torch.stack(hs), (h, c)


def sigmoid_candidate(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
    xw = x @ W_ih.T + b_ih + b_hh
    h, c, hs = h0, c0, []
    for t in range(x.shape[0]):
        i, f, g, o = (xw[t] + h @ W_hh.T).chunk(4, 1)
        c = torch.sigmoid(f + p_f * c) * c + torch.sigmoid(i + p_i * c) * torch.sigmoid(g)
        h = torch.sigmoid(o + p_o * c) * torch.tanh(c)
        hs.append(h)
    return torch.stack(hs), (h, c)


def returns_cell_states(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
    xw = x @ W_ih.T + b_ih + b_hh
    h, c, cs = h0, c0, []
    for t in range(x.shape[0]):
        h, c = _loop_body(xw[t] + h @ W_hh.T, c, p_i, p_f, p_o)
        cs.append(c)  # the cell states instead of the hidden states
    return torch.stack(cs), (h, c)


def appends_before_update(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
    xw = x @ W_ih.T + b_ih + b_hh
    h, c, hs = h0, c0, []
    for t in range(x.shape[0]):
        hs.append(h)  # h_{t-1}, one step late: output starts with h0
        h, c = _loop_body(xw[t] + h @ W_hh.T, c, p_i, p_f, p_o)
    return torch.stack(hs), (h, c)


def float32_always(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
    args = [a.float() for a in (x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o)]
    return hoisted_addmm(*args)  # float32 back for float64 in


def float64_buffer(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
    T, B, I = x.shape
    H = h0.shape[1]
    out = torch.zeros(T, B, H, dtype=torch.float64)  # float64 whatever came in
    xw = (x.reshape(T * B, I) @ W_ih.T + b_ih + b_hh).view(T, B, 4 * H)
    h, c = h0, c0
    for t in range(T):
        h, c = _loop_body(xw[t] + h @ W_hh.T, c, p_i, p_f, p_o)
        out[t] = h
    return out, (h, c)


def c0_updated_in_place(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
    xw = x @ W_ih.T + b_ih + b_hh
    h, c, hs = h0, c0, []
    for t in range(x.shape[0]):
        i, f, g, o = (xw[t] + h @ W_hh.T).chunk(4, 1)
        i, f = torch.sigmoid(i + p_i * c), torch.sigmoid(f + p_f * c)
        c.mul_(f).add_(i * torch.tanh(g))  # c is c0 at t = 0: the caller's tensor changes
        h = torch.sigmoid(o + p_o * c) * torch.tanh(c)
        hs.append(h)
    return torch.stack(hs), (h, c)


# Right values, wrong structure: only the notebook's probe can see these.
def input_gemm_in_the_loop(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
    h, c, hs = h0, c0, []
    for t in range(x.shape[0]):
        gates = x[t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh  # two GEMMs per step: not hoisted
        h, c = _loop_body(gates, c, p_i, p_f, p_o)
        hs.append(h)
    return torch.stack(hs), (h, c)


def hoisted_step_by_step(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
    xw = [x_t @ W_ih.T + b_ih + b_hh for x_t in x]  # "before the loop", but T small GEMMs
    h, c, hs = h0, c0, []
    for t in range(x.shape[0]):
        h, c = _loop_body(xw[t] + h @ W_hh.T, c, p_i, p_f, p_o)
        hs.append(h)
    return torch.stack(hs), (h, c)


def numpy_detour(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
    xw = torch.from_numpy(x.detach().numpy() @ W_ih.detach().numpy().T) + b_ih + b_hh
    h, c, hs = h0, c0, []
    for t in range(x.shape[0]):
        h, c = _loop_body(xw[t] + h @ W_hh.T, c, p_i, p_f, p_o)
        hs.append(h)
    return torch.stack(hs), (h, c)


def detached_state(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
    xw = x @ W_ih.T + b_ih + b_hh
    h, c, hs = h0, c0, []
    for t in range(x.shape[0]):
        h, c = _loop_body(xw[t] + h @ W_hh.T, c, p_i, p_f, p_o)
        h, c = h.detach(), c.detach()  # "to save memory"
        hs.append(h)
    return torch.stack(hs), (h, c)


def cpu_zeros_buffer(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
    T, B, I = x.shape
    H = h0.shape[1]
    out = torch.zeros(T, B, H, dtype=x.dtype)  # no device=: on a GPU this is a CPU tensor
    xw = (x.reshape(T * B, I) @ W_ih.T + b_ih + b_hh).view(T, B, 4 * H)
    h, c = h0, c0
    for t in range(T):
        h, c = _loop_body(xw[t] + h @ W_hh.T, c, p_i, p_f, p_o)
        out[t] = h
    return out, (h, c)


def fused_cell_per_step(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
    """Right values through PyTorch's fused cell: [x_t, c_{t-1}] fed in, o redone by hand."""
    H, I = h0.shape[1], x.shape[2]
    eye = torch.diag_embed(torch.stack([p_i, p_f]))  # (2, H, H)
    W_aug = torch.cat([W_ih, torch.cat([eye[0], eye[1], torch.zeros(2 * H, H, dtype=x.dtype)])],
                      dim=1)  # (4H, I + H)
    h, c, hs = h0, c0, []
    for t in range(x.shape[0]):
        _, c_new = torch.lstm_cell(torch.cat([x[t], c], 1), (h, c), W_aug, W_hh, b_ih, b_hh)
        o = x[t] @ W_ih[3 * H:].T + h @ W_hh[3 * H:].T + b_ih[3 * H:] + b_hh[3 * H:]
        h, c = torch.sigmoid(o + p_o * c_new) * torch.tanh(c_new), c_new
        hs.append(h)
    del I
    return torch.stack(hs), (h, c)


WRONG = [recurrence_hoisted_too, c_not_carried, order_ifog, interleaved_view,
         batch_major_flatten, forgot_b_hh, b_hh_twice, no_tanh_on_c, from_zeros, state_swapped,
         output_peeks_at_old_c, peepholes_i_f_swapped, no_peepholes, no_output_peephole,
         peephole_after_sigmoid, sigmoid_candidate, returns_cell_states, appends_before_update,
         float32_always, float64_buffer, c0_updated_in_place, input_gemm_in_the_loop,
         hoisted_step_by_step, numpy_detour, detached_state, cpu_zeros_buffer,
         fused_cell_per_step]


@pytest.mark.parametrize("fn", WRONG, ids=lambda f: f.__name__)
def test_every_wrong_implementation_is_rejected(fn):
    result = check_lstm_forward_hoisted(fn)
    assert not result.passed, fn.__name__


NAMED = {  # wrong implementation -> the mistake name the checker must give
    recurrence_hoisted_too: "h0 used at every step (the recurrence hoisted too)",
    c_not_carried: "the cell state not carried",
    order_ifog: "gates in the order i, f, o, g",
    interleaved_view: "the gates interleaved instead of blocked",
    batch_major_flatten: "time and batch mixed up when flattening x",
    forgot_b_hh: "a missing bias b_hh",
    b_hh_twice: "b_hh added twice",
    no_tanh_on_c: "tanh(c_t) missing in h_t",
    from_zeros: "starting from zeros instead of the given h0 and c0",
    state_swapped: "h_n and c_n swapped",
    output_peeks_at_old_c: "the output gate peeps at c_{t-1}",
    peepholes_i_f_swapped: "p_i and p_f swapped",
    no_peepholes: "no peepholes (a plain LSTM, as torch.nn.LSTM computes)",
    no_output_peephole: "the output gate's peephole missing",
    peephole_after_sigmoid: "the peephole added after the sigmoid",
    sigmoid_candidate: "σ instead of tanh for the candidate g",
    returns_cell_states: "the cell states returned as output",
    appends_before_update: "output one step late (h_{t-1} stored)",
    float32_always: "float32 returned for float64 inputs",
    float64_buffer: "the output's dtype fixed instead of following the input",
    c0_updated_in_place: "modified an input in place",
    input_gemm_in_the_loop: "the input GEMM inside the loop (not hoisted)",
    hoisted_step_by_step: "the input GEMM inside the loop (not hoisted)",
    numpy_detour: "the gradient cut (a detour through numpy, .detach() or torch.no_grad())",
    detached_state: "the gradient cut (a detour through numpy, .detach() or torch.no_grad())",
    cpu_zeros_buffer: "a tensor made without device=",
    fused_cell_per_step: "called PyTorch's fused LSTM kernel",
}


@pytest.mark.parametrize("fn", list(NAMED), ids=lambda f: f.__name__)
def test_realistic_mistakes_are_named(fn):
    result = check_lstm_forward_hoisted(fn)
    assert not result.passed
    assert result.mistake == NAMED[fn], result.message
    if fn is c0_updated_in_place:  # the engine's own wording names the argument
        assert "modified its input `c0` in place" in result.message
    else:
        assert NAMED[fn] in result.message


def test_at_least_80_percent_named():
    named = sum(check_lstm_forward_hoisted(fn).mistake is not None for fn in WRONG)
    assert named / len(WRONG) >= 0.8


def test_messages_state_facts_of_the_output():
    """A named probe violation says which input gets no gradient / which count it saw."""
    msg = check_lstm_forward_hoisted(detached_state).message
    assert "no gradient reaches `x`, `h0`, `c0`, `W_ih`, `W_hh`" in msg  # h detached each step
    msg = check_lstm_forward_hoisted(numpy_detour).message
    assert "no gradient reaches `x`, `W_ih` " in msg and "differs" not in msg  # the rest flows
    msg = check_lstm_forward_hoisted(input_gemm_in_the_loop).message
    assert "7 matrix products over the input size for T = 7 steps" in msg
    msg = check_lstm_forward_hoisted(float32_always).message
    assert "torch.float32" in msg and "torch.float64" in msg


def test_not_implemented_exceptions_and_wrong_structure_are_friendly():
    def todo(*args):
        raise NotImplementedError()

    assert check_lstm_forward_hoisted(todo).status == "not_implemented"

    def crashes(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):
        return x @ W_hh  # (T, B, I) @ (4H, H): shapes do not fit

    res = check_lstm_forward_hoisted(crashes)
    assert not res.passed and "RuntimeError" in res.message and "crashes" in res.message

    def only_output(*args):
        return hoisted_addmm(*args)[0]

    res = check_lstm_forward_hoisted(only_output)
    assert not res.passed and "expected a tuple" in res.message
    assert not check_lstm_forward_hoisted(lambda *a: None).passed


def test_a_numpy_answer_fails_in_the_notebook():
    def all_numpy(*args):
        out, (h, c) = hoisted_addmm(*args)
        return out.numpy(), (h.numpy(), c.numpy())

    res = check_lstm_forward_hoisted(all_numpy)
    assert not res.passed and res.mistake.startswith("the gradient cut"), res.message


def test_yours_or_reference_falls_back_to_a_tensor_reference(capsys):
    def lstm_forward_hoisted(*args):
        raise NotImplementedError()

    fn = yours_or_reference(lstm_forward_hoisted)
    assert "torch reference" in capsys.readouterr().out
    torch.manual_seed(0)
    T, B, I, H = 4, 2, 3, 5
    args = (torch.randn(T, B, I), torch.zeros(B, H), torch.zeros(B, H), torch.randn(4 * H, I),
            torch.randn(4 * H, H), torch.randn(4 * H), torch.randn(4 * H), torch.randn(H),
            torch.randn(H), torch.randn(H))
    out, (h, c) = fn(*args)  # float32 in, float32 out, like the learner's
    assert out.dtype == torch.float32 and out.shape == (T, B, H)
    torch.testing.assert_close(out, hoisted_addmm(*args)[0], rtol=1e-5, atol=1e-6)
    assert yours_or_reference(hoisted_addmm, "lstm_forward_hoisted") is hoisted_addmm


def test_reference_matches_a_numpy_float64_loop():
    """The float64 torch reference against an independent numpy transcription of the
    equations (Gers, Schraudolph & Schmidhuber 2002)."""
    spec = get_spec("lstm_forward_hoisted")
    case = spec.cases()[0]
    x, h, c, Wi, Wh, bi, bh, pi, pf, po = (a.numpy() for a in case.inputs()[0])
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    H = h.shape[1]
    outs = []
    for x_t in x:
        a = x_t @ Wi.T + bi + h @ Wh.T + bh
        i, f = sig(a[:, :H] + pi * c), sig(a[:, H:2 * H] + pf * c)
        c = f * c + i * np.tanh(a[:, 2 * H:3 * H])
        h = sig(a[:, 3 * H:] + po * c) * np.tanh(c)
        outs.append(h)
    out, (h_n, c_n) = spec.expected(case)
    np.testing.assert_allclose(out.numpy(), np.stack(outs), rtol=1e-12)
    np.testing.assert_allclose(c_n.numpy(), c, rtol=1e-12)


def test_the_dtype_rule_is_the_graders_too():
    """The grader hands judge() numpy arrays (dtype kept, torch-ness lost): the same dtype rule
    names a float64 answer to the float32 case, and passes the right dtype."""
    from course_utils.checks import judge
    from course_utils.checks.spec import Outcome

    spec = get_spec("lstm_forward_hoisted")
    case = next(c for c in spec.cases() if c.args[0].dtype == torch.float32)
    out, (h, c) = hoisted_addmm(*case.inputs()[0])
    as_numpy = (out.numpy(), (h.numpy(), c.numpy()))
    assert judge(spec, case, Outcome(value=as_numpy)).passed
    wrong = (out.double().numpy(), (h.numpy(), c.numpy()))
    verdict = judge(spec, case, Outcome(value=wrong))
    assert not verdict.passed
    assert verdict.mistake == "the output's dtype fixed instead of following the input"
    assert "`output` is torch.float64 for torch.float32 inputs" in verdict.message
