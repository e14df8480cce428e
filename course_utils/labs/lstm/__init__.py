"""Pictures for notebook 03 (LSTM): the cell diagram and the gate explorer.

* :func:`draw_lstm_cell` draws the LSTM cell of ``torch.nn.LSTM`` with matplotlib (no image
  file ships with the course): the cell-state "carousel" along the top, the four gate
  pre-activations from ``[x_t, h_{t-1}]``, and the point-wise operations.
* :func:`memory_lstm_params` hand-sets a 3-unit LSTM that stores a marked value until a recall
  signal; :func:`marker_sequence` makes its inputs; :func:`trace_lstm` records i, f, g, o, c, h
  at every step; :func:`plot_gates` draws them as heat maps; :func:`gate_explorer` wraps the
  plot in ipywidgets sliders (it renders once when the cell runs, so it works without a
  frontend, e.g. under nbval).

References: Hochreiter & Schmidhuber, "Long Short-Term Memory", Neural Computation 1997;
Gers, Schmidhuber & Cummins, "Learning to Forget", 2000; C. Olah, "Understanding LSTM
Networks", 2015 (the style of the diagram). Heavy imports (matplotlib, torch, ipywidgets) happen
inside the functions, so ``import course_utils`` stays light.
"""

from .diagrams import GATE_COLOURS, GRU_COLOURS, draw_gru_cell, draw_lstm_cell
from .memory import (
    INPUT_NAMES,
    UNIT_NAMES,
    gate_explorer,
    marker_sequence,
    memory_lstm_params,
    plot_gates,
    trace_lstm,
)

__all__ = ["GATE_COLOURS", "GRU_COLOURS", "draw_gru_cell", "draw_lstm_cell", "INPUT_NAMES",
           "UNIT_NAMES", "gate_explorer", "marker_sequence", "memory_lstm_params", "plot_gates",
           "trace_lstm"]
