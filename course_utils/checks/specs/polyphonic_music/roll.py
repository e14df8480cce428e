"""``piano_roll(frames, tonic) -> roll``: MIDI pitches per frame -> an 88-key piano roll in C.

``frames`` is a list of T frames, each a list of MIDI pitch ints (possibly empty: a rest;
possibly with a pitch twice: two voices in unison); ``tonic`` is the key's tonic pitch class
0..11 (C = 0). The piece is transposed so that its tonic becomes C, by the nearest interval::

    shift = (-tonic) % 12;  if shift > 6: shift -= 12      # D -> -2, G -> +5, F# -> +6 (the tie)
    roll[t, p + shift - 21] = 1.0  for every pitch p of frame t

A0 (MIDI 21) is key 0 and C8 (MIDI 108) key 87; a pitch that leaves 21..108 *after* the shift
raises ValueError naming the pitch. The roll is a float64 array (T, 88) of 0.0 / 1.0 (T = 0
gives shape (0, 88)). This is how the JSB Chorales set of Boulanger-Lewandowski, Bengio &
Vincent (2012), "Modeling temporal dependencies in high-dimensional sequences" (ICML), is
encoded: every piece in C major or C minor, one 88-key binary vector per quarter note.

Cases (from one seed): every tonic class 0..11 (in an order where each transposition slip shows
alone first), chorale-like four-voice frames with rests, partial chords and unisons; five cases
at the ends of the keyboard (pitches that land exactly on A0 and C8, with and without a shift,
and two that are off the keyboard as given but on it after the shift); T = 0; and two inputs
that must raise ValueError (a pitch pushed below A0, one above C8). Reference: plain Python
(the exercise is bookkeeping, no float arithmetic).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...recurrent import rng_for
from ...spec import Case, Mistake, Spec

ARGS = ("frames", "tonic")
KEYS, LOWEST, HIGHEST = 88, 21, 108
NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
# Each transposition slip first shows alone: D (reversed, always-up), A (no nearest interval)
# before F# (where the tie -6 and the plain -tonic agree); C shows none of them.
TONIC_ORDER = (2, 9, 7, 11, 4, 6, 0, 5, 10, 3, 8, 1)
EDGES = (  # tonic, pitches added, what the label says (each lands on the keyboard after the shift)
    (0, (21, 108), "pitches 21 and 108: A0 and C8, the two end keys"),
    (5, (26, 26), "pitch 26 lands on A0 (twice in the piece)"),
    (9, (105,), "pitch 105 lands on C8"),
    (2, (109,), "pitch 109 (above C8 as given) lands on 107"),
    (10, (20,), "pitch 20 (below A0 as given) lands on 22"),
)
VOICES = ((36, 60), (48, 67), (55, 74), (60, 81))  # bass, tenor, alto, soprano (MIDI)


def nearest_shift(tonic: int) -> int:
    """The interval (semitones, -5..+6) that moves ``tonic`` to C."""
    shift = (-int(tonic)) % 12
    return shift - 12 if shift > 6 else shift


def _chorale(rng: np.random.Generator, T: int) -> list[list[int]]:
    """T frames of four voices, some frames a rest, a partial chord or a unison (repeat)."""
    frames = []
    for _ in range(T):
        kind = rng.random()
        if kind < 0.12:
            frames.append([])                                        # a rest
            continue
        chord = [int(rng.integers(lo, hi + 1)) for lo, hi in VOICES]
        if kind < 0.35:
            chord[2] = chord[3]                                      # alto and soprano in unison
        elif kind < 0.5:
            chord = chord[: int(rng.integers(1, 4))]                 # only some voices sound
        frames.append([chord[i] for i in rng.permutation(len(chord))])
    return frames


def make_cases(seed: int) -> list[Case]:
    cases = []
    for i, tonic in enumerate(TONIC_ORDER):
        rng = rng_for(seed, 900 + i)
        T = int(rng.integers(4, 10))
        frames = _chorale(rng, T)
        if tonic == 6:  # a unison in a frame of its own, so that a count of 2 shows here too
            frames[int(rng.integers(0, T))] = [67, 67, 60]
        shift = nearest_shift(tonic)
        cases.append(Case(f"T={T}, tonic {tonic} ({NAMES[tonic]}: shift {shift:+d})",
                          (frames, tonic), dims={"T": T}))
    rng = rng_for(seed, 920)
    for tonic, pitches, what in EDGES:
        T = int(rng.integers(3, 7))
        frames = _chorale(rng, T)
        for p in pitches:
            frames[int(rng.integers(0, T))].append(p)
        cases.append(Case(f"T={T}, tonic {tonic} ({NAMES[tonic]}: shift "
                          f"{nearest_shift(tonic):+d}), {what}", (frames, tonic), dims={"T": T}))
    cases.append(Case("T=0 (no frames: the roll has shape (0, 88))", ([], int(rng.integers(0, 12))),
                      dims={"T": 0}))
    for tonic, bad, where in ((2, 22, "below A0 (MIDI 21)"), (7, 104, "above C8 (MIDI 108)")):
        T = int(rng.integers(3, 7))
        frames = _chorale(rng, T)
        frames[int(rng.integers(0, T))].append(bad)
        moved = bad + nearest_shift(tonic)
        cases.append(Case(f"T={T}, tonic {tonic} ({NAMES[tonic]}: shift "
                          f"{nearest_shift(tonic):+d}), pitch {bad} moves to {moved}, {where}: "
                          "must raise ValueError", (frames, tonic), dims={"T": T},
                          raises="ValueError", raises_mentions=(str(bad), str(moved))))
    return cases


def ref_piano_roll(frames, tonic) -> np.ndarray:
    """The roll, (T, 88) float64; ValueError for a pitch off the keyboard after the shift."""
    shift = nearest_shift(tonic)
    roll = np.zeros((len(frames), KEYS), dtype=np.float64)
    for t, frame in enumerate(frames):
        for pitch in frame:
            moved = int(pitch) + shift
            if not LOWEST <= moved <= HIGHEST:
                raise ValueError(f"pitch {pitch} moves to {moved} in C, off the 88 keys "
                                 f"({LOWEST}..{HIGHEST})")
            roll[t, moved - LOWEST] = 1.0
    return roll


# --------------------------------------------------------------------------- mistakes
def _roll(frames, shift_of, origin: int = LOWEST, add: bool = False, edge: str = "raise",
          pitch_class: bool = False, tonic: int = 0) -> np.ndarray:
    """The roll with switches: each non-default reproduces one slip."""
    shift = shift_of(int(tonic))
    roll = np.zeros((len(frames), KEYS))
    for t, frame in enumerate(frames):
        for p in frame:
            q = 12 * (p // 12) + (p - tonic) % 12 if pitch_class else p + shift
            k = q - origin
            if not 0 <= k < KEYS:
                if edge == "raise":
                    raise ValueError(p)
                if edge == "drop":
                    continue
                k = {"clip": min(max(k, 0), KEYS - 1), "wrap": k, "mod": k % KEYS}[edge]
                if edge == "wrap" and k >= KEYS:
                    raise IndexError(k)
            if add:
                roll[t, k] += 1.0
            else:
                roll[t, k] = 1.0
    return roll


def _variant(shift_of=nearest_shift, **switches: Any):
    def fn(frames, tonic):
        return _roll(frames, shift_of, tonic=tonic, **switches)
    return fn


def _up(tonic: int) -> int:
    return (-tonic) % 12


def _tie_down(tonic: int) -> int:
    shift = (-tonic) % 12
    return shift - 12 if shift >= 6 else shift


def _reversed(tonic: int) -> int:
    return -nearest_shift(tonic)


def _skip_rests(frames, tonic):
    return ref_piano_roll([f for f in frames if len(f)], tonic)


def _keys_by_time(frames, tonic):
    return ref_piano_roll(frames, tonic).T


SHIFT = ("the rule: shift = (-tonic) % 12, then shift -= 12 if shift > 6, so every piece "
         "moves by at most a tritone (D -> -2, G -> +5, F# -> +6)")
WRAP = Mistake("a key index below 0 wrapped around to the top keys", "a pitch below A0 gives a "
               "negative key index, and numpy reads index -1 as the LAST key (as does an index "
               "taken % 88), so it silently lights a key near C8: check 0 <= key < 88 yourself "
               "and raise ValueError naming the pitch", _variant(edge="wrap"))
MISTAKES = [
    Mistake("A0 at index 1 (pitch - 20)", "key index = pitch + shift - 21: A0 = MIDI 21 is key 0 "
            "and C8 = 108 is key 87; your keys sit one place too high", _variant(origin=20)),
    Mistake("the keyboard started at C1 (pitch - 24)", "an 88-key piano starts at A0 = MIDI 21, "
            "not at C1 = 24: key index = pitch + shift - 21", _variant(origin=24)),
    Mistake("the keyboard started at MIDI 0 (pitch - 0)", "key index = pitch + shift - 21: "
            "A0 = MIDI 21 is key 0", _variant(origin=0)),
    Mistake("F# moved down (the tie broken the other way)", "F# (tonic 6) is a tritone from C "
            "both ways; the contract breaks the tie upwards (shift > 6 is what wraps, so F# -> "
            "+6, not -6): " + SHIFT, _variant(_tie_down)),
    Mistake("transposed the wrong way (C moved to the tonic)", "the tonic must move to C, so the "
            "shift is minus the tonic (nearest interval): " + SHIFT, _variant(_reversed)),
    Mistake("always transposed upwards ((-tonic) % 12 without the nearest rule)",
            "a piece in D would rise 10 semitones; " + SHIFT, _variant(_up)),
    Mistake("shift = -tonic (always downwards, not the nearest interval)", "a piece in G would "
            "drop 7 semitones instead of rising 5; " + SHIFT, _variant(lambda k: -k)),
    Mistake("not transposed", "every piece is moved to C first (that is what makes the set "
            "'all in C major or C minor'): " + SHIFT, _variant(lambda k: 0)),
    Mistake("transposed within each octave (pitch classes rotated)", "12 * (p // 12) + "
            "(p - tonic) % 12 keeps each note in its octave, so some notes move down and others "
            "up (a chord's voices are pulled apart); add the same shift to every MIDI pitch "
            "instead: " + SHIFT, _variant(pitch_class=True)),
    Mistake("repeated pitches counted", "a roll says which keys sound, 1.0 or 0.0: two voices on "
            "one pitch still give 1.0 (assign `= 1.0`, not `+= 1`)", _variant(add=True)),
    Mistake("rests dropped", "a frame with no pitch (a rest) is a row of zeros: keep one row per "
            "frame, T rows in all", _skip_rests),
    Mistake("keys by time (88, T) instead of time by keys (T, 88)", "the roll is (T, 88): one "
            "row per frame, as the model reads it (time first)", _keys_by_time),
    Mistake("a pitch off the keyboard clipped to the edge key", "a pitch outside 21..108 after "
            "the shift is an error in the data: raise ValueError naming it, not a silent "
            "clip to A0 or C8", _variant(edge="clip")),
    Mistake("a pitch off the keyboard silently dropped", "a pitch outside 21..108 after the "
            "shift is an error in the data: raise ValueError naming it (check 0 <= key < 88 "
            "yourself)", _variant(edge="drop")),
    WRAP,
    Mistake(WRAP.name, WRAP.explain, _variant(edge="mod")),
]


# --------------------------------------------------------------------------- types and errors
def check_types(case: Case, value: Any) -> str | tuple[str, str] | None:
    """The notebook states a float64 numpy array (T, 88) of 0.0 / 1.0."""
    if case.raises is not None or value is None:
        return None
    if isinstance(value, (list, tuple)):
        return (f"piano_roll returned a {type(value).__name__}: return a numpy array of shape "
                "(T, 88), float64 (np.zeros((len(frames), 88)) and set keys to 1.0)",
                "a list instead of an array")
    if type(value).__name__ == "Tensor":
        return ("piano_roll returned a torch tensor: return a numpy array (T, 88), float64 "
                "(the exercise is in numpy)", "a tensor instead of a numpy array")
    if isinstance(value, np.ndarray) and value.dtype != np.float64:
        kind = {"b": "a boolean", "i": "an integer", "u": "an integer"}.get(
            value.dtype.kind, f"a {value.dtype}")
        return (f"piano_roll returned {kind} array of dtype {value.dtype}: the notebook asks for "
                "float64 (np.zeros's default), the dtype of the logits the loss compares the "
                "roll with; set keys to 1.0, or convert with .astype(np.float64)",
                f"{kind} array instead of float64")
    return None


def _on_keyboard(frames, tonic) -> bool:
    shift = nearest_shift(tonic)
    return all(LOWEST <= p + shift <= HIGHEST for frame in frames for p in frame)


def explain_error(error: str, frames, tonic) -> tuple[str, str] | None:
    """A hint and a name for an exception (no input values: a hidden case's inputs stay
    hidden); every clause is checked on the case's inputs."""
    valid = _on_keyboard(frames, tonic)
    if error.startswith("ValueError") and valid:
        shift = nearest_shift(tonic)
        pitches = [p for frame in frames for p in frame]
        why = []
        if any(not LOWEST <= p <= HIGHEST for p in pitches):
            why.append(("a pitch here is off the keyboard as given but on it after the shift: "
                        "check the range of pitch + shift, not of the pitch",
                        "the range checked before the shift"))
        if any(p + shift in (LOWEST, HIGHEST) for p in pitches):
            why.append(("a pitch here lands exactly on A0 (21, key 0) or C8 (108, key 87), and "
                        "both are keys: 21 <= pitch + shift <= 108",
                        "the end keys A0 / C8 refused"))
        text = "every pitch of this input lands on 21..108 after the shift"
        if not why:
            return text, "a ValueError on a valid input"
        return (f"{text}: " + "; or ".join(w for w, _ in why), " / ".join(n for _, n in why))
    if error.startswith("IndexError"):
        if valid:
            return ("every pitch of this input lands on 21..108 after the shift, so every key "
                    "index pitch + shift - 21 is in 0..87: is the index or the shift off?",
                    "a key index off the keyboard")
        return ("numpy raises IndexError past key 87 but silently wraps an index below 0 to "
                "the top keys: check 0 <= key < 88 yourself and raise ValueError naming the "
                "pitch", "numpy's IndexError instead of a ValueError")
    if error.startswith("AssertionError"):
        return ("an assert is not an error check (python -O removes it): raise ValueError "
                "naming the pitch", "an assert instead of a ValueError")
    return None


SPEC = Spec(id="piano_roll", title="an 88-key piano roll in C from MIDI pitches per frame",
            notebook="09_polyphonic_music", arg_names=ARGS, output="roll",
            make_cases=make_cases, reference=ref_piano_roll, mistakes=MISTAKES, rtol=0.0,
            atol=1e-6, points=1, time_axis={"roll": 0}, check_types=check_types,
            explain_error=explain_error)
