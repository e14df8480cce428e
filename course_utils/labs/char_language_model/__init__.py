"""Notebook 07 (a character-level language model), one module per idea:

core       the PyTorch model, n-gram baselines, evaluation, the training driver ``fit``,
           sampling, and the probes that look inside (hidden units against the text)
numpy_lm   part 1: a character-level LSTM language model in numpy (parameters, sampling, the
           PyTorch twin with the same weights, the speed comparison)
baselines  general-purpose compressors (zlib, bz2, lzma) in bits per character
units      interpretable units tested against a null of untrained models and a permutation test

The learner writes the exercises; these helpers take them as arguments and never contain their
answers.
"""

from .core import (
                   LN2,
                   History,
                   best_units,
                   char_model,
                   coloured_html,
                   correlations,
                   count_params,
                   evaluate_bits,
                   fit,
                   generate,
                   hidden_states,
                   ngram_bits,
                   text_properties,
    top_p_filter,
)

__all__ = ["LN2", "History", "best_units", "char_model", "coloured_html", "correlations",
           "count_params", "evaluate_bits", "fit", "generate", "hidden_states", "ngram_bits",
           "text_properties", "top_p_filter"]
