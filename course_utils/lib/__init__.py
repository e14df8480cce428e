"""What several notebooks share: data (``tasks``), training (``train``), the fast LSTM
(``fast_rnn``), measuring (``measure``), counting (``counts``) and committed results (``results``)."""
