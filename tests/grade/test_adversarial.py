"""The grader graded as an attacker would: cheating submissions score 0, as root and as an
ordinary user, and each cheat is shown to work when the same class is graded --no-sandbox.

Attack classes (issue 11's causes): 1 a copy of the course found by walking the disk (solution
notebooks, a second checkout's checkers); 2 checker code dug out of memory; 3 the hidden seed
and the grader's key read, the grader's source patched, the grader killed; 4 colliding output
folders; 5 writes that persist in world-writable places; 6 a daemon that outlives its sandbox
and rewrites results; 7 standard modules not pre-loaded; 8 patches of json / builtins in one
exercise. (Issue 26's classes: ``test_adversarial_trust.py``; the fused-LSTM exercise:
``test_adversarial_fused.py``.)
"""

from __future__ import annotations

import json
import secrets
import shutil
import time
from pathlib import Path

import pytest

from tests.grade.grade_fixtures import (
    CELL_OK,
    FWD_ALONE,
    ROOT,
    grade,
    record,
    rnn_nb,
    rows,
    users,
    write,
)

TAG = secrets.token_hex(4)
TIMEOUT = "20"
SEED = "4242"
ZEROS = "    return np.zeros((x.shape[0],) + h0.shape), np.zeros(h0.shape)\n"
WALK = '''import os
def _walk(names, roots=('/work', '/home', '/srv', '/opt', '/tmp', '/root', '/var', '/mnt',
                          TOP), depth=6):
    hits = []
    for root in dict.fromkeys(roots):
        base = root.count('/')
        for top, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d not in ('.venv', '.git', 'node_modules', '__pycache__',
                       'site-packages', 'dist-packages', 'proc')] if top.count('/') - base < depth else []
            hits += [os.path.join(top, n) for n in dirs + files if n in names]
    return hits
'''.replace("TOP", repr("/" + ROOT.parts[1]))  # wherever the course is checked out
SOLUTION_ON_DISK = WALK + '''import json
def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    for path in _walk({'01_rnn_basics.ipynb'}):
        try:
            cells = [''.join(c['source']) for c in json.load(open(path))['cells']
                     if c['cell_type'] == 'code']
        except Exception:
            continue
        if any('### BEGIN ' + 'SOLUTION' in s for s in cells):
            ns = {'np': np}
            for s in cells:
                if 'def rnn_forward' in s or 'def rnn_cell_forward' in s:
                    exec(s, ns)
            return ns['rnn_forward'](x, h0, W_ih, W_hh, b_ih, b_hh)
''' + ZEROS
CHECKERS_FROM_A_COPY = WALK + '''import sys
def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    for path in _walk({'course_utils'}):
        if os.path.isdir(os.path.join(path, 'checks')):
            sys.path.insert(0, os.path.dirname(path))
            try:
                from course_utils.checks import SPECS
                return SPECS['rnn_forward'].reference(x, h0, W_ih, W_hh, b_ih, b_hh)
            except Exception:
                pass
''' + ZEROS
GC_DIGGING = '''import gc, sys
def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    for mod in list(sys.modules.values()):
        specs = getattr(mod, 'SPECS', None)
        if specs and 'rnn_forward' in specs:
            return specs['rnn_forward'].reference(x, h0, W_ih, W_hh, b_ih, b_hh)
    for obj in gc.get_objects():
        if callable(obj) and getattr(obj, '__name__', '').startswith('ref_rnn_forward'):
            return obj(x, h0, W_ih, W_hh, b_ih, b_hh)
''' + ZEROS
LEAKS_SECRETS = WALK + f'''def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    found = [open(p).read()[:60] for p in _walk({{'grading.json', '.grader-key'}})]
    open('/tmp/leak-{TAG}', 'w').write(' | '.join(found))  # unsandboxed: the host's /tmp
    raise ValueError('LEAK ' + ' | '.join(found))
'''
PATCHES_GRADER = WALK + f'''for _p in _walk({{'grading.py', 'runner.py'}}):
    try:
        open(_p + '.pwned-{TAG}', 'w').write('x')
    except OSError:
        pass
''' + FWD_ALONE
PERSISTS = f'''import os
for _d in ('/run/lock', '/var/tmp', '/dev/shm', '/tmp', '/var/lock'):
    try:
        open(os.path.join(_d, 'persist-{TAG}'), 'w').write('x')
    except OSError:
        pass
''' + FWD_ALONE
KILLS_GRADER = (  # the runner and the process above it (the grader, when there is no sandbox)
    "import os, signal\ndef rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):\n"
    "    up = os.getppid()\n"
    "    top = int(open(f'/proc/{up}/stat').read().rsplit(')', 1)[1].split()[1])\n"
    "    for pid in (top, up):\n        try:\n            if pid > 0:\n"
    "                os.kill(pid, signal.SIGKILL)\n        except OSError:\n            pass\n"
    + "\n".join(FWD_ALONE.splitlines()[1:]) + "\n")
