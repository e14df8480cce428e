"""The Colab path, simulated: the setup cell keeps Colab's torch and numpy and installs the course.

A stand-in for a Colab runtime is built in a temporary folder:

- a fresh venv whose "preinstalled" packages differ from the tested pins where it matters:
  a real ``numpy`` of another version (``COLAB_NUMPY``, pip-installed into the venv) and a
  ``torch`` that pip sees as another version (``FAKE_TORCH``: this machine has one torch wheel
  only, and an unpinned torch would pull GBs of CUDA packages, so the torch *code* is the
  tested one, symlinked, under a dist-info that says ``FAKE_TORCH``); the rest of Colab's stack
  (matplotlib, ipywidgets, ipykernel, nbclient ...) is the tested one, reached through a
  ``.pth`` file (pip too); no test tool and no JupyterLab;
- a fake ``google.colab`` module, imported before any cell as on Colab;
- a git repository holding the working tree's course files, standing in for the GitHub one.

Then notebook 00 runs in that venv's kernel, starting with its real setup cell (the build's
:func:`~course_utils.tools.colab.setup_block`), in which only the repository address (a
``file://`` URL instead of GitHub) and ``/content`` (a temporary folder) are replaced.
Afterwards numpy and torch are the ones installed before, ``course_utils`` imports from the
clone, no test-only package was installed, and the notebook ran without an error.

What this cannot cover: Colab itself (its Python 3.12, CUDA torch, ipywidgets 7 front end and
network); a torch *version* other than the tested one actually running the notebook; the real
GitHub clone. As a guard against a multi-GB download if the setup cell ever tried to replace
them, pip runs with a constraint holding torch and numpy at their "Colab" versions: such an
attempt fails the cell (and so this test) instead of installing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sysconfig
import time
import venv
from datetime import datetime
from pathlib import Path

import nbformat
import pytest

from course_utils.tools.colab import COLAB_DIR, repo_url, setup_block

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "solutions" / "00_setup.ipynb"
COLAB_NUMPY = "2.0.2"  # the numpy Colab shipped in 2025; not the pin
FAKE_TORCH = "2.9.0+colab"
# Not on our "Colab": test tools and JupyterLab (so we can tell if the setup cell installs them),
# the packages we replace, and the course itself.
TEST_ONLY = ["pytest", "pytest-xdist", "nbval", "ruff", "playwright", "jupyterlab"]
LEFT_OUT = {"numpy", "numpy.libs", "torch", "functorch", "torchgen", "rnn_from_scratch_course",
            "setuptools", "_distutils_hack", "pkg_resources", "__pycache__", "pytest",
            "_pytest", "py.py", "xdist", "pytest_xdist", "nbval", "ruff", "playwright",
            "jupyterlab"}
SETUP_SECONDS = 120  # "in seconds": the whole setup cell, clone and pip included, on 2 cores

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def run(*cmd: str | Path, **kw) -> str:
    """Run a command; fail the test with its output when it fails."""
    out = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    assert out.returncode == 0, f"{cmd}:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out.stdout


def fake_remote(tmp: Path) -> Path:
    """A git repository with the working tree's course files (what GitHub would serve)."""
    remote = tmp / "remote"
    remote.mkdir()
    for name in ("pyproject.toml", "README.md", "constraints.txt"):
        shutil.copy(ROOT / name, remote / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("course_utils", "results"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, remote / name, ignore=ignore)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid",
           "-c", "init.defaultBranch=main"]
    run(*git, "init", "-q", cwd=remote)
    run(*git, "add", "-A", cwd=remote)
    run(*git, "commit", "-q", "-m", "snapshot", cwd=remote)
    return remote


def colab_runtime(tmp: Path) -> tuple[Path, Path]:
    """A venv standing in for Colab's Python; returns (its python, the 'preinstalled' folder)."""
    env_dir, base, fake = tmp / "colab-venv", tmp / "colab-base", tmp / "fake-colab"
    venv.EnvBuilder(with_pip=False).create(env_dir)  # pip: the tested one, in the base
    python = env_dir / "bin" / "python"
    ours = Path(sysconfig.get_paths()["purelib"])
    base.mkdir()
    for entry in ours.iterdir():
        top = entry.name.split("-")[0] if entry.name.endswith(".dist-info") else entry.name
        if top in LEFT_OUT or entry.suffix == ".pth" or entry.name.startswith("__editable__"):
            continue
        (base / entry.name).symlink_to(entry)
    for name in ("torch", "functorch", "torchgen"):
        (base / name).symlink_to(ours / name)
    dist = base / f"torch-{FAKE_TORCH}.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: torch\nVersion: {FAKE_TORCH}\n")
    (dist / "INSTALLER").write_text("colab\n")
    (dist / "RECORD").write_text("")
    (fake / "google" / "colab").mkdir(parents=True)
    (fake / "google" / "colab" / "__init__.py").write_text('"""A stand-in for Colab."""\n')
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
                .strip())
    (site / "colab_preinstalled.pth").write_text(f"{fake}\n{base}\n")
    run(python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
        f"numpy=={COLAB_NUMPY}")
    return python, base


