"""course_utils.labs.polyphonic_music (models, replication) and ``sweep --suite chorales``: the
sizes, one training run of each recipe, and the whole sweep's JSON read back under the protocol,
on a small synthetic set of rolls (no music21, a few seconds)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from course_utils.labs.polyphonic_music import data as D  # noqa: E402
from course_utils.labs.polyphonic_music import models as M  # noqa: E402
from course_utils.labs.polyphonic_music import replication as R  # noqa: E402
from course_utils.lib import protocol as P  # noqa: E402


def synthetic(n: int = 24, seed: int = 0) -> D.Chorales:
    """Pieces that walk up and down a C-major chord: learnable, with random lengths."""
    rng = np.random.default_rng(seed)
    rolls, ids = [], []
    for i in range(n):
        T = int(rng.integers(6, 14))
        r = np.zeros((T, 88), np.float32)
        for t in range(T):
            r[t, [39, 43, 46][t % 3]] = 1
            r[t, 27] = 1
        rolls.append(r)
        ids.append(f"bwv{i}.1")
    return D.Chorales(rolls, ids, [0] * n, ["major"] * n, [], n)


def test_sizes_and_totals_match_the_modules() -> None:
    eq = M.matched_sizes()
    assert eq["lstm"] == 36
    for cell, H in list(M.PAPER_SIZES.items()) + list(eq.items()):
        net = M.ChoraleNet(cell, H)()
        assert M.total_params(cell, H) == sum(p.numel() for p in net.parameters())
    target = M.total_params("lstm", 36)
    for cell in ("rnn", "gru"):  # the closest hidden size: its neighbours are no closer
        gap = abs(M.total_params(cell, eq[cell]) - target)
        assert gap <= abs(M.total_params(cell, eq[cell] - 1) - target)
        assert gap <= abs(M.total_params(cell, eq[cell] + 1) - target)


def test_the_first_frame_is_predicted_from_silence_and_padding_is_masked() -> None:
    torch.manual_seed(0)
    net = M.ChoraleNet("gru", 5)()
    a, b = np.eye(88, dtype=np.float32)[:3], np.eye(88, dtype=np.float32)[:5]
    x, m = M.pad([a, b])
    assert x.shape == (5, 2, 88) and m.sum() == 8
    alone = M.evaluate(net, [M.pad([a])])
    both = M.evaluate(net, [(x, m)])
    nb = M.evaluate(net, [M.pad([b])])
    assert both == pytest.approx((3 * alone + 5 * nb) / 8, rel=1e-5)  # padding costs nothing
    logits, xx, mask = M.predict_numpy(net, [a, b])
    assert logits.dtype == np.float64 and mask.dtype == bool
    assert np.allclose(logits[:, 0][:3], logits[:, 1][:3], atol=1e-6)  # causal: same prefix


@pytest.mark.parametrize("recipe", M.RECIPES)
def test_fit_learns_the_synthetic_pieces(recipe: str) -> None:
    data = M.padded_splits(synthetic())
    kept: list = []
    evals = M.fit(M.ChoraleNet("lstm", 8), 3e-2, 0, P.Budget(updates=40), data, recipe=recipe,
                  eval_every=20, batch=4, keep=kept)
    assert [e["update"] for e in evals] == [0, 20, 40]
    assert evals[-1]["valid"] < evals[0]["valid"] - 20  # far below 88 log 2 at the start
    assert evals[-1]["seconds"] > 0 and len(kept) == 1
    again = M.fit(M.ChoraleNet("lstm", 8), 3e-2, 0, P.Budget(updates=40), data, recipe=recipe,
                  eval_every=20, batch=4)
    assert again[-1]["valid"] == pytest.approx(evals[-1]["valid"], rel=1e-4)  # seeded


def test_sweep_quick_and_its_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from course_utils.tools import sweep

    monkeypatch.setattr(D, "load_chorales", lambda **kw: synthetic(30))
    a, b, out = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "rep.json"
    for recipe, path in (("paper", a), ("adam", b)):  # two processes' share, then merged
        assert sweep.main(["--suite", "chorales", "--quick", "--no-progress", "--recipes", recipe,
                           "--out", str(path)]) == 0
    assert not json.loads(b.read_text())["trials"].get("paper")
    assert sweep.main(["--suite", "chorales", "--merge", str(a), str(b), "--out", str(out)]) == 0
    s = json.loads(out.read_text())
    assert s["complete"] and set(s["trials"]) == {"paper", "adam"}
    assert [m["trials"] for m in s["merged_from"]] == [["paper"], ["adam"]]
    assert set(s["arms"]) == {"tanh H=100", "LSTM H=36", "GRU H=46", "tanh H=82", "GRU H=44"}
    assert {r["arm"] for r in s["mkldnn_off"]["records"]} == {"LSTM H=36", "GRU H=46"}
    rows = R.table(s)
    assert len(rows) == 10 and all(isinstance(r["test"], P.Interval) for r in rows)
    v = R.verdicts(s, "adam")
    assert "GRU vs LSTM (paper sizes)" in v and all(x.status in P.STATUSES for x in v.values())
    assert [r["cell"] for r in R.paper_table(s, "paper")] == ["tanh", "GRU", "LSTM"]
    th = R.to_threshold(s, "adam", 1e9)
    assert all(t["reached"] == t["seeds"] == 2 and t["updates"] == 0 for t in th.values())
    never = R.to_threshold(s, "adam", -1.0, mkldnn=False)
    assert all(t["reached"] == 0 and t["updates"] is None for t in never.values())
    rows = R.findings(s, {"paper": 1e9, "adam": 1e9})  # all reach it at update 0: no difference
    assert len(rows) == 9 and all(len(r) == 3 for r in rows)
    assert [r[2] for r in rows if "fewer updates" in r[0]] == ["no difference detected"] * 2
    never = R.findings(s, {"paper": -1.0, "adam": -1.0})  # censored everywhere: not decided
    assert all(r[2].startswith("not decided") for r in never if "CPU time" in r[0])
    xs, ys = R.curves(s, "paper", x="seconds")["LSTM H=36"]
    assert len(xs) == len(ys) and np.all(np.diff(xs) >= 0)
