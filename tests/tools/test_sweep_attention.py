"""``python -m course_utils sweep --suite attention-deploy | attention-copy`` (notebook 10's
deployment and copy runs): quick runs end to end through the sweep command."""

from __future__ import annotations

import json

import pytest


@pytest.mark.parametrize("suite", ["attention-deploy", "attention-copy"])
def test_quick_run_writes_json_with_ledger_rows(tmp_path, suite):
    from course_utils.tools.sweep import main as sweep_main

    out = tmp_path / f"{suite}.json"
    assert sweep_main(["--suite", suite, "--quick", "--no-progress", "--out", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["command"].startswith(f"python -m course_utils sweep --suite {suite}")
    assert "machine" in r and r["threads"] == 1
    rows = r["ledger_rows"]
    assert len(rows) == 3 and all(len(row) == 3 and all(isinstance(x, str) and x for x in row)
                                  for row in rows)
