"""Spec ``clip_grad_norm(grads, max_norm) -> (clipped, total_norm)``, as
``torch.nn.utils.clip_grad_norm_``.

    total_norm = sqrt(sum_k ||g_k||^2)                  # ONE norm over all arrays together
    clipped_k  = g_k * min(1, max_norm / (total_norm + 1e-6))

Gradient-norm clipping (Pascanu, Mikolov & Bengio 2013, "On the difficulty of training
recurrent neural networks", ICML) rescales the whole gradient when it is too long and keeps its
direction; it never scales up. Every case has three arrays (a weight matrix, a bias, a second
weight matrix), so the output template is ``((g0, g1, g2), total_norm)``; one case clips, one
does not (total norm below ``max_norm``), one has a single large array.
"""

from __future__ import annotations

import numpy as np

from ...recurrent import rng_for
from ...spec import Case, Mistake, Spec

ARGS = ("grads", "max_norm")
OUTPUT = (("clipped[0]", "clipped[1]", "clipped[2]"), "total_norm")
SHAPES = ((4, 3), (4,), (2, 5))


def make_cases(seed: int) -> list[Case]:
    """Three lists of three arrays: clipped (norm well above max_norm), not clipped (below),
    and one array much larger than the others (only it is above max_norm on its own)."""
    cases = []
    settings = (("norm above max_norm", (1.5, 1.0, 1.2), 1.0),
                ("norm below max_norm", (0.3, 0.2, 0.25), 5.0),
                ("one large array", (3.0, 0.1, 0.2), 2.5))
    for k, (label, scales, max_norm) in enumerate(settings):
        rng = rng_for(seed, 400 + k)
        grads = [rng.normal(0.0, s, shape) for s, shape in zip(scales, SHAPES)]
        cases.append(Case(f"{label}, max_norm={max_norm}", (grads, max_norm)))
    return cases


def ref_clip_grad_norm(grads: list[np.ndarray], max_norm: float
                       ) -> tuple[list[np.ndarray], float]:
    """torch.nn.utils.clip_grad_norm_ on float64 parameters whose .grad are copies of grads."""
    import torch

    params = []
    for g in grads:
        p = torch.nn.Parameter(torch.zeros(np.shape(g), dtype=torch.float64))
        p.grad = torch.tensor(np.asarray(g, dtype=np.float64))
        params.append(p)
    total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    return [p.grad.numpy() for p in params], float(total)


# --------------------------------------------------------------------------- mistakes
def _norm(grads: list[np.ndarray]) -> float:
    return float(np.sqrt(sum(np.sum(np.square(g)) for g in grads)))


def per_array(grads, max_norm):
    out = [g * min(1.0, max_norm / (np.linalg.norm(g) + 1e-6)) for g in grads]
    return out, _norm(grads)


def by_value(grads, max_norm):
    return [np.clip(g, -max_norm, max_norm) for g in grads], _norm(grads)


def scales_up(grads, max_norm):
    total = _norm(grads)
    return [g * max_norm / (total + 1e-6) for g in grads], total


def no_sqrt(grads, max_norm):
    total = _norm(grads) ** 2
    return [g * min(1.0, max_norm / (total + 1e-6)) for g in grads], total


def norm_after(grads, max_norm):
    total = _norm(grads)
    out = [g * min(1.0, max_norm / (total + 1e-6)) for g in grads]
    return out, _norm(out)


MISTAKES = [
    Mistake("per-array clipping", "clip_grad_norm_ computes ONE norm over all arrays together "
            "(sqrt of the sum of every squared entry) and scales every array by the same factor",
            per_array),
    Mistake("clip-by-value", "np.clip(g, -max_norm, max_norm) bounds each entry and changes the "
            "gradient's direction; scale all arrays by max_norm / total_norm instead", by_value),
    Mistake("scaling up when the norm is below max_norm", "the factor is min(1, max_norm / "
            "total_norm): a gradient already shorter than max_norm is left unchanged", scales_up),
    Mistake("the norm without the square root", "total_norm = sqrt(sum of squared entries), "
            "the Euclidean length of all gradients together", no_sqrt),
    Mistake("the norm returned after clipping", "return the total norm of the gradients as "
            "they came in (before clipping), as clip_grad_norm_ does", norm_after),
]

SPEC = Spec(id="clip_grad_norm", title="gradient-norm clipping over a list of arrays",
            notebook="05_backprop_through_gates", arg_names=ARGS, output=OUTPUT,
            make_cases=make_cases, reference=ref_clip_grad_norm, mistakes=MISTAKES,
            rtol=1e-4, atol=1e-6, points=1)
