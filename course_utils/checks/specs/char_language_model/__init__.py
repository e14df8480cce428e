"""Specs of notebook 07 (a character-level language model): ``bits_per_char``,
``tbptt_batches``, ``train_tbptt`` and ``next_char_probs``, one module each."""

from .batches import SPEC as TBPTT_BATCHES
from .bits import SPEC as BITS_PER_CHAR
from .sampling import SPEC as NEXT_CHAR_PROBS
from .training import SPEC as TRAIN_TBPTT

SPECS = [BITS_PER_CHAR, TBPTT_BATCHES, TRAIN_TBPTT, NEXT_CHAR_PROBS]
