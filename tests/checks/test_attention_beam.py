"""Notebook 10: ``beam_search(step_fn, start, end, beam_width, max_len)``.

Correct implementations in several styles pass; the wrong ones below were written as a learner
would write them, before the spec's catalogue, and each must fail: named or located.
"""

from __future__ import annotations

import heapq

import numpy as np
import pytest

from course_utils.checks import SPECS, run_spec

SPEC = SPECS["beam_search"]


# --------------------------------------------------------------------------- right
def beam_sorted(step_fn, start, end, beam_width, max_len):
    beam, finished = [((start,), 0.0)], []
    for _ in range(max_len):
        candidates = []
        for prefix, score in beam:
            logp = step_fn(prefix)
            for token, lp in enumerate(logp):
                candidates.append((prefix + (token,), score + float(lp)))
        candidates.sort(key=lambda c: (-c[1], c[0]))
        beam = []
        for prefix, score in candidates[:beam_width]:
            if prefix[-1] == end or len(prefix) == max_len + 1:
                finished.append((prefix, score))
            else:
                beam.append((prefix, score))
        if not beam:
            break
    tokens, score = min(finished, key=lambda c: (-c[1], c[0]))
    return list(tokens[1:]), score


def beam_numpy(step_fn, start, end, beam_width, max_len):
    """Vectorised over the vocabulary: scores of all expansions in one (k, V) array."""
    prefixes, scores = [[start]], np.zeros(1)
    done = []
    for t in range(max_len):
        logp = np.stack([step_fn(tuple(p)) for p in prefixes])           # (k, V)
        total = scores[:, None] + logp
        V = total.shape[1]
        order = sorted(range(total.size), key=lambda i: (-total.flat[i], prefixes[i // V][1:] + [i % V]))
        prefixes_next, scores_next = [], []
        for i in order[:beam_width]:
            seq = prefixes[i // V] + [i % V]
            if i % V == end or t == max_len - 1:
                done.append((float(total.flat[i]), seq[1:]))
            else:
                prefixes_next.append(seq)
                scores_next.append(total.flat[i])
        if not prefixes_next:
            break
        prefixes, scores = prefixes_next, np.array(scores_next)
    best = max(done, key=lambda d: (d[0], [-x for x in d[1]]) if False else d[0])
    ties = [d for d in done if d[0] == best[0]]
    score, seq = min(ties, key=lambda d: d[1])
    return [int(x) for x in seq], score


def beam_heap(step_fn, start, end, beam_width, max_len):
    """heapq.nsmallest on (-score, tokens): ties go to the smaller sequence."""
    beam, finished = [(0.0, (start,))], []
    for _ in range(max_len):
        candidates = ((neg - lp, prefix + (tok,)) for neg, prefix in beam
                      for tok, lp in enumerate(step_fn(prefix).tolist()))
        best = heapq.nsmallest(beam_width, candidates)
        beam = []
        for neg, prefix in best:
            (finished if prefix[-1] == end or len(prefix) > max_len else beam).append((neg, prefix))
        if not beam:
            break
    neg, prefix = min(finished)
    return list(prefix[1:]), -neg


@pytest.mark.parametrize("fn", [beam_sorted, beam_numpy, beam_heap])
def test_correct_styles_pass(fn):
    for seed in (None, 7):
        result = run_spec(SPEC, fn, seed)
        assert result.passed, result.message


# --------------------------------------------------------------------------- wrong (learners)
def per_beam_top_k(step_fn, start, end, beam_width, max_len):
    """Each beam keeps its own k best children; the first k of the list survive (unsorted)."""
    beam, finished = [((start,), 0.0)], []
    for _ in range(max_len):
        candidates = []
        for prefix, score in beam:
            logp = step_fn(prefix)
            for tok in np.argsort(-logp)[:beam_width]:
                candidates.append((prefix + (int(tok),), score + float(logp[tok])))
        beam = []
        for prefix, score in candidates[:beam_width]:
            (finished if prefix[-1] == end or len(prefix) == max_len + 1 else beam).append((prefix, score))
        if not beam:
            break
    tokens, score = max(finished, key=lambda c: c[1])
    return list(tokens[1:]), score


def k_greedy_searches(step_fn, start, end, beam_width, max_len):
    """Per-beam top-1: the k first tokens, each followed greedily."""
    first = step_fn((start,))
    beams = [((start, int(t)), float(first[t])) for t in np.argsort(-first)[:beam_width]]
    finished = []
    for prefix, score in beams:
        while prefix[-1] != end and len(prefix) < max_len + 1:
            logp = step_fn(prefix)
            t = int(np.argmax(logp))
            prefix, score = prefix + (t,), score + float(logp[t])
        finished.append((prefix, score))
    tokens, score = max(finished, key=lambda c: c[1])
    return list(tokens[1:]), score


def extends_finished(step_fn, start, end, beam_width, max_len):
    """Hypotheses that ended keep being expanded like the others."""
    beam = [((start,), 0.0)]
    for _ in range(max_len):
        candidates = []
        for prefix, score in beam:
            logp = step_fn(prefix)
            for tok, lp in enumerate(logp):
                candidates.append((prefix + (tok,), score + lp))
        candidates.sort(key=lambda c: -c[1])
        beam = candidates[:beam_width]
    tokens, score = beam[0]
    return list(tokens[1:]), float(score)


def last_beam_best(step_fn, start, end, beam_width, max_len):
    """Returns the best hypothesis alive at the end, forgetting those that finished earlier."""
    beam, last = [((start,), 0.0)], None
    for _ in range(max_len):
        candidates = []
        for prefix, score in beam:
            for tok, lp in enumerate(step_fn(prefix)):
                candidates.append((prefix + (tok,), score + float(lp)))
        candidates.sort(key=lambda c: (-c[1], c[0]))
        top = candidates[:beam_width]
        last = top
        beam = [c for c in top if c[0][-1] != end and len(c[0]) < max_len + 1]
        if not beam:
            break
    tokens, score = last[0]
    return list(tokens[1:]), score


def length_normalised(step_fn, start, end, beam_width, max_len):
    beam, finished = [((start,), 0.0)], []
    for _ in range(max_len):
        candidates = []
        for prefix, score in beam:
            for tok, lp in enumerate(step_fn(prefix)):
                candidates.append((prefix + (tok,), score + float(lp)))
        candidates.sort(key=lambda c: -c[1] / (len(c[0]) - 1))
        beam = []
        for c in candidates[:beam_width]:
            (finished if c[0][-1] == end or len(c[0]) == max_len + 1 else beam).append(c)
        if not beam:
            break
    tokens, score = max(finished, key=lambda c: c[1] / (len(c[0]) - 1))
    return list(tokens[1:]), score


def multiplies_probabilities(step_fn, start, end, beam_width, max_len):
    beam, finished = [((start,), 1.0)], []
    for _ in range(max_len):
        candidates = []
        for prefix, prob in beam:
            p = np.exp(step_fn(prefix))
            for tok in range(len(p)):
                candidates.append((prefix + (tok,), prob * p[tok]))
        candidates.sort(key=lambda c: -c[1])
        beam = []
        for c in candidates[:beam_width]:
            (finished if c[0][-1] == end or len(c[0]) == max_len + 1 else beam).append(c)
        if not beam:
            break
    tokens, prob = max(finished, key=lambda c: c[1])
    return list(tokens[1:]), float(np.log(prob))


def _reference_like(drop_end=False, keep_start=False, tie_first=False, return_last_score=False):
    def fn(step_fn, start, end, beam_width, max_len):
        beam, finished = [((start,), 0.0, 0.0)], []
        for _ in range(max_len):
            candidates = []
            for prefix, score, _ in beam:
                for tok, lp in enumerate(step_fn(prefix)):
                    candidates.append((prefix + (tok,), score + float(lp), float(lp)))
            if tie_first:
                candidates.sort(key=lambda c: c[1], reverse=True)   # ties: the later one first
            else:
                candidates.sort(key=lambda c: (-c[1], c[0]))
            beam = []
            for c in candidates[:beam_width]:
                (finished if c[0][-1] == end or len(c[0]) == max_len + 1 else beam).append(c)
            if not beam:
                break
        best = max(finished, key=lambda c: c[1]) if tie_first else min(finished, key=lambda c: (-c[1], c[0]))
        tokens = list(best[0]) if keep_start else list(best[0][1:])
        if drop_end and tokens and tokens[-1] == end:
            tokens = tokens[:-1]
        return tokens, (best[2] if return_last_score else best[1])
    return fn


drops_end_token = _reference_like(drop_end=True)
keeps_start_token = _reference_like(keep_start=True)
ties_by_insertion_order = _reference_like(tie_first=True)
last_step_log_prob = _reference_like(return_last_score=True)


def greedy_always(step_fn, start, end, beam_width, max_len):
    prefix, score = (start,), 0.0
    while len(prefix) < max_len + 1:
        logp = step_fn(prefix)
        t = int(np.argmax(logp))
        prefix, score = prefix + (t,), score + float(logp[t])
        if t == end:
            break
    return list(prefix[1:]), score


def one_step_short(step_fn, start, end, beam_width, max_len):
    """Stops at max_len tokens INCLUDING the start token."""
    beam, finished = [((start,), 0.0)], []
    for _ in range(max_len - 1):
        candidates = []
        for prefix, score in beam:
            for tok, lp in enumerate(step_fn(prefix)):
                candidates.append((prefix + (tok,), score + float(lp)))
        candidates.sort(key=lambda c: (-c[1], c[0]))
        beam = []
        for c in candidates[:beam_width]:
            (finished if c[0][-1] == end or len(c[0]) == max_len else beam).append(c)
        if not beam:
            break
    tokens, score = min(finished, key=lambda c: (-c[1], c[0]))
    return list(tokens[1:]), score


def one_step_long(step_fn, start, end, beam_width, max_len):
    """Expands up to max_len + 1 tokens."""
    return beam_sorted(step_fn, start, end, beam_width, max_len + 1)


def stops_at_first_finished(step_fn, start, end, beam_width, max_len):
    beam = [((start,), 0.0)]
    for _ in range(max_len):
        candidates = []
        for prefix, score in beam:
            for tok, lp in enumerate(step_fn(prefix)):
                candidates.append((prefix + (tok,), score + float(lp)))
        candidates.sort(key=lambda c: (-c[1], c[0]))
        beam = candidates[:beam_width]
        for prefix, score in beam:
            if prefix[-1] == end:
                return list(prefix[1:]), score
    return list(beam[0][0][1:]), beam[0][1]


def argsort_ascending(step_fn, start, end, beam_width, max_len):
    """np.argsort sorts increasing: the k WORST candidates are kept."""
    beam, finished = [((start,), 0.0)], []
    for _ in range(max_len):
        cands = []
        for prefix, score in beam:
            logp = step_fn(prefix)
            for tok in range(len(logp)):
                cands.append((prefix + (tok,), score + float(logp[tok])))
        scores = np.array([c[1] for c in cands])
        beam = []
        for i in np.argsort(scores)[:beam_width]:
            c = cands[i]
            (finished if c[0][-1] == end or len(c[0]) == max_len + 1 else beam).append(c)
        if not beam:
            break
    tokens, score = max(finished, key=lambda c: c[1])
    return list(tokens[1:]), score


def exhaustive_enumeration(step_fn, start, end, beam_width, max_len):
    """Right answer for a wide beam, but it scores every sequence: not a beam search."""
    best = None
    frontier = [((start,), 0.0)]
    while frontier:
        prefix, score = frontier.pop()
        for tok, lp in enumerate(step_fn(prefix)):
            seq, s = prefix + (tok,), score + float(lp)
            if tok == end or len(seq) == max_len + 1:
                if best is None or (-s, seq) < (-best[1], best[0]):
                    best = (seq, s)
            else:
                frontier.append((seq, s))
    return list(best[0][1:]), best[1]


def numpy_ints(step_fn, start, end, beam_width, max_len):
    tokens, score = beam_sorted(step_fn, start, end, beam_width, max_len)
    return list(np.array(tokens)), score


def tokens_as_array(step_fn, start, end, beam_width, max_len):
    tokens, score = beam_sorted(step_fn, start, end, beam_width, max_len)
    return np.array(tokens), score


def finished_keep_slots(step_fn, start, end, beam_width, max_len):
    """Finished hypotheses stay in the beam (not expanded) and compete at every later step."""
    beam = [((start,), 0.0)]
    for _ in range(max_len):
        candidates = []
        for prefix, score in beam:
            if prefix[-1] == end or len(prefix) == max_len + 1:
                candidates.append((prefix, score))
                continue
            for tok, lp in enumerate(step_fn(prefix)):
                candidates.append((prefix + (tok,), score + float(lp)))
        candidates.sort(key=lambda c: (-c[1], c[0]))
        beam = candidates[:beam_width]
    tokens, score = beam[0]
    return list(tokens[1:]), score


def start_not_in_prefix(step_fn, start, end, beam_width, max_len):
    beam, finished = [((), 0.0)], []
    for _ in range(max_len):
        candidates = []
        for prefix, score in beam:
            for tok, lp in enumerate(step_fn(prefix)):
                candidates.append((prefix + (tok,), score + float(lp)))
        candidates.sort(key=lambda c: (-c[1], c[0]))
        beam = []
        for c in candidates[:beam_width]:
            (finished if c[0][-1] == end or len(c[0]) == max_len else beam).append(c)
        if not beam:
            break
    tokens, score = min(finished, key=lambda c: (-c[1], c[0]))
    return list(tokens), score
