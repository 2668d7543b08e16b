"""The package's layers: a module imports only from its own layer or the layers below it.

runtime, _checks, _files  <  geometry  <  ops  <  models, data  <  training  <  viz  <  course

so that, for example, the operations never pull in matplotlib or the training loop, and a reader
can learn the package from the bottom up.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "cnnutils"
RANK = {
    "runtime": 0, "_checks": 0, "_files": 0, "_machine": 0, "geometry": 1, "ops": 2,
    "models": 3, "data": 3,
    "training": 4, "viz": 5, "course": 6,
}  # fmt: skip


def layer(module: str) -> str:
    """``cnnutils.ops.conv`` -> ``ops``; ``cnnutils.geometry`` -> ``geometry``."""
    return module.split(".")[1]


def imports(path: Path) -> set[str]:
    """The cnnutils modules ``path`` imports, anywhere in the file (lazy imports count)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found |= {n for n in names if n.startswith("cnnutils.")}
    return found


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.parent != PACKAGE or p.stem != "__init__")


def test_every_module_is_in_a_known_layer():
    for path in modules():
        name = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        assert name in RANK, f"{path}: not in a layer of RANK"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_higher_layer(path):
    own = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
    upward = sorted(m for m in imports(path) if RANK[layer(m)] > RANK[own])
    assert not upward, f"{own} ({RANK[own]}) imports higher layers: {upward}"


def test_the_check_can_fail(tmp_path):
    bad = tmp_path / "conv.py"
    bad.write_text("from cnnutils.viz.images import show_images\n")
    assert imports(bad) == {"cnnutils.viz.images"}
    assert RANK[layer("cnnutils.viz.images")] > RANK["ops"]
