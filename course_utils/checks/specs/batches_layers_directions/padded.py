"""Spec of ``lstm_forward_padded``: a one-layer LSTM over a padded batch of unequal lengths.

Signature (time-major, PyTorch's layouts)::

    lstm_forward_padded(x, lengths, h0, c0, W_ih, W_hh, b_ih, b_hh) -> (output, (h_n, c_n))
    x        (T, B, I)   sequence b occupies x[:lengths[b], b]; the rest is padding whose values
                         are arbitrary (here: noise) and must not be read
    lengths  (B,)        ints in 1..T, in any order
    h0, c0   (B, H)      as in notebook 03's lstm_forward
    output   (T, B, H)   h_t for t < lengths[b], exactly 0 past it
    h_n, c_n (B, H)      each sequence's state after its *own* last step t = lengths[b] - 1

The reference is ``torch.nn.LSTM`` in float64 on ``pack_padded_sequence(x, lengths,
enforce_sorted=False)``, unpacked with ``pad_packed_sequence(..., total_length=T)``: what every
PyTorch model that batches sentences does (PyTorch documentation, ``torch.nn.utils.rnn``).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ...properties import aliased_steps, both_orders, state_mistake
from ...recurrent import random_params, rng_for, sigmoid, torch_module
from ...spec import Case, Mistake, Spec
from ..lstm import CELL_MISTAKES

ARGS = ("x", "lengths", "h0", "c0", "W_ih", "W_hh", "b_ih", "b_hh")
RTOL, ATOL = 1e-4, 1e-5

# (T, B, I, H, lengths): T, B, I, H distinct; lengths unsorted and distinct within a batch
# (so no tie decides an order), including 1 and T; batch 1 (shorter than T) and batch > 1.
CONFIGS: tuple[tuple[int, int, int, int, tuple[int, ...]], ...] = (
    (6, 3, 5, 4, (4, 6, 1)), (5, 1, 3, 7, (3,)), (7, 2, 4, 5, (7, 2)),
    (8, 5, 6, 3, (2, 8, 1, 5, 3)))


def _draw_lengths(rng: np.random.Generator, T: int, like: tuple[int, ...]) -> tuple[int, ...]:
    """Distinct lengths in 1..T, unsorted, with 1 and T present wherever ``like`` has them
    (a lone sequence stays shorter than T when ``like``'s is)."""
    B = len(like)
    must = [v for v in (1, T) if v in like]
    while True:
        rest = rng.choice(np.arange(2, T), B - len(must), replace=False).tolist() \
            if B > len(must) else []
        drawn = [int(v) for v in rng.permutation(must + rest)]
        if B == 1 or drawn != sorted(drawn, reverse=True):
            return tuple(drawn)


def make_cases(seed: int, group: str = "public") -> list[Case]:
    """A padded batch per configuration; the padding holds noise, as a reused buffer would."""
    cases = []
    for n, (T, B, I, H, lengths) in enumerate(CONFIGS):
        rng = rng_for(seed, 700 + n)
        if seed != 0:  # other seeds draw lengths of the same kind (see _draw_lengths)
            lengths = _draw_lengths(rng, T, lengths)
        x = rng.normal(size=(T, B, I))                              # (T, B, I), padding = noise
        h0 = rng.normal(0.0, 0.8, size=(B, H))
        c0 = rng.normal(size=(B, H))
        params = random_params(rng, 4, I, H)
        label = f"T={T}, B={B}, I={I}, H={H}, lengths={list(lengths)}"
        cases.append(Case(label, (x, np.array(lengths, dtype=np.int64), h0, c0, *params),
                          group=group, dims={"T": T, "B": B, "I": I, "H": H}))
    return cases


def ref_lstm_forward_padded(x, lengths, h0, c0, W_ih, W_hh, b_ih, b_hh) -> Any:
    """``nn.LSTM`` on ``pack_padded_sequence`` / ``pad_packed_sequence`` (float64, numpy out)."""
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    lstm = torch_module("lstm", W_ih, W_hh, b_ih, b_hh, cell=False)
    x = np.asarray(x, dtype=np.float64)
    packed = pack_padded_sequence(torch.from_numpy(x),
                                  torch.as_tensor(np.asarray(lengths), dtype=torch.int64),
                                  enforce_sorted=False)
    h0_t = torch.from_numpy(np.asarray(h0, dtype=np.float64))[None]        # (1, B, H)
    c0_t = torch.from_numpy(np.asarray(c0, dtype=np.float64))[None]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny problems: more threads only spin (100x slower if loaded)
    try:
        with torch.no_grad():
            out, (h_n, c_n) = lstm(packed, (h0_t, c0_t))
    finally:
        torch.set_num_threads(threads)
    out, _ = pad_packed_sequence(out, total_length=x.shape[0])
    return out.numpy(), (h_n[0].numpy(), c_n[0].numpy())


# --------------------------------------------------------------------------- mistakes
def _step(x_t, h, c, W_ih, W_hh, b_ih, b_hh):
    i, f, g, o = np.split(x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh, 4, axis=1)
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c), c


