"""environment.yml and pyproject.toml pin the same packages at the same versions."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONDA_NAMES = {"torch": "pytorch"}  # PyPI name -> conda-forge name


def pyproject_pins() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    deps = data["project"]["dependencies"] + data["project"]["optional-dependencies"]["test"]
    pins = {}
    for dep in deps:
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)==([0-9][0-9A-Za-z.]*)", dep)
        assert m, f"pyproject dependency {dep!r} is not pinned with =="
        pins[CONDA_NAMES.get(m.group(1).lower(), m.group(1).lower())] = m.group(2)
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


def test_same_packages_and_versions():
    env, _, _ = environment_pins()
    env.pop("python")
    assert env == pyproject_pins()


def test_conda_forge_only_and_course_installed_editable():
    _, pip, channels = environment_pins()
    assert channels == ["conda-forge", "nodefaults"]
    assert pip == ["-e ."]


def test_torch_is_pinned():
    assert pyproject_pins()["pytorch"] == "2.13.0"
