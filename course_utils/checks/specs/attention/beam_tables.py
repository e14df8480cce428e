"""The tables of ``beam_search``'s cases: random next-token log-probabilities for every prefix,
and the kinds of case the checker draws (each a function of a random generator that returns a
table with its property, or None): greedy < beam < exhaustive; width 1; width >= V**max_len;
an early end that loses, one that wins, one pushed out of the beam that must still win; a long
bigram case whose probabilities underflow; an exact tie."""

from __future__ import annotations

import numpy as np

from .beam_mistakes import k_greedy
from .search import all_sequences, beam_search, exhaustive_search, rank


def log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max()
    return z - np.log(np.exp(z).sum())


def random_table(rng: np.random.Generator, V: int, start: int, end: int, max_len: int,
                 spread: float = 1.5, end_bias: tuple[float, ...] = ()) -> dict:
    """Log-probabilities for every unfinished prefix, breadth first; ``end_bias[t]`` is added to
    the end token's logit after t tokens."""
    table, level = {}, [(start,)]
    for depth in range(max_len):
        z = rng.normal(0.0, spread, (len(level), V))                     # one row per prefix
        z[:, end] += end_bias[depth] if depth < len(end_bias) else 0.0
        z -= z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        table.update(zip(level, logp))
        level = [prefix + (t,) for prefix in level for t in range(V) if t != end]
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


def searches(table: dict, start: int, end: int, max_len: int, *widths: int):
    logp = table.__getitem__
    return [beam_search(logp, start, end, k, max_len) for k in widths] + \
        [exhaustive_search(logp, start, end, max_len)]


def tokens_of(V: int, rng: np.random.Generator) -> tuple[int, int]:
    """Distinct start and end tokens, anywhere in the vocabulary."""
    start, end = (int(t) for t in rng.choice(V, 2, replace=False))
    return start, end


def kind_beam(rng, V=5, max_len=4, width=2):
    start, end = tokens_of(V, rng)
    table = random_table(rng, V, start, end, max_len, end_bias=(-1.0, 0.0, 0.5))
    greedy, beam, best = searches(table, start, end, max_len, 1, width)
    if greedy[1] < beam[1] < best[1] and len(best[0]) >= 2 \
            and k_greedy(table.__getitem__, start, end, width, max_len)[0] != beam[0]:
        return (f"V={V}, max_len={max_len}, beam_width={width}, start={start}, end={end}: "
                "greedy < beam < exhaustive search", start, end, width, max_len, table)
    return None


def kind_greedy(rng, V=6, max_len=4, width=1):
    start, end = tokens_of(V, rng)
    table = random_table(rng, V, start, end, max_len, end_bias=(-1.5, 0.0))
    greedy, best = searches(table, start, end, max_len, 1)
    if greedy[0] != best[0] and len(greedy[0]) >= 2:
        return (f"V={V}, max_len={max_len}, beam_width=1 (greedy search), start={start}, "
                f"end={end}", start, end, width, max_len, table)
    return None


def kind_exhaustive(rng, V=4, max_len=3):
    width = V ** max_len
    start, end = tokens_of(V, rng)
    table = random_table(rng, V, start, end, max_len, end_bias=(-1.0,))
    greedy, best = searches(table, start, end, max_len, 1)
    if greedy[0] != best[0]:
        return (f"V={V}, max_len={max_len}, beam_width={width} >= V**max_len (nothing pruned: "
                f"exhaustive search), start={start}, end={end}", start, end, width, max_len,
                table)
    return None


def kind_early_end_loses(rng, V=4, max_len=5, width=3):
    start, end = tokens_of(V, rng)
    table = random_table(rng, V, start, end, max_len, end_bias=(1.0, -1.0, -1.0))
    greedy, best = searches(table, start, end, max_len, 1)
    ref = beam_search(table.__getitem__, start, end, width, max_len)
    root = sorted(((t,), float(lp)) for t, lp in enumerate(table[(start,)]))
    top = sorted(root, key=rank)[:width]
    if any(t == (end,) for t, _ in top) and len(ref[0]) >= 3 and ref[0] != greedy[0] \
            and ref[0] == best[0]:
        return (f"V={V}, max_len={max_len}, beam_width={width}, start={start}, end={end}: an "
                "early end token (finished at step 1) loses to a longer hypothesis", start, end,
                width, max_len, table)
    return None


