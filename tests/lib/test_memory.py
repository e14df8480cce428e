"""course_utils.lib.memory: bytes saved for backward, counted once per storage."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from course_utils.lib.memory import rnn_saved_bytes, saved_bytes  # noqa: E402


def test_one_saved_tensor_is_counted_once() -> None:
    x = torch.randn(10, 20, requires_grad=True)
    s = saved_bytes(lambda: (x.exp() * 1.0).sum(), exclude=[x])  # exp saves its output
    assert s.tensors == 1 and s.bytes == 10 * 20 * 4
    assert s.mib == pytest.approx(800 / 2**20)


def test_excluded_and_untracked_tensors_are_not_counted() -> None:
    x = torch.randn(10, 20, requires_grad=True)
    assert saved_bytes(lambda: (x * x).sum(), exclude=[x]).bytes == 0  # mul saves x only
    with torch.no_grad():
        assert saved_bytes(lambda: x.exp()).bytes == 0


@pytest.mark.parametrize("cls", [torch.nn.LSTM, torch.nn.GRU, torch.nn.RNN])
def test_rnn_activations_grow_with_the_sequence(cls) -> None:
    torch.manual_seed(0)
    m = cls(3, 5)
    short, long = (rnn_saved_bytes(m, torch.randn(T, 2, 3)) for T in (4, 8))
    assert 0 < short.bytes < long.bytes
    assert long.bytes % 4 == 0  # float32
