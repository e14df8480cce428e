"""Issue 26: the grader trusts nothing the learner's process computes. One class of
submissions per cause, graded as root and as an ordinary user; correct work in many styles
gets full marks. Each cheat was also run against the grader before this change (where it
scored; see the issue's closing note); where a cheat depends on the sandbox, the same
submission graded ``--no-sandbox`` shows that it works there.

1 (grader side) no rule is enforced by instrumentation inside the learner's process;
2 in-place changes inside a list of arrays fail in the grader exactly as in the notebook;
3 an in-place change hidden by patching the learner process's own checks, or by a later
  exercise's cell rewriting an earlier exercise's result, is still caught;
4 exception texts, class names and case labels carry no hidden input into the feedback, and
  hidden cases change with the submission's code (and only with it);
5 several copies of one notebook count once in the Gradescope merge;
6 Black's ``%`` continuation lines, a checker call / ``display`` left in the cell, process and
  thread pools, einsum, float32: full marks;
7 read-only folders are removed, a user namespace cannot be created inside, a spreadsheet
  formula in a folder name stays text (memory and /tmp bounds: ``test_sandbox.py``).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tests.grade.grade_fixtures import (
    CELL_OK,
    FWD_ALONE,
    code,
    grade,
    notebook,
    record,
    rnn_nb,
    rows,
    users,
    write,
)

TIMEOUT = "30"
SEED = "2626"

CLIP_IN_PLACE = '''def clip_grad_norm(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g * g) for g in grads)))
    scale = min(1.0, max_norm / (total + 1e-6))
    for g in grads:
        g *= scale          # in place, inside the list: the caller's arrays change
    return grads, total
'''
HIDE_MUTATION = ("import numpy, sys\nnumpy.array_equal = lambda *a, **k: True\n"
                 "for _m in ('runner_exec', 'course_utils.checks.calling'):\n"
                 "    if _m in sys.modules:\n"
                 "        sys.modules[_m].mutated = lambda *a, **k: []\n"
                 "        sys.modules[_m]._changed = lambda *a, **k: False\n"
                 + FWD_ALONE.replace("    return out, h", "    x[...] = 0\n    return out, h"))
CELL_NO_BIAS = CELL_OK.replace(" + b_hh", "")
REWRITE_EARLIER = '''import base64, json, os
import numpy as _np
def _forge():  # the earlier exercise's result rewritten with right answers from its inputs
    path = '/job/result-rnn_cell_forward.json'
    data, job = json.load(open(path)), json.load(open('/job/job.json'))
    arrays = dict(_np.load('/job/inputs.npz'))
    ex = next(e for e in job['exercises'] if e['exercise'] == 'rnn_cell_forward')
    cases = []
    for case in ex['cases']:
        x_t, h, W_ih, W_hh, b_ih, b_hh = [arrays[a['array']] for a in case['args']['tuple']]
        v = _np.tanh(x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        cases.append({'value': {'array': {'dtype': v.dtype.str, 'shape': list(v.shape),
                      'data': base64.b64encode(v.tobytes()).decode()}}, 'mutated': []})
    data['cases'] = cases
    json.dump(data, open(path, 'w'))
try:
    _forge()
except Exception:
    pass
''' + FWD_ALONE
LEAK_TEXT = ("def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):\n"
             "    raise ValueError('LEAK' + repr(x.ravel()[:4].tolist()))\n")
LEAK_TYPE = ("def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):\n"
             "    name = 'LEAKC' + str(int(abs(x.ravel()[0]) * 1e6))\n"
             "    return type(name, (), {})(), h0\n")
LEAK_SHAPE = ("def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):\n"
              "    return np.zeros((int(abs(x.ravel()[0]) * 1e6) % 997 + 1,)), h0\n")
BLACK = '''def rnn_cell_forward(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    period = 7
    pre = (
        x_t @ W_ih.T
        + b_ih
        + h_prev @ W_hh.T
        + b_hh
    )
    phase = (
        period
        % 3
    )
    return np.tanh(pre + 0 * phase)
'''
CHECKER_IN_CELL = FWD_ALONE + "check_rnn_forward(rnn_forward)\ndisplay(rnn_forward)\nprint(undefined_name)\n"
POOLS = '''from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
import multiprocessing as mp

def _bias(a, b):
    return a + b

def _step(args):
    x_t, h, W_ih, W_hh, b = args
    return np.tanh(x_t @ W_ih.T + h @ W_hh.T + b)

def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    with ProcessPoolExecutor(2) as pool:
        b = list(pool.map(_bias, [b_ih], [b_hh]))[0]
    with mp.Pool(2) as pool:
        b = pool.starmap(_bias, [(b, 0.0)])[0]
    h, out = h0, []
    with ThreadPoolExecutor(2) as threads:
        for t in range(x.shape[0]):
            rows = list(threads.map(_step, [(x[t, i:i + 1], h[i:i + 1], W_ih, W_hh, b)
                                            for i in range(h.shape[0])]))
            h = np.concatenate(rows)
            out.append(h)
    return np.stack(out), h
'''
EINSUM_F32 = '''def rnn_cell_forward(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    f = np.float32
    pre = (np.einsum("bi,hi->bh", x_t.astype(f), W_ih.astype(f))
           + np.einsum("bj,hj->bh", h_prev.astype(f), W_hh.astype(f)) + (b_ih + b_hh).astype(f))
    return np.tanh(pre)
'''
READ_ONLY = ('import os\nfor _d in ("/job/ro/deep", "/tmp/ro/deep"):\n    os.makedirs(_d, exist_ok=True)\n'
             '    open(_d + "/f", "w").write("x")\n    os.chmod(_d, 0o500)\n'
             '    os.chmod(os.path.dirname(_d), 0o500)\n' + CELL_OK)
USERNS = ('import ctypes, os\n_libc = ctypes.CDLL(None, use_errno=True)\n'
          'def _userns():\n    pid = os.fork()\n    if pid == 0:\n'
          '        os._exit(0 if _libc.unshare(0x10000000) == 0 else 1)\n'
          '    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0\n'
          + FWD_ALONE.replace("    return out, h", "    return (out * 0, h * 0) if _userns() else (out, h)"))


def _nb(grade_id: str, cell: str) -> dict:
    return notebook([code(cell, grade_id)])


def submissions() -> dict[str, dict]:
    return {
        "nested_inplace/05_backprop_through_gates.ipynb": _nb("clip_grad_norm", CLIP_IN_PLACE),
        "hide_mutation/01_rnn_basics.ipynb": rnn_nb(fwd=HIDE_MUTATION),
        "rewrite_earlier/01_rnn_basics.ipynb": rnn_nb(cell=CELL_NO_BIAS, fwd=REWRITE_EARLIER),
        "leak_text/01_rnn_basics.ipynb": rnn_nb(fwd=LEAK_TEXT),
        "leak_type/01_rnn_basics.ipynb": rnn_nb(fwd=LEAK_TYPE),
        "leak_shape/01_rnn_basics.ipynb": rnn_nb(fwd=LEAK_SHAPE),
        "leak_label/04_gru.ipynb": _nb("lstm_param_count", "def lstm_param_count(*a, **k):\n"
                                                           "    return 0\n"),
        "black/01_rnn_basics.ipynb": rnn_nb(cell=BLACK),
        "checker_in_cell/01_rnn_basics.ipynb": rnn_nb(fwd=CHECKER_IN_CELL),
        "pools/01_rnn_basics.ipynb": rnn_nb(fwd=POOLS),
        "einsum_f32/01_rnn_basics.ipynb": rnn_nb(cell=EINSUM_F32),
        "read_only/01_rnn_basics.ipynb": rnn_nb(cell=READ_ONLY),
        "userns/01_rnn_basics.ipynb": rnn_nb(fwd=USERNS),
        "=1+2/01_rnn_basics.ipynb": rnn_nb(),
    }


pytestmark = users.grading_marks()


@pytest.fixture(scope="module", params=["grader", "ordinary user"])
def batch(request, tmp_path_factory):
    prefix, base = users.grading_base(request.param, tmp_path_factory, "trust")
    subs, out, host_tmp = base / "subs", base / "out", base / "host-tmp"
    for sid, nb in submissions().items():
        write(subs / sid, nb)
    host_tmp.mkdir()  # the grader's own temporary folder (others may grade on this host too)
    if prefix:
        users.chown_tree(base)
    proc = grade(str(subs), "--out", str(out), "--jobs", "2", "--timeout", TIMEOUT,
                 "--seed", SEED, prefix=(*prefix, "env", f"TMPDIR={host_tmp}"))
    left = {str(p) for p in host_tmp.rglob("*")}
    return proc, out, rows(out), left


def _texts(out: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in out.rglob("*")
                     if p.is_file() and p.name in ("grades.csv", "feedback.md", "results.json"))


def _ex(out: Path, sid: str, exercise: str) -> dict:
    return next(e for e in record(out, sid)["exercises"] if e["id"] == exercise)


def test_batch_finishes(batch):
    proc, _, table, _ = batch
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(table) == len(submissions())


def test_class1_no_instrumentation_inside_the_learners_process_decides_points():
    from course_utils.grade import grading, plan, runner, runner_exec

    for mod in (runner, runner_exec, grading, plan):
        text = Path(mod.__file__).read_text()
        assert "TorchFunctionMode" not in text and "forbidden" not in text, mod.__name__


def test_class2_in_place_changes_inside_a_list_fail_as_in_the_notebook(batch):
    from course_utils.checks import check_clip_grad_norm

    ns: dict = {}
    exec("import numpy as np\n" + CLIP_IN_PLACE, ns)
    notebook_verdict = check_clip_grad_norm(ns["clip_grad_norm"])
    assert not notebook_verdict.passed and "in place" in notebook_verdict.message
    _, out, _, _ = batch
    entry = _ex(out, "nested_inplace/05_backprop_through_gates.ipynb", "clip_grad_norm")
    assert entry["status"] == "failed" and "`grads` in place" in entry["message"], entry


def test_class3_in_place_changes_are_established_outside_the_learners_process(batch):
    _, out, _, _ = batch
    entry = _ex(out, "hide_mutation/01_rnn_basics.ipynb", "rnn_forward")
    assert entry["score"] == 0 and "in place" in entry["message"], entry


def test_class3_an_outcome_is_taken_before_later_learner_code_runs(batch):
    _, out, _, _ = batch
    entry = _ex(out, "rewrite_earlier/01_rnn_basics.ipynb", "rnn_cell_forward")
    assert entry["score"] == 0 and "missing bias b_hh" in entry["message"], entry
    assert _ex(out, "rewrite_earlier/01_rnn_basics.ipynb", "rnn_forward")["score"] == 3


def test_class4_feedback_carries_no_learner_chosen_text_for_hidden_cases(batch):
    _, out, _, _ = batch
    texts = _texts(out)  # the learner's own source line may be quoted; no value built at run time
    assert re.search(r"LEAK\[|LEAKC\d", texts) is None, re.search(r".{80}LEAK.{80}", texts)
    fwd = _ex(out, "leak_text/01_rnn_basics.ipynb", "rnn_forward")
    assert "ValueError" in fwd["message"] and "line 2" in fwd["message"], fwd
    shape = _ex(out, "leak_shape/01_rnn_basics.ipynb", "rnn_forward")["message"]
    assert "wrong shape" in shape and "(" not in shape.split("[")[0], shape
    label = _ex(out, "leak_label/04_gru.ipynb", "lstm_param_count")["message"]
    assert "[case #" in label and "input_size=" not in label, label


def test_class4_the_public_check_does_echo_what_hidden_feedback_withholds(tmp_path):
    """The channel is real: on the public cases (``check``), the learner's text is shown."""
    write(tmp_path / "leak_text" / "01_rnn_basics.ipynb", rnn_nb(fwd=LEAK_TEXT))
    proc = grade(str(tmp_path / "leak_text"), command="check")
    assert "LEAK[" in proc.stdout, proc.stdout + proc.stderr