STDLIB = ("import heapq, bisect, numpy.polynomial\n" + FWD_ALONE.replace(
    "    return out, h", "    assert heapq.nsmallest(1, [2, 1]) == [1] and bisect.bisect([1], 2) == 1\n"
    "    return out, h"))
PATCH_EARLY = CELL_OK + ("import json, builtins\njson.dumps = lambda *a, **k: '{}'\n"
                         "json.JSONEncoder.encode = lambda *a, **k: '{}'\n"
                         "builtins.len = lambda x: 3\n")
PATCH_LATE = ("import json\njson.dumps = lambda *a, **k: '{}'\n"
              "json.JSONEncoder.encode = lambda *a, **k: '{}'\n" + FWD_ALONE)


def late_rewrite(out: Path) -> str:
    """A daemon that leaves its process group, waits for the grader to finish, then rewrites
    every results.json it can find and leaves a mark."""
    return (f"import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
            f"        time.sleep(4)\n        open('/tmp/late-{TAG}', 'w').write('x')\n"
            f"        for top, _, files in os.walk({str(out)!r}):\n"
            "            if 'results.json' in files:\n"
            "                open(os.path.join(top, 'results.json'), 'w').write('{\"score\": 100}')\n"
            "        os._exit(0)\n    os._exit(0)\n" + FWD_ALONE)


CHEATS = {  # name -> rnn_forward cell (rnn_cell_forward is correct in every one)
    "solution_on_disk": SOLUTION_ON_DISK, "checkers_from_a_copy": CHECKERS_FROM_A_COPY,
    "gc_digging": GC_DIGGING, "leaks_secrets": LEAKS_SECRETS,
}
NOISY = {  # correct answers with hostile side effects: full marks, and no side effect
    "patches_grader": PATCHES_GRADER, "persists": PERSISTS, "kills_grader": KILLS_GRADER,
    "stdlib": STDLIB, "patch_late": PATCH_LATE,
}


def make_class(base: Path, out: Path, names: list[str] | None = None) -> Path:
    subs = base / "subs"
    cells = {**CHEATS, **NOISY, "late_rewrite": late_rewrite(out)}
    for name, fwd in cells.items():
        if names is None or name in names:
            write(subs / name / "01_rnn_basics.ipynb", rnn_nb(fwd=fwd))
    if names is None:
        write(subs / "patch_early" / "01_rnn_basics.ipynb", rnn_nb(cell=PATCH_EARLY, fwd=FWD_ALONE))
        write(subs / "collide a" / "01_rnn_basics.ipynb", rnn_nb())
        write(subs / "collide_a" / "01_rnn_basics.ipynb", rnn_nb(cell=CELL_OK.replace(" + b_hh", "")))
        long = "x" * 150
        write(subs / f"{long}1" / "01_rnn_basics.ipynb", rnn_nb())
        write(subs / f"{long}2" / "01_rnn_basics.ipynb", rnn_nb(fwd="def rnn_forward(*a):\n    return 0\n"))
    return subs


def _cleanup() -> None:
    walk: dict = {}
    exec(WALK, walk)  # unsandboxed, PATCHES_GRADER marks every copy of the grader it can find
    for path in [*(Path(p + f".pwned-{TAG}") for p in walk["_walk"]({"grading.py", "runner.py"})),
                 *(Path(d) / f"persist-{TAG}" for d in ("/run/lock", "/var/tmp", "/dev/shm",
                                                        "/tmp", "/var/lock")),
                 Path(f"/tmp/late-{TAG}"), Path(f"/tmp/leak-{TAG}")]:
        try:
            path.unlink()
        except OSError:
            pass


pytestmark = users.grading_marks()


@pytest.fixture(scope="module", params=["grader", "ordinary user"])
def batch(request, tmp_path_factory):
    prefix, base = users.grading_base(request.param, tmp_path_factory, "adv")
    out = base / "out"
    subs = make_class(base, out)
    backup = Path(f"/tmp/course-backup-{TAG}")  # a second copy of the course, as on a real host
    shutil.copytree(ROOT / "solutions", backup / "solutions", dirs_exist_ok=True)
    if prefix:
        users.chown_tree(base)
    request.addfinalizer(lambda: (_cleanup(), shutil.rmtree(backup, ignore_errors=True)))
    proc = grade(str(subs), "--out", str(out), "--jobs", "2", "--timeout", TIMEOUT,
                 "--seed", SEED, prefix=prefix)
    snapshot = {p: p.read_bytes() for p in (out / "submissions").rglob("results.json")}
    time.sleep(6)  # the late daemon would have struck by now
    return proc, out, rows(out), snapshot


