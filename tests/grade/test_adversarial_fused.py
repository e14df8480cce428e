"""Issue 26, class 1: no rule of the hoisting exercise lives inside the learner's process.

``lstm_forward_hoisted`` is a *peephole* LSTM: ``torch.nn.LSTM`` has no switch for it and the
cases' peephole weights are never zero, so a fused library call is simply a wrong answer, and
the grader grades values only. Shown here, as root and as an ordinary user:

* submissions that call ``torch.nn.LSTM``, call ``torch._VF.lstm`` directly, or first pop and
  disable every ``TorchFunctionMode`` (the way around an in-process detector) get 0 points;
* the correct variant gets full marks, also when it pops / disables the modes itself (nothing
  it does to in-process instrumentation matters);
* the proof that the cheats defeat in-process detection: under a recording
  ``TorchFunctionMode`` (what the grader used to install), the popping cheat's call to the
  fused kernel goes unseen, and it computes exactly a plain LSTM — the old exercise's answer.
"""

from __future__ import annotations

import pytest
import torch

from tests.grade.grade_fixtures import code, grade, notebook, record, rows, users, write

NB = "11_gpu_comparison"
SIG = "def lstm_forward_hoisted(x, h0, c0, W_ih, W_hh, b_ih, b_hh, p_i, p_f, p_o):\n"
NN_LSTM = SIG + '''    lstm = torch.nn.LSTM(x.shape[2], h0.shape[1]).to(x.dtype)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(W_ih); lstm.weight_hh_l0.copy_(W_hh)
        lstm.bias_ih_l0.copy_(b_ih); lstm.bias_hh_l0.copy_(b_hh)
        out, (h, c) = lstm(x, (h0[None], c0[None]))
    return out, (h[0], c[0])
'''
VF_LSTM = SIG + '''    out, h, c = torch._VF.lstm(x, (h0[None], c0[None]), (W_ih, W_hh, b_ih, b_hh), True, 1,
                               0.0, False, False, False)
    return out, (h[0], c[0])
'''
POP = '''def _no_modes():
    stack = []
    while torch._C._len_torch_function_stack() > 0:   # pop every TorchFunctionMode
        stack.append(torch._C._pop_torch_function_stack())
    return stack
'''
POPS_THEN_FUSED = POP + SIG + '''    _no_modes()
    with torch._C.DisableTorchFunction():
        out, h, c = torch._VF.lstm(x, (h0[None], c0[None]), (W_ih, W_hh, b_ih, b_hh), True, 1,
                                   0.0, False, False, False)
    return out, (h[0], c[0])
'''
CORRECT = SIG + '''    T, B, I = x.shape
    H = h0.shape[1]
    xw = (x.reshape(T * B, I) @ W_ih.T + b_ih + b_hh).view(T, B, 4 * H)  # (T, B, 4H)
    h, c, outs = h0, c0, []
    for t in range(T):
        i, f, g, o = (xw[t] + h @ W_hh.T).chunk(4, dim=1)
        c = torch.sigmoid(f + p_f * c) * c + torch.sigmoid(i + p_i * c) * torch.tanh(g)
        h = torch.sigmoid(o + p_o * c) * torch.tanh(c)
        outs.append(h)
    return torch.stack(outs), (h, c)
'''
CORRECT_POPS = POP + CORRECT.replace("    T, B, I = x.shape\n",
                                     "    _no_modes()\n    T, B, I = x.shape\n", 1)
CHEATS = {"nn_lstm": NN_LSTM, "vf_lstm": VF_LSTM, "pops_then_fused": POPS_THEN_FUSED}
FULL = {"correct": CORRECT, "correct_pops_modes": CORRECT_POPS}


TIME_SHARES = """def time_shares(ops, wall_ms):
    out = dict.fromkeys(("gemm", "pointwise", "fused_rnn", "other_ops"), 0.0)
    for name, self_ms, _, _ in ops:
        key = ("gemm" if name in GEMM_OPS else "pointwise" if name in POINTWISE_OPS
               else "fused_rnn" if name in FUSED_RNN_OPS else "other_ops")
        out[key] += self_ms
    inside = sum(out.values())
    out = {k: v / wall_ms for k, v in out.items()}
    out["outside_ops"] = 1 - inside / wall_ms
    return out
"""


