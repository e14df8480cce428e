"""Your code travels with you: a passing learner cell is used, anything else falls back (and
says so)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

from course_utils.checks import travel  # noqa: E402
from course_utils.checks.specs.lstm import ref_lstm_forward  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = ROOT / "solutions" / "03_lstm.ipynb"


def _with_cell(tmp_path: Path, exercise: str, body: str | None, name: str = "03_lstm.ipynb") -> Path:
    """A copy of solution 03 whose cell of ``exercise`` has ``body`` (None: cell deleted)."""
    nb = json.loads(SOLUTION.read_text())
    cells = []
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == exercise:
            if body is None:
                continue
            cell = {**cell, "source": body}
        cells.append(cell)
    nb["cells"] = cells
    out = tmp_path / name
    out.write_text(json.dumps(nb))
    return out


def test_passing_learner_cell_is_used(tmp_path):
    shutil.copy(SOLUTION, tmp_path / "03_lstm.ipynb")
    got = travel.travel("lstm_forward", folders=[tmp_path])
    assert got.source == "yours" and "YOUR function from 03_lstm.ipynb" in got.note
    assert got.fn is not ref_lstm_forward and got.fn.__name__ == "lstm_forward"
    rng = np.random.default_rng(0)
    x, h0, c0 = rng.normal(size=(4, 2, 3)), rng.normal(size=(2, 5)), rng.normal(size=(2, 5))
    W = (rng.normal(size=(20, 3)), rng.normal(size=(20, 5)), rng.normal(size=20), rng.normal(size=20))
    np.testing.assert_allclose(got.fn(x, h0, c0, *W)[0], ref_lstm_forward(x, h0, c0, *W)[0],
                               rtol=1e-10)


def test_learner_cell_that_uses_earlier_exercise_and_context(tmp_path):
    body = ("def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):\n"
            "    h, c, outs = h0, c0, []\n"
            "    for x_t in x:\n"
            "        h, c = lstm_cell_forward(x_t, h, c, W_ih, W_hh, b_ih, b_hh)\n"
            "        outs.append(h)\n"
            "    print('chatter that must not show')\n"
            "    return np.stack(outs), (h, c)\n")
    _with_cell(tmp_path, "lstm_forward", body)
    got = travel.travel("lstm_forward", folders=[tmp_path])
    assert got.source == "yours"


def test_failing_cell_falls_back_with_the_reason(tmp_path, capsys):
    body = ("def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):\n"
            "    h, c, outs = h0, c0, []\n"
            "    for x_t in x:\n"
            "        h, c = lstm_cell_forward(x_t, h0, c0, W_ih, W_hh, b_ih, b_hh)\n"
            "        outs.append(h)\n"
            "    return np.stack(outs), (h, c)\n")
    _with_cell(tmp_path, "lstm_forward", body)
    fn = travel.yours_from_notebook("lstm_forward", folders=[tmp_path])
    out = capsys.readouterr().out
    assert fn is ref_lstm_forward
    assert "reference implementation is used" in out and "does not pass its checks" in out


def test_unfinished_cell_says_not_implemented(tmp_path):
    body = ("def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):\n"
            "    # YOUR CODE HERE\n    raise NotImplementedError()\n")
    _with_cell(tmp_path, "lstm_forward", body)
    got = travel.travel("lstm_forward", folders=[tmp_path])
    assert got.source == "reference" and "not implemented yet" in got.note


def test_cell_that_raises_on_definition(tmp_path):
    _with_cell(tmp_path, "lstm_forward", "import not_a_module_anywhere\n")
    got = travel.travel("lstm_forward", folders=[tmp_path])
    assert got.source == "reference" and "ModuleNotFoundError" in got.note


def test_missing_cell_missing_file_and_garbage_file(tmp_path):
    _with_cell(tmp_path, "lstm_forward", None)
    got = travel.travel("lstm_forward", folders=[tmp_path])
    assert got.source == "reference" and "no exercise cell" in got.note
    empty = tmp_path / "empty"
    empty.mkdir()
    got = travel.travel("lstm_forward", folders=[empty])
    assert got.source == "reference" and got.notebook is None and "no 03_lstm.ipynb" in got.note
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "03_lstm.ipynb").write_text("{not json")
    got = travel.travel("lstm_forward", folders=[bad])
    assert got.source == "reference" and "could not be read" in got.note


def test_renamed_copy_is_found_and_whole_notebook_is_not_run(tmp_path):
    nb = json.loads(SOLUTION.read_text())
    # a cell outside the exercises and context that would fail loudly if the notebook ran whole
    nb["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                        "source": "raise SystemExit('the whole notebook was executed')"})
    (tmp_path / "Copy of 03_lstm.ipynb").write_text(json.dumps(nb))
    got = travel.travel("lstm_forward", folders=[tmp_path])
    assert got.source == "yours" and "Copy of 03_lstm.ipynb" in got.note


def test_backward_travels_from_notebook_05(tmp_path):
    shutil.copy(ROOT / "solutions" / "05_backprop_through_gates.ipynb", tmp_path)
    got = travel.travel("lstm_backward", folders=[tmp_path])
    assert got.source == "yours"


def test_checker_call_display_and_magics_in_the_cell_run_nothing(tmp_path, monkeypatch):
    """As in the grader: the function is used although a later statement would fail outside
    the notebook, and a shell line in the cell is not run again by the travel."""
    ran = []
    monkeypatch.setattr("os.system", lambda *a: ran.append(a))
    nb = json.loads(SOLUTION.read_text())
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "lstm_forward":
            cell["source"] = ("".join(cell["source"]) + "\n!echo travelled > marker\n"
                              "check_lstm_forward(lstm_forward)\ndisplay(lstm_forward)\n"
                              "undefined_name_after_the_function\n")
    (tmp_path / "03_lstm.ipynb").write_text(json.dumps(nb))
    got = travel.travel("lstm_forward", folders=[tmp_path])
    assert got.source == "yours", got.note
    assert not ran and not (tmp_path / "marker").exists()
