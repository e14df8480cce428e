"""The solutions, run in a real browser: JupyterLab driven by headless Chromium (Playwright).

nbval proves the kernel side; this proves what a learner sees. For each notebook of
``solutions/`` (a copy, so autosave cannot touch the sources) it opens the notebook in JupyterLab,
runs all cells, waits until the kernel is idle and asserts

- no ``error`` output and no ``stderr`` stream;
- every widget output rendered as widgets (``.jupyter-widgets``, or for the few views without
  that class such as ToggleButtons a ``widget-*`` element, in the output; no text repr such as
  ``VBox(children=...``); a tqdm progress bar may have closed itself (``leave=False``);
- in every explorer (a widget output holding a slider, per the committed widget state), moving
  the first slider redraws its plot;
- every checker cell (``check_<id>(...)``) shows a passed box (the few cells of notebook 00 that
  show a failed check on purpose: the committed verdict).

On a failure it saves a screenshot of the offending cell to ``build/browser/<notebook>.png``.

Needs Debian's ``chromium`` (``apt-get install -y chromium fonts-dejavu-core``) and the
``playwright`` Python package (the ``test`` extra); Playwright's own browser download is never
used. Without them the test is skipped with one line saying how to enable it.
Run it alone with ``make browser`` (``make test`` does).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
# COURSE_BROWSER_NOTEBOOKS=<folder> runs another folder's notebooks (e.g. a deliberately broken
# copy, to see the test fail).
SOLUTIONS = sorted(Path(os.environ.get("COURSE_BROWSER_NOTEBOOKS", ROOT / "solutions"))
                   .glob("*.ipynb"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = ROOT / "build" / "browser"
ENABLE = ("browser test skipped: {why}; to run it install Chromium "
          "(root: apt-get install -y chromium fonts-dejavu-core) and `pip install -e .[test]`")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
RUN_TIMEOUT_S = 420  # one notebook's Run All
REDRAW_TIMEOUT_S = 20  # one slider move -> new plot
# The text repr a widget falls back to when the front end cannot render it.
TEXT_REPR = re.compile(r"\b(?:[A-Z]\w*|interactive)\((?:children|value|options)=|"
                       r"Error displaying widget|Loading widget\.\.\.")
CHECK_CALL = re.compile(r"^\s*(?:\w+\s*=\s*)?check_(\w+)\(", re.M)
# A rendered ipywidgets view inside an output (most views carry .jupyter-widgets; a few, such as
# ToggleButtons, only their widget-* classes). A text fallback (jp-RenderedText) has neither.
WIDGET_VIEW = ".jupyter-widgets, [class*='widget-']"

if not Path(CHROMIUM).exists():
    pytest.skip(ENABLE.format(why=f"no Chromium at {CHROMIUM}"), allow_module_level=True)
try:
    from playwright.sync_api import Page, sync_playwright
except ImportError:
    pytest.skip(ENABLE.format(why="the playwright package is not installed"),
                allow_module_level=True)

# JupyterLab settings for the test: render every cell (no windowing, so off-screen cells are in
# the DOM), no autosave, no news / update pop-ups over the notebook.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
}


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_server(url: str, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    """Poll ``url`` until the server answers; fail with its log if it dies or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"JupyterLab did not answer {url} within {timeout:.0f} s")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """JupyterLab on a free port, serving a copy of solutions/; yields its base URL + token."""
    tmp = tmp_path_factory.mktemp("lab")
    root, settings = tmp / "root", tmp / "settings"
    root.mkdir()
    for nb in SOLUTIONS:
        shutil.copy(nb, root / nb.name)
    for name, values in LAB_SETTINGS.items():
        target = settings / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    port, token = free_port(), "course-browser-test"
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp / "config"),
           "JUPYTER_RUNTIME_DIR": str(tmp / "runtime")}
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
           "--ip=127.0.0.1", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={root}", f"--LabApp.user_settings_dir={settings}",
           f"--LabApp.workspaces_dir={tmp / 'workspaces'}", "--LabApp.expose_app_in_browser=True"]
    if hasattr(os, "getuid") and os.getuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp / "lab.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_server(f"{base}/api/status?token={token}", proc)
        yield f"{base}/lab?token={token}&reset"
    except Exception:
        log.flush()
        print((tmp / "lab.log").read_text(errors="replace")[-4000:])
        raise
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def page(lab: str) -> Iterator[Page]:
    """One headless Chromium page with JupyterLab loaded, shared by all notebooks."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        pg = context.new_page()
        pg.goto(lab)
        pg.wait_for_function("() => window.jupyterapp && window.jupyterapp.started"
                             " && document.querySelector('#jp-main-dock-panel')",
                             timeout=180_000)
        pg.evaluate("() => window.jupyterapp.started")
        try:
            yield pg
        finally:
            context.close()
            browser.close()


# Open a notebook, wait for its kernel, Run All; resolves when the run is over, the kernel idle
# and the expected explorers drawn, to 'ok' or to what went wrong.
OPEN_AND_RUN = """
async ([path, timeoutMs, renderMs, expect]) => {
  const widgetView = "__WIDGET_VIEW__";
  const app = window.jupyterapp;
  const panel = await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
  await panel.context.ready;
  await panel.sessionContext.ready;
  app.shell.activateById(panel.id);
  const kernelIdle = async () => {
    const t0 = Date.now();
    while (true) {
      const k = panel.sessionContext.session && panel.sessionContext.session.kernel;
      if (k && k.status === 'idle') return true;
      if (Date.now() - t0 > timeoutMs) return false;
      await new Promise(r => setTimeout(r, 100));
    }
  };
  if (!(await kernelIdle())) return 'kernel never idle';
  await app.commands.execute('notebook:run-all-cells');
  const t0 = Date.now();
  while (true) {
    const busy = panel.content.widgets.some(
      c => c.model.type === 'code' && c.promptNode && c.promptNode.textContent.includes('*'));
    const k = panel.sessionContext.session.kernel;
    if (!busy && k.status === 'idle') break;
    if (Date.now() - t0 > timeoutMs) return 'Run All did not finish in time';
    await new Promise(r => setTimeout(r, 200));
  }
  // Widgets render asynchronously: wait (a while) for the explorers expected on screen; the
  // checks afterwards say what is missing.
  const shown = ([index, count]) =>
    Array.from(panel.content.widgets[index].outputArea.node.children)
         .filter(e => e.querySelector(widgetView)).length >= count;
  const t1 = Date.now();
  while (Date.now() - t1 < renderMs && !Object.entries(expect).every(shown)) {
    await new Promise(r => setTimeout(r, 100));
  }
  return 'ok';
}
"""

# Per code cell: source, outputs from the model, and what the DOM shows for each of them (the
# output area holds one child per model output, in order).
CELLS = """
() => {
  const widgetMime = 'application/vnd.jupyter.widget-view+json';
  const widgetView = "__WIDGET_VIEW__";
  const panel = window.jupyterapp.shell.currentWidget;
  return panel.content.widgets.map((c, index) => {
    if (c.model.type !== 'code') return null;
    const outputs = c.model.outputs.toJSON();
    const area = c.outputArea.node;
    const children = Array.from(area.children)
                          .filter(e => e.classList.contains('jp-OutputArea-child'));
    const nodes = children.map(e => e.querySelector('.jp-OutputArea-output'));
    const widgets = outputs.map((o, j) => [o, nodes[j]])
      .filter(([o, node]) => o.data && o.data[widgetMime])
      .map(([o, node]) => ({
        rendered: !!(node && node.querySelector(widgetView)),
        text: node ? node.textContent.trim() : '(no output node)',
        sliders: node ? node.querySelectorAll('.widget-slider').length : 0,
      }));
    return {
      index,
      source: c.model.sharedModel.getSource(),
      executed: c.model.executionCount !== null,
      errors: outputs.filter(o => o.output_type === 'error')
                     .map(o => `${o.ename}: ${o.evalue}`),
      stderr: outputs.filter(o => o.output_type === 'stream' && o.name === 'stderr')
                     .map(o => [].concat(o.text).join('')),
      widgets,
      text: nodes.map(n => n ? n.textContent.trim() : '').join('\\n'),
      html: area.querySelectorAll('.jp-RenderedHTMLCommon').length,
    };
  }).filter(c => c !== null);
}
"""

OPEN_AND_RUN, CELLS = (js.replace("__WIDGET_VIEW__", WIDGET_VIEW) for js in (OPEN_AND_RUN, CELLS))

IMAGES = """
(index) => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[index];
  return Array.from(cell.node.querySelectorAll('.jp-OutputArea img')).map(i => i.src).join('|');
}
"""

MOVE_SLIDER = """
(index) => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[index];
  cell.node.scrollIntoView({block: 'center'});
  const handle = cell.node.querySelector('.jp-OutputArea .widget-slider .noUi-handle');
  handle.focus();
  const now = Number(handle.getAttribute('aria-valuenow'));
  const max = Number(handle.getAttribute('aria-valuemax'));
  return now < max ? 'ArrowRight' : 'ArrowLeft';
}
"""

CLOSE = """
async () => {
  const panel = window.jupyterapp.shell.currentWidget;
  await panel.sessionContext.shutdown();
  panel.context.model.dirty = false;
  panel.dispose();
}
"""


def screenshot(page: Page, name: str, index: int | None) -> Path:
    """Scroll cell ``index`` into view and save a screenshot; returns the file."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    if index is not None:
        page.evaluate("(i) => window.jupyterapp.shell.currentWidget.content.widgets[i]"
                      ".node.scrollIntoView({block: 'start'})", index)
    target = SHOTS / f"{Path(name).stem}.png"
    page.screenshot(path=str(target))
    return target


