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
    top = max(d[0] for d in done)
    ties = [d for d in done if d[0] == top]
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


# (learner's function, the name the checker must give — or None: raised, and the message must
# hold the phrase that names the rule it broke)
WRONG = [
    (per_beam_top_k, "greedy search, or the beam filled hypothesis by hypothesis", None),
    (k_greedy_searches, "k independent greedy searches", None),
    (greedy_always, "greedy search, or the beam filled hypothesis by hypothesis", None),
    (last_beam_best, "the best of the last beam returned instead of the best finished hypothesis",
     None),
    (finished_keep_slots, "the best of the last beam returned instead of the best finished "
     "hypothesis", None),
    (length_normalised, "length-normalised scores", None),
    (multiplies_probabilities, "probabilities multiplied (underflow)", None),
    (drops_end_token, "the end token dropped from the answer", None),
    (keeps_start_token, "the start token included in the answer", None),
    (ties_by_insertion_order, "ties broken the other way", None),
    (last_step_log_prob, "the log-prob of the last token only", None),
    (one_step_short, "one token short of max_len", None),
    (stops_at_first_finished, "stopped at the first finished hypothesis", None),
    (argsort_ascending, "the k WORST expansions kept", None),
    (tokens_as_array, "a type the notebook states", "tokens.tolist()"),
    (extends_finished, "a finished hypothesis extended", "never extended"),
    (one_step_long, "one step past max_len", "one step too many?"),
    (exhaustive_enumeration, "every sequence scored (exhaustive search)",
     "scoring every possible sequence is exhaustive search"),
    (start_not_in_prefix, "the start token missing from the prefix",
     "a prefix starts with the start token"),
]


@pytest.mark.parametrize("fn,name,phrase", WRONG, ids=[f.__name__ for f, _, _ in WRONG])
def test_wrong_implementations_fail_named_or_located(fn, name, phrase):
    for seed in (None, 7):
        result = run_spec(SPEC, fn, seed)
        assert not result.passed
        if name is not None:
            assert result.mistake == name, result.message
        if phrase is not None:
            assert phrase in result.message, result.message
        assert "[case V=" in result.message


def test_every_wrong_implementation_is_named():
    """By the catalogue, or by the step function's own error, which states the rule broken
    (extending a finished hypothesis, one step too many, enumerating every sequence, a prefix
    without the start token)."""
    assert all(name is not None for _, name, _ in WRONG)


def test_numpy_integers_in_the_list_are_accepted():
    assert run_spec(SPEC, numpy_ints).passed


def test_wrong_types_are_said():
    def as_tuple(*args):
        tokens, score = beam_sorted(*args)
        return tuple(tokens), score

    def score_array(*args):
        tokens, score = beam_sorted(*args)
        return tokens, np.array(score)

    def float_tokens(*args):
        tokens, score = beam_sorted(*args)
        return [float(t) for t in tokens], score

    assert "return a list of ints (list(tokens))" in run_spec(SPEC, as_tuple).message
    assert "log_prob is a numpy array of shape ()" in run_spec(SPEC, score_array).message
    assert "tokens should be a list of ints, but it holds a float" in \
        run_spec(SPEC, float_tokens).message


def test_returning_a_worse_finished_hypothesis_is_said():
    def worst_finished(step_fn, start, end, beam_width, max_len):
        """Returns the WORST finished hypothesis (max/min mixed up: no catalogue entry)."""
        beam, finished = [((start,), 0.0)], []
        for _ in range(max_len):
            cands = sorted(((p + (t,), s + float(lp)) for p, s in beam
                            for t, lp in enumerate(step_fn(p))), key=lambda c: (-c[1], c[0]))
            beam = []
            for p, s in cands[:beam_width]:
                (finished if p[-1] == end or len(p) > max_len else beam).append((p, s))
            if not beam:
                break
        p, s = min(finished, key=lambda c: c[1])
        return list(p[1:]), s

    result = run_spec(SPEC, worst_finished)   # here the same answer as greedy search's: both said
    assert not result.passed and "returns the BEST finished one" in result.message


def test_the_readings_of_an_answer_outside_the_catalogue():
    from course_utils.checks.specs.attention.beam import recognise
    from course_utils.checks.specs.attention.search import all_sequences

    case = SPEC.cases()[2]                               # nothing pruned: every path is known
    args, _ = case.inputs()
    step_fn, start, end, width, max_len = args
    tokens, score = SPEC.reference(*args)
    exp = {"tokens": np.array(tokens, float), "log_prob": np.array(score)}
    outs = {tuple(m.fn(*case.inputs()[0])[0]) for m in SPEC.mistakes}
    other = next((list(p[1:]), s) for p, s in sorted(all_sequences(step_fn.raw, start, end,
                                                                    max_len), key=lambda c: -c[1])
                 if list(p[1:]) != tokens and tuple(p[1:]) not in outs)

    def said(toks, lp):
        got = {"tokens": np.array(toks, float), "log_prob": np.array(lp)}
        return recognise(got, exp, *case.inputs()[0])

    name, text = said(*other)
    assert name == "a worse hypothesis than the beam's" and f"{other[1]:.4g}" in text
    name, text = said(other[0], other[1] + 1.0)
    assert name == "log_prob not the returned tokens' own"
    assert said(tokens + [end], score)[0] == "not a hypothesis of the search"


