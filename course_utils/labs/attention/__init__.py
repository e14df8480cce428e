"""Notebook 10 (from gates to attention): seq2seq, attention, and a Transformer measured against
the LSTM and the GRU."""