@pytest.fixture(scope="module")
def unsandboxed(tmp_path_factory):
    """The same cheats graded --no-sandbox: the proof that each one works without bubblewrap."""
    base = tmp_path_factory.mktemp("unsafe")
    out = base / "out"
    subs = make_class(base, out, list(CHEATS) + ["patches_grader", "persists", "late_rewrite"])
    proc = grade(str(subs), "--out", str(out), "--jobs", "2", "--timeout", TIMEOUT,
                 "--seed", SEED, "--no-sandbox")
    time.sleep(6)
    effects = {"grader source writable": any(ROOT.joinpath("course_utils", "grade").glob(
                   f"*.pwned-{TAG}")),
               "persisted": [d for d in ("/run/lock", "/var/tmp", "/dev/shm")
                             if (Path(d) / f"persist-{TAG}").exists()],
               "late daemon": Path(f"/tmp/late-{TAG}").exists(),
               "leaked": Path(f"/tmp/leak-{TAG}").read_text() if Path(f"/tmp/leak-{TAG}").exists()
               else ""}
    _cleanup()
    return proc, out, rows(out), effects


def sid(name: str, nb: str = "01_rnn_basics") -> str:
    return f"{name}/{nb}.ipynb"


@pytest.mark.parametrize("name", list(CHEATS))
def test_cheats_score_zero_and_work_unsandboxed(batch, unsandboxed, name):
    _, out, table, _ = batch
    assert table[sid(name)]["rnn_forward"] == "0", record(out, sid(name))
    assert table[sid(name)]["rnn_cell_forward"] == "2"
    _, uout, utable, _ = unsandboxed
    if name == "leaks_secrets":  # unsandboxed, the secret is read (and written to the host)
        assert '{"seed": ' in unsandboxed[3]["leaked"], unsandboxed[3]
        assert '{"seed": ' not in json.dumps(record(out, sid(name)))
        assert not Path(f"/tmp/leak-{TAG}").exists()
    elif name == "gc_digging":
        pass  # the runner never imports the checkers, sandbox or not: nothing to dig out
    else:
        assert utable[sid(name)]["rnn_forward"] == "3", record(uout, sid(name))


@pytest.mark.parametrize("name", [*NOISY, "late_rewrite", "patch_early"])
def test_correct_work_with_hostile_side_effects_gets_full_marks(batch, name):
    proc, out, table, _ = batch
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert table[sid(name)]["total"] == "5", record(out, sid(name))


def test_no_side_effect_survives_the_sandbox(batch, unsandboxed):
    _, out, _, snapshot = batch
    assert not list(ROOT.joinpath("course_utils", "grade").glob(f"*.pwned-{TAG}"))
    for d in ("/run/lock", "/var/tmp", "/dev/shm", "/tmp", "/var/lock"):
        assert not (Path(d) / f"persist-{TAG}").exists(), d
    assert not Path(f"/tmp/late-{TAG}").exists()
    assert snapshot and all(p.read_bytes() == data for p, data in snapshot.items())
    effects = unsandboxed[3]
    assert effects["grader source writable"] and effects["late daemon"], effects
    assert effects["persisted"], effects


def test_colliding_ids_get_their_own_folders(batch):
    _, out, table, _ = batch
    long = "x" * 150
    pairs = [("collide a", "collide_a"), (f"{long}1", f"{long}2")]
    for a, b in pairs:
        assert _results(out, sid(a)).parent != _results(out, sid(b)).parent
        ra = json.loads(_results(out, sid(a)).read_text())
        rb = json.loads(_results(out, sid(b)).read_text())
        assert ra["score"] == float(table[sid(a)]["total"]) == 5
        assert rb["score"] == float(table[sid(b)]["total"]) < 5


def _results(out: Path, sub_id: str) -> Path:
    from course_utils.grade.report import submission_folder

    return submission_folder(out, sub_id) / "results.json"


def test_a_grader_that_kills_itself_is_only_possible_unsandboxed(tmp_path):
    subs = make_class(tmp_path, tmp_path / "out", ["kills_grader"])
    proc = grade(str(subs), "--out", str(tmp_path / "out"), "--no-sandbox", "--timeout", TIMEOUT)
    assert proc.returncode == -9  # unsandboxed, the learner's code killed the grader
