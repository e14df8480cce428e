"""Tests of course_utils.labs.gru: the GRU conventions of notebook 04 and the seed table's labels."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.labs import gru as gru_viz


def _params(I: int = 3, H: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    return (rng.normal(0, 0.5, (3 * H, I)), rng.normal(0, 0.5, (3 * H, H)),
            rng.normal(0, 0.5, 3 * H), rng.normal(0, 0.5, 3 * H))


def test_reset_before_z_flipped_is_reset_before_with_the_blend_swapped():
    rng = np.random.default_rng(1)
    x_t, h = rng.normal(size=(2, 3)), rng.normal(0, 0.5, (2, 4))
    W_ih, W_hh, b_ih, b_hh = _params()
    H = 4
    z = 1 / (1 + np.exp(-(x_t @ W_ih[H:2 * H].T + b_ih[H:2 * H] + h @ W_hh[H:2 * H].T
                          + b_hh[H:2 * H])))
    before = gru_viz.gru_cell_reset_before(x_t, h, W_ih, W_hh, b_ih, b_hh)   # (1-z) n + z h
    n = (before - z * h) / (1 - z)
    got = gru_viz.gru_cell_reset_before_z_flipped(x_t, h, W_ih, W_hh, b_ih, b_hh)
    np.testing.assert_allclose(got, z * n + (1 - z) * h, atol=1e-12)
    # a different function from both neighbours in the table
    assert np.abs(got - before).max() > 1e-3
    assert np.abs(got - gru_viz.gru_cell_z_flipped(x_t, h, W_ih, W_hh, b_ih, b_hh)).max() > 1e-3


def test_seed_table_counts_gates_and_gate_blocks():
    pytest.importorskip("torch")
    rows = gru_viz.seed_table(I=4, H=8, B=2, T=3, min_run_time=0.01)
    by_model = {r["model"]: r for r in rows}
    assert {m: (r["gates"], r["gate blocks"]) for m, r in by_model.items()} == {
        "RNN": (0, 1), "LSTM": (3, 4), "LSTM (oneDNN off)": (3, 4), "GRU": (2, 3)}
    assert by_model["GRU"]["parameters"] == 3 * 8 * (4 + 8 + 2)


def test_half_life_interpolates_and_never_rounds_up_to_a_whole_step():
    from course_utils.labs import gru as g

    assert g.half_life(np.array([0.25, 0.1])) == pytest.approx(0.5)      # 0.25 at t=1: 0.5 steps
    assert g.half_life(np.array([0.9, 0.81, 0.729, 0.6561, 0.59, 0.531, 0.478])) == pytest.approx(
        np.log(0.5) / np.log(0.9), abs=0.05)                            # geometric 0.9^t: 6.58
    assert g.half_life(np.array([0.9, 0.8])) is None
    assert g.format_half_life(np.array([0.9, 0.8])) == "> 2 steps"
    assert g.format_half_life(np.array([0.25])) == "0.5 steps"


def test_plot_memory_uses_a_log_axis_from_t0():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_utils.labs import gru as g

    fig = g.plot_memory({0.0: np.array([0.5, 0.25, 0.125])})
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.lines[0].get_xdata()[0] == 0
    plt.close(fig)