def _nb(cell: str) -> dict:
    cells = [code("import torch\n" + cell, "lstm_forward_hoisted")]
    if cell == CORRECT:  # the second exercise too: its op-name sets come from the grader-context
        cells.append(code(TIME_SHARES, "time_shares"))
    nb = notebook(cells)
    nb["cells"][2]["source"] = "import torch"
    return nb


def _entry(out, name: str, exercise: str = "lstm_forward_hoisted") -> dict:
    rec = record(out, f"{name}/{NB}.ipynb")
    return next(e for e in rec["exercises"] if e["id"] == exercise)


pytestmark = users.grading_marks()


@pytest.fixture(scope="module", params=["grader", "ordinary user"])
def graded(request, tmp_path_factory):
    prefix, base = users.grading_base(request.param, tmp_path_factory, "fused")
    for name, cell in {**CHEATS, **FULL}.items():
        write(base / "subs" / name / f"{NB}.ipynb", _nb(cell))
    if prefix:
        users.chown_tree(base)
    out = base / "out"
    proc = grade(str(base / "subs"), "--out", str(out), "--jobs", "2", "--timeout", "60",
                 "--seed", "777", prefix=prefix)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out, rows(out)


@pytest.mark.parametrize("name", list(CHEATS))
def test_fused_calls_get_no_points(graded, name):
    out, table = graded
    entry = _entry(out, name)
    assert entry["score"] == 0 and table[f"{name}/{NB}.ipynb"]["total"] == "0", entry
    assert "no peepholes" in entry["message"], entry["message"]  # named, not just failed


@pytest.mark.parametrize("name", list(FULL))
def test_the_correct_variant_gets_full_marks(graded, name):
    out, table = graded
    entry = _entry(out, name)
    assert entry["score"] == entry["max_score"] == 3 and entry["status"] == "passed", entry
    shares = _entry(out, name, "time_shares")
    if name == "correct":  # the profiler-table exercise, graded in the sandbox too
        assert shares["score"] == shares["max_score"] == 2, shares
        assert table[f"{name}/{NB}.ipynb"]["total"] == "5"
    else:
        assert shares["score"] == 0 and table[f"{name}/{NB}.ipynb"]["total"] == "3"


def _function(cell: str):
    namespace: dict = {"torch": torch}
    exec(cell, namespace)  # noqa: S102 - the test's own submissions
    return namespace["lstm_forward_hoisted"]


def test_popping_the_mode_defeats_in_process_detection():
    """Why detection cannot be the rule: the cheat pops the recorder and computes nn.LSTM."""
    from torch.overrides import TorchFunctionMode

    seen: list[str] = []

    class Recorder(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
            seen.append(getattr(func, "__name__", ""))
            return func(*args, **(kwargs or {}))

    torch.manual_seed(0)
    T, B, I, H = 5, 3, 4, 6
    args = [torch.randn(T, B, I, dtype=torch.float64), torch.randn(B, H, dtype=torch.float64),
            torch.randn(B, H, dtype=torch.float64), torch.randn(4 * H, I, dtype=torch.float64),
            torch.randn(4 * H, H, dtype=torch.float64), torch.randn(4 * H, dtype=torch.float64),
            torch.randn(4 * H, dtype=torch.float64)]
    zero = torch.zeros(H, dtype=torch.float64)
    recorder = Recorder()
    recorder.__enter__()
    try:
        cheat = _function(POPS_THEN_FUSED)(*args, zero, zero, zero)
    finally:
        if torch._C._len_torch_function_stack() > 0:  # popped by the cheat: nothing to exit
            recorder.__exit__(None, None, None)
    assert "lstm" not in seen  # the fused kernel ran unseen
    plain = _function(CORRECT)(*args, zero, zero, zero)  # no peepholes: the old exercise
    torch.testing.assert_close(cheat[0], plain[0])
    torch.testing.assert_close(cheat[1][1], plain[1][1])
    peep = torch.full((H,), 0.5, dtype=torch.float64)
    assert not torch.allclose(_function(POPS_THEN_FUSED)(*args, peep, peep, peep)[0],
                              _function(CORRECT)(*args, peep, peep, peep)[0], atol=1e-3)