def _padded(step: Callable = _step, state: str = "freeze", freeze_c: bool = True,
            out: str = "zero", final: str = "state", zero_inputs: bool = False) -> Callable:
    """A masked LSTM loop with deliberate deviations.

    state: "freeze" (correct: keep the state past the length), "run" (update it on padded
    steps), "zero" (reset it to 0); out: "zero" (correct), "hold" (the frozen state), "raw"
    (each step's new h); final: "state" (the loop's final state), "last_output" (output[-1]),
    "early" (the state one step before the end), "sorted" (rows in length-sorted order).
    """
    def forward(x, lengths, h0, c0, W_ih, W_hh, b_ih, b_hh):
        lengths = np.asarray(lengths)
        T = x.shape[0]
        mask = (np.arange(T)[:, None] < lengths[None, :])[..., None]     # (T, B, 1)
        if zero_inputs:
            x = x * mask
        h, c, outs, hist = h0, c0, [], [(h0, c0)]
        for t in range(T):
            h_new, c_new = step(x[t], h, c, W_ih, W_hh, b_ih, b_hh)
            m = mask[t]
            if state == "run":
                h, c = h_new, c_new
            elif state == "zero":
                h, c = m * h_new, m * c_new
            else:
                h, c = np.where(m, h_new, h), (np.where(m, c_new, c) if freeze_c else c_new)
            outs.append({"zero": np.where(m, h_new, 0.0), "hold": h, "raw": h_new}[out])
            hist.append((h, c))
        output = np.stack(outs)                                          # (T, B, H)
        if final == "last_output":
            return output, (output[-1], c)
        if final == "early":
            rows = np.arange(len(lengths))
            return output, (np.stack([hist[n - 1][0][b] for b, n in zip(rows, lengths)]),
                            np.stack([hist[n - 1][1][b] for b, n in zip(rows, lengths)]))
        if final == "sorted":
            order = np.argsort(-lengths, kind="stable")
            return output, (h[order], c[order])
        return output, (h, c)
    return forward


PADDED_MISTAKES = [
    Mistake("h_n taken at T-1 for every sequence (h_n = output[-1])",
            "output[-1] is zero for every sequence shorter than T; h_n[b] is the state at its "
            "own last step t = lengths[b] - 1", _padded(final="last_output")),
    Mistake("padded steps updating the state",
            "past a sequence's length the state must stay as it was (h = mask * h_new + (1 - "
            "mask) * h, same for c), so h_n, c_n are the states at t = lengths[b] - 1",
            _padded(state="run")),
    Mistake("outputs past the length not zeroed (the frozen state copied into them)",
            "output[t, b] must be exactly 0 for t >= lengths[b] (as pad_packed_sequence gives)",
            _padded(out="hold")),
    Mistake("outputs past the length not zeroed (each padded step's h kept)",
            "output[t, b] must be exactly 0 for t >= lengths[b] (as pad_packed_sequence gives)",
            _padded(out="raw")),
    Mistake("the padding ignored (a plain LSTM over the padded batch)",
            "mask the padded steps: the state stays frozen past each length and the output "
            "there is 0", _padded(state="run", out="raw")),
    Mistake("the inputs zeroed past the length instead of masking the state",
            "a zero input still moves the state (the biases and h_{t-1} act every step); freeze "
            "the state and zero the output instead", _padded(state="run", out="raw",
                                                              zero_inputs=True)),
    Mistake("the inputs zeroed past the length instead of freezing the state",
            "a zero input still moves the state (the biases and h_{t-1} act every step), so "
            "h_n, c_n drift past each length although the output there is 0: freeze the state "
            "past the length (np.where(alive, h_new, h)) instead",
            _padded(state="run", out="zero", zero_inputs=True)),
    Mistake("only h frozen past the length: the cell state kept updating",
            "freeze both states on padded steps: c = mask * c_new + (1 - mask) * c too",
            _padded(freeze_c=False)),
    Mistake("the state reset to zero past the length",
            "keep the state past a sequence's end (do not multiply it by the mask): h_n, c_n "
            "are the states at t = lengths[b] - 1, not 0", _padded(state="zero")),
    Mistake("(h_n, c_n) in length-sorted order",
            "return h_n, c_n in the batch's own order (row b for sequence b), as nn.LSTM does "
            "with enforce_sorted=False", _padded(final="sorted")),
    Mistake("(h_n, c_n) taken one step before each sequence's end",
            "h_n[b] is the state after lengths[b] steps, i.e. at t = lengths[b] - 1 (output[t] "
            "is the state after step t)", _padded(final="early")),
] + [Mistake(f"{m.name} (inside the time step)", both_orders(m), _padded(step=m.fn))
     for m in CELL_MISTAKES]


