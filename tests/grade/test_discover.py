"""course_utils.grade.discover.identify: which course notebook a submission is."""
from course_utils.grade.discover import identify

NOTEBOOKS = {"08_lstm_vs_gru": ["gru_hidden_for_lstm_params"],
             "09_polyphonic_music": ["frame_nll", "piano_roll"],
             "11_gpu_comparison": ["lstm_forward_hoisted", "time_shares"]}


def nb(*cells):
    return {"cells": list(cells)}


def cell(source, grade_id=None):
    meta = {"nbgrader": {"grade_id": grade_id}} if grade_id else {}
    return {"cell_type": "code", "source": source, "metadata": meta}


def test_grade_ids_win_over_the_file_name():
    sub = nb(cell("def lstm_forward_hoisted(): pass", "lstm_forward_hoisted"))
    assert identify(sub, "09_polyphonic_music.ipynb", NOTEBOOKS) == "11_gpu_comparison"


def test_a_file_of_the_old_numbering_is_found_by_its_slug():
    """09_gpu_comparison became 11_gpu_comparison: a learner's old file name still grades."""
    assert identify(nb(), "09_gpu_comparison.ipynb", NOTEBOOKS) == "11_gpu_comparison"


def test_a_renamed_copy_is_found_by_its_number_then_by_its_defs():
    assert identify(nb(), "09_music (1).ipynb", NOTEBOOKS) == "09_polyphonic_music"
    sub = nb(cell("def time_shares(ops, wall_ms):\n    return {}"))
    assert identify(sub, "my_notebook.ipynb", NOTEBOOKS) == "11_gpu_comparison"
    assert identify(nb(), "my_notebook.ipynb", NOTEBOOKS) is None
