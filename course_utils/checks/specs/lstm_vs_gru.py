"""Spec of notebook 08's exercise: ``gru_hidden_for_lstm_params(input_size, lstm_hidden)``.

To compare a GRU and an LSTM *at the same number of parameters* (Chung et al. 2014 did), give
the GRU a larger hidden size. Precisely: return the hidden size ``h >= 1`` for which
``torch.nn.GRU(input_size, h)`` has the number of parameters closest to that of
``torch.nn.LSTM(input_size, lstm_hidden)``; both with PyTorch's defaults (one layer,
``bias=True``, so two bias vectors ``b_ih`` and ``b_hh``). On a tie, the smaller ``h``.

Counts: LSTM 4·H·(I + H + 2), GRU 3·h·(I + h + 2). Solving 3h² + 3(I+2)h − P = 0 gives the
real root r; the answer is floor(r) or ceil(r), whichever count is closer.

Rounding r itself is wrong when P falls near the midpoint of two consecutive GRU counts (the
count is convex in h, so the midpoint of the counts lies below the count at r = h + 1/2), and
on an exact tie the notebook's rule asks for the smaller h. Every seed's cases include one pair
of each kind (drawn from all such pairs with input_size < 100, lstm_hidden < 600), so both slips
fail. The notebook asks for a Python ``int``: torch.nn.GRU refuses a float and a numpy integer.
"""

from __future__ import annotations

import functools
import math
from functools import lru_cache

import numpy as np

from ..recurrent import rng_for
from ..spec import Case, Int, Mistake, Spec

ARGS = ("input_size", "lstm_hidden")


def _lstm(I: int, H: int, biases: int = 2) -> int:
    return 4 * H * (I + H + biases)


def _closest(count, target: float) -> int:
    """The h >= 1 whose count(h) is closest to target (ties: smaller h); count increasing."""
    lo, hi = 1, 2
    while count(hi) < target:
        hi *= 2
    while hi - lo > 1:  # count(lo) < target <= count(hi), or lo == 1
        mid = (lo + hi) // 2
        if count(mid) < target:
            lo = mid
        else:
            hi = mid
    return min((lo, hi), key=lambda h: (abs(count(h) - target), h))


def ref_gru_hidden(input_size: int, lstm_hidden: int) -> int:
    """Reference: the parameter counts are taken from torch.nn.LSTM / torch.nn.GRU themselves."""
    import torch

    def n_params(module) -> int:
        return sum(p.numel() for p in module.parameters())

    with torch.device("meta"):  # shapes only, no memory and no random init
        target = n_params(torch.nn.LSTM(input_size, lstm_hidden))
        cache: dict[int, int] = {}

        def gru(h: int) -> int:
            if h not in cache:
                cache[h] = n_params(torch.nn.GRU(input_size, h))
            return cache[h]

        return _closest(gru, target)


def _root(I: int, P: float, biases: int = 2) -> float:
    b = I + biases
    return (-b + math.sqrt(b * b + 4 * P / 3)) / 2


def _three_quarters(I: int, H: int) -> int:
    return max(1, round(0.75 * H))


def _no_biases(I: int, H: int) -> int:
    return _closest(lambda h: 3 * h * (I + h), 4 * H * (I + H))


def _no_input_weights(I: int, H: int) -> int:
    return _closest(lambda h: 3 * h * (h + 2), 4 * H * (H + 2))


def _one_bias(I: int, H: int) -> int:
    return _closest(lambda h: 3 * h * (I + h + 1), _lstm(I, H, 1))


def _floor(I: int, H: int) -> int:
    return max(1, math.floor(_root(I, _lstm(I, H))))


def _ceil(I: int, H: int) -> int:
    return max(1, math.ceil(_root(I, _lstm(I, H))))


def _sqrt_four_thirds(I: int, H: int) -> int:
    return max(1, round(H * math.sqrt(4 / 3)))


def _four_thirds(I: int, H: int) -> int:
    return max(1, round(H * 4 / 3))


def _same_hidden(I: int, H: int) -> int:
    return H


def _rounded_root(I: int, H: int) -> int:
    return max(1, round(_root(I, _lstm(I, H))))


def _ties_to_larger(I: int, H: int) -> int:
    target = _lstm(I, H)
    return min((_floor(I, H), _floor(I, H) + 1),
               key=lambda h: (abs(3 * h * (I + h + 2) - target), -h))


