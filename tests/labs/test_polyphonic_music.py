"""course_utils.labs.polyphonic_music (data, baselines): rolls, transposition, selection, split,
the atomic cached build, and the baselines. Parses only a handful of corpus files."""

from __future__ import annotations

import json
import multiprocessing as mp
from pathlib import Path

import numpy as np
import pytest

from course_utils.labs.polyphonic_music import baselines as BL
from course_utils.labs.polyphonic_music import data as D


def test_key_shift_is_the_nearest_way_to_c() -> None:
    assert [D.key_shift(t) for t in (0, 2, 7, 6, 11, 1, 5)] == [0, -2, 5, 6, 1, -1, -5]


def test_roll_from_frames_transposes_dedups_and_refuses_the_off_piano() -> None:
    roll = D.roll_from_frames([[62, 66, 69, 69], [], [74]], tonic=2)  # D major -> down 2
    assert roll.shape == (3, 88) and roll.max() == 1
    assert sorted(np.flatnonzero(roll[0]) + D.LOWEST) == [60, 64, 67]
    assert roll[1].sum() == 0 and np.flatnonzero(roll[2]).tolist() == [72 - 21]
    with pytest.raises(ValueError, match="107"):
        D.roll_from_frames([[107]], tonic=7)  # G: up 5 -> 112 leaves the keyboard


def _piece(pid: str, frames: list[list[int]]) -> dict:
    return {"id": pid, "roll": D.roll_from_frames(frames, 0), "tonic": 0, "mode": "major"}


def test_select_drops_duplicates_versions_interludes_and_unreadable() -> None:
    a = [[60, 64, 67, 72]] * 6
    b = [[62, 65, 69, 74]] * 6
    pieces = [_piece("bwv2.1", a), _piece("bwv1.1", b), _piece("bwv9.9", a),
              _piece("bwv1.1-sc", [[60]] * 6), _piece("bwv5.5", [[60]] + [[]] * 5),
              {"id": "bwv7", "drop": "not a four-voice chorale (2 parts)"}]
    kept, dropped = D.select(pieces)
    assert [k["id"] for k in kept] == ["bwv1.1", "bwv2.1"]
    why = dict(dropped)
    assert why["bwv9.9"] == "duplicate of bwv2.1"
    assert why["bwv1.1-sc"] == "another version of bwv1.1"
    assert why["bwv5.5"].startswith("not a plain chorale")
    assert why["bwv7"].startswith("not a four-voice")


def test_split_is_fixed_by_the_id_and_about_60_20_20() -> None:
    ids = [f"bwv{i}.{j}" for i in range(200) for j in range(3)]
    parts = [D.split_of(i) for i in ids]
    assert parts == [D.split_of(i) for i in ids]
    share = {s: parts.count(s) / len(parts) for s in D.SPLITS}
    assert 0.55 < share["train"] < 0.65 and 0.15 < share["valid"] < 0.25


@pytest.fixture(scope="module")
def few() -> D.Chorales:
    pytest.importorskip("music21")
    return D.from_arrays(D.build(D.corpus_files()[:4], progress=False))


def test_parsed_pieces_are_four_voice_rolls_in_c(few: D.Chorales) -> None:
    assert len(few.ids) >= 3
    for r, mode in zip(few.rolls, few.mode):
        assert r.shape[1] == 88 and set(np.unique(r)) <= {0.0, 1.0}
        counts = r.sum(1)
        assert np.median(counts) == 4 and counts.max() <= 4  # S, A, T, B on most beats
        # the tonic (C) or, in minor, the third (E flat) is among the most played pitch classes
        pc = np.zeros(12)
        for k in range(88):
            pc[(k + D.LOWEST) % 12] += r[:, k].sum()
        assert 0 in np.argsort(pc)[-3:], (mode, pc)


