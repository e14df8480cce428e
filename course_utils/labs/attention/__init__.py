"""Notebook 10 (attention): from gates to attention — seq2seq on dates, additive attention, a
small Transformer, measured under the trial protocol.

* :mod:`.dates` — the task (human-written dates -> ISO), splits held out by date and by length;
* :mod:`.models` — GRU / LSTM encoder–decoders with and without additive attention, a tiny
  Transformer, all sized to equal total parameters;
* :mod:`.train` — teacher-forced training, greedy exact match, exposure bias, a beam;
* :mod:`.trial` — the five-arm trial (``python -m course_utils sweep --suite dates``) and its
  verdicts as ledger rows;
* :mod:`.plots` — the notebook's figures.

Import the modules themselves (``from course_utils.labs.attention import dates, models``); this
package exports nothing else, so other modules can join it without conflicts.
"""

from __future__ import annotations

from . import dates, models, train, trial  # noqa: F401
