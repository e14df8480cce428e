"""The sequence-level mistakes of a recurrent layer, one catalogue for every cell.

:func:`sequence_mistakes` builds them around a *correct* numpy step: for a single-state cell
(tanh RNN, GRU) ``cell(x_t, h_prev, *params) -> h_t``; for a two-state cell (LSTM)
``cell(x_t, h_prev, c_prev, *params) -> (h_t, c_t)``. Each mistake has the sequence exercise's
signature ``(x, h0, [c0,] *params) -> (output, h_n)`` (LSTM: ``(output, (h_n, c_n))``): the loop
is right, the bookkeeping around it is not (the state not carried, started from zeros, outputs
reversed or shifted, the wrong final state ...). Mistakes *inside* the step come from the cell
exercise's catalogue instead (:func:`~.recurrent.inside_time_step`).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .spec import Mistake

States = list[tuple[np.ndarray, ...]]          # the state after each step: (h,) or (h, c)
Arrange = Callable[[States, tuple], Any]       # (states, initial state) -> the returned value


def _runner(cell: Callable[..., Any], n_state: int) -> Callable[..., Callable[..., Any]]:
    """``variant(arrange, carry=..., zero=..., backwards=...)`` -> a wrong sequence function."""

    def run(x: np.ndarray, init: tuple, params: tuple, carry: tuple[bool, ...]) -> States:
        state, states = init, []
        for t in range(x.shape[0]):
            given = tuple(s if keep else s0 for s, s0, keep in zip(state, init, carry))
            out = cell(x[t], *given, *params)
            state = tuple(out) if n_state > 1 else (out,)
            states.append(state)
        return states

    def variant(arrange: Arrange, carry: tuple[bool, ...] = (True, True), zero: tuple = (),
                backwards: bool = False) -> Callable[..., Any]:
        def fn(x, *rest):
            init, params = tuple(rest[:n_state]), tuple(rest[n_state:])
            start = tuple(np.zeros_like(s) if k in zero else s for k, s in enumerate(init))
            states = run(x[::-1] if backwards else x, start, params, carry[:n_state])
            return arrange(states, init)
        return fn

    return variant


def sequence_mistakes(cell: Callable[..., Any], module: str, n_state: int = 1) -> list[Mistake]:
    """The catalogue for a layer whose correct step is ``cell`` with ``n_state`` states (1: h;
    2: h and c, the LSTM); ``module`` names the torch class in the explanations
    ("torch.nn.RNN")."""
    lstm = n_state == 2
    final = "(h_n, c_n)" if lstm else "h_n"
    variant = _runner(cell, n_state)

    def last(state: tuple) -> Any:
        return state if lstm else state[0]

    def hs(states: States) -> list[np.ndarray]:
        return [s[0] for s in states]

    def right(states: States, init: tuple) -> tuple:
        return np.stack(hs(states)), last(states[-1])

    zeros = [((0, 1), "h0 and c0"), ((0,), "h0"), ((1,), "c0")] if lstm else [((0,), "h0")]
    out = [Mistake("the hidden state not carried (h0 at every step)", "every step must use the "
                   "h computed at the previous step, not h0: update h inside the loop",
                   variant(right, carry=(False, True)))]
    if lstm:
        out.append(Mistake("the cell state not carried (c0 at every step)", "every step must use "
                           "the c computed at the previous step: update c inside the loop, as you "
                           "do for h", variant(right, carry=(True, False))))
    for which, names in zeros:
        out.append(Mistake(f"starting from zeros instead of the given {names}", "the first step "
                           f"must read the initial state passed in ({names}), not np.zeros: "
                           "start the loop from it", variant(right, zero=which)))
    out += [
        Mistake("the outputs in reversed order", "output[t] must be the state after reading "
                "x[0..t]; append each step's h in time order",
                variant(lambda st, s0: (np.stack(hs(st)[::-1]), last(st[-1])))),
        Mistake("an off-by-one in time", "output[t] is the state *after* step t (h_1 ... h_T); "
                "h0 is not part of output",
                variant(lambda st, s0: (np.stack([s0[0]] + hs(st)[:-1]), last(st[-1])))),
        Mistake("h0 included in output", "output has T steps (h_1 ... h_T), not T + 1",
                variant(lambda st, s0: (np.stack([s0[0]] + hs(st)), last(st[-1])))),
        Mistake(f"{final} taken from the first step", f"{final} is the state after the last "
                "step, output[-1]", variant(lambda st, s0: (np.stack(hs(st)), last(st[0])))),
        Mistake("a batch-first / time-major confusion", "stack the outputs along axis 0 so "
                f"output has shape (seq_len, batch, hidden) like {module}'s default",
                variant(lambda st, s0: (np.stack(hs(st), axis=1), last(st[-1])))),
        Mistake(f"{final} with a leading layer axis", f"{module} returns the final state as "
                f"(num_layers, batch, hidden); this exercise wants {final} of shape "
                "(batch, hidden)", variant(lambda st, s0: (np.stack(hs(st)),
                                                           last(tuple(s[None] for s in st[-1]))))),
        Mistake("the input read backwards in time", "loop t = 0, 1, ..., T-1 over x[t]",
                variant(right, backwards=True)),
    ]
    if lstm:
        out += [
            Mistake("the cell states returned as output", "output stacks the hidden states "
                    f"h_1 ... h_T (what {module} returns); c stays inside, apart from c_n",
                    variant(lambda st, s0: (np.stack([s[1] for s in st]), st[-1]))),
            Mistake("(h_n, c_n) swapped", "return (output, (h_n, c_n)): the hidden state first, "
                    f"like {module}", variant(lambda st, s0: (np.stack(hs(st)), st[-1][::-1]))),
            Mistake("c_n left at c0", "c_n is the cell state after the last step",
                    variant(lambda st, s0: (np.stack(hs(st)), (st[-1][0], s0[1])))),
        ]
    return out
