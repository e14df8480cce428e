"""Specs of notebook 06 (real batches): ``lstm_stack_forward``, ``lstm_forward_padded``,
``bilstm_forward_padded`` and ``last_valid_output``.

All are compared with ``torch.nn.LSTM`` in float64: :mod:`.stack` with ``num_layers`` in
{1, 2, 3} and ``bidirectional`` in {False, True}; :mod:`.padded` on a padded batch, against
``nn.LSTM`` run on ``pack_padded_sequence`` / ``pad_packed_sequence``, with lengths that
include 1 and T; :mod:`.bidirectional` a bidirectional LSTM over a padded batch (time-major and
``batch_first``) and the gathering of its last valid output. Each module holds its cases,
reference, mistake catalogue and a diagnosis that says *where* an uncatalogued error sits
(which layer / direction, which sequence, which step).
"""

from __future__ import annotations

from .bidirectional import BILSTM_SPEC, LAST_SPEC
from .padded import PADDED_SPEC
from .stack import STACK_SPEC

SPECS = [STACK_SPEC, PADDED_SPEC, BILSTM_SPEC, LAST_SPEC]