def test_class4_hidden_cases_follow_the_code_of_the_submission():
    import numpy as np

    from course_utils.grade.plan import make_plan, submission_seed

    a = submission_seed(2626, "01_rnn_basics", ["rnn_forward\0def rnn_forward(): pass"])
    assert a == submission_seed(2626, "01_rnn_basics", ["rnn_forward\0def rnn_forward(): pass"])
    b = submission_seed(2626, "01_rnn_basics", ["rnn_forward\0def rnn_forward():  pass"])
    c = submission_seed(2627, "01_rnn_basics", ["rnn_forward\0def rnn_forward(): pass"])
    assert len({a, b, c}) == 3 and min(a, b, c) >= 10_000
    pa, pb = (make_plan("01_rnn_basics", s, ["import numpy as np"]) for s in (a, b))
    xa = pa.exercises["rnn_forward"].cases[0].args[0]
    xb = pb.exercises["rnn_forward"].cases[0].args[0]
    assert xa.shape != xb.shape or not np.allclose(xa, xb)


def test_class5_copies_of_one_notebook_count_once(tmp_path):
    from course_utils.grade.gradescope import collect

    for k, score in enumerate([5.0, 5.0, 3.0]):
        folder = tmp_path / "submissions" / f"copy{k}"
        folder.mkdir(parents=True)
        (folder / "results.json").write_text(json.dumps({
            "score": score, "tests": [{"name": "rnn_forward", "score": score}], "output": "",
            "extra_data": {"submission": f"copy{k}.ipynb", "notebook": "01_rnn_basics",
                           "max": 5.0}}))
    (tmp_path / "submissions" / "forged").mkdir()
    (tmp_path / "submissions" / "forged" / "results.json").write_text(json.dumps({
        "score": 100.0, "tests": [], "extra_data": {"notebook": "00_setup", "max": 1.0}}))
    merged = collect(tmp_path, tmp_path / "results.json")
    assert merged["score"] == 6.0 and len(merged["tests"]) == 1
    assert "3 copies uploaded" in merged["output"]


