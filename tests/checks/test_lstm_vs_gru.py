"""The gru_hidden_for_lstm_params checker: correct solutions pass, learners' mistakes are named.

The wrong implementations below are written as a learner would write them, independently of
the spec's own mistake functions.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("torch")

from course_utils.checks import check_gru_hidden_for_lstm_params as check  # noqa: E402

SEEDS = [None, 3, 2024]


# --------------------------------------------------------------------------- correct
def quadratic_float32(input_size, lstm_hidden):
    """Solve 3h² + 3(I+2)h - P = 0 in float32, then compare the two neighbouring counts."""
    I, H = np.float32(input_size), np.float32(lstm_hidden)
    P = 4 * H * (I + H + 2)
    b = 3 * (I + 2)
    r = (-b + np.sqrt(b * b + 12 * P)) / np.float32(6)
    lo = max(1, int(np.floor(r)))
    cands = [lo, lo + 1]
    target = 4 * lstm_hidden * (input_size + lstm_hidden + 2)
    return min(cands, key=lambda h: (abs(3 * h * (input_size + h + 2) - target), h))


def linear_search_with_torch(input_size, lstm_hidden):
    """Count with torch modules and walk h upwards until the count passes the target."""
    import torch

    def n(m):
        return sum(p.numel() for p in m.parameters())

    target = n(torch.nn.LSTM(input_size, lstm_hidden))
    best, best_gap = 1, None
    for h in range(1, 2 * lstm_hidden + 10):
        gap = abs(3 * h * (input_size + h + 2) - target)
        if best_gap is None or gap < best_gap:
            best, best_gap = h, gap
    return best


def rounded_root(input_size, lstm_hidden):
    """Rounding the real root: wrong near a midpoint of two counts (every seed has such a case)."""
    P = 4 * lstm_hidden * (input_size + lstm_hidden + 2)
    return round((-(input_size + 2) + math.sqrt((input_size + 2) ** 2 + 4 * P / 3)) / 2)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("fn", [quadratic_float32, linear_search_with_torch])
def test_correct_pass(fn, seed) -> None:
    result = check(fn, seed=seed)
    assert result.passed, result.message


# --------------------------------------------------------------------------- mistakes
def three_quarters(input_size, lstm_hidden):
    return int(round(lstm_hidden * 3 / 4))


def biases_ignored(input_size, lstm_hidden):
    P = 4 * lstm_hidden * (input_size + lstm_hidden)
    return round((-input_size + math.sqrt(input_size ** 2 + 4 * P / 3)) / 2)


def one_bias(input_size, lstm_hidden):
    P = 4 * lstm_hidden * (input_size + lstm_hidden + 1)
    b = input_size + 1
    return round((-b + math.sqrt(b * b + 4 * P / 3)) / 2)


def input_weights_ignored(input_size, lstm_hidden):
    P = 4 * lstm_hidden * (lstm_hidden + 2)
    return round((-2 + math.sqrt(4 + 4 * P / 3)) / 2)


def sqrt_rule(input_size, lstm_hidden):
    return round(lstm_hidden * (4 / 3) ** 0.5)


def floored(input_size, lstm_hidden):
    P = 4 * lstm_hidden * (input_size + lstm_hidden + 2)
    b = input_size + 2
    return int((-b + math.sqrt(b * b + 4 * P / 3)) / 2)


def ceiled(input_size, lstm_hidden):
    P = 4 * lstm_hidden * (input_size + lstm_hidden + 2)
    b = input_size + 2
    return math.ceil((-b + math.sqrt(b * b + 4 * P / 3)) / 2)


def same_hidden(input_size, lstm_hidden):
    return lstm_hidden


def four_thirds(input_size, lstm_hidden):
    """The inverse of the 3/4 ratio of equal hidden sizes: input_size never enters."""
    return round(lstm_hidden * 4 / 3)


def ties_upwards(input_size, lstm_hidden):
    """Compares the two counts with a strict <: on an exact tie it keeps the larger h."""
    P = 4 * lstm_hidden * (input_size + lstm_hidden + 2)
    r = (-(input_size + 2) + math.sqrt((input_size + 2) ** 2 + 4 * P / 3)) / 2
    lo = max(1, math.floor(r))
    d_lo = abs(3 * lo * (input_size + lo + 2) - P)
    d_hi = abs(3 * (lo + 1) * (input_size + lo + 3) - P)
    return lo if d_lo < d_hi else lo + 1


MISTAKES = [
    (three_quarters, "3/4 of the hidden size"),
    (biases_ignored, "the biases ignored"),
    (one_bias, "one bias vector per gate instead of two"),
    (input_weights_ignored, "the input weights ignored"),
    (sqrt_rule, "only the hidden-to-hidden weights counted (h = H·sqrt(4/3))"),
    (floored, "floor instead of the closest count"),
    (ceiled, "ceil instead of the closest count"),
    (same_hidden, "the LSTM's hidden size returned"),
    (four_thirds, "4/3 of the hidden size (input_size ignored)"),
    (rounded_root, "rounding the real root instead of comparing counts"),
    (ties_upwards, "a tie broken towards the larger h"),
]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("fn,name", MISTAKES, ids=[n for _, n in MISTAKES])
def test_mistake_named(fn, name, seed) -> None:
    result = check(fn, seed=seed)
    assert not result.passed
    assert result.mistake == name
    assert f"looks like {name}" in result.message


# --------------------------------------------------------------------------- robustness
def returns_float(input_size, lstm_hidden):
    return float(quadratic_float32(input_size, lstm_hidden)) + 0.5


def raises(input_size, lstm_hidden):
    return 1 / 0


def not_implemented(input_size, lstm_hidden):
    raise NotImplementedError()


def test_wrong_type_and_errors() -> None:
    r = check(returns_float)
    assert not r.passed and "Python int" in r.message and "hidden_size" in r.message
    r = check(lambda i, h: np.int64(quadratic_float32(i, h)))
    assert not r.passed and "Python int" in r.message
    r = check(lambda i, h: float(quadratic_float32(i, h)))  # integral, but a float
    assert not r.passed and "Python int" in r.message
    r = check(raises)
    assert not r.passed and "ZeroDivisionError" in r.message
    r = check(not_implemented)
    assert not r.passed and r.status == "not_implemented"
    r = check(None)
    assert not r.passed


def test_four_thirds_is_not_called_ceil() -> None:
    """round(4H/3) was once reported as "ceil instead of the closest count"."""
    result = check(four_thirds)
    assert "ceil" not in result.message and "input_size" in result.message, result.message


@pytest.mark.parametrize("seed", [0, 1, 3, 31, 2024])
def test_every_seed_has_a_tie_and_a_near_midpoint(seed) -> None:
    """The notebook's tie rule and "closest count" are both exercised on every seed."""
    from course_utils.checks.specs.lstm_vs_gru import SPECS, _razor_pairs

    near, ties = _razor_pairs()
    pairs = {c.args for c in SPECS[0].cases(seed)}
    assert pairs & set(near) and pairs & set(ties)


def test_notebook_08_context_defines_what_trial_verdict_needs_as_the_protocol_does():
    """The grader runs only the grader-context cell (its sandbox has no course_utils): the
    verdict codes and median_interval defined there must be the protocol's."""
    import json
    from pathlib import Path

    from course_utils.lib import protocol

    nb = json.loads((Path(__file__).resolve().parents[2] / "solutions" / "08_lstm_vs_gru.ipynb")
                    .read_text())
    ctx = [c for c in nb["cells"] if "grader-context" in (c["metadata"].get("tags") or [])]
    assert len(ctx) == 1
    ns: dict = {}
    exec("".join(ctx[0]["source"]), ns)  # noqa: S102 - the course's own cell
    for name in ("NOT_DECIDED", "NO_DIFFERENCE", "A_BETTER", "B_BETTER"):
        assert ns[name] == getattr(protocol, name)
    rng = np.random.default_rng(3)
    for v in (rng.normal(size=5), rng.exponential(size=7), np.full(5, 0.25)):
        got, want = ns["median_interval"](v), protocol.median_interval(v)
        assert (got.median, got.low, got.high) == (want.median, want.low, want.high)