def kind_early_end_wins(rng, V=5, max_len=4, width=2):
    start, end = tokens_of(V, rng)
    table = random_table(rng, V, start, end, max_len, end_bias=(0.8, 0.8, -1.5))
    greedy, ref = searches(table, start, end, max_len, 1, width)[:2]
    if 1 <= len(ref[0]) <= 2 and greedy[0] != ref[0]:
        return (f"V={V}, max_len={max_len}, beam_width={width}, start={start}, end={end}: a "
                "hypothesis that ends early beats the longer ones", start, end, width, max_len,
                table)
    return None


def fixed_dist(rng: np.random.Generator, V: int, fixed: dict[int, float], cap: float) -> np.ndarray:
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


def kind_tie(rng, V=7, max_len=3, width=3):
    """Two best hypotheses (a, y, end) and (b, x, end), a < b, with EXACTLY equal scores: their
    log-probabilities are the same three numbers, alpha + beta + gamma and beta + alpha + gamma
    (so any order of additions agrees). b is the likelier first token, so a search that breaks
    ties by insertion order (or prefers the larger sequence) returns (b, x, end); a third first
    token c is likelier still, but leads nowhere (flat distributions), so greedy search loses."""
    start, end = tokens_of(V, rng)
    others = [t for t in range(V) if t != end]
    a, b, c = (int(t) for t in rng.choice(others, 3, replace=False))
    a, b = min(a, b), max(a, b)
    x, y = (int(t) for t in rng.choice(others, 2))
    table = random_table(rng, V, start, end, max_len, end_bias=(-2.0, -1.0))
    for prefix in table:
        if prefix[:2] == (start, c):
            table[prefix] = log_softmax(rng.normal(0.0, 0.3, V))
    alpha, beta = np.log(0.26 + 0.02 * rng.random()), np.log(0.30 + 0.02 * rng.random())
    table[(start,)] = fixed_dist(rng, V, {a: alpha, b: beta, c: np.log(0.345)}, 0.15)
    table[(start, a)] = fixed_dist(rng, V, {y: beta, end: np.log(0.02)}, np.exp(alpha) - 0.02)
    table[(start, b)] = fixed_dist(rng, V, {x: alpha, end: np.log(0.02)}, np.exp(alpha) - 0.02)
    last = fixed_dist(rng, V, {end: np.log(0.85)}, 0.1)
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


def kind_long(rng: np.random.Generator):
    """A bigram model with a nearly flat distribution and an end token that never comes: the
    best hypothesis runs to max_len and its log-probability is below -745, where a product of
    probabilities is 0 in float64."""
    V, max_len, width = LONG
    start, end = tokens_of(V, rng)
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




def kind_other(rng: np.random.Generator):
    """Any table: for a mistake that the cases above happen not to catch."""
    V = int(rng.integers(4, 7))
    max_len = int(rng.integers(3, 6 if V < 6 else 5))
    width = int(rng.integers(2, 4))
    start, end = tokens_of(V, rng)
    bias = tuple(rng.normal(0.0, 1.0, max_len))
    table = random_table(rng, V, start, end, max_len, end_bias=bias)
    return (f"V={V}, max_len={max_len}, beam_width={width}, start={start}, end={end}", start, end,
            width, max_len, table)


def kind_pushed_out(rng, V=5, max_len=4, width=3):
    """(end,) finishes at step 1 among the 3 best; at step 2 three expansions outrank it (so a
    beam that keeps finished hypotheses in its places loses it), and every continuation then
    falls below it: it must still be the answer."""
    start, end = tokens_of(V, rng)
    u, w, a, c, b = (int(t) for t in rng.permutation([t for t in range(V) if t != end]
                                                      * 2)[:5])
    if u == w:
        return None
    table = random_table(rng, V, start, end, max_len, spread=0.5, end_bias=(0.0, -2.0, -2.0))
    table[(start,)] = fixed_dist(rng, V, {u: np.log(0.45), w: np.log(0.3), end: np.log(0.2)}, 0.04)
    if a == c:
        return None
    table[(start, u)] = fixed_dist(rng, V, {a: np.log(0.5), c: np.log(0.47)}, 0.02)
    table[(start, w)] = fixed_dist(rng, V, {b: np.log(0.72)}, 0.1)
    ref = beam_search(table.__getitem__, start, end, width, max_len)
    if ref[0] == [end]:
        return (f"V={V}, max_len={max_len}, beam_width={width}, start={start}, end={end}: a "
                "hypothesis that ends at step 1 is outranked at step 2 by beam_width unfinished "
                "ones whose continuations all fall below it — it must still win", start, end,
                width, max_len, table)
    return None


KINDS = (kind_beam, kind_greedy, kind_exhaustive, kind_early_end_loses,
         kind_early_end_wins, kind_pushed_out, kind_long, kind_tie)
