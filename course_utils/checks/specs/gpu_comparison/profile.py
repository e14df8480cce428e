"""Spec of ``time_shares`` (notebook gpu_comparison, exercise 2): where a profiled call's wall
time went, from a ``torch.profiler`` table.

    time_shares(ops, wall_ms) -> {"gemm", "pointwise", "fused_rnn", "other_ops", "outside_ops"}

``ops`` is a list of ``(name, self_ms, total_ms, calls)`` rows, as ``prof.key_averages()``
gives them (self time: in the op itself, summed over its calls; total: including the ops it
called); ``wall_ms`` the wall time of the profiled region (one thread: the self times add up to
at most ``wall_ms``). Each op's *self* time goes to the category of its name (the sets below,
defined again in the notebook's grader-context cell); ``outside_ops`` is the wall time no op
accounts for — the Python interpreter and the dispatcher between ops. Every value is a fraction
of ``wall_ms`` (Python floats; they sum to 1).
"""

from __future__ import annotations

from typing import Any

from ...spec import Case, Mistake, Spec

GEMM_OPS = ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::matmul",
            "aten::linear")
POINTWISE_OPS = ("aten::sigmoid", "aten::tanh", "aten::mul", "aten::add", "aten::sub",
                 "aten::sigmoid_", "aten::tanh_", "aten::mul_", "aten::add_", "aten::sub_",
                 "aten::rsub")
FUSED_RNN_OPS = ("aten::mkldnn_rnn_layer", "aten::_cudnn_rnn", "aten::miopen_rnn",
                 "aten::_thnn_fused_lstm_cell", "aten::lstm_cell", "aten::gru_cell")
KEYS = ("gemm", "pointwise", "fused_rnn", "other_ops", "outside_ops")
OTHER = ("aten::copy_", "aten::empty", "aten::select", "aten::slice", "aten::view",
         "aten::t", "aten::transpose", "aten::cat", "aten::zeros")
# parent -> children: the parent's total time includes theirs (what total time double counts)
PARENTS = {"aten::linear": ("aten::t", "aten::addmm"), "aten::matmul": ("aten::mm",),
           "aten::chunk": ("aten::split",), "aten::split": ("aten::slice",),
           "aten::stack": ("aten::cat",), "aten::lstm": ("aten::mkldnn_rnn_layer", "aten::cat")}


def _trace(rng: Any, names: list[str], outside: float) -> tuple[list[tuple], float]:
    """Rows for ``names`` (self times, calls), totals from ``PARENTS``, and a wall time with
    ``outside`` of it spent outside every op."""
    rows: dict[str, list] = {}
    for n in names:
        calls = int(rng.integers(1, 200)) if len(names) > 1 else 1
        rows[n] = [n, round(float(rng.uniform(0.05, 3.0)), 4), 0.0, calls]

    def total(n: str) -> float:
        kids = [k for k in PARENTS.get(n, ()) if k in rows]
        return rows[n][1] + sum(total(k) for k in kids)

    for n in names:
        rows[n][2] = round(total(n), 4)
    inside = sum(r[1] for r in rows.values())
    wall = round(inside / (1.0 - outside), 4) + 1e-4
    return [tuple(r) for r in rows.values()], float(wall)


def make_cases(seed: int) -> list[Case]:
    """A Python loop's trace (nested linear / matmul / chunk, many calls), a fused oneDNN trace
    (no pointwise op, aten::lstm around the fused kernel), a single op, a cuDNN-like trace, and a
    mixed one with most of the wall time outside ops."""
    import numpy as np

    rng = np.random.default_rng([seed, 4040])
    loop = ["aten::linear", "aten::t", "aten::addmm", "aten::matmul", "aten::mm", "aten::chunk",
            "aten::split", "aten::slice", "aten::sigmoid", "aten::tanh", "aten::mul",
            "aten::add", "aten::stack", "aten::cat", "aten::empty"]
    specs = [("a Python loop's trace", loop, 0.35),
             ("oneDNN's fused trace", ["aten::lstm", "aten::mkldnn_rnn_layer", "aten::cat",
                                       "aten::zeros", "aten::empty"], 0.05),
             ("one op", [str(rng.choice(GEMM_OPS[:3]))], 0.2),
             ("a cuDNN-like trace", ["aten::_cudnn_rnn", "aten::copy_", "aten::addmm",
                                     "aten::view"], 0.5),
             ("a mixed trace, mostly outside ops", ["aten::baddbmm", "aten::linear", "aten::t",
                                                    "aten::addmm", "aten::sigmoid_", "aten::rsub",
                                                    "aten::lstm_cell", "aten::select"], 0.7)]
    cases = []
    for label, names, outside in specs:
        ops, wall = _trace(rng, names, outside)
        cases.append(Case(f"{label} ({len(ops)} op{'s' if len(ops) > 1 else ''})", (ops, wall),
                          dims={"N": len(ops)}))
    return cases


def _kind(name: str, match: str = "exact", fused: str = "fused_rnn") -> str:
    if match == "exact":
        kind = ("gemm" if name in GEMM_OPS else "pointwise" if name in POINTWISE_OPS
                else "fused_rnn" if name in FUSED_RNN_OPS else "other_ops")
    else:
        pw = any(p in name for p in ("sigmoid", "tanh", "mul", "add", "sub"))
        if match == "pointwise_first" and pw:
            return "pointwise"
        kind = ("gemm" if ("mm" in name if match == "substring" else name in GEMM_OPS)
                else "pointwise" if pw else "fused_rnn" if "rnn" in name or "cell" in name
                else "other_ops")
    return "gemm" if kind == "fused_rnn" and fused == "gemm" else kind


