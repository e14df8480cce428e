"""Issue 24: the checkers of notebooks 06-08 against learner implementations written
independently of their catalogues (tests/checks/learners_06_08.py).

Every correct style passes (public and a hidden seed); every wrong one is rejected with a
message that names its bug (the keywords listed with it), so ≥ 80 % named holds per exercise
(here: all of them); messages that would mislead are asserted absent.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("scipy")

from course_utils.checks import SPECS, run_spec  # noqa: E402

from .learners_06_08 import CORRECT, WRONG  # noqa: E402

CORRECT_CASES = [(ex, fn) for ex, fns in CORRECT.items() for fn in fns]
WRONG_CASES = [(ex, i, fn, kws) for ex, items in WRONG.items()
               for i, (fn, kws) in enumerate(items)]


@pytest.mark.parametrize("exercise, fn", CORRECT_CASES,
                         ids=[f"{ex}-{i}" for i, (ex, _) in enumerate(CORRECT_CASES)])
@pytest.mark.parametrize("seed", [None, 7])
def test_correct_styles_pass(exercise, fn, seed):
    result = run_spec(SPECS[exercise], fn, seed)
    assert result.passed, result.message


@cache
def verdict(exercise: str, index: int) -> tuple[bool, str]:
    """(passed, message) of the checker on WRONG[exercise][index] (run once per session)."""
    with np.errstate(all="ignore"):
        result = run_spec(SPECS[exercise], WRONG[exercise][index][0])
    return result.passed, result.message


def is_named(exercise: str, index: int) -> bool:
    passed, message = verdict(exercise, index)
    return not passed and any(k in message.lower() for k in WRONG[exercise][index][1])


@pytest.mark.parametrize("exercise, index, fn, keywords", WRONG_CASES,
                         ids=[f"{ex}-{i}" for ex, i, _, _ in WRONG_CASES])
def test_wrong_implementations_are_rejected_and_named(exercise, index, fn, keywords):
    passed, message = verdict(exercise, index)
    assert not passed
    assert is_named(exercise, index), message


@pytest.mark.parametrize("exercise", list(WRONG))
def test_at_least_80_percent_named_and_every_one_rejected(exercise):
    n = len(WRONG[exercise])
    assert not any(verdict(exercise, i)[0] for i in range(n))
    assert sum(is_named(exercise, i) for i in range(n)) >= 0.8 * n


def test_no_message_claims_what_the_output_contradicts():
    """The issue's examples: a whole-batch maximum is not reported as "not subtracted", an
    aliased buffer not as "is h0 used?", a scrambled layout not as "a target is not the next
    input", and a correct p ** (1/T) renormalised is not rejected as "no longer sums to 1"."""
    from .learners_06_08 import _batches, _bpc, _probs, stack_aliased_buffer

    with np.errstate(all="ignore"):
        bits = run_spec(SPECS["bits_per_char"], _bpc(stable="global")).message
        probs = run_spec(SPECS["next_char_probs"], _probs(stable="global")).message
    assert "no max-subtraction" not in bits and "whole batch" in bits
    assert "no max-subtraction" not in probs and "whole batch" in probs
    alias = run_spec(SPECS["lstm_stack_forward"], stack_aliased_buffer).message
    assert "is h0" not in alias and "same array" in alias
    scrambled = run_spec(SPECS["tbptt_batches"], _batches(layout="scrambled")).message
    assert "not the next input" not in scrambled and "follows its x" in scrambled
    assert run_spec(SPECS["next_char_probs"], _probs(scale="power")).passed


def test_stated_types_give_the_reason():
    from .learners_06_08 import _batches, _bpc, _gru, _train

    msg = run_spec(SPECS["bits_per_char"], _bpc(out="tensor")).message
    assert "Python float" in msg and "graph" in msg
    msg = run_spec(SPECS["tbptt_batches"], _batches(dtype=np.float64)).message
    assert "int arrays" in msg and "embedding" in msg
    msg = run_spec(SPECS["train_tbptt"], _train(record="tensor")).message
    assert "loss.item()" in msg and "graph" in msg
    msg = run_spec(SPECS["gru_hidden_for_lstm_params"], _gru(out="float")).message
    assert "Python int" in msg and "hidden_size should be of type int" in msg
