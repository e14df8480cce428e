"""The maintainers' commands: ``build`` (solutions/ -> notebooks/), ``sweep`` (training sweeps
-> results/), ``bench`` (the LSTM vs GRU benchmark)."""
