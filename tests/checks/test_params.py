"""Unit tests of the notebook-04 parameter-count checkers (course_utils/checks/params.py).

Wrong implementations are written the way a learner would write them, independently of the
spec's mistake functions.
"""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.checks import SPECS, check_gru_param_count, check_lstm_param_count
from course_utils.checks.specs.gru import formula_count

CHECKS = {4: check_lstm_param_count, 3: check_gru_param_count}


# --------------------------------------------------------------------------- correct
def count_loop(G):
    def count(input_size, hidden_size, num_layers=1, bias=True, bidirectional=False):
        dirs = 2 if bidirectional else 1
        total = 0
        for layer in range(num_layers):
            in_size = input_size if layer == 0 else dirs * hidden_size
            for _ in range(dirs):
                total += G * hidden_size * in_size + G * hidden_size * hidden_size
                if bias:
                    total += 2 * G * hidden_size
        return total
    return count


def count_closed_form_numpy(G):
    """Closed form, returned as a numpy integer (accepted as an int)."""
    def count(input_size, hidden_size, num_layers=1, bias=True, bidirectional=False):
        D, H = 1 + int(bidirectional), np.int64(hidden_size)
        per_dir_rest = G * H * (D * H + H + 2 * int(bias))
        first = G * H * (input_size + H + 2 * int(bias))
        return D * (first + (num_layers - 1) * per_dir_rest)
    return count


def count_float(G):
    """Computed in floats (e.g. with a division) but integral: accepted."""
    def count(input_size, hidden_size, num_layers=1, bias=True, bidirectional=False):
        return float(count_loop(G)(input_size, hidden_size, num_layers, bias, bidirectional))
    return count


@pytest.mark.parametrize("G", [4, 3])
@pytest.mark.parametrize("style", [count_loop, count_closed_form_numpy, count_float])
@pytest.mark.parametrize("seed", [None, 11])
def test_correct_counts_pass(G, style, seed):
    res = CHECKS[G](style(G), seed=seed)
    assert res.passed, res.message
    assert res.n_cases == 6


@pytest.mark.parametrize("spec_id,G", [("lstm_param_count", 4), ("gru_param_count", 3)])
def test_cases_cover_the_arguments(spec_id, G):
    cases = SPECS[spec_id].cases()
    seen = set()
    for c in cases:
        kw = {"num_layers": 1, "bias": True, "bidirectional": False, **c.kwargs}
        I, H = c.args
        assert len({I, H, kw["num_layers"]}) == 3
        seen.add((kw["num_layers"] > 1, kw["bias"], kw["bidirectional"]))
        assert formula_count(G, I, H, **kw) == SPECS[spec_id].expected(c)
    assert {s[0] for s in seen} == {True, False}
    assert {s[1] for s in seen} == {True, False}
    assert {s[2] for s in seen} == {True, False}


# --------------------------------------------------------------------------- wrong
def one_bias(G):
    def count(input_size, hidden_size, num_layers=1, bias=True, bidirectional=False):
        D = 2 if bidirectional else 1
        total = 0
        for layer in range(num_layers):
            i = input_size if layer == 0 else D * hidden_size
            total += D * (G * hidden_size * (i + hidden_size) + (G * hidden_size if bias else 0))
        return total
    return count


def deep_layers_read_input(G):
    def count(input_size, hidden_size, num_layers=1, bias=True, bidirectional=False):
        D = 2 if bidirectional else 1
        per_layer = G * hidden_size * (input_size + hidden_size + (2 if bias else 0))
        return D * num_layers * per_layer
    return count


def deep_layers_read_hidden(G):
    def count(input_size, hidden_size, num_layers=1, bias=True, bidirectional=False):
        D = 2 if bidirectional else 1
        b = 2 * G * hidden_size if bias else 0
        first = G * hidden_size * (input_size + hidden_size) + b
        rest = G * hidden_size * (hidden_size + hidden_size) + b
        return D * (first + (num_layers - 1) * rest)
    return count


