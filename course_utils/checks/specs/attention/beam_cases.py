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
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ...recurrent import rng_for
from .beam_mistakes import MISTAKES, k_greedy
from .search import all_sequences, beam_search, exhaustive_search, rank

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


def log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max()
    return z - np.log(np.exp(z).sum())


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


def random_table(rng: np.random.Generator, V: int, start: int, end: int, max_len: int,
                 spread: float = 1.5, end_bias: tuple[float, ...] = ()) -> dict:
    """Log-probabilities for every unfinished prefix, breadth first; ``end_bias[t]`` is added to
    the end token's logit after t tokens."""
    table, level = {}, [(start,)]
    for depth in range(max_len):
        nxt = []
        for prefix in level:
            z = rng.normal(0.0, spread, V)
            z[end] += end_bias[depth] if depth < len(end_bias) else 0.0
            table[prefix] = log_softmax(z)
            nxt += [prefix + (t,) for t in range(V) if t != end]
        level = nxt
    return table


def path_scores(table: dict, start: int, end: int, max_len: int) -> np.ndarray:
    """The score of every path of the search: unfinished prefixes and finished hypotheses."""
    scores = [s for _, s in all_sequences(table.__getitem__, start, end, max_len)]
    for prefix in table:
        if len(prefix) > 1:
            scores.append(sum(float(table[prefix[:i]][prefix[i]]) for i in range(1, len(prefix))))
    return np.array(scores)


def well_separated(table: dict, start: int, end: int, max_len: int, tie: bool = False) -> bool:
    """No two different scores within 1e-9, so the order of the additions cannot decide a
    comparison (exact ties are allowed only in the case built for them: ``tie``)."""
    scores = path_scores(table, start, end, max_len)
    values = np.unique(scores) if tie else np.sort(scores)
    return bool(np.all(np.diff(values) > 1e-9))


def _searches(table: dict, start: int, end: int, max_len: int, *widths: int):
    logp = table.__getitem__
    return [beam_search(logp, start, end, k, max_len) for k in widths] + \
        [exhaustive_search(logp, start, end, max_len)]


def _tokens(V: int, rng: np.random.Generator) -> tuple[int, int]:
    """Distinct start and end tokens, anywhere in the vocabulary."""
    start, end = (int(t) for t in rng.choice(V, 2, replace=False))
    return start, end


def _kind_beam(rng, V=5, max_len=4, width=2):
    start, end = _tokens(V, rng)
    table = random_table(rng, V, start, end, max_len, end_bias=(-1.0, 0.0, 0.5))
    greedy, beam, best = _searches(table, start, end, max_len, 1, width)
    if greedy[1] < beam[1] < best[1] and len(best[0]) >= 2 \
            and k_greedy(table.__getitem__, start, end, width, max_len)[0] != beam[0]:
        return (f"V={V}, max_len={max_len}, beam_width={width}, start={start}, end={end}: "
                "greedy < beam < exhaustive search", start, end, width, max_len, table)
    return None


def _kind_greedy(rng, V=6, max_len=4, width=1):
    start, end = _tokens(V, rng)
    table = random_table(rng, V, start, end, max_len, end_bias=(-1.5, 0.0))
    greedy, best = _searches(table, start, end, max_len, 1)
    if greedy[0] != best[0] and len(greedy[0]) >= 2:
        return (f"V={V}, max_len={max_len}, beam_width=1 (greedy search), start={start}, "
                f"end={end}", start, end, width, max_len, table)
    return None


def _kind_exhaustive(rng, V=4, max_len=3):
    width = V ** max_len
    start, end = _tokens(V, rng)
    table = random_table(rng, V, start, end, max_len, end_bias=(-1.0,))
    greedy, best = _searches(table, start, end, max_len, 1)
    if greedy[0] != best[0]:
        return (f"V={V}, max_len={max_len}, beam_width={width} >= V**max_len (nothing pruned: "
                f"exhaustive search), start={start}, end={end}", start, end, width, max_len,
                table)
    return None


