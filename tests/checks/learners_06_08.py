"""Learner implementations of the exercises of notebooks 06-08, written independently of the
checkers' mistake catalogues (issue 24): how learners really get them right and wrong.

``CORRECT[exercise]`` lists correct implementations in several styles (each must pass);
``WRONG[exercise]`` lists ``(fn, keywords)``: a realistic wrong implementation and the words, any
one of which the checker's message must contain to count as *naming* the bug (lower case). The
scores before/after the work on issue 24 come from ``tests/checks/test_learners_06_08.py``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F


def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def _cell(x_t, h, c, W_ih, W_hh, b_ih, b_hh, order="ifgo"):
    a = x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    H = h.shape[-1]
    blocks = dict(zip(order, (a[:, k * H:(k + 1) * H] for k in range(4))))
    c = _sig(blocks["f"]) * c + _sig(blocks["i"]) * np.tanh(blocks["g"])
    return _sig(blocks["o"]) * np.tanh(c), c


def _cell_update_swapped(x_t, h, c, W_ih, W_hh, b_ih, b_hh):
    """Splits the rows right, but uses o as the candidate and g as the output gate."""
    i, f, g, o = np.split(x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh, 4, axis=1)
    c = _sig(f) * c + _sig(i) * np.tanh(o)
    return _sig(g) * np.tanh(c), c


def stack_update_line_swap(x, h0, c0, params, num_layers, bidirectional):
    D = 2 if bidirectional else 1
    inp, hs, cs = x, [], []
    for k in range(num_layers):
        halves = []
        for d in range(D):
            j = k * D + d
            seq = inp if d == 0 else inp[::-1]
            h, c, outs = h0[j], c0[j], []
            for x_t in seq:
                h, c = _cell_update_swapped(x_t, h, c, *params[j])
                outs.append(h)
            out = np.stack(outs)
            halves.append(out if d == 0 else out[::-1])
            hs.append(h)
            cs.append(c)
        inp = np.concatenate(halves, axis=-1)
    return inp, (np.stack(hs), np.stack(cs))


def _layer(x, h0, c0, W_ih, W_hh, b_ih, b_hh, carry_c=True, order="ifgo"):
    h, c, outs = h0, c0, []
    for x_t in x:
        h, c_new = _cell(x_t, h, c, W_ih, W_hh, b_ih, b_hh, order)
        c = c_new if carry_c else c0
        outs.append(h)
    return np.stack(outs), (h, c)


# =========================================================================== lstm_stack_forward
def stack_ok(x, h0, c0, params, num_layers, bidirectional):
    D = 2 if bidirectional else 1
    inp, hs, cs = x, [], []
    for k in range(num_layers):
        halves = []
        for d in range(D):
            j = k * D + d
            seq = inp if d == 0 else inp[::-1]
            out, (h, c) = _layer(seq, h0[j], c0[j], *params[j])
            halves.append(out if d == 0 else out[::-1])
            hs.append(h)
            cs.append(c)
        inp = np.concatenate(halves, axis=-1)
    return inp, (np.stack(hs), np.stack(cs))


def stack_torch(x, h0, c0, params, num_layers, bidirectional):
    """Copies the weights into nn.LSTM (a learner who knows PyTorch)."""
    D = 2 if bidirectional else 1
    lstm = torch.nn.LSTM(x.shape[-1], h0.shape[-1], num_layers, bidirectional=bidirectional)
    lstm = lstm.double()
    with torch.no_grad():
        for k in range(num_layers):
            for d in range(D):
                sfx = f"_l{k}" + ("_reverse" if d else "")
                for n, v in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"),
                                params[k * D + d]):
                    getattr(lstm, n + sfx).copy_(torch.from_numpy(v))
        out, (h, c) = lstm(torch.from_numpy(x), (torch.from_numpy(h0), torch.from_numpy(c0)))
    return out.numpy(), (h.numpy(), c.numpy())


def stack_preallocated_float32(x, h0, c0, params, num_layers, bidirectional):
    """Preallocated buffers, float32, hoisted input projection, time index arithmetic."""
    D = 2 if bidirectional else 1
    T, B, _ = x.shape
    H = h0.shape[-1]
    h_n = np.zeros(h0.shape, np.float32)
    c_n = np.zeros(c0.shape, np.float32)
    inp = x.astype(np.float32)
    for k in range(num_layers):
        out = np.zeros((T, B, D * H), np.float32)
        for d in range(D):
            W_ih, W_hh, b_ih, b_hh = (np.asarray(p, np.float32) for p in params[k * D + d])
            pre = inp @ W_ih.T + b_ih + b_hh                     # (T, B, 4H)
            h, c = h0[k * D + d].astype(np.float32), c0[k * D + d].astype(np.float32)
            steps = range(T) if d == 0 else range(T - 1, -1, -1)
            for t in steps:
                a = pre[t] + h @ W_hh.T
                i, f, g, o = np.split(a, 4, axis=1)
                c = _sig(f) * c + _sig(i) * np.tanh(g)
                h = _sig(o) * np.tanh(c)
                out[t, :, d * H:(d + 1) * H] = h
            h_n[k * D + d], c_n[k * D + d] = h, c
        inp = out
    return inp, (h_n, c_n)


def _stack_wrong(flip=True, order_fr=True, slot="layer", hn_slot=None, from_first=False,
                 rev_reads_forward=False, same_init=False, rev_hn="end", swap_hc=False,
                 concat_axis=-1, carry_c=True, cell_order="ifgo", stack_list=False,
                 hn_axis=0):
    def fn(x, h0, c0, params, num_layers, bidirectional):
        D = 2 if bidirectional else 1
        L = num_layers
        inp, first = x, None
        hs, cs = [None] * (L * D), [None] * (L * D)
        for k in range(L):
            halves = []
            for d in range(D):
                j_in = {"layer": k * D + d, "dir": d * L + k, "plus": k + d}[slot]
                j_in = 0 if same_init else j_in
                seq = inp if (d == 0 or rev_reads_forward) else inp[::-1]
                out, (h, c) = _layer(seq, h0[j_in], c0[j_in], *params[k * D + d],
                                     carry_c=carry_c, order=cell_order)
                if d == 1 and rev_hn == "output_last" and flip and not rev_reads_forward:
                    h = out[0]                                    # = flipped output[-1]
                if d == 1 and flip and not rev_reads_forward:
                    out = out[::-1]
                j_out = {"layer": k * D + d, "dir": d * L + k, "plus": k + d}[hn_slot or slot]
                hs[j_out], cs[j_out] = h, c
                halves.append(out)
            if not order_fr:
                halves = halves[::-1]
            inp = np.concatenate(halves, axis=concat_axis)
            first = inp if first is None else first
        out = first if from_first else inp
        if stack_list:
            return out, (hs, cs)
        hn, cn = np.stack(hs, axis=hn_axis), np.stack(cs, axis=hn_axis)
        return out, ((cn, hn) if swap_hc else (hn, cn))
    return fn


def stack_aliased_buffer(x, h0, c0, params, num_layers, bidirectional):
    """The state updated in place in a preallocated buffer: every output step is the same
    array (all equal to the last state)."""
    D = 2 if bidirectional else 1
    inp, hs, cs = x, [], []
    for k in range(num_layers):
        halves = []
        for d in range(D):
            j = k * D + d
            W_ih, W_hh, b_ih, b_hh = params[j]
            h, c = h0[j].copy(), c0[j].copy()
            outs = []
            seq = inp if d == 0 else inp[::-1]
            for x_t in seq:
                i, f, g, o = np.split(x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh, 4, axis=1)
                c[:] = _sig(f) * c + _sig(i) * np.tanh(g)
                h[:] = _sig(o) * np.tanh(c)
                outs.append(h)
            out = np.stack(outs)
            halves.append(out if d == 0 else out[::-1])
            hs.append(h)
            cs.append(c)
        inp = np.concatenate(halves, axis=-1)
    return inp, (np.stack(hs), np.stack(cs))


CORRECT_STACK = [stack_ok, stack_torch, stack_preallocated_float32]
WRONG_STACK = [
    (_stack_wrong(flip=False), ["flipped back", "not flipped"]),
    (_stack_wrong(order_fr=False), ["wrong order", "halves"]),
    (_stack_wrong(slot="dir"), ["direction-major"]),
    (_stack_wrong(hn_slot="dir"), ["direction-major"]),
    (_stack_wrong(slot="plus", hn_slot="layer"), ["slot k + d"]),
    (_stack_wrong(from_first=True), ["first layer"]),
    (_stack_wrong(rev_reads_forward=True), ["not reversed", "reads x forwards"]),
    (_stack_wrong(same_init=True), ["same initial state"]),
    (_stack_wrong(rev_hn="output_last"), ["reverse direction's h_n taken at"]),
    (_stack_wrong(swap_hc=True), ["swapped"]),
    (_stack_wrong(concat_axis=0), ["along axis 0 (time)"]),
    (_stack_wrong(carry_c=False), ["never updated"]),
    (_stack_wrong(cell_order="ifog"), ["gate order", "order of the gate", "i, f, g, o"]),
    (_stack_wrong(stack_list=True), ["np.stack", "a list"]),
    (_stack_wrong(hn_axis=1), ["along axis 1"]),
    (stack_aliased_buffer, ["same array", "alias", "in place"]),
    (stack_update_line_swap, ["exchanged where they are used"]),
]


# =========================================================================== lstm_forward_padded
def padded_ok(x, lengths, h0, c0, W_ih, W_hh, b_ih, b_hh):
    T = x.shape[0]
    h, c, out = h0, c0, np.zeros((T, *h0.shape))
    for t in range(T):
        alive = (t < np.asarray(lengths))[:, None]
        h_new, c_new = _cell(x[t], h, c, W_ih, W_hh, b_ih, b_hh)
        h, c = np.where(alive, h_new, h), np.where(alive, c_new, c)
        out[t] = np.where(alive, h_new, 0.0)
    return out, (h, c)


def padded_per_sequence(x, lengths, h0, c0, W_ih, W_hh, b_ih, b_hh):
    T, B, _ = x.shape
    out = np.zeros((T, B, h0.shape[1]))
    hn, cn = np.empty_like(h0), np.empty_like(c0)
    for b in range(B):
        n = int(lengths[b])
        o, (h, c) = _layer(x[:n, b:b + 1], h0[b:b + 1], c0[b:b + 1], W_ih, W_hh, b_ih, b_hh)
        out[:n, b] = o[:, 0]
        hn[b], cn[b] = h[0], c[0]
    return out, (hn, cn)


def padded_arithmetic_mask(x, lengths, h0, c0, W_ih, W_hh, b_ih, b_hh):
    T = x.shape[0]
    mask = (np.arange(T)[:, None] < np.asarray(lengths)[None]).astype(float)[..., None]
    h, c, outs = h0, c0, []
    for t in range(T):
        h_new, c_new = _cell(x[t], h, c, W_ih, W_hh, b_ih, b_hh)
        m = mask[t]
        h = m * h_new + (1 - m) * h
        c = m * c_new + (1 - m) * c
        outs.append(m * h_new)
    return np.stack(outs), (h, c)


def padded_torch_pack(x, lengths, h0, c0, W_ih, W_hh, b_ih, b_hh):
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    lstm = torch.nn.LSTM(x.shape[2], h0.shape[1]).double()
    with torch.no_grad():
        for n, v in zip(("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"),
                        (W_ih, W_hh, b_ih, b_hh)):
            getattr(lstm, n).copy_(torch.from_numpy(v))
        packed = pack_padded_sequence(torch.from_numpy(x), torch.as_tensor(lengths),
                                      enforce_sorted=False)
        out, (h, c) = lstm(packed, (torch.from_numpy(h0)[None], torch.from_numpy(c0)[None]))
        out, _ = pad_packed_sequence(out, total_length=x.shape[0])
    return out.numpy(), (h[0].numpy(), c[0].numpy())


def _padded_wrong(alive_fn=None, freeze=True, freeze_c=True, out_mode="zero", final="state",
                  swap=False, zero_state=False, flat_alive=False):
    def fn(x, lengths, h0, c0, W_ih, W_hh, b_ih, b_hh):
        T = x.shape[0]
        lengths = np.asarray(lengths)
        h, c, outs = h0, c0, []
        for t in range(T):
            alive = (alive_fn or (lambda t, n, T: t < n))(t, lengths, T)
            alive = alive if flat_alive else alive[:, None]
            h_new, c_new = _cell(x[t], h, c, W_ih, W_hh, b_ih, b_hh)
            if zero_state:
                h, c = np.where(alive, h_new, 0.0), np.where(alive, c_new, 0.0)
            elif freeze:
                h = np.where(alive, h_new, h)
                c = np.where(alive, c_new, c) if freeze_c else c_new
            else:
                h, c = h_new, c_new
            outs.append({"zero": np.where(alive, h_new, 0.0), "state": h, "raw": h_new}[out_mode])
        output = np.stack(outs)
        if final == "last":
            h = output[-1]
        elif final == "fancy":
            h = output[lengths - 1]
        return output, ((c, h) if swap else (h, c))
    return fn


def padded_sorted(x, lengths, h0, c0, W_ih, W_hh, b_ih, b_hh):
    """Sorts the batch by length like pack_padded_sequence, forgets to unsort h_n, c_n."""
    order = np.argsort(-np.asarray(lengths), kind="stable")
    out, (h, c) = padded_ok(x[:, order], np.asarray(lengths)[order], h0[order], c0[order],
                            W_ih, W_hh, b_ih, b_hh)
    back = np.argsort(order)
    return out[:, back], (h, c)


def padded_inputs_zeroed(x, lengths, h0, c0, W_ih, W_hh, b_ih, b_hh):
    T = x.shape[0]
    mask = (np.arange(T)[:, None] < np.asarray(lengths)[None])[..., None]
    out, (h, c) = _layer(x * mask, h0, c0, W_ih, W_hh, b_ih, b_hh)
    return out * mask, (h, c)


CORRECT_PADDED = [padded_ok, padded_per_sequence, padded_arithmetic_mask, padded_torch_pack]
WRONG_PADDED = [
    (_padded_wrong(final="last"), ["output[-1]", "t-1"]),
    (_padded_wrong(freeze=False), ["updating the state", "keeps updating", "padding ignored"]),
    (_padded_wrong(out_mode="state"), ["not zeroed"]),
    (_padded_wrong(out_mode="raw", freeze=False), ["padding ignored", "not zeroed"]),
    (_padded_wrong(alive_fn=lambda t, n, T: t <= n), ["one step too many"]),
    (_padded_wrong(alive_fn=lambda t, n, T: t < n - 1), ["one step too few"]),
    (_padded_wrong(freeze_c=False), ["cell state kept updating", "only h frozen"]),
    (_padded_wrong(zero_state=True), ["reset to zero"]),
    (_padded_wrong(alive_fn=lambda t, n, T: t >= T - n), ["padding is at the end"]),
    (_padded_wrong(swap=True), ["swapped"]),
    (_padded_wrong(flat_alive=True), ["(b, 1)", "[:, none]"]),
    (_padded_wrong(final="fancy"), ["output[lengths - 1", "np.arange(b)"]),
    (padded_sorted, ["sorted order", "length-sorted"]),
    (padded_inputs_zeroed, ["inputs zeroed"]),
]


# =========================================================================== bits_per_char
def bpc_ok(logits, targets):
    z = np.asarray(logits, dtype=np.float64)
    m = z.max(axis=-1, keepdims=True)
    logp = z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))
    return float(-np.take_along_axis(logp, np.asarray(targets)[..., None], -1).mean()
                 / np.log(2))


def bpc_flat_logaddexp(logits, targets):
    V = logits.shape[-1]
    z = logits.reshape(-1, V)
    y = targets.reshape(-1)
    lse = np.logaddexp.reduce(z, axis=1)
    return float(np.mean(lse - z[np.arange(len(y)), y]) / math.log(2))


def bpc_torch_item(logits, targets):
    z = torch.from_numpy(np.asarray(logits)).float()
    y = torch.from_numpy(np.asarray(targets)).long()
    return F.cross_entropy(z.reshape(-1, z.shape[-1]), y.reshape(-1)).item() / math.log(2)


def bpc_numpy_scalar_log2(logits, targets):
    from scipy.special import logsumexp
    z = np.asarray(logits)
    lp = z - logsumexp(z, axis=-1, keepdims=True)
    return -np.mean(np.take_along_axis(lp, targets[..., None], -1)) / np.log(2)  # np.float64


BITS = 1 / math.log(2)


def _bpc(log=np.log, scale=BITS, sign=1.0, stable="row", axis=-1, reduce="mean",
         via_softmax=False, out="float", index="take"):
    def fn(logits, targets):
        z = np.asarray(logits, dtype=np.float64)
        if stable == "row":
            m = z.max(axis=axis, keepdims=True)
        elif stable == "global":
            m = z.max()
        else:
            m = 0.0
        e = np.exp(z - m)
        if via_softmax:
            logp = log(e / e.sum(axis=axis, keepdims=True))
        else:
            logp = (z - m) - log(e.sum(axis=axis, keepdims=True))
        if index == "take":
            picked = np.take_along_axis(logp, np.asarray(targets)[..., None], -1)[..., 0]
        else:  # 2-D style fancy indexing
            picked = logp[np.arange(logp.shape[0]), targets]
        nll = -picked
        val = {"mean": nll.mean(), "sum": nll.sum(), "batch": nll.sum(0).mean()
               if nll.ndim > 1 else nll.mean()}[reduce]
        val = sign * val * scale
        if out == "tensor":
            return torch.tensor(val)
        if out == "array":
            return np.array([val])
        return float(val)
    return fn


def bpc_torch_tensor(logits, targets):
    z = torch.tensor(logits, requires_grad=True)
    return F.cross_entropy(z.reshape(-1, z.shape[-1]), torch.tensor(targets).reshape(-1)) \
        / math.log(2)


def bpc_log2_twice(logits, targets):
    z = np.asarray(logits)
    m = z.max(-1, keepdims=True)
    lp = (z - m) / np.log(2) - np.log2(np.exp(z - m).sum(-1, keepdims=True))
    return float(-np.take_along_axis(lp, targets[..., None], -1).mean() / np.log(2))


CORRECT_BITS = [bpc_ok, bpc_flat_logaddexp, bpc_torch_item, bpc_numpy_scalar_log2]
WRONG_BITS = [
    (_bpc(scale=1.0), ["nats"]),
    (_bpc(scale=1 / math.log(10)), ["log10", "base 10"]),
    (_bpc(sign=-1.0), ["sign", "negative"]),
    (_bpc(stable="none"), ["maximum", "max-subtraction"]),
    (_bpc(stable="global"), ["whole-batch", "whole batch", "per row", "per-row"]),
    (_bpc(axis=0), ["wrong axis", "last axis"]),
    (_bpc(reduce="sum"), ["sum instead of a mean"]),
    (_bpc(reduce="batch"), ["averaged over the batch only"]),
    (_bpc(via_softmax=True), ["underflow", "log of a softmax", "log(softmax"]),
    (_bpc(index="fancy"), ["3-d", "2-d"]),
    (_bpc(out="tensor"), ["python float", "a float"]),
    (_bpc(out="array"), ["python float", "a float"]),
    (bpc_torch_tensor, ["python float", ".item()"]),
    (bpc_log2_twice, ["ln 2 once more"]),
]


# =========================================================================== tbptt_batches
def batches_ok(data, batch_size, seq_len):
    L = (len(data) - 1) // batch_size
    K = L // seq_len
    s = data[:batch_size * L].reshape(batch_size, L)
    t = data[1:batch_size * L + 1].reshape(batch_size, L)
    x = np.stack([s[:, k * seq_len:(k + 1) * seq_len].T for k in range(K)])
    y = np.stack([t[:, k * seq_len:(k + 1) * seq_len].T for k in range(K)])
    return x, y


def batches_index_loops(data, batch_size, seq_len):
    L = (len(data) - 1) // batch_size
    K = L // seq_len
    x = np.zeros((K, seq_len, batch_size), dtype=int)
    y = np.zeros_like(x)
    for k in range(K):
        for t in range(seq_len):
            for b in range(batch_size):
                i = b * L + k * seq_len + t
                x[k, t, b], y[k, t, b] = data[i], data[i + 1]
    return x, y


def batches_torch_numpy(data, batch_size, seq_len):
    d = torch.as_tensor(data)
    L = (len(d) - 1) // batch_size
    K = L // seq_len
    x = d[:batch_size * L].view(batch_size, L)[:, :K * seq_len].unfold(1, seq_len, seq_len)
    y = d[1:batch_size * L + 1].view(batch_size, L)[:, :K * seq_len].unfold(1, seq_len, seq_len)
    return x.permute(1, 2, 0).numpy(), y.permute(1, 2, 0).numpy()


def _batches(L_rule="minus1", K_rule="floor", trim="end", text_trim="end", interleave=False,
             shift=True, roll=False, layout="KTB", dtype=None, as_list=False, stride=None,
             pad_last=False):
    def fn(data, batch_size, seq_len):
        data = np.asarray(data)
        B, T, N = batch_size, seq_len, len(data)
        L = (N - 1) // B if L_rule == "minus1" else N // B
        if K_rule == "floor":
            K = L // T
        elif K_rule == "ceil":
            K = -(-L // T)
        else:
            K = (L - 1) // T
        if text_trim == "end":
            src, tgt = data[:B * L], data[1:B * L + 1]
        else:
            src, tgt = data[N - 1 - B * L:N - 1], data[N - B * L:]
        if interleave:
            s, t = src.reshape(L, B).T, tgt.reshape(L, B).T
        else:
            s, t = src.reshape(B, L), tgt.reshape(B, L)
        if roll:
            t = np.roll(s, -1, axis=1)
        if not shift:
            t = s
        if pad_last:
            full = K * T
            s = np.pad(s[:, :full], ((0, 0), (0, max(0, full - L))))
            t = np.pad(t[:, :full], ((0, 0), (0, max(0, full - L))))
        elif trim == "end":
            s, t = s[:, :K * T], t[:, :K * T]
        else:
            s, t = s[:, L - K * T:], t[:, L - K * T:]
        step = stride or T
        xs = [s[:, k * step:k * step + T] for k in range(K)]
        ys = [t[:, k * step:k * step + T] for k in range(K)]
        if layout == "KTB":
            xs, ys = [w.T for w in xs], [w.T for w in ys]
        if as_list:
            return xs, ys
        x, y = np.stack(xs), np.stack(ys)
        if layout == "scrambled":
            x, y = s.reshape(K, T, B), t.reshape(K, T, B)
        if dtype is not None:
            x, y = x.astype(dtype), y.astype(dtype)
        return x, y
    return fn


def batches_float_ids(data, batch_size, seq_len):
    """Builds the windows in a float buffer (np.zeros defaults to float64)."""
    L = (len(data) - 1) // batch_size
    K = L // seq_len
    x, y = np.zeros((K, seq_len, batch_size)), np.zeros((K, seq_len, batch_size))
    for b in range(batch_size):
        for k in range(K):
            start = b * L + k * seq_len
            x[k, :, b] = data[start:start + seq_len]
            y[k, :, b] = data[start + 1:start + seq_len + 1]
    return x, y


CORRECT_BATCHES = [batches_ok, batches_index_loops, batches_torch_numpy]
WRONG_BATCHES = [
    (_batches(interleave=True), ["interleaved"]),
    (_batches(shift=False), ["not shifted"]),
    (_batches(roll=True), ["roll", "wraps", "last target"]),
    (_batches(L_rule="n"), ["(n - 1) // b", "kept back", "one character"]),
    (_batches(K_rule="ceil", pad_last=True), ["ragged", "partial"]),
    (_batches(K_rule="minus1"), ["(l - 1) // t", "one window too few", "window too few",
                                 "whole window"]),
    (_batches(trim="start"), ["wrong end", "the start"]),
    (_batches(text_trim="start"), ["wrong end", "the start", "beginning"]),
    (_batches(layout="KBT"), ["time-major"]),
    (_batches(layout="scrambled"), ["layout", "reshape"]),
    (_batches(dtype=np.float64), ["int"]),
    (batches_float_ids, ["int"]),
    (_batches(as_list=True), ["numpy array", "np.stack"]),
    (_batches(stride=1), ["overlapping"]),
]


# =========================================================================== train_tbptt
def train_ok(model, batches, optimizer, max_norm):
    losses, state = [], None
    for x, y in batches:
        logits, state = model(x, state)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        state = tuple(s.detach() for s in state)
        losses.append(loss.item())
    return losses


def train_nll_permute(model, batches, optimizer, max_norm):
    """log_softmax + nll_loss on (B, V, T) logits; detach at the window start; float()."""
    losses, state = [], None
    for x, y in batches:
        if state is not None:
            state = [s.detach() for s in state]
        logits, state = model(x, state)
        loss = F.nll_loss(F.log_softmax(logits, -1).permute(1, 2, 0), y.T)
        model.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(model.parameters()), max_norm)
        optimizer.step()
        losses.append(float(loss))
    return losses


def _train(carry=True, detach="all", zero="before", clip="norm_before", reduction="mean",
           bits=False, record="item", transpose_y=False, result="list"):
    def fn(model, batches, optimizer, max_norm):
        losses, state = [], None
        for x, y in batches:
            logits, new_state = model(x, state if carry else None)
            V = logits.shape[-1]
            yy = y.T.reshape(-1) if transpose_y else y.reshape(-1)
            loss = F.cross_entropy(logits.reshape(-1, V), yy, reduction=reduction)
            if bits:
                loss = loss / math.log(2)
            if zero == "before":
                optimizer.zero_grad()
            loss.backward()
            if zero == "between":
                optimizer.zero_grad()
            if clip == "norm_before":
                torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
            elif clip == "value":
                torch.nn.utils.clip_grad_value_(model.parameters(), max_norm)
            optimizer.step()
            if clip == "norm_after":
                torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
            if detach == "all":
                state = tuple(s.detach() for s in new_state)
            elif detach == "h_only":
                state = (new_state[0].detach(), new_state[1])
            else:
                state = new_state
            losses.append({"item": loss.item(), "tensor": loss, "detached": loss.detach()}[record])
        if result == "mean":
            return sum(losses) / len(losses)
        return losses
    return fn


CORRECT_TRAIN = [train_ok, train_nll_permute]
WRONG_TRAIN = [
    (_train(carry=False), ["state not carried"]),
    (_train(detach="none"), ["not detached"]),
    (_train(detach="h_only"), ["not detached"]),
    (_train(zero="never"), ["not zeroed"]),
    (_train(zero="between"), ["zeroed after backward"]),
    (_train(clip="norm_after"), ["clipping after the step"]),
    (_train(clip="none"), ["no clipping"]),
    (_train(clip="value"), ["clip_grad_value_", "clip_grad_norm_"]),
    (_train(reduction="sum"), ["loss summed"]),
    (_train(bits=True), ["bits", "ln 2"]),
    (_train(record="tensor"), ["float", ".item()"]),
    (_train(record="detached"), ["float", ".item()"]),
    (_train(transpose_y=True), ["different order"]),
    (_train(result="mean"), ["list"]),
]


# =========================================================================== next_char_probs
def probs_ok(logits, temperature=1.0, top_k=None):
    z = np.asarray(logits, dtype=np.float64) / temperature
    if top_k is not None:
        kth = np.sort(z, axis=-1)[..., -top_k][..., None]
        z = np.where(z >= kth, z, -np.inf)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def probs_torch(logits, temperature=1.0, top_k=None):
    p = torch.softmax(torch.as_tensor(logits, dtype=torch.float32) / temperature, dim=-1)
    if top_k:
        vals, idx = p.topk(top_k, dim=-1)
        p = torch.zeros_like(p).scatter(-1, idx, vals)
        p = p / p.sum(-1, keepdim=True)
    return p.double().numpy()


def probs_argpartition_scipy(logits, temperature=1.0, top_k=None):
    from scipy.special import softmax
    p = softmax(np.asarray(logits) / temperature, axis=-1)
    if top_k is not None and top_k < p.shape[-1]:
        drop = np.argpartition(p, -top_k, axis=-1)[..., :-top_k]
        p = p.copy()
        np.put_along_axis(p, drop, 0.0, axis=-1)
        p /= p.sum(axis=-1, keepdims=True)
    return p


def _probs(scale="divide", stable="row", norm_axis=-1, topk="ok", renorm=True):
    def fn(logits, temperature=1.0, top_k=None):
        z = np.asarray(logits, dtype=np.float64)
        if scale == "divide":
            z = z / temperature
        elif scale == "multiply":
            z = z * temperature
        m = {"row": z.max(axis=-1, keepdims=True), "global": z.max(), "none": 0.0}[stable]
        e = np.exp(z - m)
        p = e / (e.sum(axis=norm_axis, keepdims=True) if norm_axis != "all" else e.sum())
        if scale == "power":
            p = p ** (1 / temperature)
            p = p / p.sum(axis=-1, keepdims=True)
        if top_k is not None and topk != "ignore":
            p = p.copy()
            if topk == "ok":
                idx = np.argsort(p, axis=-1)[..., :-top_k]
            elif topk == "smallest":
                idx = np.argsort(p, axis=-1)[..., top_k:]
            elif topk == "plus1":
                idx = np.argsort(p, axis=-1)[..., :-(top_k + 1)]
            elif topk == "minus1":
                idx = np.argsort(p, axis=-1)[..., :-(top_k - 1)] if top_k > 1 else \
                    np.argsort(p, axis=-1)
            if topk == "flat":
                flat = p.reshape(-1)
                keep = np.argsort(flat)[-top_k:]
                q = np.zeros_like(flat)
                q[keep] = flat[keep]
                p = q.reshape(p.shape)
            elif topk == "axis0":
                idx = np.argsort(p, axis=0)[:-top_k] if p.ndim > 1 else idx
                np.put_along_axis(p, idx, 0.0, axis=0 if p.ndim > 1 else -1)
            else:
                np.put_along_axis(p, idx, 0.0, axis=-1)
            if renorm:
                p = p / p.sum(axis=-1, keepdims=True)
        return p
    return fn


def probs_power_no_renorm(logits, temperature=1.0, top_k=None):
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - z.max(-1, keepdims=True))
    p = (e / e.sum(-1, keepdims=True)) ** (1 / temperature)
    if top_k:
        p = np.where(p >= np.sort(p, -1)[..., -top_k:][..., :1], p, 0)
        p = p / p.sum(-1, keepdims=True)
    return p


def probs_in_place(logits, temperature=1.0, top_k=None):
    logits /= temperature
    return probs_ok(logits, 1.0, top_k)


# p ** (1 / T) renormalised IS softmax(z / T): a correct style
CORRECT_PROBS = [probs_ok, probs_torch, probs_argpartition_scipy, _probs(scale="power")]
WRONG_PROBS = [
    (_probs(scale="multiply"), ["multiplying by the temperature"]),
    (_probs(renorm=False), ["without renormalising"]),
    (probs_power_no_renorm, ["after the softmax"]),
    (_probs(scale="ignore"), ["temperature ignored"]),
    (_probs(stable="none"), ["max-subtraction"]),
    (_probs(stable="global"), ["whole-batch", "whole batch", "per row", "per-row"]),
    (_probs(norm_axis=0), ["wrong axis", "last axis"]),
    (_probs(norm_axis="all"), ["whole array", "whole batch", "each row sums"]),
    (_probs(topk="smallest"), ["smallest"]),
    (_probs(topk="plus1"), ["keeps 4 non-zero"]),
    (_probs(topk="minus1"), ["keeps 2 non-zero"]),
    (_probs(topk="flat"), ["flattened", "whole batch"]),
    (_probs(topk="ignore"), ["all 8 entries although top_k"]),
    (probs_in_place, ["in place"]),
]


# =========================================================================== gru_hidden_for_lstm
def _lstm_count(I, H):
    return 4 * H * (I + H + 2)


def gru_linear_search(input_size, lstm_hidden):
    P = _lstm_count(input_size, lstm_hidden)
    best, h = 1, 1
    while 3 * h * (input_size + h + 2) <= P + 3 * (input_size + 2 * h + 3):
        if abs(3 * h * (input_size + h + 2) - P) < abs(3 * best * (input_size + best + 2) - P):
            best = h
        h += 1
    return best


def gru_torch_counts(input_size, lstm_hidden):
    def n(m):
        return sum(p.numel() for p in m.parameters())
    with torch.device("meta"):
        P = n(torch.nn.LSTM(input_size, lstm_hidden))
        r = (-(input_size + 2) + math.sqrt((input_size + 2) ** 2 + 4 * P / 3)) / 2
        cands = sorted({max(1, math.floor(r)), max(1, math.ceil(r)), max(1, math.floor(r) + 1)})
        return min(cands, key=lambda h: (abs(n(torch.nn.GRU(input_size, h)) - P), h))


def gru_numpy_roots(input_size, lstm_hidden):
    P = _lstm_count(input_size, lstm_hidden)
    r = max(np.roots([3, 3 * (input_size + 2), -P]).real)
    lo = max(1, int(np.floor(r)))
    d = [abs(3 * h * (input_size + h + 2) - P) for h in (lo, lo + 1)]
    return lo if d[0] <= d[1] else lo + 1


def _gru(rule="closest", biases=2, weights="all", tie="small", out="int"):
    def fn(input_size, lstm_hidden):
        I, H = input_size, lstm_hidden
        if weights == "all":
            P = 4 * H * (I + H + biases)

            def g(h):
                return 3 * h * (I + h + biases)
            b = I + biases
        else:  # hidden-to-hidden only
            P, b = 4 * H * (H + biases), biases

            def g(h):
                return 3 * h * (h + biases)
        r = (-b + math.sqrt(b * b + 4 * P / 3)) / 2
        if rule == "round":
            h = round(r)
        elif rule == "floor":
            h = int(r)
        elif rule == "ceil":
            h = math.ceil(r)
        elif rule == "three_quarters":
            h = round(0.75 * H)
        elif rule == "four_thirds":
            h = round(4 * H / 3)
        else:
            lo = math.floor(r)
            dl, dh = abs(g(lo) - P), abs(g(lo + 1) - P)
            if tie == "small":
                h = lo if dl <= dh else lo + 1
            else:
                h = lo if dl < dh else lo + 1
        h = max(1, h)
        if out == "float":
            return float(h)
        if out == "np":
            return np.int64(h)
        if out == "np_round":
            return np.round(r)
        return h
    return fn


CORRECT_GRU = [gru_linear_search, gru_torch_counts, gru_numpy_roots, _gru()]
WRONG_GRU = [
    (_gru(rule="round"), ["rounding the real root"]),
    (_gru(rule="floor"), ["floor"]),
    (_gru(rule="ceil"), ["ceil"]),
    (_gru(tie="large"), ["tie broken towards the larger"]),
    (_gru(biases=1), ["one bias"]),
    (_gru(biases=0), ["biases ignored"]),
    (_gru(weights="hh"), ["input weights ignored"]),
    (_gru(rule="three_quarters"), ["3/4"]),
    (_gru(rule="four_thirds"), ["4/3"]),
    (_gru(out="float"), ["python int", "an int"]),
    (_gru(out="np"), ["python int", "an int"]),
    (_gru(rule="round", out="np_round"), ["python int", "an int"]),
]


CORRECT = {"lstm_stack_forward": CORRECT_STACK, "lstm_forward_padded": CORRECT_PADDED,
           "bits_per_char": CORRECT_BITS, "tbptt_batches": CORRECT_BATCHES,
           "train_tbptt": CORRECT_TRAIN, "next_char_probs": CORRECT_PROBS,
           "gru_hidden_for_lstm_params": CORRECT_GRU}
WRONG = {"lstm_stack_forward": WRONG_STACK, "lstm_forward_padded": WRONG_PADDED,
         "bits_per_char": WRONG_BITS, "tbptt_batches": WRONG_BATCHES,
         "train_tbptt": WRONG_TRAIN, "next_char_probs": WRONG_PROBS,
         "gru_hidden_for_lstm_params": WRONG_GRU}
