"""``python -m course_utils sweep --suite dates`` (notebook 10's trial): a quick run end to end."""

from __future__ import annotations

import json

import pytest

from course_utils.labs.attention import models as M
from course_utils.labs.attention import trial as TL


def test_sweep_dates_quick(tmp_path):
    from course_utils.tools.sweep import main as sweep_main
    from course_utils.tools.sweep_dates import main

    out = tmp_path / "d.json"
    assert sweep_main(["--suite", "dates", "--quick", "--no-progress", "--updates", "4",
                       "--out", str(out)]) == 0  # the suite is registered with the sweep command
    r = json.loads(out.read_text())
    assert r["command"].startswith("python -m course_utils sweep --suite dates")
    assert r["budget"]["updates"] == 4 and r["seeds"] == [0, 1] and r["machine"]["torch_threads"] == 1
    assert r["complete"] and set(r["chosen_lr"]) == set(M.ARMS) and len(r["ledger_rows"]) == 5
    assert len(r["records"]) == len(M.ARMS) * (len(TL.LRS) + 1)
    assert main(["--ledger-only", "--out", str(out)]) == 0
    r["complete"] = False
    out.write_text(json.dumps(r))
    with pytest.raises(SystemExit, match="not a complete"):
        main(["--ledger-only", "--out", str(out)])


def test_extend_lrs_widens_every_arms_grid_and_reruns_only_moved_arms(tmp_path):
    from course_utils.tools.sweep_dates import main

    out = tmp_path / "d.json"
    quick = ["--quick", "--no-progress", "--updates", "4", "--out", str(out)]
    assert main(quick) == 0
    before = json.loads(out.read_text())
    assert main([*quick, "--extend-lrs", "0.03"]) == 0
    r = json.loads(out.read_text())
    assert r["lrs"] == sorted([*TL.LRS, 0.03]) and r["extended"]["lrs"] == [0.03]
    for arm in M.ARMS:
        mine = [x for x in r["records"] if x["arm"] == arm]
        assert [x["seed"] for x in mine if x["lr"] == 0.03][:1] == [0]  # every arm tried it
        chosen = r["chosen_lr"][arm]
        assert {x["seed"] for x in mine if x["lr"] == chosen} == set(r["seeds"])
        if chosen == before["chosen_lr"][arm]:  # unmoved: only the one new selection run
            assert len(mine) == len(TL.LRS) + 1 + 1
    with pytest.raises(SystemExit, match="already has"):
        main([*quick, "--extend-lrs", "0.03"])
