"""Specs of notebook 07 (a character-level language model), one module each: part 1 in numpy,
``adam_step`` (adam) and ``lm_train_step`` (numpy_lm); part 2, ``bits_per_char``,
``tbptt_batches``, ``train_tbptt`` and ``next_char_probs``."""

from .adam import SPEC as ADAM_STEP
from .batches import SPEC as TBPTT_BATCHES
from .bits import SPEC as BITS_PER_CHAR
from .numpy_lm import SPEC as LM_TRAIN_STEP
from .sampling import SPEC as NEXT_CHAR_PROBS
from .training import SPEC as TRAIN_TBPTT

SPECS = [ADAM_STEP, LM_TRAIN_STEP, BITS_PER_CHAR, TBPTT_BATCHES, TRAIN_TBPTT, NEXT_CHAR_PROBS]
