"""check_time_shares (notebook gpu_comparison, exercise 2): reading a profiler table.

Correct implementations in several styles pass; realistic mistakes — written here first, as a
learner would, independently of the spec's catalogue — fail, most of them named.
"""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.checks import check_time_shares, get_spec

GEMM_OPS = {"aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::matmul",
            "aten::linear"}
POINTWISE_OPS = {"aten::sigmoid", "aten::tanh", "aten::mul", "aten::add", "aten::sub",
                 "aten::sigmoid_", "aten::tanh_", "aten::mul_", "aten::add_", "aten::sub_",
                 "aten::rsub"}
FUSED_RNN_OPS = {"aten::mkldnn_rnn_layer", "aten::_cudnn_rnn", "aten::miopen_rnn",
                 "aten::_thnn_fused_lstm_cell", "aten::lstm_cell", "aten::gru_cell"}


def _kind(name):
    if name in GEMM_OPS:
        return "gemm"
    if name in POINTWISE_OPS:
        return "pointwise"
    if name in FUSED_RNN_OPS:
        return "fused_rnn"
    return "other_ops"


# --------------------------------------------------------------------------- correct answers
def shares_loop(ops, wall_ms):
    out = {"gemm": 0.0, "pointwise": 0.0, "fused_rnn": 0.0, "other_ops": 0.0}
    for name, self_ms, _total_ms, _calls in ops:
        out[_kind(name)] += self_ms
    inside = sum(out.values())
    out = {k: v / wall_ms for k, v in out.items()}
    out["outside_ops"] = (wall_ms - inside) / wall_ms
    return out


def shares_numpy(ops, wall_ms):
    names = np.array([o[0] for o in ops])
    self_ms = np.array([o[1] for o in ops], dtype=float)
    res = {}
    for key, members in (("gemm", GEMM_OPS), ("pointwise", POINTWISE_OPS),
                         ("fused_rnn", FUSED_RNN_OPS)):
        res[key] = float(self_ms[np.isin(names, list(members))].sum() / wall_ms)
    known = GEMM_OPS | POINTWISE_OPS | FUSED_RNN_OPS
    res["other_ops"] = float(self_ms[~np.isin(names, list(known))].sum() / wall_ms)
    res["outside_ops"] = float(1 - self_ms.sum() / wall_ms)
    return res


def shares_comprehension(ops, wall_ms):
    def part(test):
        return sum(s for n, s, _, _ in ops if test(n)) / wall_ms

    known = GEMM_OPS | POINTWISE_OPS | FUSED_RNN_OPS
    return {"outside_ops": 1 - part(lambda n: True),
            "gemm": part(GEMM_OPS.__contains__),
            "pointwise": part(POINTWISE_OPS.__contains__),
            "fused_rnn": part(FUSED_RNN_OPS.__contains__),
            "other_ops": part(lambda n: n not in known)}


@pytest.mark.parametrize("fn", [shares_loop, shares_numpy, shares_comprehension])
def test_correct_implementations_pass(fn):
    result = check_time_shares(fn)
    assert result.passed, result.message


@pytest.mark.parametrize("seed", [3, 999])
def test_hidden_seeds(seed):
    assert check_time_shares(shares_loop, seed=seed).passed


def test_cases_vary_what_the_contract_distinguishes():
    cases = get_spec("time_shares").cases()
    sizes = {len(c.args[0]) for c in cases}
    assert min(sizes) == 1 and max(sizes) > 8
    nested = [c for c in cases if any(t > s for _, s, t, _ in c.args[0])]
    assert nested, "a case where total time exceeds self time (nested ops)"
    assert any(any(k > 1 for *_, k in c.args[0]) for c in cases)  # ops called several times
    assert any(not any(n in POINTWISE_OPS for n, *_ in c.args[0]) for c in cases)
    assert any(any(n in ("aten::matmul", "aten::linear") and s > 0 for n, s, _, _ in c.args[0])
               for c in cases)
    for c in cases:
        ops, wall = c.args
        assert sum(s for _, s, _, _ in ops) <= wall and isinstance(wall, float)


# --------------------------------------------------------------------------- learner mistakes
def total_instead_of_self(ops, wall_ms):
    out = {"gemm": 0.0, "pointwise": 0.0, "fused_rnn": 0.0, "other_ops": 0.0}
    for name, _self_ms, total_ms, _calls in ops:
        out[_kind(name)] += total_ms  # total counts the children again
    inside = sum(out.values())
    out = {k: v / wall_ms for k, v in out.items()}
    out["outside_ops"] = max(0.0, wall_ms - inside) / wall_ms
    return out


def times_calls(ops, wall_ms):
    out = {"gemm": 0.0, "pointwise": 0.0, "fused_rnn": 0.0, "other_ops": 0.0}
    for name, self_ms, _total_ms, calls in ops:
        out[_kind(name)] += self_ms * calls  # self_ms is already summed over calls
    inside = sum(out.values())
    out = {k: v / wall_ms for k, v in out.items()}
    out["outside_ops"] = (wall_ms - inside) / wall_ms
    return out


def normalised_by_op_time(ops, wall_ms):
    out = {"gemm": 0.0, "pointwise": 0.0, "fused_rnn": 0.0, "other_ops": 0.0}
    for name, self_ms, _total_ms, _calls in ops:
        out[_kind(name)] += self_ms
    inside = sum(out.values())
    out = {k: v / inside for k, v in out.items()}  # shares of op time, not of wall time
    out["outside_ops"] = 0.0
    return out


