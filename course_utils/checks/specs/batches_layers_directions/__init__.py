"""Specs of notebook 06 (real batches): ``lstm_stack_forward`` and ``lstm_forward_padded``.

Both are compared with ``torch.nn.LSTM`` in float64: :mod:`.stack` with ``num_layers`` in
{1, 2, 3} and ``bidirectional`` in {False, True}; :mod:`.padded` on a padded batch, against
``nn.LSTM`` run on ``pack_padded_sequence`` / ``pad_packed_sequence``, with lengths that
include 1 and T. Each module holds its cases, reference, mistake catalogue and a diagnosis that
says *where* an uncatalogued error sits (which layer / direction, which sequence, which step).
"""

from __future__ import annotations

from .padded import PADDED_SPEC
from .stack import STACK_SPEC

SPECS = [STACK_SPEC, PADDED_SPEC]