def no_bidirectional_factor(G):
    def count(input_size, hidden_size, num_layers=1, bias=True, bidirectional=False):
        total = 0
        for layer in range(num_layers):
            i = input_size if layer == 0 else hidden_size
            total += G * hidden_size * (i + hidden_size) + (2 * G * hidden_size if bias else 0)
        return total
    return count


def bias_flag_ignored(G):
    def count(input_size, hidden_size, num_layers=1, bias=True, bidirectional=False):
        return count_loop(G)(input_size, hidden_size, num_layers, True, bidirectional)
    return count


def num_layers_ignored(G):
    def count(input_size, hidden_size, num_layers=1, bias=True, bidirectional=False):
        return count_loop(G)(input_size, hidden_size, 1, bias, bidirectional)
    return count


WRONG = [
    (one_bias, "one bias vector instead of two"),
    (deep_layers_read_input, "layers > 1 taking input_size as input"),
    (deep_layers_read_hidden, "layers > 1 taking hidden_size (not 2 * hidden_size)"),
    (no_bidirectional_factor, "the factor 2 for bidirectional forgotten"),
    (bias_flag_ignored, "the biases counted when bias=False"),
    (num_layers_ignored, "num_layers ignored"),
]


@pytest.mark.parametrize("G", [4, 3])
@pytest.mark.parametrize("make,name", WRONG, ids=[n[:28] for _, n in WRONG])
def test_mistakes_named(G, make, name):
    res = CHECKS[G](make(G))
    assert not res.passed
    assert res.mistake is not None and res.mistake.startswith(name)
    assert f"looks like {name}" in res.message


def test_gate_count_swapped():
    """The LSTM formula used for the GRU (4 gates) and vice versa (3), or a plain RNN's (1)."""
    res = check_gru_param_count(count_loop(4))
    assert not res.passed and res.mistake == "4 gates (the LSTM's count)"
    res = check_lstm_param_count(count_loop(3))
    assert not res.passed and res.mistake == "3 gates (the GRU's count)"
    res = check_lstm_param_count(count_loop(1))
    assert not res.passed and res.mistake == "1 gate (a plain RNN's count)"
    assert "i, f, g, o" in res.message


@pytest.mark.parametrize("seed", [1, 2, 3, 45])
def test_mistakes_named_on_hidden_seeds(seed):
    for G, check in CHECKS.items():
        for make, name in WRONG:
            res = check(make(G), seed=seed)
            assert res.mistake is not None and res.mistake.startswith(name), (G, name, res.message)


# --------------------------------------------------------------------------- robustness
def test_not_implemented():
    def stub(input_size, hidden_size, num_layers=1, bias=True, bidirectional=False):
        raise NotImplementedError()
    assert check_gru_param_count(stub).status == "not_implemented"


def test_none_and_non_int():
    res = check_lstm_param_count(lambda *a, **k: None)
    assert not res.passed and "None" in res.message
    res = check_lstm_param_count(lambda *a, **k: "1234")
    assert not res.passed and "should be an int" in res.message
    res = check_lstm_param_count(lambda *a, **k: float("nan"))
    assert not res.passed and "should be an int" in res.message


def test_missing_keyword_arguments():
    res = check_gru_param_count(
        lambda input_size, hidden_size: 3 * hidden_size * (input_size + hidden_size + 2))
    assert not res.passed and "TypeError" in res.message and "unexpected keyword" in res.message


def test_a_torch_learner_passes():
    """A learner may also build the module and count (allowed: it is the reference's idea)."""
    import torch

    def count(input_size, hidden_size, num_layers=1, bias=True, bidirectional=False):
        m = torch.nn.GRU(input_size, hidden_size, num_layers, bias=bias, bidirectional=bidirectional)
        return sum(p.numel() for p in m.parameters())
    assert check_gru_param_count(count).passed