MISTAKES = [
    Mistake("3/4 of the hidden size", "a GRU has 3/4 of the parameters of an LSTM *of the same "
            "hidden size*; to match counts the GRU needs a LARGER hidden size — solve "
            "3h(I + h + 2) = 4H(I + H + 2) for h", _three_quarters),
    Mistake("one bias vector per gate instead of two", "PyTorch keeps both b_ih and b_hh "
            "(G·h each), so the count is G·h·(I + h + 2), not G·h·(I + h + 1)", _one_bias),
    Mistake("the biases ignored", "torch.nn.GRU and nn.LSTM have bias=True by default: two bias "
            "vectors (b_ih, b_hh) per gate, so count G·h·(I + h + 2)", _no_biases),
    Mistake("the input weights ignored", "W_ih (G·h, input_size) counts too: G·h·(I + h + 2)",
            _no_input_weights),
    Mistake("only the hidden-to-hidden weights counted (h = H·sqrt(4/3))", "3h² = 4H² ignores "
            "W_ih and both biases; count G·h·(I + h + 2) for each model", _sqrt_four_thirds),
    Mistake("4/3 of the hidden size (input_size ignored)", "h = round(4H/3) gives the GRU 4/3 "
            "the LSTM's hidden size, not its parameter count: the counts 3h(I + h + 2) and "
            "4H(I + H + 2) both depend on input_size — solve 3h(I + h + 2) = 4H(I + H + 2) for h",
            _four_thirds),
    Mistake("a tie broken towards the larger h", "when the GRU counts at h and h + 1 are "
            "equally far from the LSTM's, the notebook asks for the smaller h: compare with <= "
            "(or sort by (distance, h))", _ties_to_larger),
    Mistake("rounding the real root instead of comparing counts", "round(root) is not always "
            "the closest count: the count grows like h², so near the midpoint the closer count "
            "can be on the other side; compare the counts at floor(root) and ceil(root)",
            _rounded_root),
    Mistake("floor instead of the closest count", "int(root) truncates; compare the GRU counts "
            "at floor(root) and ceil(root) and keep the closer one", _floor),
    Mistake("ceil instead of the closest count", "compare the GRU counts at floor(root) and "
            "ceil(root) and keep the closer one", _ceil),
    Mistake("the LSTM's hidden size returned", "at equal hidden size the GRU has only 3/4 of the "
            "parameters; it needs a larger h", _same_hidden),
]


def check_types(case, value) -> str | None:
    """The notebook says: return a Python int."""
    if type(value) is int or value is None or isinstance(value, bool):
        return None
    if isinstance(value, (float, np.floating, np.integer)):
        return (f"returned a {type(value).__name__} ({value!r:.20}): return a Python int "
                "(int(h)) — torch.nn.GRU(input_size, h) refuses anything else (TypeError: "
                "hidden_size should be of type int)")
    return None


def _right(I: int, H: int) -> int:
    return _closest(lambda h: 3 * h * (I + h + 2), _lstm(I, H))


def _ambiguous(I: int, H: int) -> bool:
    """True when rounding a real root disagrees with comparing counts (see module doc), for the
    right count or for one of the miscounts (so a learner's variant is recognised either way)."""
    for biases in (2, 1, 0):
        r = _root(I, _lstm(I, H, biases), biases)
        closest = _closest(lambda h, b=biases: 3 * h * (I + h + b), _lstm(I, H, biases))
        if max(1, round(r)) != closest:
            return True
    return False


@lru_cache(maxsize=1)
def _razor_pairs() -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
    """(near-midpoint pairs, exact-tie pairs): (I, H) with I != H, I < 100, 2 <= H < 600, where
    rounding the root misses the closest count without a tie, and where two counts tie."""
    near, ties = [], []
    for I in range(1, 100):
        for H in range(2, 600):
            if I == H:
                continue
            target, lo = _lstm(I, H), _floor(I, H)
            d0, d1 = (abs(3 * h * (I + h + 2) - target) for h in (lo, lo + 1))
            if d0 == d1:
                ties.append((I, H))
            elif _rounded_root(I, H) != _right(I, H):
                near.append((I, H))
    return tuple(near), tuple(ties)


def _names_first(I: int, H: int, mistake: Mistake) -> bool:
    """On (I, H), the first catalogued mistake with ``mistake``'s (wrong) answer is itself."""
    value = mistake.fn(I, H)
    for m in MISTAKES:
        if m.fn(I, H) == value:
            return m is mistake
    return False


