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
