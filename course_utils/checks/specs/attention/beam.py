"""``beam_search(step_fn, start, end, beam_width, max_len) -> (tokens, log_prob)``.

``step_fn(prefix)`` takes a tuple of ints that starts with ``start`` and returns a numpy array
(V,) of the log-probabilities of the next token. A hypothesis is finished when its last token
is ``end`` (it is never extended after that) or when it holds ``max_len`` tokens after
``start``. Scores are summed log-probabilities (no length normalisation). At each step every
hypothesis of the beam is expanded by every token and the ``beam_width`` best of ALL these
expansions are kept (global top-k, not per hypothesis); the finished ones among them are set
aside, the others form the next beam. Stop when the beam is empty (at the latest after
``max_len`` steps). Return the best finished hypothesis: its tokens after ``start`` as a list
of ints (with the end token if it ended with one) and its log-probability as a Python float.
Ties go to the lexicographically smaller token sequence. With ``beam_width`` 1 this is greedy
search; with ``beam_width >= V ** max_len`` it is exhaustive search (the reference checks
itself against exhaustive search there). Rule and algorithms: :mod:`.search`.

Cases (:mod:`.beam_cases`): step functions given as numpy source text (so the grader's sandbox
rebuilds them), that count their calls: a beam search needs at most 1 + beam_width *
(max_len - 1), twice that is allowed — enumerating every sequence is refused, that is the
exercise's point. Greedy < beam < exhaustive; width 1; width >= V**max_len; an early end that
loses and one that wins; an exact tie; a 250-token case where a product of probabilities
underflows.
"""

from __future__ import annotations

import numpy as np

from ...judging import find_mistakes
from ...spec import Case, IntList, Spec
from .beam_cases import beam_cases
from .beam_mistakes import MISTAKES
from .search import beam_search, exhaustive_search, sequence_log_prob

ARGS = ("step_fn", "start", "end", "beam_width", "max_len")


def make_cases(seed: int) -> list[Case]:
    return [Case(c.label, source=c.source) for c in beam_cases(seed)]


def ref_beam_search(step_fn, start: int, end: int, beam_width: int,
                    max_len: int) -> tuple[list[int], float]:
    """Beam search as the exercise defines it (:func:`.search.beam_search`). On the checker's
    step functions with beam_width >= V ** max_len, it is also checked against exhaustive
    search (the two must agree: sequence and log-probability)."""
    logp = getattr(step_fn, "raw", step_fn)
    tokens, score = beam_search(logp, start, end, beam_width, max_len)
    V = getattr(step_fn, "V", None)
    if V is not None and beam_width >= V ** max_len:
        if exhaustive_search(logp, start, end, max_len) != (tokens, score):
            raise AssertionError("beam search with beam_width >= V**max_len differs from "
                                 "exhaustive search")
    return tokens, score


def _a(kind: str) -> str:
    return f"an {kind}" if kind[:1] in "aeiou" else f"a {kind}"


