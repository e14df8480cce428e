"""`python -m course_utils ...` dispatch and the exercise registry."""

from __future__ import annotations

import subprocess
import sys

from course_utils.__main__ import COMMANDS, main
from course_utils.exercises import all_exercises, by_notebook, get


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "course_utils", *args], capture_output=True, text=True)


def test_help_lists_commands():
    out = run("--help")
    assert out.returncode == 0
    for name in COMMANDS:
        assert name in out.stdout


def test_no_command_is_a_usage_error():
    assert main([]) == 2


def test_unknown_command_is_a_usage_error():
    out = run("frobnicate")
    assert out.returncode == 2 and "invalid choice" in out.stderr


def test_exercises_table():
    out = run("exercises")
    assert out.returncode == 0
    assert "rnn_cell_forward" in out.stdout and "01_rnn_basics" in out.stdout


def test_registry_matches_design_signatures():
    ids = {e.id for e in all_exercises()}
    assert {"sigmoid", "rnn_cell_forward", "rnn_forward"} <= ids
    assert get("rnn_forward").notebook == "01_rnn_basics"
    assert all(e.points > 0 for e in all_exercises())
    assert [e.id for e in by_notebook()["01_rnn_basics"]] == ["rnn_cell_forward", "rnn_forward"]
    assert get("rnn_forward").checker.__name__ == "check_rnn_forward"