def _kind_early_end_loses(rng, V=4, max_len=5, width=3):
    start, end = _tokens(V, rng)
    table = random_table(rng, V, start, end, max_len, end_bias=(1.0, -1.0, -1.0))
    greedy, best = _searches(table, start, end, max_len, 1)
    ref = beam_search(table.__getitem__, start, end, width, max_len)
    root = sorted(((t,), float(lp)) for t, lp in enumerate(table[(start,)]))
    top = sorted(root, key=rank)[:width]
    if any(t == (end,) for t, _ in top) and len(ref[0]) >= 3 and ref[0] != greedy[0] \
            and ref[0] == best[0]:
        return (f"V={V}, max_len={max_len}, beam_width={width}, start={start}, end={end}: an "
                "early end token (finished at step 1) loses to a longer hypothesis", start, end,
                width, max_len, table)
    return None


def _kind_early_end_wins(rng, V=5, max_len=4, width=2):
    start, end = _tokens(V, rng)
    table = random_table(rng, V, start, end, max_len, end_bias=(0.8, 0.8, -1.5))
    greedy, ref = _searches(table, start, end, max_len, 1, width)[:2]
    if 1 <= len(ref[0]) <= 2 and greedy[0] != ref[0]:
        return (f"V={V}, max_len={max_len}, beam_width={width}, start={start}, end={end}: a "
                "hypothesis that ends early beats the longer ones", start, end, width, max_len,
                table)
    return None


def _fixed(rng: np.random.Generator, V: int, fixed: dict[int, float], cap: float) -> np.ndarray:
    """Log-probabilities with the ``fixed`` entries exactly as given and the other tokens
    sharing the rest of the mass, each below probability ``cap``."""
    rest = [t for t in range(V) if t not in fixed]
    mass = 1.0 - sum(np.exp(v) for v in fixed.values())
    cap = max(cap, 1.2 * mass / len(rest))              # always reachable
    while True:
        p = rng.dirichlet(np.ones(len(rest))) * mass
        if p.max() < cap:
            break
    out = np.empty(V)
    out[rest] = np.log(p)
    for t, v in fixed.items():
        out[t] = v
    return out


def _kind_tie(rng, V=7, max_len=3, width=3):
    """Two best hypotheses (a, y, end) and (b, x, end), a < b, with EXACTLY equal scores: their
    log-probabilities are the same three numbers, alpha + beta + gamma and beta + alpha + gamma
    (so any order of additions agrees). b is the likelier first token, so a search that breaks
    ties by insertion order (or prefers the larger sequence) returns (b, x, end); a third first
    token c is likelier still, but leads nowhere (flat distributions), so greedy search loses."""
    start, end = _tokens(V, rng)
    others = [t for t in range(V) if t != end]
    a, b, c = (int(t) for t in rng.choice(others, 3, replace=False))
    a, b = min(a, b), max(a, b)
    x, y = (int(t) for t in rng.choice(others, 2))
    table = random_table(rng, V, start, end, max_len, end_bias=(-2.0, -1.0))
    for prefix in table:
        if prefix[:2] == (start, c):
            table[prefix] = log_softmax(rng.normal(0.0, 0.3, V))
    alpha, beta = np.log(0.26 + 0.02 * rng.random()), np.log(0.30 + 0.02 * rng.random())
    table[(start,)] = _fixed(rng, V, {a: alpha, b: beta, c: np.log(0.345)}, 0.15)
    table[(start, a)] = _fixed(rng, V, {y: beta, end: np.log(0.02)}, np.exp(alpha) - 0.02)
    table[(start, b)] = _fixed(rng, V, {x: alpha, end: np.log(0.02)}, np.exp(alpha) - 0.02)
    last = _fixed(rng, V, {end: np.log(0.85)}, 0.1)
    table[(start, a, y)], table[(start, b, x)] = last, last.copy()
    want = [a, y, end]
    seqs = sorted(all_sequences(table.__getitem__, start, end, max_len), key=rank)
    if [list(s[0][1:]) for s in seqs[:2]] == [want, [b, x, end]] and seqs[0][1] == seqs[1][1] \
            and seqs[2][1] < seqs[1][1] - 1e-6 \
            and beam_search(table.__getitem__, start, end, width, max_len)[0] == want:
        return (f"V={V}, max_len={max_len}, beam_width={width}, start={start}, end={end}: a tie "
                f"— two hypotheses with exactly the same log-probability (the "
                "lexicographically smaller token sequence wins)", start, end, width, max_len,
                table)
    return None


LONG = (40, 250, 2)  # V, max_len, beam_width of the long case


