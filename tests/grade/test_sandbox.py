"""The sandbox runner on its own: one worker run, with and without the root-only measures."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.grade import sandbox
from course_utils.grade.serialize import decode_value, encode_inputs, save_npz_bytes


def _job(cell: str) -> tuple[dict, bytes]:
    tree, arrays = encode_inputs({"args": (np.arange(3.0),), "kwargs": {}})
    job = {"context": ["import numpy as np"], "cells": [{"id": "double", "source": cell}],
           "grade": ["double"], "cases": {"double": [tree]}, "arg_names": {"double": ["a"]},
           "hide": [], "torch": False}
    return job, save_npz_bytes(arrays)


@pytest.mark.parametrize("as_root", [True, False])
def test_one_run_returns_raw_values(monkeypatch, as_root):
    if as_root and not sandbox.is_root():
        pytest.skip("needs root")
    if not as_root:
        monkeypatch.setattr(sandbox, "is_root", lambda: False)
    job, npz = _job("import os\nUID = os.getuid()\ndef double(a):\n    return 2 * a, os.getuid()\n")
    run = sandbox.run_worker(job, npz, sandbox.Limits(timeout=30))
    assert run.returncode == 0 and not run.timed_out, run
    (case,) = run.results["double"]
    value, uid = decode_value(case["value"])
    assert value.tolist() == [0.0, 2.0, 4.0] and case["mutated"] == []
    assert (uid >= 200_000) if as_root else (uid == 0 or "uid" not in run.isolation)


def test_in_place_modification_is_reported():
    job, npz = _job("def double(a):\n    a *= 2\n    return a\n")
    (case,) = sandbox.run_worker(job, npz, sandbox.Limits(timeout=30)).results["double"]
    assert case["mutated"] == ["a"]


def test_forged_result_without_the_token_is_ignored():
    """Learner code can write result files, but not with the run's token (read from stdin)."""
    job, npz = _job("import json\ndef double(a):\n"
                    "    json.dump({'token': 'guess', 'exercise': 'double', 'cases': []},"
                    " open('res-double.json', 'w'))\n    import os\n    os._exit(0)\n")
    run = sandbox.run_worker(job, npz, sandbox.Limits(timeout=30))
    assert "double" not in run.results and run.last_progress == "case double 0"


def test_timeout_kills_the_process_group():
    job, npz = _job("import time\ndef double(a):\n    time.sleep(60)\n")
    run = sandbox.run_worker(job, npz, sandbox.Limits(timeout=3))
    assert run.timed_out and run.wall_s < 15 and run.results == {}


def test_in_place_modification_of_a_tensor_is_reported():
    torch = pytest.importorskip("torch")
    tree, arrays = encode_inputs({"args": (torch.arange(3.0, dtype=torch.float64),), "kwargs": {}})
    job = {"context": ["import torch"], "cells": [{"id": "double", "source":
           "def double(a):\n    a.mul_(2)\n    return a\n"}], "grade": ["double"],
           "cases": {"double": [tree]}, "arg_names": {"double": ["a"]}, "hide": [], "torch": True}
    run = sandbox.run_worker(job, save_npz_bytes(arrays), sandbox.Limits(timeout=60))
    (case,) = run.results["double"]
    assert case["mutated"] == ["a"] and decode_value(case["value"]).tolist() == [0.0, 2.0, 4.0]