# --------------------------------------------------------------------------- the cases
@pytest.mark.parametrize("seed", [0, 7])
def test_cases_have_their_properties(seed):
    from course_utils.checks.specs.attention.search import beam_search, exhaustive_search, sequence_log_prob

    for case in SPEC.cases(seed):
        (step_fn, start, end, width, max_len), _ = case.inputs()
        tokens, score = SPEC.reference(step_fn, start, end, width, max_len)
        assert sequence_log_prob(step_fn.raw, start, end, max_len, tokens) == score
        greedy = beam_search(step_fn.raw, start, end, 1, max_len)
        if "greedy < beam < exhaustive" in case.label:
            best = exhaustive_search(step_fn.raw, start, end, max_len)
            assert greedy[1] < score < best[1]
        if "beam_width=1" in case.label:
            assert (tokens, score) == greedy == greedy_always(step_fn.raw, start, end, 1, max_len)
        if width >= step_fn.V ** max_len:             # exhaustive: the reference checks it too
            assert (tokens, score) == exhaustive_search(step_fn.raw, start, end, max_len)
        if "a tie" in case.label:
            assert run_spec(SPEC, ties_by_insertion_order, seed).mistake == \
                "ties broken the other way"
        if "bigram" in case.label:
            assert len(tokens) == max_len and score < -745
        assert step_fn.calls == 0                      # the reference used raw, uncounted


def test_step_function_guards_and_counts():
    (step_fn, start, end, width, max_len), _ = SPEC.cases()[0].inputs()
    first = step_fn((start,))
    assert first.shape == (step_fn.V,) and np.isclose(np.exp(first).sum(), 1.0)
    first[:] = 0                                       # the learner may scribble on it
    assert not np.allclose(step_fn([start]), 0)        # a list prefix is fine, a fresh array
    with pytest.raises(TypeError, match="tuple of ints"):
        step_fn((float(start),))
    with pytest.raises(ValueError, match="never extended"):
        step_fn((start, end))
    for _ in range(step_fn.budget - step_fn.calls):
        step_fn((start,))
    with pytest.raises(RuntimeError, match="exhaustive search"):
        step_fn((start,))


# --------------------------------------------------------------------------- the grader
BEAM_CELL = '''def beam_search(step_fn, start, end, beam_width, max_len):
    beam, finished = [((start,), 0.0)], []
    for _ in range(max_len):
        cands = sorted(((p + (t,), s + float(lp)) for p, s in beam
                        for t, lp in enumerate(step_fn(p))), key=lambda c: (-c[1], c[0]))
        beam = []
        for p, s in cands[:beam_width]:
            (finished if p[-1] == end or len(p) > max_len else beam).append((p, s))
        if not beam:
            break
    p, s = min(finished, key=lambda c: (-c[1], c[0]))
    return list(p[1:]), s
'''


def _no_bwrap() -> bool:
    from course_utils.grade import layout

    return layout.bwrap_path() is None


@pytest.mark.skipif(_no_bwrap(), reason="bubblewrap is not installed")
def test_the_grader_rebuilds_the_step_functions_in_its_numpy_only_sandbox(tmp_path):
    """The step functions cross into the sandbox as numpy source text: a right beam search gets
    full marks on hidden cases and a greedy one is named; the two attention exercises grade
    there too (numpy only: no torch in the sandbox)."""
    import inspect
    import json

    from tests.checks.test_attention_additive import additive_einsum
    from tests.checks.test_attention_sdpa import sdpa_inf
    from tests.grade.grade_fixtures import code, grade, notebook, rows, write

    def cell(fn, name):
        return inspect.getsource(fn).replace(f"def {fn.__name__}(", f"def {name}(")

    greedy = BEAM_CELL.replace("cands[:beam_width]", "cands[:1]")
    subs = tmp_path / "subs"
    attention = [code(cell(additive_einsum, "additive_attention"), "additive_attention"),
                 code(cell(sdpa_inf, "scaled_dot_product_attention"),
                      "scaled_dot_product_attention")]
    for name, beam in (("right", BEAM_CELL), ("greedy", greedy)):
        write(subs / name / "10_attention.ipynb",
              notebook(attention + [code(beam, "beam_search")]))
    out = tmp_path / "out"
    proc = grade(str(subs), "--out", str(out), "--seed", "99", "--jobs", "1")
    assert proc.returncode == 0, proc.stderr[-2000:]
    table = rows(out)
    assert table["right/10_attention.ipynb"]["total"] == "6", table
    assert float(table["greedy/10_attention.ipynb"]["beam_search"]) < 2     # partial credit
    assert "greedy search" in table["greedy/10_attention.ipynb"]["note"]
    assert json.dumps(table)
