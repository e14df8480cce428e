"""The helpers, explorers and experiments of each notebook: ``labs/<notebook slug>.py``.

A lab serves exactly one notebook (``labs.gru`` is notebook 04_gru's). What several notebooks
share lives in :mod:`course_utils.lib`. Labs never import the checkers and never hold an
exercise's answer.
"""
