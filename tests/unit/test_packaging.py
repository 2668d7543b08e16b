"""The package declares lower bounds only; the exact pins live in one constraints file."""

import re
from pathlib import Path

import tomllib
from packaging.version import Version

import cnnutils

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
CONSTRAINTS = ROOT / "requirements" / "constraints.txt"
OLDEST = ROOT / "requirements" / "oldest.txt"


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _all_requirements() -> list[str]:
    project = PYPROJECT["project"]
    return project["dependencies"] + [
        r for extra in project["optional-dependencies"].values() for r in extra
    ]


def test_dependencies_have_lower_bounds_only():
    for requirement in PYPROJECT["project"]["dependencies"]:
        assert ">=" in requirement, f"{requirement}: give a lower bound"
        assert not re.search(r"==|<|~=", requirement), f"{requirement}: no pins or caps (Colab)"


def test_only_jupyter_book_is_capped():
    capped = [r for r in _all_requirements() if "<" in r]
    assert capped == ["jupyter-book>=1.0.4,<2"], capped  # 2.x drops _config.yml and Colab links


def test_constraints_pin_everything_exactly():
    pins = {}
    for line in CONSTRAINTS.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"{line!r} is not an exact pin"
            pins[name.lower().replace("_", "-")] = version
    for requirement in _all_requirements():
        assert _name(requirement) in pins, f"{_name(requirement)} has no exact pin"
    assert pins["torch"] == "2.14.1"
    assert pins["torchvision"] == "0.29.1"
    assert pins["jupyter-book"] == "1.0.4.post1"
    assert "cnnutils" not in pins


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"{path.name}: {line!r} is not an exact pin"
            pins[_name(name)] = version
    return pins


def test_oldest_stack_pins_exactly_the_declared_floors():
    """make test-oldest installs requirements/oldest.txt: every lower bound, and nothing else.

    The build system's, the package's dependencies, the [test] extra, and the kernel and
    notebook packages of the [book] extra (nbval needs them; jupyter-book's own stack is left
    to make test)."""
    project = PYPROJECT["project"]
    extras = project["optional-dependencies"]
    declared = {}
    build = PYPROJECT["build-system"]["requires"]
    for requirement in build + project["dependencies"] + extras["test"] + extras["book"]:
        if _name(requirement) == "jupyter-book":
            continue
        floor = re.search(r">=([^,;\s]+)", requirement)
        assert floor, f"{requirement}: no lower bound"
        declared[_name(requirement)] = Version(floor.group(1))
    assert {name: Version(v) for name, v in _pins(OLDEST).items()} == declared


def test_public_api_is_explicit():
    init = (ROOT / "cnnutils" / "__init__.py").read_text()
    assert "import *" not in init
    assert len(set(cnnutils.__all__)) == len(cnnutils.__all__)
    for name in cnnutils.__all__:
        assert hasattr(cnnutils, name), name


def test_every_module_declares_all():
    for module in sorted((ROOT / "cnnutils").rglob("*.py")):
        if module.name != "__init__.py":
            assert "__all__" in module.read_text(), f"{module.name} has no __all__"
