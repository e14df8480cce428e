"""Checker of notebook 09's ``piano_roll``: correct styles pass, learner-style wrong versions
(written before the catalogue) fail, named by the bug or located by case; the stated types and
the expected ValueError are checked."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.checks import SPECS, check_piano_roll
from course_utils.checks.specs.polyphonic_music.roll import nearest_shift

SPEC = SPECS["piano_roll"]


# =========================================================================== correct styles
def roll_loops(frames, tonic):
    shift = (-tonic) % 12
    if shift > 6:
        shift -= 12
    roll = np.zeros((len(frames), 88))
    for t, frame in enumerate(frames):
        for pitch in frame:
            key = pitch + shift - 21
            if key < 0 or key > 87:
                raise ValueError(f"pitch {pitch} leaves the keyboard after shifting by {shift}")
            roll[t, key] = 1.0
    return roll


def roll_vectorised(frames, tonic):
    shift = (-tonic) % 12
    shift = shift - 12 if shift > 6 else shift
    rows = np.array([t for t, f in enumerate(frames) for _ in f], dtype=int)
    pitches = np.array([p for f in frames for p in f], dtype=int)
    keys = pitches + shift - 21
    bad = (keys < 0) | (keys >= 88)
    if bad.any():
        raise ValueError(f"pitch {pitches[bad][0]} out of range")
    roll = np.zeros((len(frames), 88), dtype=np.float64)
    roll[rows, keys] = 1
    return roll


def roll_nearest_formula(frames, tonic):
    shift = ((-tonic + 5) % 12) - 5          # -5..+6 in one expression
    roll = np.zeros((len(frames), 88))
    for t, frame in enumerate(frames):
        shifted = [p + shift for p in frame]
        for q in shifted:
            if not 21 <= q <= 108:
                raise ValueError(f"MIDI pitch {q} cannot be placed on 88 keys")   # the moved one
        roll[t, [q - 21 for q in set(shifted)]] = 1.0
    return roll


def roll_bool_then_float(frames, tonic):
    shift = min(((-tonic) % 12, (-tonic) % 12 - 12), key=abs)   # the tie 6 / -6 picks 6 first
    roll = np.zeros((len(frames), 88), dtype=bool)
    for t, frame in enumerate(frames):
        for p in frame:
            k = p + shift - 21
            if k not in range(88):
                raise ValueError(f"pitch {p} out of the piano's range")
            roll[t, k] = True
    return roll.astype(np.float64)


def roll_one_hot_rows(frames, tonic):
    eye = np.eye(88)
    shift = nearest_shift(tonic)
    rows = []
    for frame in frames:
        keys = sorted({p + shift - 21 for p in frame})
        if keys and (keys[0] < 0 or keys[-1] > 87):
            raise ValueError(f"pitches {sorted(frame)} do not all fit on the keyboard")
        rows.append(eye[keys].sum(0) if keys else np.zeros(88))
    return np.array(rows).reshape(len(frames), 88)


CORRECT = [roll_loops, roll_vectorised, roll_nearest_formula, roll_bool_then_float,
           roll_one_hot_rows]


# =========================================================================== learners' slips
def _shift(tonic):
    s = (-tonic) % 12
    return s - 12 if s > 6 else s


def _fill(frames, shift, origin=21):
    roll = np.zeros((len(frames), 88))
    for t, frame in enumerate(frames):
        for p in frame:
            k = p + shift - origin
            if not 0 <= k < 88:
                raise ValueError(f"pitch {p} out of range")
            roll[t, k] = 1.0
    return roll


def roll_off_by_one(frames, tonic):           # A0 = index 1
    return _fill(frames, _shift(tonic), origin=20)


def roll_c1_origin(frames, tonic):            # the keyboard "starts at C1 = 24"
    return _fill(frames, _shift(tonic), origin=24)


def roll_shift_reversed(frames, tonic):       # moves C to the tonic
    s = tonic % 12
    return _fill(frames, s - 12 if s > 6 else s)


def roll_no_nearest(frames, tonic):           # shift = -tonic: G -> -7
    return _fill(frames, -tonic)


def roll_mod_only(frames, tonic):             # always up: D -> +10
    return _fill(frames, (-tonic) % 12)


def roll_fsharp_down(frames, tonic):          # the tie broken downwards: F# -> -6
    s = (-tonic) % 12
    return _fill(frames, s - 12 if s >= 6 else s)


def roll_wraps(frames, tonic):                # no range check: -1 wraps silently
    roll = np.zeros((len(frames), 88))
    s = _shift(tonic)
    for t, frame in enumerate(frames):
        for p in frame:
            roll[t, p + s - 21] = 1.0
    return roll


def roll_counts(frames, tonic):               # unisons add up to 2.0
    roll = np.zeros((len(frames), 88))
    s = _shift(tonic)
    for t, frame in enumerate(frames):
        for p in frame:
            k = p + s - 21
            if not 0 <= k < 88:
                raise ValueError(f"pitch {p}")
            roll[t, k] += 1.0
    return roll


def roll_int(frames, tonic):
    return roll_loops(frames, tonic).astype(int)


def roll_bool(frames, tonic):
    return roll_loops(frames, tonic).astype(bool)


def roll_float32(frames, tonic):
    return roll_loops(frames, tonic).astype(np.float32)


def roll_transposed(frames, tonic):           # (88, T)
    return roll_loops(frames, tonic).T.copy()


def roll_list(frames, tonic):
    return roll_loops(frames, tonic).tolist()


def roll_clips(frames, tonic):                # clamps instead of raising
    roll = np.zeros((len(frames), 88))
    s = _shift(tonic)
    for t, frame in enumerate(frames):
        for p in frame:
            roll[t, min(max(p + s - 21, 0), 87)] = 1.0
    return roll


def roll_drops(frames, tonic):                # skips what does not fit
    roll = np.zeros((len(frames), 88))
    s = _shift(tonic)
    for t, frame in enumerate(frames):
        for p in frame:
            k = p + s - 21
            if 0 <= k < 88:
                roll[t, k] = 1.0
    return roll


def roll_no_transpose(frames, tonic):
    return _fill(frames, 0)


def roll_mod_88(frames, tonic):
    roll = np.zeros((len(frames), 88))
    s = _shift(tonic)
    for t, frame in enumerate(frames):
        for p in frame:
            roll[t, (p + s - 21) % 88] = 1.0
    return roll


def roll_skips_empty(frames, tonic):          # rests vanish
    return roll_loops([f for f in frames if f], tonic)


def roll_mutates(frames, tonic):              # transposes the caller's lists
    s = _shift(tonic)
    for frame in frames:
        for i in range(len(frame)):
            frame[i] += s
    roll = np.zeros((len(frames), 88))
    for t, frame in enumerate(frames):
        for p in frame:
            if not 21 <= p <= 108:
                raise ValueError(f"pitch {p}")
            roll[t, p - 21] = 1.0
    return roll


def roll_pitch_class_wrap(frames, tonic):     # rotates pitch classes inside each octave
    roll = np.zeros((len(frames), 88))
    for t, frame in enumerate(frames):
        for p in frame:
            q = 12 * (p // 12) + (p - tonic) % 12
            if not 21 <= q <= 108:
                raise ValueError(f"pitch {p}")
            roll[t, q - 21] = 1.0
    return roll


def roll_exclusive_range(frames, tonic):      # 21 < q < 108
    roll = np.zeros((len(frames), 88))
    s = _shift(tonic)
    for t, frame in enumerate(frames):
        for p in frame:
            q = p + s
            if not 21 < q < 108:
                raise ValueError(f"pitch {p} out of range")
            roll[t, q - 21] = 1.0
    return roll


def roll_check_before_shift(frames, tonic):   # range of the pitch as given
    roll = np.zeros((len(frames), 88))
    s = _shift(tonic)
    for t, frame in enumerate(frames):
        for p in frame:
            if not 21 <= p <= 108:
                raise ValueError(f"pitch {p} out of range")
            roll[t, min(max(p + s - 21, 0), 87)] = 1.0
    return roll


def roll_wrong_error(frames, tonic):          # an assert
    roll = np.zeros((len(frames), 88))
    s = _shift(tonic)
    for t, frame in enumerate(frames):
        for p in frame:
            k = p + s - 21
            assert 0 <= k < 88, f"pitch {p} out of range"
            roll[t, k] = 1.0
    return roll


def roll_numpy_index_error(frames, tonic):    # relies on numpy to complain
    roll = np.zeros((len(frames), 88))
    s = _shift(tonic)
    for t, frame in enumerate(frames):
        if frame:
            roll[t, np.array(frame) + s - 21] = 1.0
    return roll


def roll_message_without_pitch(frames, tonic):  # the right exception, an unhelpful message
    try:
        return roll_loops(frames, tonic)
    except ValueError:
        raise ValueError("bad input") from None


# learner -> the mistake name its check must report (None: not named; then LOCATED says where)
EXPECTED = {
    roll_off_by_one: "A0 at index 1 (pitch - 20)",
    roll_c1_origin: "the keyboard started at C1 (pitch - 24)",
    roll_shift_reversed: "transposed the wrong way (C moved to the tonic)",
    roll_no_nearest: "shift = -tonic (always downwards, not the nearest interval)",
    roll_mod_only: "always transposed upwards ((-tonic) % 12 without the nearest rule)",
    roll_fsharp_down: "F# moved down (the tie broken the other way)",
    roll_wraps: "a key index below 0 wrapped around to the top keys",
    roll_counts: "repeated pitches counted",
    roll_int: "an integer array instead of float64",
    roll_bool: "a boolean array instead of float64",
    roll_float32: "a float32 array instead of float64",
    roll_transposed: "keys by time (88, T) instead of time by keys (T, 88)",
    roll_list: "a list instead of an array",
    roll_clips: "a pitch off the keyboard clipped to the edge key",
    roll_drops: "a pitch off the keyboard silently dropped",
    roll_no_transpose: "not transposed",
    roll_mod_88: "a key index below 0 wrapped around to the top keys",
    roll_skips_empty: "rests dropped",
    roll_mutates: "modified an input in place",
    roll_pitch_class_wrap: "transposed within each octave (pitch classes rotated)",
    roll_exclusive_range: "the end keys A0 / C8 refused",
    roll_check_before_shift: "the range checked before the shift",
    roll_wrong_error: "an assert instead of a ValueError",
    roll_numpy_index_error: "a key index below 0 wrapped around to the top keys",
    roll_message_without_pitch: "the error message names no value",
}
WRONG = list(EXPECTED)


# =========================================================================== tests
@pytest.mark.parametrize("seed", [None, 31])
@pytest.mark.parametrize("fn", CORRECT, ids=lambda f: f.__name__)
def test_correct_styles_pass(fn, seed):
    result = check_piano_roll(fn, seed)
    assert result.passed, result.message


@pytest.mark.parametrize("seed", [None, 31])
@pytest.mark.parametrize("fn", WRONG, ids=lambda f: f.__name__)
def test_learner_slips_fail_and_are_named(fn, seed):
    result = check_piano_roll(fn, seed)
    assert not result.passed
    assert result.mistake == EXPECTED[fn], result.message
    assert "[case " in result.message  # located too


def test_at_least_80_percent_of_the_slips_are_named():
    """Each expectation is asserted above; every catalogue entry named as itself: test_engine."""
    named = sum(name is not None for name in EXPECTED.values())
    assert len(WRONG) >= 10 and named >= 0.8 * len(WRONG)


def test_cases_cover_every_tonic_the_ends_empty_rolls_repeats_and_two_refusals():
    for seed in (None, 7):
        cases = SPEC.cases(seed)
        tonics = {c.args[1] for c in cases if c.raises is None}
        assert tonics == set(range(12))
        assert any(c.dims["T"] == 0 and c.args[0] == [] for c in cases)
        frames = [f for c in cases if c.raises is None for f in c.args[0]]
        assert any(f == [] for f in frames)                       # rests
        assert any(len(set(f)) < len(f) for f in frames)          # unisons
        moved = {p + nearest_shift(c.args[1]) for c in cases if c.raises is None
                 for f in c.args[0] for p in f}
        assert {21, 108} <= moved and min(moved) >= 21 and max(moved) <= 108
        refusals = [c for c in cases if c.raises == "ValueError"]
        assert len(refusals) == 2 and all(c.raises_mentions for c in refusals)
        for c in refusals:
            with pytest.raises(ValueError):
                SPEC.reference(*c.args)


def test_contract_examples():
    assert [nearest_shift(k) for k in (0, 2, 7, 6, 5, 11)] == [0, -2, 5, 6, -5, 1]
    roll = SPEC.reference([[62, 62, 66], [], [21 + 2, 108 + 2]], 2)    # D major
    assert roll.dtype == np.float64 and roll.shape == (3, 88)
    assert roll[0].sum() == 2 and roll[0, 60 - 21] == 1 and roll[0, 64 - 21] == 1
    assert not roll[1].any() and roll[2, 0] == 1 and roll[2, 87] == 1
    assert SPEC.reference([], 4).shape == (0, 88)
    with pytest.raises(ValueError, match="22"):
        SPEC.reference([[60], [22]], 2)


def test_the_dtype_message_names_both_dtypes():
    msg = check_piano_roll(roll_int).message
    assert "int64" in msg and "float64" in msg


def test_the_error_hint_names_no_reason_that_the_input_does_not_show():
    """On a chorale case (no pitch at an end, none off the keyboard as given) a ValueError gets
    the plain statement only."""
    def refuses_everything(frames, tonic):
        if frames:
            raise ValueError("no")
        return np.zeros((0, 88))

    result = check_piano_roll(refuses_everything)
    assert result.mistake == "a ValueError on a valid input"
    assert "as given" not in result.message and "exactly on A0" not in result.message


def test_an_untouched_stub_is_not_implemented_yet_on_every_case():
    def piano_roll(frames, tonic):
        raise NotImplementedError()

    result = check_piano_roll(piano_roll)
    assert not result.passed and result.message.startswith("not implemented yet")
