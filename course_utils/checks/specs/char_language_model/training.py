"""``train_tbptt(model, batches, optimizer, max_norm) -> losses``: truncated BPTT.

The model interface (the notebook's ``CharModel`` and the checker's tiny model)::

    logits, state = model(x, state)     # x (T, B) int64; logits (T, B, V); state=None to start,
                                        # then the tuple of tensors the model returned

``batches`` yields ``(x, y)`` pairs of (T, B) int64 tensors, consecutive windows of the same
B streams (see ``tbptt_batches``). For every window, in order (Williams & Peng 1990; the
training loop of Zaremba et al. 2014 and of char-rnn, Karpathy 2015)::

    logits, state = model(x, state)                         # start from the carried state
    loss = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1))   # mean over T*B, in nats
    optimizer.zero_grad(); loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm); optimizer.step()
    state = tuple(s.detach() for s in state)                # keep the values, cut the graph
    losses.append(loss.item())

and return the list of the K losses (floats). The checker trains a tiny float64 LSTM for 4
windows (deterministic on CPU) and compares the losses with the reference loop's. Its model
refuses a state that still carries the previous window's graph, with a message that says so
(plain nn.LSTM would fail later, inside ``backward``, with a message that suggests the wrong fix).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...spec import Case, Mistake, Spec

ARGS = ("model", "batches", "optimizer", "max_norm")
WINDOWS = 4
OUTPUT = tuple(f"loss[{k}]" for k in range(WINDOWS))

SOURCE = '''
import torch
from torch import nn

torch.manual_seed({seed})


class TinyCharModel(nn.Module):
    """logits, state = model(x, state): x (T, B) int64 -> logits (T, B, V), state (h, c)."""

    def __init__(self, V, E, H):
        super().__init__()
        self.embed = nn.Embedding(V, E)
        self.rnn = nn.LSTM(E, H)
        self.head = nn.Linear(H, V)

    def forward(self, x, state=None):
        if state is not None and any(s.grad_fn is not None for s in state):
            raise RuntimeError(
                "state not detached: the state given to the model still carries the previous "
                "window's graph; detach it after each window, state = tuple(s.detach() for s "
                "in state), so that backward stops at the window's start")
        out, state = self.rnn(self.embed(x), state)        # (T, B, H)
        return self.head(out), state                        # (T, B, V)


V, E, H, T, B, K = {V}, {E}, {H}, {T}, {B}, {K}
model = TinyCharModel(V, E, H).double()
gen = torch.Generator().manual_seed({seed} + 1)
text = torch.randint(0, V, (B, K * T + 1), generator=gen)  # B contiguous streams
batches = [(text[:, k * T:(k + 1) * T].T.contiguous(),
            text[:, k * T + 1:(k + 1) * T + 1].T.contiguous()) for k in range(K)]
optimizer = {optimizer}
args = (model, batches, optimizer, {max_norm})
'''


def make_cases(seed: int) -> list[Case]:
    """Tiny float64 LSTMs: SGD with active clipping (batch 3 and batch 1), Adam without."""
    settings = [("V=7, E=3, H=5, T=6, B=3, SGD lr=0.5, max_norm=0.1", 7, 3, 5, 6, 3,
                 "torch.optim.SGD(model.parameters(), lr=0.5)", 0.1),
                ("V=6, E=4, H=3, T=5, B=1, SGD lr=1.0, max_norm=0.05", 6, 4, 3, 5, 1,
                 "torch.optim.SGD(model.parameters(), lr=1.0)", 0.05),
                ("V=5, E=2, H=4, T=7, B=2, Adam lr=0.05, max_norm=100", 5, 2, 4, 7, 2,
                 "torch.optim.Adam(model.parameters(), lr=0.05)", 100.0)]
    cases = []
    for i, (label, V, E, H, T, B, opt, max_norm) in enumerate(settings):
        src = SOURCE.format(seed=1000 * seed + i, V=V, E=E, H=H, T=T, B=B, K=WINDOWS,
                            optimizer=opt, max_norm=max_norm)
        cases.append(Case(label, source=src))
    return cases


def detach_state(state: Any) -> Any:
    """A tensor or a tuple of tensors, detached (values kept, graph cut)."""
    if state is None:
        return None
    if isinstance(state, (tuple, list)):
        return tuple(s.detach() for s in state)
    return state.detach()


def _loop(model, batches, optimizer, max_norm, *, carry: bool = True, zero: str = "before",
          clip: str = "before", reduction: str = "mean", targets: str = "same") -> list[float]:
    """The TBPTT loop with switches that reproduce the catalogued mistakes (defaults: correct)."""
    import torch
    import torch.nn.functional as F

    losses, state = [], None
    for x, y in batches:
        logits, new_state = model(x, state if carry else None)       # (T, B, V)
        V = logits.shape[-1]
        flat_y = y.T.reshape(-1) if targets == "transposed" else y.reshape(-1)
        per_char = F.cross_entropy(logits.reshape(-1, V), flat_y, reduction="none")
        if reduction == "sum":
            loss = per_char.sum()
        elif reduction == "sum_time":
            loss = per_char.reshape(y.shape).sum(0).mean()
        elif reduction == "bits":
            loss = per_char.mean() / math.log(2.0)
        else:
            loss = per_char.mean()
        if zero == "before":
            optimizer.zero_grad()
        loss.backward()
        if clip == "before":
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        elif clip == "value":
            torch.nn.utils.clip_grad_value_(model.parameters(), max_norm)
        if zero == "between":
            optimizer.zero_grad()
        optimizer.step()
        state = detach_state(new_state)
        losses.append(loss.item())
    return losses


def ref_train_tbptt(model, batches, optimizer, max_norm: float) -> list[float]:
    """The reference loop: carry and detach the state, zero, backward, clip, step."""
    return _loop(model, batches, optimizer, max_norm)


def _variant(**switches: Any):
    def fn(model, batches, optimizer, max_norm):
        return _loop(model, batches, optimizer, max_norm, **switches)
    return fn


MISTAKES = [
    Mistake("state not carried", "each window must start from the state the previous window "
            "ended with (state=None only before the first window): pass it to model(x, state)",
            _variant(carry=False)),
    Mistake("gradients not zeroed", "loss.backward() ADDS to .grad: call optimizer.zero_grad() "
            "before it in every window, or the gradients of all earlier windows pile up",
            _variant(zero="never")),
    Mistake("gradients zeroed after backward", "optimizer.zero_grad() between backward and "
            "step wipes the gradients just computed: zero them before loss.backward()",
            _variant(zero="between")),
    Mistake("clipping after the step (or no clipping)", "clip_grad_norm_ must come between "
            "loss.backward() and optimizer.step(): after the step it clips gradients that have "
            "already been used", _variant(clip="after")),
    Mistake("loss summed", "use the MEAN cross-entropy over all T·B characters (F.cross_entropy's "
            "default): a sum makes the step size depend on T and B, and the losses not per "
            "character", _variant(reduction="sum")),
    Mistake("loss summed over time", "average over every character (T·B of them), not over the "
            "batch only", _variant(reduction="sum_time")),
    Mistake("each gradient entry clipped (clip_grad_value_)", "clip the global NORM of all the "
            "gradients together, torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm): "
            "it keeps the gradient's direction, clip_grad_value_ does not", _variant(clip="value")),
    Mistake("the loss in bits", "the loss to minimise and record is the mean cross-entropy in "
            "nats, F.cross_entropy's default; bits (÷ ln 2) are for reporting, and dividing the "
            "loss also scales every gradient", _variant(reduction="bits")),
    Mistake("the targets flattened in a different order than the logits", "logits.reshape(-1, "
            "V) flattens (T, B) time-major, so flatten y the same way, y.reshape(-1) (not y.T): "
            "otherwise each prediction is scored against another position's character",
            _variant(targets="transposed")),
]


def check_types(case, value: Any) -> str | None:
    """The notebook says: return the list of the losses (floats, loss.item())."""
    if not isinstance(value, (list, tuple)):
        if type(value).__name__ in ("float", "Tensor", "ndarray") or isinstance(value, float):
            return (f"train_tbptt returned one {type(value).__name__}: return the LIST of the "
                    "losses, one per window (losses.append(loss.item()) inside the loop)")
        return None
    for k, v in enumerate(value):
        if isinstance(v, float):
            continue
        kind = type(v).__name__
        if kind == "Tensor":
            graph = getattr(v, "grad_fn", None) is not None
            return (f"loss[{k}] is a torch tensor{' that still holds its graph' if graph else ''}"
                    ": append loss.item(), a Python float — a list of loss tensors keeps "
                    + ("every window's graph (and its activations) alive, so memory grows with "
                       "each window" if graph else "tensors (and their device) alive")
                    + ", and plots and logs expect numbers")
        if isinstance(v, (np.ndarray, np.generic)):
            return (f"loss[{k}] is a numpy {kind}: append loss.item(), a Python float (a loss "
                    "tensor sent through the grader arrives as an array)")
        return f"loss[{k}] is a {kind}: append loss.item(), a Python float"
    return None


def diagnose(got: dict, exp: dict, brief: bool = False) -> str | None:
    """Which window's loss first differs, and what that points to."""
    wrong = [k for k in range(WINDOWS) if abs(float(got[f"loss[{k}]"]) - float(exp[f"loss[{k}]"]))
             > 1e-5 * (1 + abs(float(exp[f"loss[{k}]"])))]
    if not wrong:
        return None
    k = wrong[0]
    if brief:
        return f"the losses first differ at window {k}"
    if k == 0:
        return ("the first window's loss already differs, before any update: compute the mean "
                "cross-entropy in nats, F.cross_entropy(logits.reshape(-1, V), y.reshape(-1)), "
                "and record it with loss.item() before the step")
    return (f"windows 0..{k - 1} are right and window {k} differs: look at what one window "
            "hands to the next — the state (carried, detached), the gradients (zeroed before "
            "backward), the update (clipped between backward and step)")


SPEC = Spec(id="train_tbptt", title="the truncated-BPTT training loop",
            notebook="07_char_language_model", arg_names=ARGS, output=OUTPUT,
            make_cases=make_cases, reference=ref_train_tbptt, mistakes=MISTAKES,
            rtol=1e-6, atol=1e-8, points=3, sandbox_modules=("torch",), diagnose=diagnose,
            check_types=check_types)
