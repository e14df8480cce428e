"""Notebook gpu_comparison (LSTM vs GRU on a GPU): the roofline and the bench's points on it,
which backend ran (oneDNN / cuDNN on and off, the profiler), the cuDNN algorithm PyTorch picks,
the figures drawn from ``bench`` results (a live quick run and every committed
``results/gpu_*.json``) and the claims-ledger rows.

A results dict is what ``python -m course_utils bench`` writes (validated by
:mod:`course_utils.tools.bench.schema`); this package only reads it. numpy, torch and matplotlib
are imported inside the functions.

References: Williams, Waterman & Patterson (2009), "Roofline: an insightful visual performance
model"; Appleyard, Kociský & Blunsom (2016), arXiv:1604.01946; Diamos et al. (2016),
"Persistent RNNs: stashing recurrent weights on-chip", ICML; PyTorch's cudnn/RNN.cpp
(:mod:`.cudnn`).
"""

from __future__ import annotations

from .backends import (
    backend_split,
    library_backend,
    library_name,
    lstm_not_hoisted,
    profile_line,
    profile_ops,
)
from .cudnn import GPUS, SOURCE, Gpu, algo_table, cudnn_algo
from .figures import (
    _plain,  # noqa: F401 - tests read the tick formatter
    efficiency_lines,
    plot_ladder,
    plot_peak_memory,
    plot_ratio_heatmap,
    plot_t_sweep,
    plot_time_vs_batch,
)
from .ledger import gpu_status_lines, ledger_rows, print_ledger
from .roofline import intensity, layer_attainable, plot_roofline, plot_roofline_measured, rooflines

MODES = ("inference", "training")

__all__ = ["GPUS", "MODES", "SOURCE", "Gpu", "algo_table", "backend_split", "cudnn_algo",
           "efficiency_lines", "gpu_status_lines", "intensity", "layer_attainable",
           "ledger_rows", "library_backend", "library_name", "lstm_not_hoisted", "plot_ladder",
           "plot_peak_memory", "plot_ratio_heatmap", "plot_roofline", "plot_roofline_measured",
           "plot_t_sweep", "plot_time_vs_batch", "print_ledger", "profile_line", "profile_ops",
           "rooflines"]
