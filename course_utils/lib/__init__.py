"""What several notebooks share: data (``tasks``, ``text``), training (``train``), the fast LSTM
(``fast_rnn``), measuring (``measure`` time and machine, ``memory`` bytes saved for backward),
counting (``counts``), committed results (``results``, ``runs``) and prediction prompts
(``predict``)."""