def check_types(case: Case, value) -> str | tuple[str, str] | None:
    """The notebook says: (tokens, log_prob), a list of ints and a Python float."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        return None
    tokens, log_prob = value
    if isinstance(tokens, np.ndarray):
        return ("tokens is a numpy array: return a list of ints (tokens.tolist()), the form the "
                "notebook's decoding expects")
    if isinstance(tokens, tuple):
        return "tokens is a tuple: return a list of ints (list(tokens))"
    if not isinstance(tokens, list):
        return (f"the first part of the answer is {_a(type(tokens).__name__)}: return "
                "(tokens, log_prob), tokens a list of ints and log_prob a float")
    if isinstance(log_prob, (bool, np.bool_)) or not isinstance(log_prob, (float, np.floating)):
        kind = _a(type(log_prob).__name__)
        if isinstance(log_prob, np.ndarray):
            kind = f"a numpy array of shape {log_prob.shape}"
        return f"log_prob is {kind}: return a Python float (float(score))"
    return None


def _fmt(tokens) -> str:
    tokens = [int(t) for t in tokens]
    if len(tokens) > 12:
        return f"[{', '.join(map(str, tokens[:5]))}, ... ({len(tokens)} tokens)]"
    return str(tokens)


def recognise(got: dict, exp: dict, step_fn, start, end, beam_width, max_len):
    """Readings of the answer against the step function: a tie broken the other way, a
    log_prob that is not the returned tokens' own, an unfinished or impossible answer, an
    answer worse (or better) than the beam's. Silent where the catalogue names the output."""
    tokens = [int(t) for t in got["tokens"]]
    lp, e_tokens, e_lp = float(got["log_prob"]), [int(t) for t in exp["tokens"]], \
        float(exp["log_prob"])
    logp = getattr(step_fn, "raw", step_fn)
    own = sequence_log_prob(logp, start, end, max_len, tokens)
    args = (step_fn, start, end, beam_width, max_len)

    def named_by_catalogue() -> bool:
        return bool(find_mistakes(SPEC, Case("", args), list(got.items()), list(exp.items())))

    if own is not None and tokens != e_tokens and own == e_lp and lp == own \
            and tokens > e_tokens:
        return ("ties broken the other way", f"your answer {_fmt(tokens)} and {_fmt(e_tokens)} "
                "have exactly the same log-probability; ties go to the lexicographically "
                f"SMALLER token sequence ({_fmt(e_tokens)} < {_fmt(tokens)}): sort by (-score, "
                "tokens), not by insertion order or by (score, tokens) in reverse")
    if named_by_catalogue():
        return None
    if own is None:
        return ("not a hypothesis of the search", f"your tokens {_fmt(tokens)} are not a path "
                f"of the search (empty, a token outside 0..V-1, tokens after the end token {end}, or "
                f"more than max_len = {max_len} tokens)")
    if tokens[-1] != end and len(tokens) < max_len:
        return ("an unfinished answer", f"your tokens {_fmt(tokens)} stop after {len(tokens)} "
                f"< max_len = {max_len} tokens without the end token {end}: only finished "
                "hypotheses can be the answer (was the end token dropped?)")
    if not np.isclose(lp, own, rtol=1e-9, atol=1e-9):
        if lp == -np.inf and own < -745:
            return ("probabilities multiplied (underflow)", f"log_prob is -inf, but your tokens' "
                    f"log-probabilities sum to {own:.1f}: their product, exp({own:.0f}), is 0 "
                    "in float64 — add log-probabilities instead of multiplying probabilities")
        return ("log_prob not the returned tokens' own", f"log_prob is {lp:.6g}, but the "
                f"log-probabilities of your tokens {_fmt(tokens)} sum to {own:.6g}: return the "
                "score of the hypothesis you return")
    if own < e_lp:
        return ("a worse hypothesis than the beam's", f"your answer {_fmt(tokens)} (log-prob "
                f"{own:.4g}) is a finished hypothesis, but the beam of width {beam_width} finds "
                "a better one: keep the beam_width best of ALL expansions at every step (global "
                "top-k), set finished ones aside, and return the best finished one")
    return ("a better hypothesis than the beam of this width keeps", f"your answer "
            f"{_fmt(tokens)} (log-prob {own:.4g}) is better than what a beam of width "
            f"{beam_width} finds: at each step only the beam_width best of all expansions "
            "survive, and a finished one takes one of those places")


# What the step function's own errors (beam_cases.STEP_CLASS) show: (phrase of the error,
# the mistake's name, a hint). The error text is shown for public cases only, so hidden cases
# get the exception's type and line, never these names.
STEP_ERRORS = (
    ("already ended with the end token", "a finished hypothesis extended",
     "test `prefix[-1] == end` before expanding a hypothesis: finished ones go to a separate "
     "list"),
    ("one step too many?", "one step past max_len",
     "a hypothesis with max_len tokens after the start token is finished: expand at most "
     "max_len times (for _ in range(max_len))"),
    ("which beam search exists to avoid", "every sequence scored (exhaustive search)",
     "expand only the beam_width hypotheses kept at each step"),
    ("a prefix starts with the start token", "the start token missing from the prefix",
     "begin with the beam [((start,), 0.0)] and extend prefixes by one token: prefix + (token,)"),
    ("step_fn takes a prefix", "a prefix that is not a tuple of ints",
     "keep prefixes as tuples of Python ints: prefix + (int(token),)"),
)


def explain_error(error: str, step_fn, start, end, beam_width, max_len
                  ) -> tuple[str, str] | None:
    for phrase, name, hint in STEP_ERRORS:
        if phrase in error:
            return hint, name
    return None


SPEC = Spec(id="beam_search", title="beam search over a step function (global top-k, summed "
            "log-probabilities, finished hypotheses set aside, ties to the smaller sequence): "
            "(tokens as a list of ints, log_prob as a float)", notebook="10_attention",
            arg_names=ARGS, output=(IntList("tokens"), "log_prob"), make_cases=make_cases,
            reference=ref_beam_search, mistakes=MISTAKES, rtol=1e-6, atol=1e-9, points=2,
            check_types=check_types, recognise=recognise, explain_error=explain_error)