RAZOR = ("a tie broken towards the larger h", "rounding the real root instead of comparing counts")


def _cases(seed: int) -> list[Case]:
    """Distinct (input_size, lstm_hidden) pairs, in an order such that every catalogued mistake
    fails on some case and, on the first case where it fails, is the mistake named: the
    notebook's setting and a tiny one if they help, random pairs away from any midpoint until
    every other mistake has failed, then a pair near a midpoint and an exact tie (drawn with the
    seed from :func:`_razor_pairs`), where rounding the root and breaking ties upwards fail."""
    rng = rng_for(seed, 0)
    near, ties = _razor_pairs()
    pairs: list[tuple[int, int]] = []
    failed: set[str] = set()
    candidates = [(2, 48), (1, 7)]
    plain = [m for m in MISTAKES if m.name not in RAZOR]
    while len(failed) < len(plain):
        if candidates:
            I, H = candidates.pop(0)
        else:
            I, H = int(rng.integers(1, 100)), int(rng.integers(2, 600))
        if I == H or (I, H) in pairs or _ambiguous(I, H):
            continue
        right = _right(I, H)
        new = [m for m in plain if m.name not in failed and m.fn(I, H) != right]
        if new and all(_names_first(I, H, m) for m in new):
            pairs.append((I, H))
            failed.update(m.name for m in new)
    for pool in (near, ties):
        while True:
            I, H = pool[int(rng.integers(len(pool)))]
            right = _right(I, H)
            new = [m for m in MISTAKES if m.name not in failed and m.fn(I, H) != right]
            if (I, H) not in pairs and new and all(_names_first(I, H, m) for m in new):
                pairs.append((I, H))
                failed.update(m.name for m in new)
                break
    return [Case(f"input_size={I}, lstm_hidden={H}", (I, H)) for I, H in pairs]


SPECS = [
    Spec(id="gru_hidden_for_lstm_params", title="the GRU hidden size that matches an LSTM's "
         "parameter count", notebook="08_lstm_vs_gru", arg_names=ARGS,
         output=Int("gru_hidden"), make_cases=_cases, reference=ref_gru_hidden,
         mistakes=MISTAKES, points=1, check_types=check_types),
]


# =========================================================================== trial_verdict
# Notebook 08's exercise on the trial protocol (course_utils.lib.protocol): the verdict of
# "A vs B" from two arms' per-seed test losses (lower is better). The rule: NOT_DECIDED when
# neither median is <= solved_below; A_BETTER / B_BETTER when the bootstrap 95 % intervals of
# the medians (protocol.median_interval) do not overlap; NO_DIFFERENCE otherwise. Cases come from
# families that each separate one misconception, redrawn until the verdict is the same under
# other bootstrap resamplings (so a learner calling scipy.stats.bootstrap by hand agrees).

TV_ARGS = ("a", "b", "solved_below")


def _tv_ref(a, b, solved_below) -> int:
    from ...lib.protocol import verdict_code

    return verdict_code(list(a), list(b), float(solved_below))


def _tv_rule(a, b, t, solved_fn, interval_fn, separated_fn) -> int:
    from ...lib.protocol import A_BETTER, B_BETTER, NO_DIFFERENCE, NOT_DECIDED

    if not (solved_fn(a) <= t or solved_fn(b) <= t):
        return NOT_DECIDED
    ia, ib = interval_fn(a), interval_fn(b)
    return A_BETTER if separated_fn(ia, ib) else B_BETTER if separated_fn(ib, ia) else NO_DIFFERENCE


def _median_iv(v):
    from ...lib.protocol import median_interval

    i = median_interval(list(v))
    return (i.median, i.low, i.high)


def _mean_iv(v):
    import numpy as np
    from scipy import stats

    v = np.asarray(v, dtype=float)
    ci = stats.bootstrap((v,), np.mean, method="percentile",
                         rng=np.random.default_rng(0)).confidence_interval
    return (float(v.mean()), float(ci.low), float(ci.high))


def _apart(x, y) -> bool:  # interval x entirely below interval y
    return x[2] < y[1]


def _tv_higher(a, b, t):
    import numpy as np

    r = _tv_rule(a, b, t, np.median, _median_iv, lambda x, y: x[1] > y[2])
    return r


