"""Plain-data transport: what leaves the sandbox is rebuilt strictly, never as live objects."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from course_utils.checks import SPECS
from course_utils.checks.judging import judge
from course_utils.checks.spec import Outcome
from course_utils.grade.serialize import (
    DecodeError,
    Unsupported,
    decode_inputs,
    decode_value,
    encode_inputs,
    encode_value,
)


def roundtrip(value):
    return decode_value(json.loads(json.dumps(encode_value(value))))


@pytest.mark.parametrize("value", [
    np.arange(6.0).reshape(2, 3), np.float32(1.5) * np.ones((3, 1), np.float32), np.array(7),
    (np.zeros(2), (np.ones(3), np.ones(4))), {"x": np.zeros(2), "W_ih": np.ones((2, 2))},
    12, np.int64(9), 3.5, None, True, [1, 2.0], np.arange(4, dtype=">i4"),
])
def test_plain_values_roundtrip(value):
    back = roundtrip(value)
    flat_in, flat_out = json.dumps(encode_value(value)), json.dumps(encode_value(back))
    assert flat_in == flat_out
    if isinstance(value, np.ndarray):
        assert type(back) is np.ndarray and np.array_equal(back, value)


def test_torch_tensors_travel_both_ways():
    torch = pytest.importorskip("torch")
    tree, arrays = encode_inputs({"args": (torch.ones(2, 3, dtype=torch.float64), 4)})
    args = decode_inputs(tree["args"], arrays)
    assert isinstance(args[0], torch.Tensor) and args[1] == 4
    back = roundtrip(torch.arange(3.0))
    assert type(back) is np.ndarray and back.tolist() == [0.0, 1.0, 2.0]


class Liar(np.ndarray):
    def __eq__(self, other):
        return True

    def tobytes(self, *a, **k):
        return np.ones(self.shape).tobytes()


class ClassLiar:
    @property
    def __class__(self):
        return np.ndarray


@pytest.mark.parametrize("value,name", [
    (ClassLiar(), "ClassLiar"), (object(), "object"), ({1: np.zeros(2)}, "dict with a int key"),
    (np.array(["a"]), "ndarray of dtype U1"), (np.zeros(2, complex), "ndarray of dtype complex128"),
    (np.zeros(2_000_000), "array too large"),
])
def test_non_plain_values_become_opaque(value, name):
    back = roundtrip(value)
    assert isinstance(back, Unsupported) and name in type(back).__name__


def test_ndarray_subclass_is_sent_as_its_real_data():
    back = roundtrip(np.zeros((2, 2)).view(Liar))
    assert type(back) is np.ndarray and not back.any()


@pytest.mark.parametrize("tree", [
    {"array": {"dtype": "|O", "shape": [1], "data": ""}},                       # object dtype
    {"array": {"dtype": "<f8", "shape": [3], "data": base64.b64encode(b"x" * 8).decode()}},
    {"array": {"dtype": "<f8", "shape": [-1], "data": ""}},
    {"pickle": "gASVAAAAAAAAAAAu"}, {"int": "1e9"}, {"int": 5}, [1, 2], {"tuple": "abc"},
    {"dict": [[1, 2]]}, {"tuple": [], "list": []},
    {"tuple": [{"tuple": [{"tuple": [{"tuple": [{"tuple": [{"tuple": [{"tuple": [{"tuple": [
        {"tuple": [{"tuple": [{"tuple": []}]}]}]}]}]}]}]}]}]}]},
])
def test_forged_trees_are_rejected(tree):
    with pytest.raises(DecodeError):
        decode_value(tree)


def test_rebuilt_values_are_judged_by_the_shared_spec():
    """A value rebuilt from plain data goes through the notebook checker's judge unchanged."""
    spec = SPECS["rnn_cell_forward"]
    case = spec.cases(1234)[0]
    good = decode_value(json.loads(json.dumps(encode_value(spec.expected(case).astype(np.float32)))))
    assert judge(spec, case, Outcome(value=good)).passed
    wrong = decode_value(json.loads(json.dumps(encode_value(spec.mistakes[0].fn(*case.args)))))
    verdict = judge(spec, case, Outcome(value=wrong))
    assert not verdict.passed and verdict.mistake == spec.mistakes[0].name
