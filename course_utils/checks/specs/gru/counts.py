"""Specs of notebook 04's counting exercises: ``lstm_param_count``, ``gru_param_count``.

The number of trainable parameters of ``torch.nn.LSTM`` / ``torch.nn.GRU`` with the given
arguments. Per layer and direction, with G gates (LSTM 4, GRU 3) and the layer's input size
``I_l`` (``input_size`` for layer 0, ``D * hidden_size`` above it, D = 2 if bidirectional)::

    G * H * I_l  (weight_ih)  +  G * H * H  (weight_hh)  +  2 * G * H  (bias_ih, bias_hh; if bias)

Reference: ``sum(p.numel() for p in torch.nn.LSTM(...).parameters())`` (the torch.nn.LSTM /
torch.nn.GRU documentation lists the shapes of ``weight_ih_l[k]`` etc.).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ...recurrent import rng_for
from ...spec import Case, Int, Mistake, Spec

COUNT_ARGS = ("input_size", "hidden_size", "num_layers", "bias", "bidirectional")

# (num_layers, bias, bidirectional) of each case; sizes come from the seed.
LAYOUTS: tuple[tuple[int, bool, bool], ...] = (
    (1, True, False), (3, True, False), (2, True, True), (2, False, True), (1, False, False),
    (3, True, True),
)


def _distinct(counts: list[int], right: int) -> bool:
    """True when the wrong counts that differ from the right one differ from each other too."""
    wrong = [c for c in counts if c != right]
    return len(wrong) == len(set(wrong))


def _make_cases(gates: int) -> Callable[[int], list[Case]]:
    """Six cases; in each, input_size, hidden_size and num_layers are distinct numbers, and
    the sizes are redrawn until every catalogued mistake gives its own count (so the message
    can name it)."""
    def make(seed: int) -> list[Case]:
        mistakes = _mistakes(gates, "")
        cases = []
        for i, (layers, bias, bidir) in enumerate(LAYOUTS):
            rng = rng_for(seed, 300 + i)
            while True:
                I, H = (int(s) for s in rng.choice(np.arange(4, 40), size=2, replace=False))
                args = (I, H, layers, bias, bidir)
                right = formula_count(gates, *args)
                if _distinct([m.fn(*args) for m in mistakes], right):
                    break
            kwargs: dict = {}
            if (layers, bias, bidir) != (1, True, False):
                kwargs = {"num_layers": layers, "bias": bias, "bidirectional": bidir}
                if (layers, bidir) == (1, False):  # keywords for what differs, defaults left out
                    kwargs = {"bias": bias}
            label = (f"input_size={I}, hidden_size={H}, num_layers={layers}, bias={bias}, "
                     f"bidirectional={bidir}")
            cases.append(Case(label, (I, H), kwargs))
        return cases
    return make


def _torch_count(kind: str) -> Callable[..., int]:
    def count(input_size, hidden_size, num_layers=1, bias=True, bidirectional=False) -> int:
        import torch

        module = getattr(torch.nn, kind)(input_size, hidden_size, num_layers=num_layers,
                                         bias=bias, bidirectional=bidirectional)
        return int(sum(p.numel() for p in module.parameters()))
    count.__name__ = f"ref_{kind.lower()}_param_count"
    return count


def formula_count(gates: int, input_size: int, hidden_size: int, num_layers: int = 1,
                  bias: bool = True, bidirectional: bool = False, *, n_bias: int = 2,
                  deep_input: str = "D*H", directions: int | None = None,
                  layers: int | None = None) -> int:
    """Closed-form count with switchable deviations (defaults = torch's layout).

    ``deep_input``: what layers above the first take as input: "D*H" (right), "H", "I".
    """
    D = (2 if bidirectional else 1) if directions is None else directions
    L = num_layers if layers is None else layers
    total = 0
    for layer in range(L):
        if layer == 0:
            I_l = input_size
        else:
            I_l = {"D*H": (2 if bidirectional else 1) * hidden_size, "H": hidden_size,
                   "I": input_size}[deep_input]
        per_dir = gates * hidden_size * (I_l + hidden_size)
        if bias:
            per_dir += n_bias * gates * hidden_size
        total += D * per_dir
    return total


def _f(gates: int, **kw) -> Callable[..., int]:
    def fn(input_size, hidden_size, num_layers=1, bias=True, bidirectional=False):
        return formula_count(gates, input_size, hidden_size, num_layers, bias, bidirectional, **kw)
    return fn


def _always_bias(gates: int) -> Callable[..., int]:
    def fn(input_size, hidden_size, num_layers=1, bias=True, bidirectional=False):
        return formula_count(gates, input_size, hidden_size, num_layers, True, bidirectional)
    return fn


def _ignore_bidirectional(gates: int) -> Callable[..., int]:
    def fn(input_size, hidden_size, num_layers=1, bias=True, bidirectional=False):
        return formula_count(gates, input_size, hidden_size, num_layers, bias, False)
    return fn


def _mistakes(gates: int, name: str) -> list[Mistake]:
    other = {4: [(3, "3 gates (the GRU's count)", "an LSTM has 4 gate blocks: i, f, g, o"),
                 (1, "1 gate (a plain RNN's count)", "an LSTM has 4 gate blocks: i, f, g, o")],
             3: [(4, "4 gates (the LSTM's count)", "a GRU has 3 gate blocks: r, z, n"),
                 (1, "1 gate (a plain RNN's count)", "a GRU has 3 gate blocks: r, z, n")]}[gates]
    out = [
        Mistake("one bias vector instead of two",
                f"torch.nn.{name} keeps two bias vectors per layer and direction, bias_ih and "
                f"bias_hh, each of {gates} * hidden_size entries", _f(gates, n_bias=1)),
        Mistake("layers > 1 taking input_size as input",
                "only layer 0 reads x; every layer above reads the layer below's output, of size "
                "hidden_size (2 * hidden_size when bidirectional)", _f(gates, deep_input="I")),
        Mistake("layers > 1 taking hidden_size (not 2 * hidden_size) as input when bidirectional",
                "a bidirectional layer outputs both directions concatenated, so the next layer's "
                "input has 2 * hidden_size features", _f(gates, deep_input="H")),
        Mistake("the factor 2 for bidirectional forgotten",
                "bidirectional=True doubles every layer: a forward and a backward copy, each with "
                "its own weights (and the layers above read 2 * hidden_size features)",
                _ignore_bidirectional(gates)),
        Mistake("only one direction counted (with 2 * hidden_size inputs above layer 0)",
                "bidirectional=True doubles every layer: a forward and a backward copy, each with "
                "its own weights", _f(gates, directions=1)),
        Mistake("the biases counted when bias=False",
                "bias=False removes bias_ih and bias_hh from every layer", _always_bias(gates)),
        Mistake("the biases never counted",
                f"with bias=True (the default) each layer and direction has 2 * {gates} * "
                "hidden_size bias entries", _f(gates, n_bias=0)),
        Mistake("num_layers ignored (one layer counted)",
                "each of the num_layers stacked layers has its own weights", _f(gates, layers=1)),
    ]
    for g, title, why in other:
        out.append(Mistake(title, why, _f(g)))
    return out


COUNT_SPECS = [
    Spec(id="lstm_param_count", title="parameters of torch.nn.LSTM", notebook="04_gru",
         arg_names=COUNT_ARGS, output=Int("count"), make_cases=_make_cases(4),
         reference=_torch_count("LSTM"), mistakes=_mistakes(4, "LSTM"), points=1),
    Spec(id="gru_param_count", title="parameters of torch.nn.GRU", notebook="04_gru",
         arg_names=COUNT_ARGS, output=Int("count"), make_cases=_make_cases(3),
         reference=_torch_count("GRU"), mistakes=_mistakes(3, "GRU"), points=1),
]
