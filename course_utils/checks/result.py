"""CheckResult: what every checker returns, and how it shows itself.

``bool(result)`` is ``result.passed``. In a terminal it prints as one or a few lines of plain
text; in JupyterLab / Colab it renders as a compact coloured box. Both renderings are
deterministic (no ids, timings or paths) so nbval can compare them.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

# status values
PASSED = "passed"
FAILED = "failed"
NOT_IMPLEMENTED = "not_implemented"

_STYLE = {
    PASSED: ("#e8f5e9", "#2e7d32", "✔"),
    FAILED: ("#ffebee", "#c62828", "✘"),
    NOT_IMPLEMENTED: ("#fff8e1", "#a86b00", "…"),
}


@dataclass
class CaseOutcome:
    """The verdict on one case: plain data, safe to hand to the grader."""

    label: str
    group: str
    passed: bool
    message: str = ""
    mistake: str | None = None
    batch: int | None = None  # the case's batch size, when it has one
    rank: int | None = None   # the number of axes of the case's main input, when it varies

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "group": self.group, "passed": self.passed,
                "message": self.message, "mistake": self.mistake, "batch": self.batch,
                "rank": self.rank}


@dataclass
class CheckResult:
    """Result of checking one exercise.

    Attributes
    ----------
    exercise : the exercise id, e.g. ``"rnn_cell_forward"``
    passed   : True only when every case passed
    status   : ``"passed"``, ``"failed"`` or ``"not_implemented"``
    message  : one-paragraph verdict naming the mistake when it is a known one
    mistake  : the name of the recognised mistake, or None
    cases    : per-case outcomes (for partial credit)
    """

    exercise: str
    passed: bool
    message: str
    status: str = FAILED
    mistake: str | None = None
    cases: list[CaseOutcome] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.passed:
            self.status = PASSED

    def __bool__(self) -> bool:
        return self.passed

    @property
    def n_passed(self) -> int:
        return sum(c.passed for c in self.cases)

    @property
    def n_cases(self) -> int:
        return len(self.cases)

    def to_dict(self) -> dict[str, Any]:
        return {"exercise": self.exercise, "passed": self.passed, "status": self.status,
                "message": self.message, "mistake": self.mistake,
                "cases": [c.to_dict() for c in self.cases]}

    # ---- rendering -------------------------------------------------------------------
    def __str__(self) -> str:
        icon = _STYLE[self.status][2]
        return f"{icon} {self.exercise}: {self.message}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        bg, fg, icon = _STYLE[self.status]
        body = html.escape(self.message).replace("\n", "<br>")
        return (
            f'<div style="border-left:4px solid {fg};background:{bg};color:#222;'
            f'padding:6px 10px;margin:2px 0;font-family:sans-serif;font-size:13px">'
            f'<b style="color:{fg}">{icon} {html.escape(self.exercise)}</b> — {body}</div>'
        )
