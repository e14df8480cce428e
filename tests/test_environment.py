"""Three files, one set of versions: pyproject.toml holds library-style ranges, constraints.txt
the exact tested pins (what `make` installs), environment.yml the same pins for conda."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
CONDA_NAMES = {"torch": "pytorch"}  # PyPI name -> conda-forge name
TEST_ONLY = {"pytest", "pytest-xdist", "nbval", "ruff", "playwright"}


def pyproject_requirements() -> dict[str, dict[str, Requirement]]:
    """Requirements of pyproject.toml by group: "core" and each extra."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    groups = {"core": project["dependencies"], **project["optional-dependencies"]}
    return {group: {canonicalize_name(r.name): r for r in map(Requirement, deps)}
            for group, deps in groups.items()}


def constraints() -> dict[str, str]:
    """constraints.txt as name -> exact version; every line must be `name==version`."""
    pins = {}
    for raw in (ROOT / "constraints.txt").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)==([0-9][0-9A-Za-z.+]*)", line)
        assert m, f"constraints.txt: {line!r} is not an exact pin (name==version)"
        name = canonicalize_name(m.group(1))
        assert name not in pins, f"constraints.txt pins {name} twice"
        pins[name] = m.group(2)
    return pins


def environment_pins() -> tuple[dict[str, str], list[str], list[str]]:
    pins, pip, channels, section = {}, [], [], None
    for raw in (ROOT / "environment.yml").read_text().splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not line.startswith(" "):
            section = line.rstrip(":").split(":")[0]
            continue
        item = line.strip().removeprefix("- ").strip()
        if section == "channels":
            channels.append(item)
        elif section == "dependencies":
            if raw.startswith("      -"):
                pip.append(item)
            elif "=" in item:
                name, version = item.split("=", 1)
                pins[name.strip().lower()] = version.strip()
    return pins, pip, channels


def test_pyproject_has_ranges_not_pins():
    """Library style: a lower bound, never `==`, so an installed torch / numpy is kept."""
    for group, reqs in pyproject_requirements().items():
        for req in reqs.values():
            ops = {spec.operator for spec in req.specifier}
            assert ops and ops <= {">=", "<", "!=", "~="}, f"{group}: {req} is not a range"


def test_constraints_pin_exactly_the_dependencies_within_their_ranges():
    pins = constraints()
    wanted = {name: req for reqs in pyproject_requirements().values()
              for name, req in reqs.items()}
    assert set(pins) == set(wanted), (f"only in constraints.txt: {set(pins) - set(wanted)}; "
                                      f"not pinned: {set(wanted) - set(pins)}")
    for name, req in wanted.items():
        assert req.specifier.contains(Version(pins[name]), prereleases=True), \
            f"constraints.txt pins {name}=={pins[name]}, outside pyproject's {req}"


def test_environment_yml_has_the_same_pins():
    """conda-forge packages, plus the few that come from PyPI in its pip section."""
    env, pip, _ = environment_pins()
    env.pop("python")
    env.pop("pip", None)
    for item in pip:
        if "==" in item:
            name, version = item.split("==", 1)
            env[canonicalize_name(name)] = version.strip()
    assert env == {CONDA_NAMES.get(name, name): version for name, version in constraints().items()}


def test_conda_forge_only_and_course_installed_editable_under_the_constraints():
    _, pip, channels = environment_pins()
    assert channels == ["conda-forge", "nodefaults"]
    assert pip[:2] == ["-c constraints.txt", "-e ."]


def test_test_tools_are_extras_not_course_dependencies():
    """Colab's setup cell installs the core only: no test tool, no JupyterLab."""
    groups = pyproject_requirements()
    assert set(groups["test"]) >= TEST_ONLY
    assert not (set(groups["core"]) & (TEST_ONLY | {"jupyterlab", "notebook", "ipykernel"}))


def test_make_installs_under_the_constraints():
    makefile = (ROOT / "Makefile").read_text()
    assert 'pip install --quiet -c constraints.txt -e ".[lab,test]"' in makefile
    assert re.search(r"^\$\(STAMP\): pyproject.toml constraints.txt", makefile, re.M)


def test_torch_is_pinned():
    assert constraints()["torch"] == "2.13.0"