@pytest.mark.parametrize("sid", ["black/01_rnn_basics.ipynb", "checker_in_cell/01_rnn_basics.ipynb",
                                 "pools/01_rnn_basics.ipynb", "einsum_f32/01_rnn_basics.ipynb",
                                 "read_only/01_rnn_basics.ipynb", "userns/01_rnn_basics.ipynb",
                                 "=1+2/01_rnn_basics.ipynb"])
def test_class6_correct_work_in_many_styles_gets_full_marks(batch, sid):
    _, out, table, _ = batch
    key = next(k for k in table if k.endswith(sid))
    assert table[key]["total"] == "5", record(out, key)


def test_class6_a_failing_later_statement_is_noted(batch):
    _, out, _, _ = batch
    notes = _ex(out, "checker_in_cell/01_rnn_basics.ipynb", "rnn_forward")["notes"]
    assert any("NameError" in n and "graded anyway" in n for n in notes), notes


def test_class7_nothing_of_a_run_is_left_on_the_host(batch):
    _, _, _, left = batch
    assert left == set(), left  # the grader's folders, read-only ones included, are gone
    assert not os.path.isdir("/tmp/ro")  # the learner's /tmp was the sandbox's own


def test_class7_a_formula_in_a_folder_name_stays_text(batch):
    _, out, _, _ = batch
    csv_text = (out / "grades.csv").read_text()
    assert "\n'=1+2/01_rnn_basics.ipynb," in csv_text
    assert "\n=1+2" not in csv_text


def test_class7_user_namespaces_are_possible_without_the_sandbox(tmp_path):
    """The USERNS submission scores 0 where it can make a user namespace (unsandboxed, when
    the kernel lets this user): the filter is what stops it in the sandbox."""
    import subprocess
    import sys

    probe = subprocess.run([sys.executable, "-c", "import ctypes, os\nlibc = ctypes.CDLL(None)\n"
                            "pid = os.fork()\nif pid == 0:\n    os._exit(libc.unshare(0x10000000))"
                            "\nprint(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))"],
                           capture_output=True, text=True)
    if probe.stdout.strip() != "0":
        pytest.skip("this kernel refuses unprivileged user namespaces anyway")
    write(tmp_path / "s" / "userns" / "01_rnn_basics.ipynb", rnn_nb(fwd=USERNS))
    proc = grade(str(tmp_path / "s"), "--out", str(tmp_path / "o"), "--no-sandbox",
                 "--timeout", TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    assert rows(tmp_path / "o")["userns/01_rnn_basics.ipynb"]["rnn_forward"] == "0"
