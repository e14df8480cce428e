"""Predict, then measure: record a guess before an experiment, compare it with the result after.

    guess = predict("Which cell saves more activations for backward?", ["LSTM", "GRU", "same"])
    ...                                       # the measurement
    print(reveal(guess, measured="LSTM", why="oneDNN keeps a workspace per step"))

In JupyterLab or Colab :func:`predict` shows toggle buttons (ipywidgets) whose current value is
read when :func:`reveal` runs; headless (nbval, a script) or without ipywidgets it keeps the
default, so Run All never waits for a click. ``guess.value = "GRU"`` sets it in code.
Writing a prediction down first is the point: a result you predicted wrongly is one you remember
(Crouch et al. 2004, "Classroom demonstrations: learning tools or entertainment?").
"""

from __future__ import annotations

from typing import Any, Sequence


class Prediction:
    """A learner's answer to one question, one of ``options`` (``default`` until changed)."""

    def __init__(self, question: str, options: Sequence[str], default: str | None = None) -> None:
        if not options:
            raise ValueError("a prediction needs at least one option")
        self.question, self.options = question, list(options)
        self._value = self.options[0] if default is None else default
        if self._value not in self.options:
            raise ValueError(f"default {default!r} is not one of {self.options}")
        self.widget: Any = None

    @property
    def value(self) -> str:
        """The widget's current choice when there is one, else the stored value."""
        return self.widget.value if self.widget is not None else self._value

    @value.setter
    def value(self, choice: str) -> None:
        if choice not in self.options:
            raise ValueError(f"{choice!r} is not one of {self.options}")
        self._value = choice
        if self.widget is not None:
            self.widget.value = choice

    def __repr__(self) -> str:
        return f"Prediction({self.question!r}: {self.value!r})"


def _widget(p: Prediction) -> Any:
    """Toggle buttons for ``p``, or None without ipywidgets."""
    try:
        import ipywidgets as widgets
    except ImportError:
        return None
    return widgets.ToggleButtons(options=p.options, value=p.value, description="",
                                 style={"button_width": "auto"})


def predict(question: str, options: Sequence[str], default: str | None = None,
            show: bool = True) -> Prediction:
    """Ask ``question``; in a notebook show one button per option (``show=False``: no display).

    The first option is the default unless ``default`` names another."""
    p = Prediction(question, options, default)
    if show:
        from IPython.display import display

        p.widget = _widget(p)
        display(p.widget if p.widget is not None else f"{question} (set .value; options: "
                f"{', '.join(p.options)})")
        if p.widget is not None:
            print(f"Predict: {question}")
    return p


def reveal(p: Prediction, measured: str, why: str = "") -> str:
    """One line that sets the prediction next to the measured answer (one of the options)."""
    same = p.value == measured
    line = (f"You predicted {p.value!r}; the measurement says {measured!r}: "
            + ("as you predicted." if same else "not what you predicted."))
    return line + (f" {why}" if why else "")