def _shares(ops, wall_ms, *, time: int = 1, times_calls: bool = False, norm: str = "wall",
            scale: float = 1.0, match: str = "exact", outside: str = "outside",
            other: str = "other", fused: str = "fused_rnn") -> dict[str, float]:
    """The reference with switches; each switch one known mistake (defaults: correct)."""
    acc = dict.fromkeys(KEYS[:4], 0.0)
    for row in ops:
        acc[_kind(row[0], match, fused)] += row[time] * (row[3] if times_calls else 1)
    inside = sum(acc.values())
    denom = wall_ms if norm == "wall" else inside
    out = {k: v / denom for k, v in acc.items()}
    out["outside_ops"] = (0.0 if norm != "wall" else
                          max(0.0, wall_ms - inside) / wall_ms if time == 2 else
                          (wall_ms - inside) / wall_ms)
    if outside == "inside":
        out["outside_ops"] = 1.0 - out["outside_ops"]
    if other == "non_gemm":
        out["other_ops"] += out["pointwise"] + out["fused_rnn"]
    return {k: float(v * scale) for k, v in out.items()}


def ref_time_shares(ops, wall_ms):
    """Fractions of ``wall_ms`` per category, from the ops' self times (floats)."""
    return _shares(ops, wall_ms)


def check_floats(case: Case, value: Any) -> tuple[str, str] | None:
    """The notebook says "a dict of floats": arrays and tensors are named as such."""
    if not isinstance(value, dict):
        return None
    bad = {k: type(v).__name__ for k, v in value.items()
           if not isinstance(v, (int, float)) or isinstance(v, bool)}
    bad = {k: t for k, t in bad.items() if t not in ("NoneType", "str", "dict", "list", "tuple")}
    if not bad:
        return None
    which = ", ".join(f"`{k}` is a {t}" for k, t in bad.items())
    return (f"looks like arrays or tensors returned instead of floats: {which}; return plain "
            "Python floats (float(x), or x.item() for a one-element tensor) — a tensor keeps its "
            "device and graph alive, and a table of shares is plain numbers",
            "arrays or tensors returned instead of floats")


def _variant(**switches: Any):
    def fn(ops, wall_ms):
        return _shares(ops, wall_ms, **switches)
    return fn


SUBSTRING = ("compare whole names with the sets (name in GEMM_OPS): a part of a name matches "
             "too much or too little — 'add' is in aten::addmm, 'mm' is not in aten::matmul")
MISTAKES = [
    Mistake("total time used instead of self time", "an op's total time includes the ops it "
            "called (aten::linear's total contains its aten::addmm), so adding totals counts the "
            "children twice; add self times", _variant(time=2)),
    Mistake("self time multiplied by the number of calls", "the profiler's self time is already "
            "summed over all calls of the op; do not multiply it by calls", _variant(times_calls=True)),
    Mistake("shares of the ops' time instead of the wall time", "divide by wall_ms: the time no "
            "op accounts for (outside_ops) is part of the wall time and is often the largest",
            _variant(norm="ops")),
    Mistake("percentages instead of fractions", "return fractions of the wall time (they sum to "
            "1), not percentages", _variant(scale=100.0)),
    Mistake("ops matched by a part of their name", SUBSTRING, _variant(match="substring")),
    Mistake("ops matched by a part of their name", SUBSTRING, _variant(match="pointwise_first")),
    Mistake("outside_ops is the time inside ops", "outside_ops is the share of the wall time "
            "that *no* op accounts for: (wall_ms - the sum of self times) / wall_ms",
            _variant(outside="inside")),
    Mistake("other_ops holds every non-GEMM op", "pointwise ops and the fused RNN kernel have "
            "their own keys; other_ops is what falls in none of the three sets",
            _variant(other="non_gemm")),
    Mistake("the fused RNN kernel counted as a GEMM", "a fused RNN kernel (FUSED_RNN_OPS) does the "
            "GEMMs *and* the gate math of every step: it has its own key, fused_rnn",
            _variant(fused="gemm")),
    Mistake("milliseconds instead of fractions of the wall time", "divide each category's time "
            "by wall_ms: the values are shares and sum to 1",
            lambda ops, wall_ms: {k: v * wall_ms for k, v in _shares(ops, wall_ms).items()}),
]


def _units_hint(got: dict[str, Any], expected: dict[str, Any], brief: bool) -> str | None:
    """Every value the expected share times one factor (not 1): a unit slip, said with the
    factor and the sum it gives (both read from the output)."""
    import numpy as np

    if brief:
        return None
    pairs = [(float(got[k]), float(expected[k])) for k in KEYS if abs(float(expected[k])) > 1e-9]
    if len(pairs) < 2:
        return None
    ratios = np.array([g / e for g, e in pairs])
    r = float(np.median(ratios))
    if np.allclose(ratios, r, rtol=1e-6) and abs(r - 1) > 1e-3:
        total = sum(float(got[k]) for k in KEYS)
        return (f"every value is the expected share times the same factor ({r:.4g}), so they "
                f"sum to {total:.4g} instead of 1: a unit slip (percent, milliseconds, seconds?)")
    return None


SPEC = Spec(id="time_shares", title="where the wall time went, from a profiler table",
            notebook="11_gpu_comparison", arg_names=("ops", "wall_ms"),
            output={k: k for k in KEYS}, make_cases=make_cases, reference=ref_time_shares,
            mistakes=MISTAKES, rtol=1e-6, atol=1e-9, points=2, check_types=check_floats,
            diagnose=_units_hint)
