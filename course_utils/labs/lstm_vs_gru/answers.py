"""The measured answers to notebook 08's predict-then-measure questions.

Each function turns a measurement into one of the options the notebook offered
(:func:`course_utils.lib.predict.predict`), so :func:`course_utils.lib.predict.reveal` can set
the learner's prediction next to what this machine measured.
"""

from __future__ import annotations

from statistics import fmean, median
from typing import Any

from ...lib.runs import final_loss
from .speed import sides, speed_ratios

CELL_NAMES = {"rnn": "tanh RNN", "lstm": "LSTM", "gru": "GRU"}


def race_answer(live: dict[str, list[dict[str, Any]]]) -> str:
    """The cell ("tanh RNN", "LSTM", "GRU") with the lowest mean final loss over its seeds."""
    return CELL_NAMES[min(live, key=lambda c: fmean(final_loss(r) for r in live[c]))]


def speed_answer(speed: list[dict[str, Any]]) -> str:
    """"GRU" or "LSTM" (faster at every size, PyTorch's defaults), "on par", or "depends on
    the size" (noise-tolerant: :func:`.speed.sides`)."""
    on, _ = speed_ratios(speed)
    s = sides(on, [r["H"] for r in speed])
    n = len(speed)
    return ("GRU" if len(s["faster"]) == n else "LSTM" if len(s["slower"]) == n
            else "on par" if len(s["on par"]) == n else "depends on the size")


def memory_answer(memory: list[dict[str, Any]], tol: float = 0.02) -> str:
    """Which cell saves more activation bytes at equal H with PyTorch's CPU defaults:
    "LSTM", "GRU" or "the same" (within ``tol``) — at every measured size, else "depends"."""
    words = {"LSTM" if r["lstm_mkldnn"] > (1 + tol) * r["gru"] else
             "GRU" if r["gru"] > (1 + tol) * r["lstm_mkldnn"] else "the same" for r in memory}
    return words.pop() if len(words) == 1 else "depends"


def solved_answer(summary: dict[tuple[str, int], Any], T: int, threshold: float) -> str:
    """Which of LSTM-48 and GRU-48 solve the adding problem at ``T`` (median final loss below
    ``threshold``): "LSTM", "GRU", "both" or "neither"."""
    ok = {c: median(summary[f"{c} H=48", T]["final"]) < threshold for c in ("LSTM", "GRU")}
    return ("both" if all(ok.values()) else "neither" if not any(ok.values())
            else next(c for c, v in ok.items() if v))


def counting_answer(counting: dict[str, dict[str, Any]]) -> str:
    """Which cell counts past its training range in most seeds: "LSTM", "GRU", "both" or
    "neither" (every GRU sizing pooled)."""
    beyond = {}
    for cell in ("LSTM", "GRU"):
        lims = [(x, v["train_n"]) for k, v in counting.items() if k.startswith(cell)
                for x in v["limit"]]
        beyond[cell] = sum(x > n for x, n in lims) > len(lims) / 2
    return ("both" if all(beyond.values()) else "neither" if not any(beyond.values())
            else next(c for c, v in beyond.items() if v))


NO_GUESS = "no prediction"  # the first option of every question: Run All records no guess


def say(guess: Any, measured: str, why: str = "") -> str:
    """:func:`~course_utils.lib.predict.reveal`, except that an untouched question (its value
    still :data:`NO_GUESS`) says "no prediction recorded" instead of claiming a choice."""
    from ...lib.predict import reveal

    if guess.value == NO_GUESS:
        return (f"No prediction recorded (pick one above before running the measurement); the "
                f"measurement says {measured!r}." + (f" {why}" if why else ""))
    return reveal(guess, measured, why)
