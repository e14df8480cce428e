"""Notebook 09 (polyphonic music): Chung et al. (2014)'s music experiment replicated on Bach chorales.

The notebook imports this package as ``ex``:

* :mod:`.data` — the JSB-like chorales rebuilt from the ``music21`` corpus (88-key rolls, quarter-
  note frames, transposed to C), cached outside the repository; ``python -m course_utils data
  chorales`` builds the cache and prints the statistics;
* :mod:`.baselines` — independent keys and a per-key Markov chain;
* :mod:`.models` — the tanh / LSTM / GRU nets at the paper's sizes and at equal total parameters,
  the paper's recipe (RMSProp, clipping, weight noise) and Adam, one training run;
* :mod:`.replication` — the committed sweep (``python -m course_utils sweep --suite chorales``)
  read under the trial protocol: tables, verdicts, curves and the paper's Table 2 beside them.

Importing it is light: torch and music21 are imported inside the functions that need them.

References: Chung, Gulcehre, Cho & Bengio (2014), "Empirical evaluation of gated recurrent neural
networks on sequence modeling"; Boulanger-Lewandowski, Bengio & Vincent (2012), "Modeling temporal
dependencies in high-dimensional sequences"; Graves (2011), "Practical variational inference for
neural networks" (weight noise).
"""

from __future__ import annotations

from . import baselines, data, models  # noqa: F401