def _tv_both(a, b, t):
    import numpy as np

    from ...lib.protocol import NOT_DECIDED

    if np.median(a) > t or np.median(b) > t:
        return NOT_DECIDED
    return _tv_ref(a, b, t)


def _tv_best_seed(a, b, t):
    return _tv_rule(a, b, t, min, _median_iv, _apart)


def _tv_ranks(a, b, t):
    return _tv_rule(a, b, float("inf"), min, _median_iv, _apart)


def _tv_mean_solved(a, b, t):
    import numpy as np

    return _tv_rule(a, b, t, np.mean, _median_iv, _apart)


def _tv_mean_iv(a, b, t):
    import numpy as np

    return _tv_rule(a, b, t, np.mean, _mean_iv, _apart)


def _tv_ranges(a, b, t):
    import numpy as np

    return _tv_rule(a, b, t, np.median, lambda v: (0, min(v), max(v)), _apart)


def _tv_median_outside(a, b, t):
    import numpy as np

    return _tv_rule(a, b, t, np.median, _median_iv, lambda x, y: x[0] < y[1])


def _tv_medians(a, b, t):
    import numpy as np

    return _tv_rule(a, b, t, np.median, _median_iv, lambda x, y: x[0] < y[0])


TV_MISTAKES = [
    Mistake("higher taken as better", "the scores are losses: the LOWER interval wins", _tv_higher),
    Mistake("'not decided' unless both solved it", "'not decided' is for a task that NO cell "
            "solved; when one arm solved it and the intervals separate, that arm wins", _tv_both),
    Mistake("solved judged on the best seed", "an arm solved the task when its MEDIAN over seeds "
            "is <= solved_below, not when its luckiest seed is", _tv_best_seed),
    Mistake("failures ranked (no 'not decided')", "when neither median reaches solved_below, no "
            "cell solved it: return NOT_DECIDED instead of ranking two failures", _tv_ranks),
    Mistake("solved judged on the mean", "use the median over seeds for 'solved' (one diverged "
            "seed moves the mean)", _tv_mean_solved),
    Mistake("intervals of the mean instead of the median", "the protocol compares medians: "
            "median_interval(values) (a bootstrap interval of the median)", _tv_mean_iv),
    Mistake("the seeds' min–max ranges instead of bootstrap intervals", "the range of the seeds "
            "is not an interval for the median: compare median_interval(a) and "
            "median_interval(b)", _tv_ranges),
    Mistake("a median outside the other's interval taken as separation", "A wins only when A's "
            "whole interval lies below B's (a.high < b.low), not when A's median does",
            _tv_median_outside),
    Mistake("medians compared without intervals", "a lower median is not a verdict: return "
            "NO_DIFFERENCE unless the two intervals are disjoint", _tv_medians),
]


def _tv_robust(a, b, t) -> bool:
    """The reference verdict does not depend on the bootstrap's resampling (seed, count)."""
    import numpy as np
    from scipy import stats

    def verdict(seed: int, n: int) -> int:
        from ...lib.protocol import A_BETTER, B_BETTER, NO_DIFFERENCE, NOT_DECIDED

        if np.median(a) > t and np.median(b) > t:
            return NOT_DECIDED
        ivs = []
        for v in (a, b):
            r = stats.bootstrap((np.asarray(v),), np.median, n_resamples=n, method="percentile",
                                rng=np.random.default_rng(seed)).confidence_interval
            ivs.append((r.low, r.high))
        (al, ah), (bl, bh) = ivs
        return A_BETTER if ah < bl else B_BETTER if bh < al else NO_DIFFERENCE

    ref = _tv_ref(a, b, t)
    return all(verdict(s, n) == ref for s, n in ((1, 4999), (7, 9999), (123, 9999), (5, 2000)))


