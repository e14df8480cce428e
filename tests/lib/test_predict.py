"""course_utils.lib.predict: a prediction keeps its default headless and compares with a result."""

from __future__ import annotations

import pytest

from course_utils.lib.predict import Prediction, predict, reveal


def test_default_and_setting_a_value() -> None:
    p = predict("faster?", ["LSTM", "GRU", "same"], default="GRU", show=False)
    assert p.value == "GRU" and p.widget is None
    p.value = "same"
    assert p.value == "same" and "same" in repr(p)
    with pytest.raises(ValueError):
        p.value = "RNN"
    with pytest.raises(ValueError):
        Prediction("q", ["a"], default="b")
    with pytest.raises(ValueError):
        Prediction("q", [])


def test_reveal_says_whether_the_guess_was_right() -> None:
    p = Prediction("more memory?", ["LSTM", "GRU"])
    assert p.value == "LSTM"
    assert reveal(p, "LSTM").endswith("as you predicted.")
    assert "not what you predicted. oneDNN" in reveal(p, "GRU", why="oneDNN")


def test_the_widget_follows_the_value() -> None:
    pytest.importorskip("ipywidgets")
    p = predict("q", ["a", "b"], default="b")
    assert p.widget is not None and p.widget.value == "b"
    p.widget.value = "a"
    assert p.value == "a"
    p.value = "b"
    assert p.widget.value == "b"