def test_cache_round_trip_checksum_and_verify(tmp_path: Path, few: D.Chorales) -> None:
    arrays = D.build([], progress=False)
    assert arrays["rolls"].shape == (0, 88)
    ends = np.cumsum([len(r) for r in few.rolls])
    z = {"rolls": np.concatenate(few.rolls).astype(np.uint8),
         "lengths": np.array([len(r) for r in few.rolls]), "ids": np.array(few.ids),
         "tonic": np.array(few.tonic), "mode": np.array(few.mode),
         "dropped_ids": np.array([], dtype=str), "dropped_why": np.array([], dtype=str),
         "files": np.array(few.files)}
    path = tmp_path / "c.npz"
    D.write_atomic(path, z)
    assert not list(tmp_path.glob("*.tmp"))
    back = D.load_chorales(path)
    assert back.ids == few.ids and back.checksum() == few.checksum() and len(ends) == len(back.rolls)
    record = json.loads(json.dumps(back.split_record()))
    assert D.verify(back, record) == []
    back.rolls[0] = 1 - back.rolls[0]
    split = D.split_of(back.ids[0])
    assert D.verify(back, record) == [f"{split}: same ids, different rolls (another music21 "
                                      "version?)"]


def _build_into(path: str) -> str:
    return D.load_chorales(path, jobs=1, progress=False).checksum()


def test_two_processes_building_at_once_parse_once(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Both wait on the lock file; the second reads what the first wrote (fork keeps patches)."""
    pytest.importorskip("music21")
    files = D.corpus_files()[:2]
    log = tmp_path / "builds.log"
    real_build = D.build

    def logged_build(paths, jobs=1, progress=True):  # noqa: ANN001, ANN202
        with open(log, "a") as f:
            f.write("build\n")
        return real_build(paths, jobs=jobs, progress=progress)
    monkeypatch.setattr(D, "corpus_files", lambda limit=None: files)
    monkeypatch.setattr(D, "build", logged_build)
    path = tmp_path / "c.npz"
    with mp.get_context("fork").Pool(2) as pool:
        sums = pool.map(_build_into, [str(path)] * 2)
    assert sums[0] == sums[1]
    assert log.read_text().count("build") == 1
    assert path.exists() and not list(tmp_path.glob("*.tmp"))


def test_baselines_on_a_toy_set() -> None:
    on_off = np.zeros((4, 88), np.float32)
    on_off[::2, 40] = 1  # key 40 alternates on, off, on, off
    ch = type("C", (), {"split": lambda self, s: [on_off]})()
    p = BL.independent_keys([on_off])
    assert p[40] == pytest.approx(3 / 6) and p[0] == pytest.approx(1 / 6)
    P = BL.markov_keys([on_off])
    assert P[0, 40] == pytest.approx((2 + 1) / (2 + 2)) and P[1, 40] == pytest.approx(1 / 4)
    res = BL.baselines(ch)
    assert res["per-key Markov chain"]["test"] < res["independent keys"]["test"]
    x = np.concatenate([on_off])
    expected = -(x * np.log(p) + (1 - x) * np.log1p(-p)).sum(1).mean()
    assert res["independent keys"]["test"] == pytest.approx(expected)


def test_data_command_prints_stats_writes_and_verifies_the_split(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    from course_utils.tools import data as cmd

    rolls = [np.eye(88, dtype=np.float32)[i: i + 5] for i in range(30)]
    ch = D.Chorales(rolls, [f"bwv{i}.2" for i in range(30)], [0] * 30, ["minor"] * 30, [], 31)
    monkeypatch.setattr(D, "load_chorales", lambda **kw: ch)
    monkeypatch.setattr(D, "cache_path", lambda: tmp_path / "none.npz")
    split = tmp_path / "split.json"
    assert cmd.main(["chorales", "--no-progress", "--write-split", str(split),
                     "--verify", str(split)]) == 0
    out = capsys.readouterr().out
    assert '"kept": 30' in out and "matches" in out
    record = json.loads(split.read_text())
    assert sorted(record["train"]["ids"] + record["valid"]["ids"] + record["test"]["ids"]) == \
        sorted(ch.ids)
    ch.rolls[0] = ch.rolls[1]
    assert cmd.main(["chorales", "--no-progress", "--verify", str(split)]) == 1
    assert "DIFFERS" in capsys.readouterr().out
