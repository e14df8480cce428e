"""Specs of notebook 09 (Chung et al. 2014's polyphonic-music experiment, replicated on Bach
chorales), both in numpy: ``piano_roll`` (roll), MIDI pitches per frame -> an 88-key roll
transposed to C, and ``frame_nll`` (nll), the mean per-frame sum of 88 Bernoulli NLLs computed
stably from logits."""

from .nll import SPEC as FRAME_NLL
from .roll import SPEC as PIANO_ROLL

SPECS = [PIANO_ROLL, FRAME_NLL]
