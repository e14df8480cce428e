"""Specs of notebook 05 (backprop through the gates): ``numerical_gradient``,
``lstm_backward``, ``gru_backward``, ``clip_grad_norm`` — one module each, shared helpers in
:mod:`.common`."""

from .clipping import SPEC as CLIP_SPEC
from .gru import SPEC as GRU_SPEC
from .lstm import SPEC as LSTM_SPEC
from .numerical import SPEC as NUMERICAL_SPEC

SPECS = [NUMERICAL_SPEC, LSTM_SPEC, GRU_SPEC, CLIP_SPEC]