def _tv_family(kind: int, rng) -> tuple[list[float], list[float], float]:
    """One (a, b, solved_below) of a family; values are losses around a random scale."""

    s = float(10 ** rng.uniform(-3, 0))  # the loss scale
    n, m = (int(k) for k in rng.choice([5, 7, 9], size=2))  # seeds of A and of B

    def around(center: float, spread: float, k: int = n) -> list[float]:
        return sorted(float(x) for x in center * (1 + spread * rng.uniform(-1, 1, k)))

    if kind == 0:  # clearly separated, both solved
        a, b, t = around(s, 0.1), around(3 * s, 0.1, m), 5 * s
    elif kind == 1:  # A solved, B not, separated
        a, b, t = around(s, 0.1), around(4 * s, 0.1, m), 2 * s
    elif kind == 2:  # neither median solved, A's best seed did
        a = [0.5 * s] + around(2 * s, 0.1, n - 1)
        b, t = around(2.2 * s, 0.3, m), s
    elif kind == 3:  # neither solved at all, separated
        a, b, t = around(2 * s, 0.1), around(5 * s, 0.1, m), s
    elif kind == 4:  # both medians solved, neither mean (one diverged seed each)
        a = around(s, 0.1, n - 1) + [40 * s]
        b, t = around(3 * s, 0.1, m - 1) + [40 * s], 4 * s
    elif kind == 5:  # both solved; one diverged A seed widens a mean's interval, not the median's
        a = around(s, 0.1, n - 1) + [float(rng.uniform(6, 9)) * s]
        b, t = around(2 * s, 0.1, m), 20 * s
    elif kind == 6:  # B has one lucky seed inside A's range: ranges overlap, medians' intervals not
        a, t = around(s, 0.1), 10 * s
        b = [0.95 * s] + around(3 * s, 0.1, m - 1)
    elif kind == 7:  # A's median below B's interval, but the intervals overlap
        a = around(s, 0.05, n // 2 + 1) + around(2.2 * s, 0.05, n - n // 2 - 1)
        b, t = around(1.9 * s, 0.3, m), 10 * s
    else:  # both solved, overlapping intervals, different medians
        a, b, t = around(s, 0.4), around(1.15 * s, 0.4, m), 10 * s
    if rng.random() < 0.5:  # B the better arm as often as A
        a, b = b, a
    order = rng.permutation(len(a))  # seeds in no particular order
    return [a[i] for i in order], list(rng.permutation(b)), t


def _tv_names_first(args, mistake: Mistake) -> bool:
    value = mistake.fn(*args)
    return next(m for m in TV_MISTAKES if m.fn(*args) == value) is mistake


def _tv_cases(seed: int) -> list[Case]:
    """:func:`_tv_case_args` as fresh :class:`Case` objects (the search is cached per seed)."""
    return [Case(label, args, dims=dict(dims)) for label, args, dims in _tv_case_args(seed)]


@functools.lru_cache(maxsize=8)
def _tv_case_args(seed: int) -> tuple:
    """At least one case per family, in an order such that every catalogued mistake fails on some
    case and, on its first failing case, is the mistake named; every verdict robust."""
    import numpy as np

    rng = rng_for(seed, 800)
    cases: list[tuple] = []
    failed: set[str] = set()
    families, tries = list(range(9)), 0
    while families or len(failed) < len(TV_MISTAKES):
        tries += 1
        if tries > 20000:
            raise RuntimeError("could not build trial_verdict cases")  # pragma: no cover
        # mostly a family not yet covered; sometimes any (a mistake may need another family first)
        kind = int(rng.choice(families)) if families and rng.random() < 0.7 else int(rng.integers(0, 9))
        a, b, t = _tv_family(kind, rng)
        args = (np.array(a), np.array(b), t)
        med = [float(np.median(v)) for v in (a, b)]
        if any(abs(m - t) < 0.05 * t for m in med):
            continue
        right = _tv_ref(*args)
        new = [m for m in TV_MISTAKES if m.name not in failed and m.fn(*args) != right]
        if not all(_tv_names_first(args, m) for m in new) or not (kind in families or new):
            continue
        if not _tv_robust(a, b, t):
            continue
        if kind in families:
            families.remove(kind)
        failed.update(m.name for m in new)
        cases.append((f"{len(a)} and {len(b)} seeds, solved_below={t:.3g}", args,
                      {"A": len(a), "B": len(b)}))
    return tuple(cases)


def _tv_diagnose(got, expected, brief):
    from ...lib.protocol import CODE_WORDS

    g, e = got.get("verdict"), expected.get("verdict")
    return (f"returned {g} ({CODE_WORDS.get(g, 'not a verdict code')}) where the rule gives "
            f"{e} ({CODE_WORDS.get(e, '?')})")


SPECS.append(
    Spec(id="trial_verdict", title="the protocol's verdict from two sets of seed results",
         notebook="08_lstm_vs_gru", arg_names=TV_ARGS, output=Int("verdict"),
         make_cases=_tv_cases, reference=_tv_ref, mistakes=TV_MISTAKES, points=1,
         diagnose=_tv_diagnose, sandbox_modules=("scipy",)))