def percentages(ops, wall_ms):
    return {k: 100 * v for k, v in shares_loop(ops, wall_ms).items()}


def substring_match(ops, wall_ms):
    out = {"gemm": 0.0, "pointwise": 0.0, "fused_rnn": 0.0, "other_ops": 0.0}
    for name, self_ms, _total_ms, _calls in ops:
        if "mm" in name:
            out["gemm"] += self_ms  # misses matmul and linear
        elif any(p in name for p in ("sigmoid", "tanh", "mul", "add", "sub")):
            out["pointwise"] += self_ms
        elif "rnn" in name or "cell" in name:
            out["fused_rnn"] += self_ms
        else:
            out["other_ops"] += self_ms
    inside = sum(out.values())
    out = {k: v / wall_ms for k, v in out.items()}
    out["outside_ops"] = (wall_ms - inside) / wall_ms
    return out


def pointwise_checked_first(ops, wall_ms):
    out = {"gemm": 0.0, "pointwise": 0.0, "fused_rnn": 0.0, "other_ops": 0.0}
    for name, self_ms, _total_ms, _calls in ops:
        if "add" in name or "mul" in name or "tanh" in name or "sigmoid" in name:
            out["pointwise"] += self_ms  # aten::addmm and aten::matmul land here
        elif name in GEMM_OPS:
            out["gemm"] += self_ms
        elif name in FUSED_RNN_OPS:
            out["fused_rnn"] += self_ms
        else:
            out["other_ops"] += self_ms
    inside = sum(out.values())
    out = {k: v / wall_ms for k, v in out.items()}
    out["outside_ops"] = (wall_ms - inside) / wall_ms
    return out


def outside_as_op_time(ops, wall_ms):
    res = shares_loop(ops, wall_ms)
    res["outside_ops"] = 1 - res["outside_ops"]  # the time *inside* ops
    return res


def other_is_everything_but_gemm(ops, wall_ms):
    res = shares_loop(ops, wall_ms)
    res["other_ops"] = res["other_ops"] + res["pointwise"] + res["fused_rnn"]
    return res


def fused_counted_as_gemm(ops, wall_ms):
    res = shares_loop(ops, wall_ms)
    res["gemm"], res["fused_rnn"] = res["gemm"] + res["fused_rnn"], 0.0
    return res


def milliseconds_not_shares(ops, wall_ms):
    res = shares_loop(ops, wall_ms)
    return {k: v * wall_ms for k, v in res.items()}


def tensors_returned(ops, wall_ms):
    import torch

    return {k: torch.tensor(v) for k, v in shares_loop(ops, wall_ms).items()}


WRONG = [total_instead_of_self, times_calls, normalised_by_op_time, percentages,
         substring_match, pointwise_checked_first, outside_as_op_time,
         other_is_everything_but_gemm, fused_counted_as_gemm, milliseconds_not_shares,
         tensors_returned]


@pytest.mark.parametrize("fn", WRONG, ids=lambda f: f.__name__)
def test_every_wrong_implementation_is_rejected(fn):
    assert not check_time_shares(fn).passed


NAMED = {
    total_instead_of_self: "total time used instead of self time",
    times_calls: "self time multiplied by the number of calls",
    normalised_by_op_time: "shares of the ops' time instead of the wall time",
    percentages: "percentages instead of fractions",
    substring_match: "ops matched by a part of their name",
    pointwise_checked_first: "ops matched by a part of their name",
    outside_as_op_time: "outside_ops is the time inside ops",
    other_is_everything_but_gemm: "other_ops holds every non-GEMM op",
    fused_counted_as_gemm: "the fused RNN kernel counted as a GEMM",
    milliseconds_not_shares: "milliseconds instead of fractions of the wall time",
    tensors_returned: "arrays or tensors returned instead of floats",
}


@pytest.mark.parametrize("fn", list(NAMED), ids=lambda f: f.__name__)
def test_realistic_mistakes_are_named(fn):
    result = check_time_shares(fn)
    assert result.mistake == NAMED[fn], result.message
    assert NAMED[fn] in result.message


def test_messages_are_friendly_for_structure_and_not_implemented():
    def todo(ops, wall_ms):
        raise NotImplementedError()

    assert check_time_shares(todo).status == "not_implemented"

    def three_keys(ops, wall_ms):
        res = shares_loop(ops, wall_ms)
        del res["outside_ops"]
        return res

    res = check_time_shares(three_keys)
    assert not res.passed and "'outside_ops'" in res.message


def test_the_notebooks_op_sets_are_the_specs():
    """The grader-context cell defines the sets the learner's code reads; the spec keeps its own
    copy (labs and checks never import a notebook): they must agree."""
    import json
    from pathlib import Path

    from course_utils.checks.specs.gpu_comparison import profile

    nb = Path(__file__).resolve().parents[2] / "solutions" / "11_gpu_comparison.ipynb"
    cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
    ctx = ["".join(c["source"]) for c in cells
           if "grader-context" in c.get("metadata", {}).get("tags", [])]
    namespace: dict = {}
    exec(next(s for s in ctx if "GEMM_OPS" in s), namespace)  # noqa: S102 - our notebook
    assert namespace["GEMM_OPS"] == set(profile.GEMM_OPS) == GEMM_OPS
    assert namespace["POINTWISE_OPS"] == set(profile.POINTWISE_OPS) == POINTWISE_OPS
    assert namespace["FUSED_RNN_OPS"] == set(profile.FUSED_RNN_OPS) == FUSED_RNN_OPS
