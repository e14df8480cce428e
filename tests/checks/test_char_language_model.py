"""Notebook 07's checkers: correct solutions in several styles pass; learners' mistakes are named.

The wrong implementations below are written as a learner would write them, independently of
the spec's own mistake functions.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from course_utils import checks  # noqa: E402
from course_utils.checks import SPECS, run_spec  # noqa: E402

check_bits_per_char = checks.check_bits_per_char
check_next_char_probs = checks.check_next_char_probs
check_tbptt_batches, check_train_tbptt = checks.check_tbptt_batches, checks.check_train_tbptt

NOTEBOOK = "07_char_language_model"
IDS = ("bits_per_char", "tbptt_batches", "train_tbptt", "next_char_probs")


@pytest.mark.parametrize("exercise", IDS)
def test_references_pass_and_are_registered(exercise):
    spec = SPECS[exercise]
    assert spec.notebook == NOTEBOOK
    assert run_spec(spec, spec.reference).passed
    assert run_spec(spec, spec.reference, seed=7).passed


# --------------------------------------------------------------------------- bits_per_char
def bpc_numpy(logits, targets):
    z = np.asarray(logits, dtype=np.float64)
    m = z.max(axis=-1, keepdims=True)
    logp = z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))
    return float(-np.take_along_axis(logp, np.asarray(targets)[..., None], -1).mean() / np.log(2))


def bpc_logaddexp_float32(logits, targets):
    z = np.asarray(logits, dtype=np.float32).reshape(-1, np.shape(logits)[-1])
    y = np.asarray(targets).reshape(-1)
    lse = np.logaddexp.reduce(z, axis=1)
    return float(np.mean(lse - z[np.arange(len(y)), y]) / math.log(2))


def bpc_torch(logits, targets):
    z = torch.tensor(logits)
    y = torch.tensor(targets).reshape(-1)
    return F.cross_entropy(z.reshape(-1, z.shape[-1]), y) / math.log(2)


def bpc_nats(logits, targets):
    z = np.asarray(logits)
    m = z.max(-1, keepdims=True)
    logp = z - m - np.log(np.exp(z - m).sum(-1, keepdims=True))
    return float(-np.take_along_axis(logp, np.asarray(targets)[..., None], -1).mean())


def bpc_naive(logits, targets):
    p = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    return float(-np.log2(np.take_along_axis(p, np.asarray(targets)[..., None], -1)).mean())


def bpc_axis0(logits, targets):
    z = np.asarray(logits)
    m = z.max(0, keepdims=True)
    logp = z - m - np.log(np.exp(z - m).sum(0, keepdims=True))
    return float(-np.take_along_axis(logp, np.asarray(targets)[..., None], -1).mean() / np.log(2))


def bpc_sum(logits, targets):
    z = torch.tensor(logits)
    return float(F.cross_entropy(z.reshape(-1, z.shape[-1]), torch.tensor(targets).reshape(-1),
                                 reduction="sum")) / math.log(2)


@pytest.mark.parametrize("fn", [bpc_numpy, bpc_logaddexp_float32,
                                lambda z, y: float(bpc_torch(z, y))])
def test_bits_per_char_correct(fn):
    assert check_bits_per_char(fn).passed


def test_bits_per_char_tensor_is_refused_with_the_reason():
    """The notebook asks for a Python float: a tensor keeps its graph and device alive."""
    result = check_bits_per_char(bpc_torch)
    assert not result.passed and "Python float" in result.message
    assert ".item()" in result.message


@pytest.mark.parametrize("fn, name", [(bpc_nats, "nats"), (bpc_axis0, "wrong axis"),
                                      (bpc_sum, "sum instead of a mean")])
def test_bits_per_char_mistakes_named(fn, name):
    result = check_bits_per_char(fn)
    assert not result.passed and name in result.message


def test_bits_per_char_overflow_is_explained():
    with np.errstate(all="ignore"):
        result = check_bits_per_char(bpc_naive)
    assert not result.passed
    assert "maximum is subtracted" in result.message or "max-subtraction" in result.message


# --------------------------------------------------------------------------- tbptt_batches
def batches_loop(data, batch_size, seq_len):
    L = (len(data) - 1) // batch_size
    xs, ys = [], []
    for k in range(L // seq_len):
        xw = np.empty((seq_len, batch_size), dtype=np.int64)
        yw = np.empty_like(xw)
        for b in range(batch_size):
            start = b * L + k * seq_len
            xw[:, b] = data[start:start + seq_len]
            yw[:, b] = data[start + 1:start + seq_len + 1]
        xs.append(xw)
        ys.append(yw)
    return np.stack(xs), np.stack(ys)


def batches_torch(data, batch_size, seq_len):
    d = torch.as_tensor(data)
    L = (len(d) - 1) // batch_size
    K = L // seq_len
    x = d[:batch_size * L].view(batch_size, L)[:, :K * seq_len].unfold(1, seq_len, seq_len)
    y = d[1:batch_size * L + 1].view(batch_size, L)[:, :K * seq_len].unfold(1, seq_len, seq_len)
    return x.permute(1, 2, 0).numpy(), y.permute(1, 2, 0).numpy()             # (K, T, B)


def _streams(data, batch_size, order="C"):
    L = (len(data) - 1) // batch_size
    if order == "C":
        return (data[:batch_size * L].reshape(batch_size, L),
                data[1:batch_size * L + 1].reshape(batch_size, L))
    return (data[:batch_size * L].reshape(L, batch_size).T,
            data[1:batch_size * L + 1].reshape(L, batch_size).T)


def _cut(s, t, seq_len, step=None, targets_from=None):
    K = s.shape[1] // seq_len
    step = step or seq_len
    x = np.stack([s[:, k * step:k * step + seq_len].T for k in range(K)])
    src = t if targets_from is None else targets_from
    y = np.stack([src[:, k * step:k * step + seq_len].T for k in range(K)])
    return x, y


def batches_interleaved(data, batch_size, seq_len):
    s, t = _streams(np.asarray(data), batch_size, order="F")
    return _cut(s, t, seq_len)


def batches_unshifted(data, batch_size, seq_len):
    s, t = _streams(np.asarray(data), batch_size)
    return _cut(s, t, seq_len, targets_from=s)


def batches_sliding(data, batch_size, seq_len):
    s, t = _streams(np.asarray(data), batch_size)
    return _cut(s, t, seq_len, step=1)


def batches_random(data, batch_size, seq_len):
    rng = np.random.default_rng(0)
    s, t = _streams(np.asarray(data), batch_size)
    K = s.shape[1] // seq_len
    starts = rng.integers(0, s.shape[1] - seq_len, K)
    return (np.stack([s[:, a:a + seq_len].T for a in starts]),
            np.stack([t[:, a:a + seq_len].T for a in starts]))


def batches_ragged(data, batch_size, seq_len):
    s, t = _streams(np.asarray(data), batch_size)
    xs = [s[:, k:k + seq_len].T for k in range(0, s.shape[1], seq_len)]
    ys = [t[:, k:k + seq_len].T for k in range(0, s.shape[1], seq_len)]
    return np.stack(xs), np.stack(ys)          # fails when the last window is short


@pytest.mark.parametrize("fn", [batches_loop, batches_torch])
def test_tbptt_batches_correct(fn):
    assert check_tbptt_batches(fn).passed


@pytest.mark.parametrize("fn, name", [(batches_interleaved, "interleaved"),
                                      (batches_unshifted, "not shifted"),
                                      (batches_sliding, "overlapping"),
                                      (batches_random, "not random, shuffled or overlapping"),
                                      (batches_ragged, "ragged")])
def test_tbptt_batches_mistakes_named(fn, name):
    result = check_tbptt_batches(fn)
    assert not result.passed and name in result.message, result.message


# --------------------------------------------------------------------------- train_tbptt
def train_plain(model, batches, optimizer, max_norm):
    losses, state = [], None
    for x, y in batches:
        logits, state = model(x, state)
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        state = tuple(s.detach() for s in state)
        losses.append(loss.item())
    return losses


def train_log_softmax(model, batches, optimizer, max_norm):
    """Manual log-softmax, detach at the start of each window, tensors returned."""
    out, state = [], None
    for x, y in batches:
        if state is not None:
            state = [s.detach() for s in state]
        logits, state = model(x, state)
        logp = torch.log_softmax(logits, dim=-1)
        loss = -logp.gather(-1, y.unsqueeze(-1)).mean()
        model.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        out.append(loss.detach())
    return out


def _train(model, batches, optimizer, max_norm, carry=True, detach=True, zero=True,
           clip_first=True, total=False):
    losses, state = [], None
    for x, y in batches:
        logits, new_state = model(x, state if carry else None)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1),
                               reduction="sum" if total else "mean")
        if zero:
            optimizer.zero_grad()
        loss.backward()
        if clip_first:
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        if not clip_first:
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        state = tuple(s.detach() for s in new_state) if detach else new_state
        losses.append(loss.item())
    return losses


def train_log_softmax_items(model, batches, optimizer, max_norm):
    return [t.item() for t in train_log_softmax(model, batches, optimizer, max_norm)]


@pytest.mark.parametrize("fn", [train_plain, train_log_softmax_items])
def test_train_tbptt_correct(fn):
    assert check_train_tbptt(fn).passed


def test_train_tbptt_tensor_losses_are_refused_with_the_reason():
    """The notebook asks for floats (loss.item()); detached tensors are refused too."""
    result = check_train_tbptt(train_log_softmax)
    assert not result.passed and "loss.item()" in result.message and "tensor" in result.message


@pytest.mark.parametrize("switch, name", [({"carry": False}, "state not carried"),
                                          ({"detach": False}, "state not detached"),
                                          ({"zero": False}, "gradients not zeroed"),
                                          ({"clip_first": False}, "clipping after the step"),
                                          ({"total": True}, "loss summed")])
def test_train_tbptt_mistakes_named(switch, name):
    def fn(model, batches, optimizer, max_norm):
        return _train(model, batches, optimizer, max_norm, **switch)

    result = check_train_tbptt(fn)
    assert not result.passed and name in result.message, result.message


def test_train_tbptt_wrong_count_says_so():
    result = check_train_tbptt(lambda *a: train_plain(*a)[:-1])
    assert not result.passed and "values" in result.message


# --------------------------------------------------------------------------- next_char_probs
def probs_numpy(logits, temperature=1.0, top_k=None):
    z = np.asarray(logits) / temperature
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    if top_k is not None:
        kth = np.sort(p, axis=-1)[..., -top_k][..., None]
        p = np.where(p >= kth, p, 0.0)
        p /= p.sum(axis=-1, keepdims=True)
    return p


def probs_torch_float32(logits, temperature=1.0, top_k=None):
    z = torch.tensor(logits, dtype=torch.float32) / temperature
    if top_k:
        v, i = torch.topk(z, top_k, dim=-1)
        z = torch.full_like(z, -float("inf")).scatter(-1, i, v)
    return torch.softmax(z, -1).numpy()


def probs_times_t(logits, temperature=1.0, top_k=None):
    return probs_numpy(np.asarray(logits) * temperature ** 2, temperature, top_k)


def probs_no_renorm(logits, temperature=1.0, top_k=None):
    p = probs_numpy(logits, temperature)
    if top_k is not None:
        cut = np.sort(p, axis=-1)[..., -top_k][..., None]
        p = p * (p >= cut)
    return p


def probs_power_after(logits, temperature=1.0, top_k=None):
    p = probs_numpy(logits, 1.0) ** (1.0 / temperature)
    if top_k is not None:
        cut = np.sort(p, axis=-1)[..., -top_k][..., None]
        p = p * (p >= cut)
    return p


@pytest.mark.parametrize("fn", [probs_numpy, probs_torch_float32])
def test_next_char_probs_correct(fn):
    assert check_next_char_probs(fn).passed


@pytest.mark.parametrize("fn, name", [(probs_times_t, "multiplying by the temperature"),
                                      (probs_no_renorm, "top-k without renormalising"),
                                      (probs_power_after, "after the softmax")])
def test_next_char_probs_mistakes_named(fn, name):
    result = check_next_char_probs(fn)
    assert not result.passed and name in result.message, result.message
