"""Notebook 10's task: human-written dates in many formats -> ISO dates ("2021-03-03").

    from course_utils.labs.attention import dates as D
    data = D.make_splits(seed=0)          # {"train", "valid", "test", "longer"}: lists of (src, tgt)
    D.render(datetime.date(2021, 3, 3), "weekday_long", rng)   # 'Wednesday, March 3rd 2021'

Character level; generated in code from a seed (no downloads). The dates run from 1950-01-01 to
2049-12-31, so a two-digit year is unambiguous (yy < 50 -> 20yy, else 19yy); numeric dates are
written day first ("03/04/21" is 3 April 2021), as in most of the world.

The splits are held out **by date**: the calendar days are shuffled once (from the seed) and cut
80 / 10 / 10 into train / validation / test days, so no test date (in any format) is ever seen in
training. Train, validation and test keep only inputs of at most :data:`MAX_TRAIN_LEN` characters;
the **longer** split renders the *test* days in the same formats and keeps only inputs **longer**
than :data:`MAX_TRAIN_LEN` (e.g. "Wednesday, September 23rd 2021", 30 characters): every format
and word was seen in training (each of the three formats that can exceed the limit also renders
shorter dates, e.g. "Monday, May 3rd 2021"), only the length is new.

Coursera's sequence-models course (Ng) translates dates with attention in the same spirit; the
task is small enough to train on a CPU in seconds, and its answer needs the model to *find* the
day, month and year wherever the format put them — what attention is for (Bahdanau et al. 2015).
"""

from __future__ import annotations

import datetime
import random
from typing import Sequence

FIRST, LAST = datetime.date(1950, 1, 1), datetime.date(2049, 12, 31)
MAX_TRAIN_LEN = 24  # train / valid / test inputs have <= this many characters; "longer" > it
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
PAD, BOS, EOS = 0, 1, 2  # special token ids shared by the source and target vocabularies
SPECIALS = ("<pad>", "<s>", "</s>")
TARGET_CHARS = "0123456789-"
TARGET_LEN = 10  # "YYYY-MM-DD"

# format name -> template; fields: {d} day, {dd} 2-digit day, {do} ordinal day ("3rd"), {m}
# month number, {mm} 2-digit month, {M} month name, {Mon} 3-letter month, {yyyy}, {yy}, {W}
# weekday, {Wd} 3-letter weekday. The case of the words is drawn per example (see render).
FORMATS: dict[str, str] = {
    "d_month_yyyy": "{d} {M} {yyyy}",
    "dd/mm/yy": "{dd}/{mm}/{yy}",
    "dd/mm/yyyy": "{dd}/{mm}/{yyyy}",
    "d.m.yyyy": "{d}.{m}.{yyyy}",
    "iso_loose": "{yyyy}-{m}-{d}",
    "month_d_yy": "{M} {d}, {yy}",
    "month_d_yyyy": "{M} {d}, {yyyy}",
    "mon_d_yyyy": "{Mon} {d} {yyyy}",
    "d_mon_yy": "{d} {Mon} {yy}",
    "do_month_yyyy": "{do} {M}, {yyyy}",
    "wd_d_mon_yyyy": "{Wd} {d} {Mon} {yyyy}",
    "weekday_long": "{W}, {M} {do} {yyyy}",
    "weekday_d_month": "{W} {d} {M} {yyyy}",
    "the_do_of_month": "the {do} of {M} {yyyy}",
}


def ordinal(n: int) -> str:
    """1 -> '1st', 2 -> '2nd', 3 -> '3rd', 11 -> '11th', 22 -> '22nd'."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def render(day: datetime.date, fmt: str, rng: random.Random) -> str:
    """``day`` written in format ``fmt`` (a key of :data:`FORMATS`); the letter case of the whole
    string is drawn from ``rng`` (as written, lower case, or upper case)."""
    if fmt not in FORMATS:
        raise KeyError(f"unknown date format {fmt!r}; choose one of {sorted(FORMATS)}")
    fields = {"d": day.day, "dd": f"{day.day:02d}", "do": ordinal(day.day), "m": day.month,
              "mm": f"{day.month:02d}", "M": MONTHS[day.month - 1], "Mon": MONTHS[day.month - 1][:3],
              "yyyy": day.year, "yy": f"{day.year % 100:02d}", "W": DAYS[day.weekday()],
              "Wd": DAYS[day.weekday()][:3]}
    text = FORMATS[fmt].format(**fields)
    case = rng.random()
    return text.lower() if case < 0.25 else text.upper() if case < 0.35 else text


def iso(day: datetime.date) -> str:
    return day.isoformat()


def parse_iso(text: str) -> datetime.date | None:
    """The date an output string names, or None when it is not a valid ISO date."""
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return None


def all_days() -> list[datetime.date]:
    n = (LAST - FIRST).days + 1
    return [FIRST + datetime.timedelta(days=i) for i in range(n)]


def split_days(seed: int = 0, fractions: Sequence[float] = (0.8, 0.1, 0.1)
               ) -> dict[str, list[datetime.date]]:
    """The calendar days shuffled from ``seed`` and cut into train / valid / test days."""
    if len(fractions) != 3 or abs(sum(fractions) - 1) > 1e-9 or min(fractions) <= 0:
        raise ValueError(f"fractions must be three positive numbers summing to 1, got {fractions}")
    days = all_days()
    random.Random(seed).shuffle(days)
    a = int(fractions[0] * len(days))
    b = a + int(fractions[1] * len(days))
    return {"train": days[:a], "valid": days[a:b], "test": days[b:]}


def make_splits(seed: int = 0, n_train: int = 20000, n_valid: int = 500, n_test: int = 1000,
                n_longer: int = 1000, max_train_len: int = MAX_TRAIN_LEN
                ) -> dict[str, list[tuple[str, str]]]:
    """(source, target) pairs: ``train`` / ``valid`` / ``test`` from disjoint days with inputs of
    ≤ ``max_train_len`` characters (a format whose rendering is longer is redrawn), and ``longer``
    from the test days with inputs of > ``max_train_len`` characters. Deterministic in ``seed``."""
    days = split_days(seed)
    rng = random.Random(seed + 1)
    names = sorted(FORMATS)

    def draw(pool: list[datetime.date], n: int, longer: bool) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        tries = 0
        while len(out) < n:
            tries += 1
            if tries > 200 * n:
                raise RuntimeError("could not draw enough examples of the asked length")
            day, fmt = rng.choice(pool), rng.choice(names)
            src = render(day, fmt, rng)
            if (len(src) > max_train_len) == longer:
                out.append((src, iso(day)))
        return out

    return {"train": draw(days["train"], n_train, False), "valid": draw(days["valid"], n_valid, False),
            "test": draw(days["test"], n_test, False), "longer": draw(days["test"], n_longer, True)}


def source_vocab(pairs: Sequence[tuple[str, str]] | None = None) -> list[str]:
    """The source characters: the specials, then every character any format can produce (so the
    vocabulary does not depend on the draw)."""
    chars = set("0123456789 ,./-")
    for word in (*MONTHS, *DAYS, "the", "of", "st", "nd", "rd", "th"):
        chars |= set(word) | set(word.lower()) | set(word.upper())
    if pairs is not None:
        extra = {c for s, _ in pairs for c in s} - chars
        if extra:
            raise ValueError(f"characters outside the vocabulary: {sorted(extra)}")
    return [*SPECIALS, *sorted(chars)]


def target_vocab() -> list[str]:
    return [*SPECIALS, *TARGET_CHARS]
