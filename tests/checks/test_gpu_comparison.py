"""check_lstm_forward_hoisted (notebook 09): correct implementations in several styles pass,
realistic mistakes — written here as a learner would, independently of the spec — are named."""

from __future__ import annotations

import pytest
import torch

from course_utils.checks import check_lstm_forward_hoisted, get_spec, yours_or_reference


# --------------------------------------------------------------------------- correct answers
def hoisted_addmm(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    T, B, I = x.shape
    H = h0.shape[1]
    xw = torch.addmm(b_ih + b_hh, x.reshape(T * B, I), W_ih.t()).view(T, B, 4 * H)
    h, c, out = h0, c0, []
    for t in range(T):
        i, f, g, o = torch.addmm(xw[t], h, W_hh.t()).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        out.append(h)
    return torch.stack(out), (h, c)


def hoisted_float32_einsum_preallocated(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    """float32 throughout, einsum for the hoisted GEMM, slices instead of chunk, output buffer."""
    x, h, c = x.float(), h0.float(), c0.float()
    W_ih, W_hh, bias = W_ih.float(), W_hh.float(), (b_ih + b_hh).float()
    H = h.shape[1]
    pre = torch.einsum("tbi,gi->tbg", x, W_ih) + bias  # (T, B, 4H)
    output = x.new_empty(x.shape[0], x.shape[1], H)
    for t in range(x.shape[0]):
        z = pre[t] + h @ W_hh.T
        i = torch.sigmoid(z[:, :H])
        f = torch.sigmoid(z[:, H:2 * H])
        g = torch.tanh(z[:, 2 * H:3 * H])
        o = torch.sigmoid(z[:, 3 * H:])
        c = f * c + i * g
        h = o * torch.tanh(c)
        output[t] = h
    return output, (h, c)


def hoisted_functional_linear(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    import torch.nn.functional as F

    xw = F.linear(x, W_ih, b_ih)  # (T, B, 4H): linear handles the leading dims
    h, c, hs = h0, c0, []
    for x_part in xw.unbind(0):
        gates = x_part + F.linear(h, W_hh, b_hh)
        i, f, g, o = gates.split(h.shape[1], dim=-1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        hs.append(h)
    return torch.stack(hs, dim=0), (h, c)


@pytest.mark.parametrize("fn", [hoisted_addmm, hoisted_float32_einsum_preallocated,
                                hoisted_functional_linear])
def test_correct_implementations_pass(fn):
    result = check_lstm_forward_hoisted(fn)
    assert result.passed, result.message
    assert result.mistake is None


def test_correct_implementation_passes_hidden_seeds():
    for seed in (1, 12345):
        assert check_lstm_forward_hoisted(hoisted_addmm, seed=seed).passed


def test_cases_are_float64_tensors_with_distinct_dims_and_batch_one():
    cases = get_spec("lstm_forward_hoisted").cases()
    batches = set()
    for case in cases:
        x, h0, c0, W_ih, W_hh, b_ih, b_hh = case.args
        assert all(isinstance(a, torch.Tensor) and a.dtype == torch.float64 for a in case.args)
        T, B, I = x.shape
        H = h0.shape[1]
        assert len({T, B, I, H}) == 4 and W_ih.shape == (4 * H, I) and W_hh.shape == (4 * H, H)
        batches.add(B)
    assert 1 in batches and any(b > 1 for b in batches)


# --------------------------------------------------------------------------- learner mistakes
def recurrence_hoisted_too(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    # "hoist everything": the h-part computed once from h0, outside the loop
    gates_all = x @ W_ih.T + b_ih + h0 @ W_hh.T + b_hh  # (T, B, 4H)
    c, hs = c0, []
    for t in range(x.shape[0]):
        i, f, g, o = gates_all[t].chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        hs.append(h)
    return torch.stack(hs), (h, c)


def c_not_carried(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    xw = x @ W_ih.T + b_ih + b_hh
    h, hs = h0, []
    for t in range(x.shape[0]):
        i, f, g, o = (xw[t] + h @ W_hh.T).chunk(4, 1)
        c = torch.sigmoid(f) * c0 + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        hs.append(h)
    return torch.stack(hs), (h, c)


def order_ifog(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    xw = x @ W_ih.T + b_ih + b_hh
    h, c, hs = h0, c0, []
    for t in range(x.shape[0]):
        i, f, o, g = (xw[t] + h @ W_hh.T).chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        hs.append(h)
    return torch.stack(hs), (h, c)


def interleaved_view(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    B, H = h0.shape
    xw = x @ W_ih.T + b_ih + b_hh
    h, c, hs = h0, c0, []
    for t in range(x.shape[0]):
        gates = (xw[t] + h @ W_hh.T).view(B, H, 4)
        i, f, g, o = gates[..., 0], gates[..., 1], gates[..., 2], gates[..., 3]
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        hs.append(h)
    return torch.stack(hs), (h, c)


def batch_major_flatten(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    T, B, I = x.shape
    H = h0.shape[1]
    flat = x.permute(1, 0, 2).reshape(-1, I)  # (B*T, I), batch-major rows
    xw = (flat @ W_ih.T + b_ih + b_hh).reshape(T, B, 4 * H)
    h, c, hs = h0, c0, []
    for t in range(T):
        i, f, g, o = (xw[t] + h @ W_hh.T).chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        hs.append(h)
    return torch.stack(hs), (h, c)


def forgot_b_hh(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    xw = x @ W_ih.T + b_ih
    h, c, hs = h0, c0, []
    for t in range(x.shape[0]):
        i, f, g, o = (xw[t] + h @ W_hh.T).chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        hs.append(h)
    return torch.stack(hs), (h, c)


def b_hh_twice(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    xw = x @ W_ih.T + (b_ih + b_hh)
    h, c, hs = h0, c0, []
    for t in range(x.shape[0]):
        i, f, g, o = (xw[t] + h @ W_hh.T + b_hh).chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        hs.append(h)
    return torch.stack(hs), (h, c)


def no_tanh_on_c(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    xw = x @ W_ih.T + b_ih + b_hh
    h, c, hs = h0, c0, []
    for t in range(x.shape[0]):
        i, f, g, o = (xw[t] + h @ W_hh.T).chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * c
        hs.append(h)
    return torch.stack(hs), (h, c)


def from_zeros(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    h, c = torch.zeros_like(h0), torch.zeros_like(c0)  # the given h0, c0 never read
    T, B, I = x.shape
    xw = (x.reshape(T * B, I) @ W_ih.T + b_ih + b_hh).view(T, B, -1)
    out = []
    for t in range(T):
        i, f, g, o = (xw[t] + h @ W_hh.T).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        out.append(h)
    return torch.stack(out), (h, c)


def state_swapped(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    out, (h, c) = hoisted_addmm(x, h0, c0, W_ih, W_hh, b_ih, b_hh)
    return out, (c, h)


@pytest.mark.parametrize("fn, name", [
    (recurrence_hoisted_too, "h0 used at every step (the recurrence hoisted too)"),
    (c_not_carried, "the cell state not carried"),
    (order_ifog, "gates in the order i, f, o, g"),
    (interleaved_view, "the gates interleaved instead of blocked"),
    (batch_major_flatten, "time and batch mixed up when flattening x"),
    (forgot_b_hh, "a missing bias b_hh"),
    (b_hh_twice, "b_hh added twice"),
    (no_tanh_on_c, "tanh(c_t) missing in h_t"),
    (state_swapped, "h_n and c_n swapped"),
    (from_zeros, "starting from zeros instead of the given h0 and c0"),
])
def test_realistic_mistakes_are_named(fn, name):
    result = check_lstm_forward_hoisted(fn)
    assert not result.passed
    assert result.mistake == name
    assert name in result.message


def test_not_implemented_exceptions_and_wrong_structure_are_friendly():
    def todo(*args):
        raise NotImplementedError()

    assert check_lstm_forward_hoisted(todo).status == "not_implemented"

    def crashes(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
        return x @ W_hh  # (T, B, I) @ (4H, H): shapes do not fit

    res = check_lstm_forward_hoisted(crashes)
    assert not res.passed and "RuntimeError" in res.message and "crashes" in res.message

    def only_output(*args):
        return hoisted_addmm(*args)[0]

    res = check_lstm_forward_hoisted(only_output)
    assert not res.passed and "expected a tuple" in res.message
    assert not check_lstm_forward_hoisted(lambda *a: None).passed


def test_yours_or_reference_falls_back_to_a_tensor_reference(capsys):
    def lstm_forward_hoisted(*args):
        raise NotImplementedError()

    fn = yours_or_reference(lstm_forward_hoisted)
    assert "torch reference" in capsys.readouterr().out
    torch.manual_seed(0)
    T, B, I, H = 4, 2, 3, 5
    args = (torch.randn(T, B, I), torch.zeros(B, H), torch.zeros(B, H), torch.randn(4 * H, I),
            torch.randn(4 * H, H), torch.randn(4 * H), torch.randn(4 * H))
    out, (h, c) = fn(*args)  # float32 in, float32 out, like the learner's
    assert out.dtype == torch.float32 and out.shape == (T, B, H)
    torch.testing.assert_close(out, hoisted_addmm(*args)[0], rtol=1e-5, atol=1e-6)
    assert yours_or_reference(hoisted_addmm, "lstm_forward_hoisted") is hoisted_addmm
