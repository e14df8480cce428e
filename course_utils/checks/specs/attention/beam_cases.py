"""The cases of ``beam_search``: step functions given as numpy source text.

The learner's ``beam_search`` receives a ``step_fn``; the grader runs it in a numpy-only sandbox
that receives inputs as plain data or as course-authored source text (``Case.source``). So each
case is source text that defines a small class, :data:`STEP_CLASS`, holding a table of
log-probabilities (one row per unfinished prefix: the output depends on the whole prefix) or a
bigram matrix (a long case). The same text builds the same object in the notebook, in the
sandbox and in the grader's own process (for the reference and the messages).

``step_fn`` also guards the exercise's rules while the learner's function runs and raises a
ValueError / RuntimeError that says which rule broke: a prefix that does not start with
``start``, that continues after ``end`` (a finished hypothesis extended) or that already has
``max_len`` tokens (one step too many), and more calls than a beam search needs (at most
1 + beam_width * (max_len - 1); the budget allows twice that) — scoring every sequence is
exhaustive search, not beam search.

The tables and the kinds of case come from :mod:`.beam_tables`; :func:`beam_cases` draws one
case of each kind such that every catalogued mistake is named as itself where it first fails.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ...recurrent import rng_for
from . import beam_tables as tables
from .beam_mistakes import MISTAKES
from .search import all_sequences, beam_search

STEP_CLASS = '''\
import operator


class StepFunction:
    """Next-token log-probabilities of a tiny language model, from a table (one row per prefix)
    or a bigram matrix (one row per last token). Call it with a prefix: a tuple of ints that
    starts with the start token."""

    def __init__(self, V, start, end, max_len, budget, table=None, bigram=None, key=None):
        self.V, self.start, self.end, self.max_len, self.budget = V, start, end, max_len, budget
        self.key = key  # names the table (the checker caches its searches by it)
        self.table = {tuple(k): np.array(v, dtype=float) for k, v in (table or [])}
        self.bigram = None if bigram is None else np.array(bigram, dtype=float)
        self.calls = 0

    def raw(self, prefix):
        """The log-probabilities after ``prefix`` (no checks, not counted)."""
        if self.bigram is not None:
            return self.bigram[prefix[-1]].copy()
        return self.table[tuple(prefix)].copy()

    def __call__(self, prefix):
        try:
            prefix = tuple(operator.index(t) for t in prefix)
        except TypeError:
            raise TypeError(f"step_fn takes a prefix: a tuple of ints that starts with the "
                            f"start token {self.start}; got {prefix!r:.80}") from None
        if not prefix or prefix[0] != self.start:
            raise ValueError(f"step_fn was called with the prefix {prefix!r:.60}: a prefix starts "
                             f"with the start token {self.start} (the first call is "
                             f"step_fn(({self.start},)))")
        if any(not 0 <= t < self.V for t in prefix[1:]):
            raise ValueError(f"step_fn was called with the prefix {prefix!r:.60}, which holds a "
                             f"token outside 0..{self.V - 1}")
        if self.end in prefix[1:]:
            raise ValueError(f"step_fn was called with the prefix {prefix!r:.60}, which already "
                             f"ended with the end token {self.end}: a finished hypothesis is set "
                             "aside and never extended")
        if len(prefix) - 1 >= self.max_len:
            raise ValueError(f"step_fn was called with a prefix of {len(prefix) - 1} tokens after "
                             f"the start token, but a hypothesis is finished at max_len = "
                             f"{self.max_len} tokens: one step too many?")
        self.calls += 1
        if self.calls > self.budget:
            raise RuntimeError(f"step_fn was called more than {self.budget} times: a beam of "
                               "width k expands at most k hypotheses per step, so 1 + k * "
                               "(max_len - 1) calls are enough (twice that is allowed); "
                               "scoring every possible sequence is exhaustive search, which "
                               "beam search exists to avoid")
        return self.raw(prefix)


'''

CASE_LINES = '''\
step_fn = StepFunction({V}, {start}, {end}, {max_len}, {budget}, table={table}, bigram={bigram},
                       key={key!r})
args = (step_fn, {start}, {end}, {width}, {max_len})
'''


@dataclass(frozen=True)
class BeamCase:
    label: str
    source: str


def budget(width: int, max_len: int) -> int:
    return 2 * (1 + width * (max_len - 1)) + 2


def fields_of(V: int, start: int, end: int, width: int, max_len: int,
              table: dict | None = None, bigram: np.ndarray | None = None) -> dict:
    rows = None if table is None else [[list(k), v.tolist()] for k, v in table.items()]
    return dict(V=V, start=start, end=end, max_len=max_len, width=width,
                budget=budget(min(width, V ** max_len), max_len), table=repr(rows),
                bigram=None if bigram is None else repr(bigram.tolist()))


def source(fields: dict) -> str:
    return STEP_CLASS + CASE_LINES.format(key=table_key(fields), **fields)


def table_key(fields: dict) -> str:
    return hashlib.sha1(repr(sorted(fields.items())).encode()).hexdigest()[:16]


class _Table:
    """What the checker's own searches need of a case's StepFunction (without compiling its
    source): ``raw``, ``key`` (the same key), ``bigram``."""

    def __init__(self, src_fields: dict, table: dict | None, bigram: np.ndarray | None):
        self.key, self.table, self.bigram = table_key(src_fields), table, bigram

    def raw(self, prefix: tuple) -> np.ndarray:
        if self.bigram is not None:
            return self.bigram[prefix[-1]].copy()
        return self.table[tuple(prefix)].copy()


def same_answer(a, b, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    """Two (tokens, log_prob) answers that the checker cannot tell apart."""
    if a is None or b is None or list(a[0]) != list(b[0]):
        return False
    x, y = float(a[1]), float(b[1])
    if not (np.isfinite(x) and np.isfinite(y)):
        return x == y or (np.isnan(x) and np.isnan(y))
    return abs(x - y) <= atol + rtol * abs(y)


def tie_other(step_fn, start: int, end: int, max_len: int, ref) -> list[int] | None:
    """In a case with an exact tie for the best hypothesis: the tied sequence that loses."""
    seqs = all_sequences(step_fn.raw, start, end, max_len)
    best = [list(t[1:]) for t, s in seqs if s == ref[1] and list(t[1:]) != ref[0]]
    return best[0] if best else None


def _catches(step_fn: _Table, start: int, end: int, width: int, max_len: int,
             pending: set[int], tie: bool) -> set[int] | None:
    """The pending mistakes this case catches, or None when one of them would be named as
    another (an earlier catalogue entry gives the same answer, or the tie reading fits)."""
    ref = beam_search(step_fn.raw, start, end, width, max_len)
    outs = []
    for m in MISTAKES:
        try:
            outs.append(m.fn(step_fn, start, end, width, max_len))
        except Exception:  # noqa: BLE001 - a mistake that cannot run here catches nothing
            outs.append(None)
    wrong = [o is not None and not same_answer(o, ref) for o in outs]
    other = tie_other(step_fn, start, end, max_len, ref) if tie else None
    caught = {i for i in pending if wrong[i]}
    for i in caught:
        if any(wrong[j] and same_answer(outs[j], outs[i]) and MISTAKES[j].name != MISTAKES[i].name
               for j in range(i)):
            return None
        if other is not None and list(outs[i][0]) == other \
                and MISTAKES[i].name != "ties broken the other way":
            return None
    return caught


def _draw(kind, rng: np.random.Generator, pending: set[int], attempts: int
          ) -> tuple[BeamCase, set[int]] | None:
    """A case of ``kind`` with its property, whose newly caught mistakes are told apart."""
    for _ in range(attempts):
        found = kind(rng)
        if found is None:
            continue
        label, start, end, width, max_len, table = found
        if kind is tables.kind_long:
            V, bigram, table = len(table), table, None
        elif tables.well_separated(table, start, end, max_len, tie=kind is tables.kind_tie):
            V, bigram = len(table[(start,)]), None
        else:
            continue
        fields = fields_of(V, start, end, width, max_len, table, bigram)
        caught = _catches(_Table(fields, table, bigram), start, end, width, max_len, pending,
                          tie=kind is tables.kind_tie)
        if caught is not None and (caught or kind is not tables.kind_other):
            return BeamCase(label, source(fields)), caught
    return None


@lru_cache(maxsize=8)
def beam_cases(seed: int) -> tuple[BeamCase, ...]:
    """One case of every kind (each from its own sub-seed) with its property, in order; a case
    is taken only if every catalogued mistake it is the FIRST to catch gives an answer of its own
    there (so the message names that mistake, not an earlier entry of the catalogue). Where a
    kind finds no such table, a further table that catches some of the pending mistakes goes
    first; further tables at the end catch any mistake still pending. Cached per seed."""
    out: list[BeamCase] = []
    pending = set(range(len(MISTAKES)))
    extra = 0
    for i, kind in enumerate(tables.KINDS):
        while True:
            drawn = _draw(kind, rng_for(seed, 900 + i + 100 * extra), pending, 150)
            if drawn is not None:
                break
            extra += 1
            other = _draw(tables.kind_other, rng_for(seed, 2000 + extra), pending, 300)
            if other is None or extra > 8:
                raise RuntimeError(f"no table for {kind.__name__} (seed {seed})")
            out.append(other[0])
            pending -= other[1]
        out.append(drawn[0])
        pending -= drawn[1]
    while pending:
        extra += 1
        other = _draw(tables.kind_other, rng_for(seed, 2000 + extra), pending, 300)
        if other is None or extra > 12:
            raise RuntimeError(f"mistakes not caught at seed {seed}: "
                               f"{[MISTAKES[i].name for i in sorted(pending)]}")
        out.append(other[0])
        pending -= other[1]
    return tuple(out)
