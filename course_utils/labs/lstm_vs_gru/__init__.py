"""Notebook 08 (LSTM vs GRU): the folklore put to a fair trial, one verdict per claim.

The notebook imports everything through this package as ``ex``:

* :mod:`.trials` and :mod:`.charlm_size` — the tasks run under the trial protocol of
  :mod:`course_utils.lib.protocol` (adding, copy, counting, the GOOG series, the char-LM data-size
  question), swept by ``python -m course_utils sweep --suite …`` (:mod:`course_utils.tools.sweep_trial`);
* :mod:`.verdicts` — the verdicts read from the committed ``results/sweeps/trial_*_cpu.json``;
* :mod:`.trial_ledger` and :mod:`.trial_choose` — the claims ledger, the comparison and literature
  tables and "when to choose which", generated from those verdicts;
* :mod:`.speed` and :mod:`.sources` — the live speed and activation-memory measurements;
* :mod:`.counting` — the aⁿbⁿ task.

Retired: :mod:`.ledger`, :mod:`.choose`, and the old-sweep readers of :mod:`.speed` /
:mod:`.sources` (``claims_ledger``, ``comparison_table``, ``when_to_choose``) read the old
``adding_copy_cpu.json`` / ``counting_cpu.json`` sweeps (one learning rate, selection on the
reported metric); the notebook no longer draws verdicts from them.

Run records are read with :mod:`course_utils.lib.runs` (re-exported for the notebook's ``ex.``
calls); activation memory with :mod:`course_utils.lib.memory`; predictions with
:mod:`course_utils.lib.predict`.

References: Chung, Gulcehre, Cho & Bengio (2014); Jozefowicz, Zaremba & Sutskever (2015);
Greff et al. (2017), "LSTM: a search space odyssey"; Gers, Schmidhuber & Cummins (2000);
Weiss, Goldberg & Yahav (2018).
"""

from __future__ import annotations

from ...lib.runs import (  # noqa: F401
    band,
    final_loss,
    fmt_final,
    fmt_list,
    markdown_table,
    plot_band,
    ranges_overlap,
    seconds_per_update,
    seconds_to,
    select,
    smooth,
    spread,
    updates_to,
)
from .answers import (  # noqa: F401, E402
    NO_GUESS,
    counting_answer,
    memory_answer,
    race_answer,
    say,
    solved_answer,
    speed_answer,
)
from .choose import COMPARISON_HEADERS, comparison_table, when_to_choose  # noqa: F401, E402
from .counting import (  # noqa: F401
    CountingConfig,
    anbn_batch,
    counting_limit,
    summarise_counting,
    train_counting,
)
from .ledger import (  # noqa: F401
    Evidence,
    claim_accuracy,
    claim_equal_params,
    claim_forget_bias,
    claim_gated,
    claim_long_range,
    claim_params,
    claim_speed,
)
from .sources import (  # noqa: F401
    CHARLM_CMD,
    CLAIMS,
    COUNTING_CMD,
    LEDGER_HEADERS,
    MEMORY_SIZES,
    TRANSFORMERS,
    charlm_bits,
    claim_data_size,
    claim_expressive,
    claim_memory,
    claims_ledger,
    gpu_memory_ratios,
    memory_table,
)
from .speed import (  # noqa: F401
    CONFIGS,
    SPEED_SIZES,
    SPEED_TOL,
    sides,
    speed_ratios,
    speed_reading,
    speed_table,
    summarise,
)
from .trial_choose import COMPARISON_HEADERS as TRIAL_COMPARISON_HEADERS  # noqa: F401, E402
from .trial_choose import (  # noqa: F401, E402
    LITERATURE,
    LITERATURE_HEADERS,
    literature_table,
)
from .trial_choose import comparison_table as trial_comparison_table  # noqa: F401, E402
from .trial_choose import when_to_choose as trial_when_to_choose  # noqa: F401, E402
from .trial_ledger import LEDGER_HEADERS as TRIAL_LEDGER_HEADERS  # noqa: F401, E402
from .trial_ledger import Findings  # noqa: F401, E402
from .trial_ledger import claims_ledger as trial_ledger  # noqa: F401, E402
from .verdicts import (  # noqa: F401, E402
    FILES,
    ahead,
    arm_names,
    brief,
    cell_verdicts,
    charlm_verdicts,
    chosen_lr_table,
    convergence_verdict,
    epochs_of,
    gated_verdicts,
    load_trials,
    missing,
    regime,
    rnn_name,
    scores,
    series_verdicts,
    stopped_early,
    summary_line,
    threshold_times,
)
