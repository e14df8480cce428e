"""Specs of notebook 10 (from gates to attention), one module each: ``additive_attention``
(additive), ``scaled_dot_product_attention`` (dot_product) and ``beam_search`` (beam: its rule
and searches in search, its cases in beam_cases, its catalogue in beam_mistakes)."""

from .additive import SPEC as ADDITIVE_ATTENTION
from .beam import SPEC as BEAM_SEARCH
from .dot_product import SPEC as SCALED_DOT_PRODUCT_ATTENTION

SPECS = [ADDITIVE_ATTENTION, SCALED_DOT_PRODUCT_ATTENTION, BEAM_SEARCH]
