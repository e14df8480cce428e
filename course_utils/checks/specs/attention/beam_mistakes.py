"""The catalogue of ``beam_search``: wrong searches as learners write them, each a variant of one
parametrised search (so each differs from the rule in :mod:`.search` in one way only)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable

import numpy as np

from ...spec import Mistake
from .search import rank


def _search(step_fn, start, end, k, max_len, *, select="global", order="rank", stop_len=None,
            final="best_finished", keep_finished="aside", answer="right", mult=False):
    stop_len = max_len if stop_len is None else stop_len
    beam, finished, last = [((start,), 1.0 if mult else 0.0, 0.0)], [], []
    for _ in range(stop_len):
        cands = []
        for prefix, score, _ in beam:
            if keep_finished == "slots" and (prefix[-1] == end or len(prefix) > stop_len):
                cands.append((prefix, score, _))
                continue
            lp = np.asarray(step_fn(prefix), dtype=float)
            tokens = range(len(lp))
            if select == "per_beam":                # each hypothesis's own k best tokens
                tokens = [int(t) for t in np.argsort(-lp, kind="stable")[:k]]
            for t in tokens:
                cands.append((prefix + (t,), score * np.exp(lp[t]) if mult else score + lp[t],
                              float(lp[t])))
        if keep_finished == "slots":
            cands.sort(key=lambda c: rank(c[:2]))
            beam = cands[:k]
            last = beam
            if all(c[0][-1] == end or len(c[0]) > stop_len for c in beam):
                break
            continue
        if order == "rank":
            cands.sort(key=lambda c: rank(c[:2]))
        elif order == "norm":
            cands.sort(key=lambda c: (-c[1] / (len(c[0]) - 1), c[0]))
        elif order == "worst":
            cands.sort(key=lambda c: (c[1], c[0]))
        elif order == "reversed":
            cands.sort(key=lambda c: (c[1], c[0]), reverse=True)
        top = cands[:k]
        if keep_finished == "all":                  # every finished expansion, k unfinished
            finished += [c for c in cands if c[0][-1] == end]
            top = [c for c in cands if c[0][-1] != end][:k]
        beam = []
        for c in top:
            done = c[0][-1] == end or len(c[0]) > stop_len
            if done and keep_finished == "end_only" and c[0][-1] != end:
                continue
            (finished if done else beam).append(c)
        last = top
        if final == "first_finished" and finished:
            break
        if not beam:
            break
    if final == "last_beam":
        pool = last
    elif keep_finished == "end_only" and not finished:
        pool = last
    else:
        pool = finished or last
    if order == "norm":
        best = min(pool, key=lambda c: (-c[1] / (len(c[0]) - 1), c[0]))
    elif order == "reversed":
        best = max(pool, key=lambda c: (c[1], c[0]))
    elif mult:
        best = max(pool, key=lambda c: c[1])
    else:
        best = min(pool, key=lambda c: rank(c[:2]))
    tokens = list(best[0]) if answer == "start" else list(best[0][1:])
    if answer == "drop_end" and tokens[-1] == end:
        tokens = tokens[:-1]
    score = best[2] if answer == "last_lp" else (float(np.log(best[1])) if mult else best[1])
    return [int(t) for t in tokens], float(score)


_CACHE: OrderedDict = OrderedDict()
_LOCK = threading.Lock()  # the grader makes plans in several threads


def cached(fn: Callable) -> Callable:
    """``fn`` with its answers kept per step function (by the checker's ``step_fn.key``): the
    catalogue is searched for every failing case, and the long case costs a little."""
    def wrapper(step_fn, start, end, beam_width, max_len):
        key = getattr(step_fn, "key", None)
        if key is None:
            return fn(step_fn, start, end, beam_width, max_len)
        k = (id(fn), key, start, end, beam_width, max_len)
        with _LOCK:
            hit = _CACHE.get(k)
            if hit is not None:
                _CACHE.move_to_end(k)
        if hit is None:
            hit = fn(getattr(step_fn, "raw", step_fn), start, end, beam_width, max_len)
            with _LOCK:
                _CACHE[k] = hit
                while len(_CACHE) > 4000:
                    _CACHE.popitem(last=False)
        return list(hit[0]), hit[1]
    wrapper.__name__ = getattr(fn, "__name__", "mistake")
    return wrapper


def _variant(**how):
    def fn(step_fn, start, end, beam_width, max_len):
        with np.errstate(all="ignore"):
            return _search(step_fn, start, end, beam_width, max_len, **how)
    return cached(fn)


def k_greedy(step_fn, start, end, beam_width, max_len):
    first = np.asarray(step_fn((start,)), dtype=float)
    out = []
    for t in np.argsort(-first, kind="stable")[:beam_width]:
        prefix, score = (start, int(t)), float(first[t])
        while prefix[-1] != end and len(prefix) < max_len + 1:
            lp = np.asarray(step_fn(prefix), dtype=float)
            u = int(np.argmax(lp))
            prefix, score = prefix + (u,), score + float(lp[u])
        out.append((prefix, score))
    best = min(out, key=rank)
    return [int(t) for t in best[0][1:]], float(best[1])


GREEDY = "greedy search, or the beam filled hypothesis by hypothesis"
GREEDY_WHY = ("your answer is the one that greedy search, or a beam filled hypothesis by "
              "hypothesis, finds: the beam keeps the beam_width best expansions of ALL its "
              "hypotheses at every step, sorted by score — not only the single best one, and not "
              "the first k of a list built hypothesis by hypothesis (each one's own best tokens, "
              "unsorted), which mostly follows the greedy path too; and if your search does "
              "keep k hypotheses, check that it returns the BEST finished one")
LAST = "the best of the last beam returned instead of the best finished hypothesis"
LAST_WHY = ("hypotheses that ended earlier are set aside, not forgotten — nor left in the beam, "
            "where better hypotheses push them out before their descendants fall below them: "
            "the answer is the best of ALL finished hypotheses")

MISTAKES = [
    Mistake(GREEDY, GREEDY_WHY, cached(lambda f, s, e, k, n: _search(f, s, e, 1, n))),
    Mistake(GREEDY, GREEDY_WHY, cached(lambda f, s, e, k, n: _search(
        f, s, e, k, n, select="per_beam", order="none"))),
    Mistake("k independent greedy searches", "after the first step, each hypothesis is not "
            "followed greedily on its own: all expansions of all k hypotheses compete for the "
            "k places of the next beam", cached(k_greedy)),
    Mistake("the k WORST expansions kept", "np.argsort sorts in increasing order: the k "
            "highest scores are the LAST k indices (or sort -scores)",
            _variant(order="worst")),
    Mistake(LAST, LAST_WHY, _variant(final="last_beam")),
    Mistake(LAST, LAST_WHY, _variant(keep_finished="slots")),
    Mistake("length-normalised scores", "this exercise scores a hypothesis by the plain SUM of "
            "its log-probabilities (no division by its length), both to choose the beam and "
            "to pick the answer", _variant(order="norm")),
    Mistake("stopped at the first finished hypothesis", "a hypothesis that ends is set aside "
            "and the others go on; the search stops when the beam is empty (or after max_len "
            "steps), and the best finished hypothesis wins", _variant(final="first_finished")),
    Mistake("every finished expansion kept, k unfinished ones continued", "a finished "
            "hypothesis counts only if it is among the k best expansions of its step, where it "
            "takes one of the k places (so that width 1 is greedy search); keeping every "
            "finished expansion plus k unfinished ones is a different search",
            _variant(keep_finished="all")),
    Mistake("hypotheses cut at max_len not counted as finished", "a hypothesis that reaches "
            "max_len tokens without the end token is finished too, and may be the answer",
            _variant(keep_finished="end_only")),
    Mistake("one token short of max_len", "max_len counts the tokens AFTER the start token: a "
            "hypothesis may hold max_len of them",
            cached(lambda f, s, e, k, n: _search(f, s, e, k, n, stop_len=n - 1))),
    Mistake("ties broken the other way", "when two hypotheses have the same log-probability "
            "the lexicographically SMALLER token sequence wins: sort by (-score, tokens) — "
            "not by insertion order, and not by (score, tokens) in reverse (which prefers the "
            "larger sequence)", _variant(order="reversed")),
    Mistake("probabilities multiplied (underflow)", "a product of hundreds of probabilities "
            "is 0 in float64 (below about 1e-308), after which all hypotheses tie: add "
            "log-probabilities instead", _variant(mult=True)),
    Mistake("the start token included in the answer", "return the tokens AFTER the start "
            "token", _variant(answer="start")),
    Mistake("the end token dropped from the answer", "a hypothesis that ended keeps its end "
            "token in the answer (tokens = prefix[1:])", _variant(answer="drop_end")),
    Mistake("the log-prob of the last token only", "log_prob is the SUM of the "
            "log-probabilities of every token of the answer", _variant(answer="last_lp")),
]
