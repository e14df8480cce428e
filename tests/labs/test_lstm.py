"""Tests of course_utils.labs.lstm: the gate plot of notebook 03's explorer."""

from __future__ import annotations

from course_utils.labs import lstm as lstm_viz


def test_plot_gates_legend_sits_above_the_curves():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    params = lstm_viz.memory_lstm_params()
    x = lstm_viz.marker_sequence(T=12, store_at=3, value=0.8)
    fig = lstm_viz.plot_gates(x, lstm_viz.trace_lstm(x, *params), title="t")
    ax = fig.axes[5]                                  # the h(t) panel under the five heat maps
    assert ax.get_title(loc="left").startswith("hidden state")
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert legend.y0 >= ax.get_window_extent().y1 - 1    # above the axes: hides no curve
    plt.close(fig)


def test_cell_diagrams_draw_both_cells_side_by_side():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2)
    lstm_viz.draw_lstm_cell(axes[0])
    lstm_viz.draw_gru_cell(axes[1])
    assert "LSTM" in axes[0].get_title() and "GRU" in axes[1].get_title()
    assert "reset-after" in axes[1].get_title()
    texts = " ".join(t.get_text() for t in axes[1].texts)
    for symbol in ("r_t", "z_t", "n_t", "h_{t-1}", "1−"):
        assert symbol in texts, symbol
    assert len(axes[1].patches) > 10          # boxes, operators and arrows were drawn
    plt.close(fig)