def expected_verdicts(notebook: Path) -> dict[int, str]:
    """Checker cells whose committed box is not "passed": cell index -> its icon.

    A checker called on the exercise itself (``check_rnn_forward(rnn_forward)``) must pass; a few
    cells of notebook 00 show on purpose what a failed check looks like (``check_sigmoid(
    sigmoid_with_sign_error)``): there the browser must show the same icon as the committed
    output."""
    import nbformat

    verdicts = {}
    for index, cell in enumerate(nbformat.read(notebook, as_version=4).cells):
        match = CHECK_CALL.search(cell.source) if cell.cell_type == "code" else None
        if match is None or re.search(rf"check_{match.group(1)}\(\s*{match.group(1)}\s*\)",
                                      cell.source):
            continue
        text = "".join(o.get("data", {}).get("text/plain", "") for o in cell.outputs).strip()
        if text[:1] and text[:1] != "✔":
            verdicts[index] = text[:1]
    return verdicts


def widget_expectations(notebook: Path) -> tuple[dict[int, int], set[int]]:
    """From the committed widget state: cell index -> how many widget outputs must be on screen
    (all but tqdm progress bars, which may close themselves with ``leave=False``), and the
    explorer cells (a widget output holding a slider)."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    state = (nb.metadata.get("widgets", {})
             .get("application/vnd.jupyter.widget-state+json", {}).get("state", {}))

    def tree(model_id: str) -> list[str]:
        """Model names of a widget and everything it contains."""
        model = state.get(model_id, {})
        names = [model.get("model_name", "")]
        for child in model.get("state", {}).get("children", []):
            names += tree(child.removeprefix("IPY_MODEL_"))
        return names

    on_screen: dict[int, int] = {}
    explorer_cells: set[int] = set()
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get("application/vnd.jupyter.widget-view+json")
            if not view:
                continue
            names = tree(view["model_id"])
            if "FloatProgressModel" not in names:
                on_screen[index] = on_screen.get(index, 0) + 1
            if any(name.endswith("SliderModel") for name in names):
                explorer_cells.add(index)
    return on_screen, explorer_cells


def problems_in(page: Page, cells: list[dict[str, Any]], expected_verdicts: dict[int, str],
                on_screen: dict[int, int], explorer_cells: set[int]) -> list[tuple[int, str]]:
    """Everything wrong with a notebook after Run All, as (cell index, message)."""
    found: list[tuple[int, str]] = []
    skipped = [c["index"] for c in cells if c["source"].strip() and not c["executed"]]
    if skipped:
        found.append((skipped[0], f"{len(skipped)} code cell(s) not executed, from this one on"))
    for cell in cells:
        i = cell["index"]
        found += [(i, f"error output: {e}") for e in cell["errors"]]
        found += [(i, f"stderr output: {s.strip()[:300]}") for s in cell["stderr"]]
        # A widget view is rendered, or empty (a progress bar that closed itself); text means
        # the front end fell back to the text repr or failed ("Error displaying widget").
        found += [(i, f"widget not rendered, shows {w['text'][:120]!r}")
                  for w in cell["widgets"] if not w["rendered"] and w["text"]]
        if TEXT_REPR.search(cell["text"]):
            found.append((i, f"a widget shows as its text repr: {cell['text'][:120]!r}"))
        rendered = sum(w["rendered"] for w in cell["widgets"])
        if cell["executed"] and rendered < on_screen.get(i, 0):
            found.append((i, f"{on_screen[i]} widget(s) expected on screen, {rendered} rendered"))
        if CHECK_CALL.search(cell["source"]) and cell["executed"]:
            text, want = cell["text"].strip(), expected_verdicts.get(i, "✔")
            if not (cell["html"] and text.startswith(want)):
                found.append((i, f"checker box should start with {want}: {text[:200]!r}"))
    for cell in cells:
        if cell["index"] not in explorer_cells or not cell["executed"]:
            continue
        if not any(w["sliders"] for w in cell["widgets"]):
            found.append((cell["index"], "explorer without a slider to move"))
        else:
            found += [(cell["index"], msg) for msg in slider_redraws(page, cell["index"])]
    return found


def slider_redraws(page: Page, index: int) -> list[str]:
    """Move the first slider of the explorer in cell ``index``; its plot must change."""
    try:
        page.wait_for_function(f"() => ({IMAGES})({index}) !== ''",
                               timeout=REDRAW_TIMEOUT_S * 1000, polling=200)
    except Exception:  # noqa: BLE001 - a Playwright TimeoutError
        return ["explorer shows no plot before the slider moves"]
    before = page.evaluate(IMAGES, index)
    key = page.evaluate(MOVE_SLIDER, index)
    page.keyboard.press(key)
    try:
        page.wait_for_function(f"(b) => ({IMAGES})({index}) !== b && ({IMAGES})({index}) !== ''",
                               arg=before, timeout=REDRAW_TIMEOUT_S * 1000, polling=200)
    except Exception:  # noqa: BLE001 - a Playwright TimeoutError
        return [f"moving a slider ({key}) did not redraw the plot within {REDRAW_TIMEOUT_S} s"]
    return []


@pytest.mark.parametrize("notebook", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_notebook_in_browser(page: Page, notebook: Path) -> None:
    (SHOTS / f"{notebook.stem}.png").unlink(missing_ok=True)
    on_screen, explorer_cells = widget_expectations(notebook)
    state = page.evaluate(OPEN_AND_RUN, [notebook.name, RUN_TIMEOUT_S * 1000,
                                         REDRAW_TIMEOUT_S * 1000, on_screen])
    try:
        if state != "ok":
            shot = screenshot(page, notebook.name, None)
            pytest.fail(f"{notebook.name}: {state} (screenshot: {shot})")
        found = problems_in(page, page.evaluate(CELLS), expected_verdicts(notebook), on_screen,
                            explorer_cells)
        if found:
            found.sort(key=lambda problem: problem[0])
            shot = screenshot(page, notebook.name, found[0][0])
            lines = "\n".join(f"  cell {i}: {msg}" for i, msg in found)
            pytest.fail(f"{notebook.name} in the browser:\n{lines}\n(screenshot: {shot})")
    finally:
        page.evaluate(CLOSE)