def kernel_spec(tmp: Path, python: Path, content: Path) -> Path:
    """A Jupyter kernel for that venv which imports google.colab first, as Colab does."""
    constraint = tmp / "colab-keeps.txt"
    constraint.write_text(f"torch=={FAKE_TORCH}\nnumpy=={COLAB_NUMPY}\n")
    spec_dir = tmp / "jupyter" / "kernels" / "colab"
    spec_dir.mkdir(parents=True)
    spec = {"argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}",
                     "--IPKernelApp.exec_lines=['import google.colab']"],
            "display_name": "fake Colab", "language": "python",
            "env": {"PIP_CONSTRAINT": str(constraint), "PYTHONNOUSERSITE": "1",
                    "PIP_DISABLE_PIP_VERSION_CHECK": "1", "HOME": str(content.parent)}}
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return tmp / "jupyter"


def probe(python: Path) -> dict:
    """What that venv has now: versions and where they import from."""
    code = f"""
import importlib.metadata as md, json, numpy, torch, course_utils
def has(name):
    try:
        md.distribution(name)
        return True
    except md.PackageNotFoundError:
        return False
print(json.dumps({{"numpy": numpy.__version__, "numpy_file": numpy.__file__,
                   "torch_dist": md.version("torch"), "torch_file": torch.__file__,
                   "course_utils": course_utils.__file__,
                   "installed": [n for n in {TEST_ONLY!r} if has(n)]}}))
"""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return json.loads(run(python, "-c", code, env=env, cwd=python.parent))


def test_colab_setup_cell_keeps_torch_and_numpy(tmp_path, monkeypatch):
    import nbclient

    remote = fake_remote(tmp_path)
    python, base = colab_runtime(tmp_path)
    before = run(python, "-c", "import numpy; print(numpy.__version__)").strip()
    assert before == COLAB_NUMPY
    content = tmp_path / "content"
    content.mkdir()
    monkeypatch.setenv("JUPYTER_PATH", str(kernel_spec(tmp_path, python, content)))
    monkeypatch.delenv("PYTHONPATH", raising=False)

    nb = nbformat.read(NOTEBOOK, as_version=4)
    setup = next(c for c in nb.cells if c.cell_type == "code")
    block = setup_block(repo_url())
    assert setup.source.startswith(block), "notebook 00's setup cell is not the build's"
    setup.source = (block.replace(repo_url(), remote.as_uri())
                    .replace(COLAB_DIR, str(content / "course"))
                    + setup.source[len(block):])
    client = nbclient.NotebookClient(nb, kernel_name="colab", timeout=300,
                                     resources={"metadata": {"path": str(content)}})
    started = time.monotonic()
    client.execute()  # raises CellExecutionError on any error
    total = time.monotonic() - started
    timing = setup.metadata["execution"]
    setup_s = (datetime.fromisoformat(timing["shell.execute_reply"])
               - datetime.fromisoformat(timing["iopub.execute_input"])).total_seconds()
    print(f"notebook 00 on the fake Colab: setup cell {setup_s:.1f} s, all {total:.1f} s")

    after = probe(python)
    assert after["numpy"] == before == COLAB_NUMPY
    assert "colab-venv" in after["numpy_file"], after["numpy_file"]
    assert after["torch_dist"] == FAKE_TORCH
    assert after["torch_file"].startswith(str(base)), after["torch_file"]
    assert after["course_utils"].startswith(str(content / "course")), after["course_utils"]
    assert after["installed"] == [], f"the setup cell installed {after['installed']}"
    shown = "".join(o.get("text", "") for o in setup.outputs if o.get("output_type") == "stream")
    assert f"numpy {COLAB_NUMPY}" in shown and "ERROR" not in shown, shown
    assert setup_s < SETUP_SECONDS, f"the setup cell took {setup_s:.0f} s"
