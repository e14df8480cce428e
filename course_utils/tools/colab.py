"""The course repository's address and the Colab block of every setup cell.

The address lives in one place, ``[project.urls] Source`` of ``pyproject.toml``; the build
(:mod:`course_utils.tools.build`) writes it into each notebook's Colab badge (first cell) and
the Colab block of its setup cell (:func:`setup_block`); ``build --repo-url URL`` changes it.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
BRANCH = "main"  # the branch the Colab badges open
COLAB_DIR = "/content/course"  # where the setup cell clones the course on Colab
_BADGE_URL = re.compile(r"https://colab\.research\.google\.com/github/[^)\s\"'>]+")
_GITHUB = re.compile(r"https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?/?")
_COLAB_TEST = '"google.colab" in sys.modules'
_COLAB_END = f'sys.path.insert(0, "{COLAB_DIR}")'


class BuildError(Exception):
    """A solution notebook breaks a build rule, or a setting the build cannot accept; the
    message names the file (and cell)."""


def repo_url(pyproject: Path = PYPROJECT) -> str:
    """The course repository's address: ``[project.urls] Source`` of ``pyproject.toml``."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        match = re.search(r'(?ms)^\[project\.urls\].*?^Source\s*=\s*"([^"]+)"',
                          pyproject.read_text(encoding="utf-8"))
        if not match:
            raise BuildError(f"{pyproject}: no [project.urls] Source") from None
        return match.group(1)
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    try:
        return data["project"]["urls"]["Source"]
    except KeyError:
        raise BuildError(f"{pyproject}: no [project.urls] Source") from None


def check_repo_url(url: str) -> str:
    """``url`` without a trailing ``/`` or ``.git``; BuildError unless it is a GitHub
    repository (Colab opens notebooks from GitHub only)."""
    match = _GITHUB.fullmatch(url.strip())
    if not match:
        raise BuildError(f"{url!r} is not a GitHub repository address "
                         "(https://github.com/OWNER/REPO): Colab badges open GitHub only")
    return f"https://github.com/{match.group(1)}/{match.group(2)}"


def set_repo_url(url: str, pyproject: Path = PYPROJECT) -> str:
    """Write ``url`` as ``[project.urls] Source`` into ``pyproject`` (the file keeps its
    layout and comments); returns the normalised address."""
    url = check_repo_url(url)
    text = pyproject.read_text(encoding="utf-8")
    section = re.search(r"(?m)^\[project\.urls\][^\[]*", text)
    line = re.compile(r'(?m)^(Source\s*=\s*")[^"]*(")')
    if section and line.search(section.group(0)):
        body = line.sub(lambda m: m.group(1) + url + m.group(2), section.group(0), count=1)
        text = text[:section.start()] + body + text[section.end():]
    elif section:
        text = text[:section.end()].rstrip("\n") + f'\nSource = "{url}"\n\n' + text[section.end():]
    else:
        text = text.rstrip("\n") + f'\n\n[project.urls]\nSource = "{url}"\n'
    pyproject.write_text(text, encoding="utf-8")
    return url


def colab_url(url: str, name: str) -> str:
    """The *Open in Colab* address of ``notebooks/<name>`` in the repository ``url``."""
    owner_repo = check_repo_url(url).removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{owner_repo}/blob/{BRANCH}/notebooks/{name}"


def setup_block(url: str) -> str:
    """The Colab block that opens every notebook's setup cell. On Colab it clones the course
    (package and committed ``results/``) once and installs it editable; the dependencies in
    pyproject.toml are ranges that Colab's own torch, numpy ... satisfy, so pip adds only what
    is missing and no test-only package (those are extras)."""
    return ("import sys\n"
            f"if {_COLAB_TEST}:  # on Colab: fetch the course (package + committed results/) once\n"
            "    import os\n"
            f'    if not os.path.isdir("{COLAB_DIR}"):\n'
            f"        !git clone -q --depth 1 {check_repo_url(url)} {COLAB_DIR}\n"
            f"    %pip install -q -e {COLAB_DIR}\n"
            f"    {_COLAB_END}\n")


def write_repo_url(nb, path: Path, url: str) -> None:
    """Write ``url`` into the notebook's Colab badge(s) and its setup cell (in place)."""
    if nb.cells and nb.cells[0].cell_type == "markdown":
        nb.cells[0].source = _BADGE_URL.sub(colab_url(url, path.name), nb.cells[0].source)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and _COLAB_TEST in cell.source:
            lines = cell.source.split("\n")
            ends = [i for i, line in enumerate(lines) if line.strip() == _COLAB_END]
            if not ends:
                raise BuildError(f"{path.name} cell {index}: the setup cell's Colab block must end "
                                 f"with `{_COLAB_END}` (see CONTRIBUTING.md)")
            source = setup_block(url) + "\n".join(lines[ends[0] + 1:])
            if source != cell.source:
                cell.source = source
            return
    raise BuildError(f"{path.name}: no setup cell (a code cell with the Colab block, "
                     "see CONTRIBUTING.md)")
