"""Tests of course_utils.lib.tasks: shapes, seeding, and the baselines measured numerically."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from course_utils.lib import tasks  # noqa: E402


@pytest.mark.parametrize("T", [2, 10, 51])
def test_adding_batch_shapes_and_markers(T: int) -> None:
    x, y = tasks.adding_batch(T, 7, 0)
    assert x.shape == (T, 7, 2) and y.shape == (7, 1)
    markers = x[..., 1]  # (T, B)
    assert torch.equal(markers.sum(0), torch.full((7,), 2.0))
    half = T // 2
    assert torch.equal(markers[:half].sum(0), torch.ones(7))  # one marker in each half
    expected = (x[..., 0] * markers).sum(0, keepdim=True).T  # (B, 1)
    assert torch.allclose(y, expected)


def test_adding_is_seeded() -> None:
    a = tasks.adding_batch(20, 5, 3)
    b = tasks.adding_batch(20, 5, torch.Generator().manual_seed(3))
    c = tasks.adding_batch(20, 5, 4)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


def test_adding_baseline_measured() -> None:
    """Always answering 1 scores Var(u1 + u2) = 1/6 ≈ 0.167."""
    assert tasks.ADDING_BASELINE_MSE == pytest.approx(0.1667, abs=1e-4)
    measured = tasks.adding_mse_of_constant(30, 200_000, 0)
    assert measured == pytest.approx(1 / 6, abs=0.003)
    # and 1 is the best constant: 0.9 and 1.1 are worse by 0.01
    assert tasks.adding_mse_of_constant(30, 200_000, 0, 0.9) > measured + 0.008


@pytest.mark.parametrize("T", [1, 10, 100])
def test_copy_batch_layout(T: int) -> None:
    x, y = tasks.copy_batch(T, 4, 0)
    L = T + 20
    assert x.shape == (L, 4, 10) and y.shape == (L, 4)
    inp = x.argmax(-1)  # (L, B)
    assert torch.equal(inp[10 + T - 1], torch.full((4,), 9))  # delimiter
    assert torch.equal(y[-10:], inp[:10])  # repeat the first 10 symbols at the end
    assert int(y[:-10].abs().sum()) == 0 and int(inp[:10].min()) >= 1 and int(inp[:10].max()) <= 8


@pytest.mark.parametrize("T", [10, 25, 100])
def test_copy_baseline_formula_and_measurement(T: int) -> None:
    assert tasks.copy_baseline(T) == pytest.approx(10 * math.log(8) / (T + 20))
    assert tasks.copy_memoryless_ce(T, 256, 1) == pytest.approx(tasks.copy_baseline(T), rel=1e-5)


def test_stock_windows() -> None:
    d = tasks.stock_windows(window=20)
    assert d.x_train.shape[0] == 20 and d.x_train.shape[2] == 2
    n_train, n_test = d.x_train.shape[1], d.x_test.shape[1]
    assert n_train + n_test == 1047 - 1 - 20 and abs(n_train / (n_train + n_test) - 0.7) < 0.01
    # the target of window i is feature 1 of the day after the window: check with the test part
    assert torch.allclose(d.y_test[:-1, 0], d.x_test[-1, 1:, 1])
    # standardised with training statistics: train target has mean ~0, std ~1
    assert abs(float(d.y_train.mean())) < 0.1 and abs(float(d.y_train.std()) - 1) < 0.1
    assert d.persistence_test_mse > 0 and d.mean_test_mse > 0
    assert len(d.dates_test) == n_test