# --------------------------------------------------------------------------- where it goes wrong
def diagnose(got: dict[str, Any], exp: dict[str, Any], brief: bool) -> str | None:
    """Which sequences are wrong, inside or past their length, and in h_n / c_n."""
    out_g, out_e = got["output"], exp["output"]
    T, B, _ = out_e.shape
    lengths = [int((np.abs(out_e[:, b]).sum(axis=1) > 0).sum()) for b in range(B)]
    where, wrong = [], set()
    for b, n in enumerate(lengths):
        bad = (~np.isclose(out_g[:, b], out_e[:, b], RTOL, ATOL)).any(axis=1)   # (T,)
        if bad[:n].any():
            wrong.add(b)
            where.append(f"output[:, {b}] (length {n}) from t={int(np.argmax(bad[:n]))}")
        if bad[n:].any():
            wrong.add(b)
            where.append(f"output[:, {b}] (length {n}) past its length (t >= {n}: should be 0)")
    bad = {leaf: [b for b in range(B) if not np.allclose(got[leaf][b], exp[leaf][b], RTOL, ATOL)]
           for leaf in ("h_n", "c_n")}
    for rows in bad.values():
        wrong.update(rows)
    names = [("h_n and c_n", bad["h_n"])] if bad["h_n"] == bad["c_n"] else list(bad.items())
    where += [f"{leaf} of sequence{'s' * (len(rows) > 1)} "
              + ", ".join(f"{b} (length {lengths[b]})" for b in rows)
              for leaf, rows in names if rows]
    if not where:
        return None
    text = "wrong: " + "; ".join(where)
    if not brief and all(lengths[b] < T for b in wrong):
        text += (f" — only sequences shorter than T={T} are wrong: look at what your code does "
                 "after a sequence has ended")
    return text


def _running_steps(output: np.ndarray) -> list[list[int]]:
    """For each sequence b, the time steps where output[:, b] is not exactly zero."""
    return [np.nonzero(np.abs(output[:, b]).sum(axis=-1) != 0)[0].tolist()
            for b in range(output.shape[1])]


def recognise(got: dict[str, Any], exp: dict[str, Any], x, lengths, h0, c0, *params
              ) -> tuple[str, str] | None:
    """The mask read off the learner's output (which steps are non-zero), aliased buffers,
    swapped or never-updated states, and h_n indexed with whole time steps."""
    out, h_n, c_n = got["output"], got["h_n"], got["c_n"]
    e_out, e_h, e_c = exp["output"], exp["h_n"], exp["c_n"]
    T, B, H = e_out.shape
    n = [int(v) for v in np.asarray(lengths)]
    if h_n.shape == (B, B, H) and all(np.allclose(h_n[b, b], e_h[b], RTOL, ATOL)
                                      for b in range(B)):
        return ("h_n indexed with whole time steps", f"h_n has shape {h_n.shape}: "
                "output[lengths - 1] picks a whole (B, H) time step for every sequence; take "
                "row b of step lengths[b] - 1 only, output[lengths - 1, np.arange(B)]")
    if out.shape == e_out.shape:
        steps = _running_steps(out)
        if any(n[b] < T for b in range(B)) and all(steps[b] == list(range(T - n[b], T))
                                                   for b in range(B)):
            return ("the padding taken to be at the start", "output[:, b] is non-zero at the "
                    "LAST lengths[b] steps: sequence b occupies the FIRST lengths[b] steps, "
                    "x[:lengths[b], b] (the padding is at the end), so alive = t < lengths[b]")
        for shift, word in ((1, "one step too many"), (-1, "one step too few")):
            want = [list(range(min(T, max(0, n[b] + shift)))) for b in range(B)]
            if any(want[b] != list(range(n[b])) for b in range(B)) and all(
                    steps[b] == want[b] for b in range(B)):
                rel = "t <= lengths" if shift > 0 else "t < lengths - 1"
                return ("the mask off by one", f"output[:, b] is non-zero for {word} "
                        f"(lengths[b] {'+' if shift > 0 else '-'} 1 steps, within T): the mask "
                        f"is off by one ({rel}?); sequence b runs for t < lengths[b]")
        text = aliased_steps(out, e_out)
        if text:
            return "the same buffer at every step (aliasing)", text
    return state_mistake(h_n, c_n, c0, e_h, e_c)


def explain_error(error: str, x, lengths, h0, *rest) -> str | None:
    B, H = np.shape(h0)
    if "broadcast" in error and f"({B},)" in error and f"({B},{H})" in error:
        return (f"a mask of shape ({B},) does not broadcast against states of shape ({B}, {H}); "
                "give it shape (B, 1): alive = (t < lengths)[:, None]")
    return None


PADDED_SPEC = Spec(
    id="lstm_forward_padded", title="an LSTM over a padded batch (masks, as packed sequences)",
    notebook="06_batches_layers_directions", arg_names=ARGS,
    output=("output", ("h_n", "c_n")), make_cases=make_cases, reference=ref_lstm_forward_padded,
    mistakes=PADDED_MISTAKES, points=3, rtol=RTOL, atol=ATOL, time_axis={"output": 0},
    initial_state=("h0", "c0"),
    diagnose=diagnose, recognise=recognise, explain_error=explain_error)
