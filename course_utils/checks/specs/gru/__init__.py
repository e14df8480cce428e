"""Specs of notebook 04 (gru): the GRU cell and sequence (:mod:`.cells`), and the parameter
counts of torch.nn.LSTM / torch.nn.GRU (:mod:`.counts`)."""

from .cells import SPECS as CELL_SPECS
from .counts import COUNT_SPECS, formula_count

SPECS = CELL_SPECS + COUNT_SPECS

__all__ = ["SPECS", "CELL_SPECS", "COUNT_SPECS", "formula_count"]