def _kind_long(rng: np.random.Generator):
    """A bigram model with a nearly flat distribution and an end token that never comes: the
    best hypothesis runs to max_len and its log-probability is below -745, where a product of
    probabilities is 0 in float64."""
    V, max_len, width = LONG
    start, end = _tokens(V, rng)
    while True:
        bigram = rng.normal(0.0, 0.25, (V, V))
        bigram[:, end] = -2000.0
        bigram = np.stack([log_softmax(row) for row in bigram])
        tokens, score = beam_search(lambda p, b=bigram: b[p[-1]], start, end, width, max_len)
        if score < -760:
            break
    return (f"V={V}, max_len={max_len}, beam_width={width}, start={start}, end={end}, a bigram "
             f"model: the best hypothesis has {max_len} tokens and a log-probability below -760 "
             "(its probability, a product, is 0 in float64)", start, end, width, max_len, bigram)




def _kind_other(rng: np.random.Generator):
    """Any table: for a mistake that the cases above happen not to catch."""
    V = int(rng.integers(4, 7))
    max_len = int(rng.integers(3, 6 if V < 6 else 5))
    width = int(rng.integers(2, 4))
    start, end = _tokens(V, rng)
    bias = tuple(rng.normal(0.0, 1.0, max_len))
    table = random_table(rng, V, start, end, max_len, end_bias=bias)
    return (f"V={V}, max_len={max_len}, beam_width={width}, start={start}, end={end}", start, end,
            width, max_len, table)


def _kind_pushed_out(rng, V=5, max_len=4, width=3):
    """(end,) finishes at step 1 among the 3 best; at step 2 three expansions outrank it (so a
    beam that keeps finished hypotheses in its places loses it), and every continuation then
    falls below it: it must still be the answer."""
    start, end = _tokens(V, rng)
    u, w, a, c, b = (int(t) for t in rng.permutation([t for t in range(V) if t != end]
                                                      * 2)[:5])
    if u == w:
        return None
    table = random_table(rng, V, start, end, max_len, spread=0.5, end_bias=(0.0, -2.0, -2.0))
    table[(start,)] = _fixed(rng, V, {u: np.log(0.45), w: np.log(0.3), end: np.log(0.2)}, 0.04)
    if a == c:
        return None
    table[(start, u)] = _fixed(rng, V, {a: np.log(0.5), c: np.log(0.47)}, 0.02)
    table[(start, w)] = _fixed(rng, V, {b: np.log(0.72)}, 0.1)
    ref = beam_search(table.__getitem__, start, end, width, max_len)
    if ref[0] == [end]:
        return (f"V={V}, max_len={max_len}, beam_width={width}, start={start}, end={end}: a "
                "hypothesis that ends at step 1 is outranked at step 2 by beam_width unfinished "
                "ones whose continuations all fall below it — it must still win", start, end,
                width, max_len, table)
    return None


KINDS = (_kind_beam, _kind_greedy, _kind_exhaustive, _kind_early_end_loses,
         _kind_early_end_wins, _kind_pushed_out, _kind_long, _kind_tie)


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
        if kind is _kind_long:
            V, bigram, table = len(table), table, None
        elif well_separated(table, start, end, max_len, tie=kind is _kind_tie):
            V, bigram = len(table[(start,)]), None
        else:
            continue
        fields = fields_of(V, start, end, width, max_len, table, bigram)
        caught = _catches(_Table(fields, table, bigram), start, end, width, max_len, pending,
                          tie=kind is _kind_tie)
        if caught is not None and (caught or kind is not _kind_other):
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
    for i, kind in enumerate(KINDS):
        while True:
            drawn = _draw(kind, rng_for(seed, 900 + i + 100 * extra), pending, 150)
            if drawn is not None:
                break
            extra += 1
            other = _draw(_kind_other, rng_for(seed, 2000 + extra), pending, 300)
            if other is None or extra > 8:
                raise RuntimeError(f"no table for {kind.__name__} (seed {seed})")
            out.append(other[0])
            pending -= other[1]
        out.append(drawn[0])
        pending -= drawn[1]
    while pending:
        extra += 1
        other = _draw(_kind_other, rng_for(seed, 2000 + extra), pending, 300)
        if other is None or extra > 12:
            raise RuntimeError(f"mistakes not caught at seed {seed}: "
                               f"{[MISTAKES[i].name for i in sorted(pending)]}")
        out.append(other[0])
        pending -= other[1]
    return tuple(out)
