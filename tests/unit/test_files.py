"""Tests of cnnutils._files: every file the package writes appears whole or not at all."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import torch

from cnnutils._files import atomic_write, save_atomically, temporary_files

PACKAGE = Path(__file__).resolve().parents[2] / "cnnutils"


def test_atomic_write_replaces_the_file_only_when_complete(tmp_path):
    target = tmp_path / "model.pt"
    target.write_bytes(b"old")
    with pytest.raises(KeyError), atomic_write(target) as file:
        file.write(b"half of the new")
        assert target.read_bytes() == b"old"  # nothing visible while writing
        (temporary,) = temporary_files(target)  # .model.pt.<random>.tmp, next to it
        assert temporary.parent == tmp_path
        raise KeyError("killed half-way")
    assert target.read_bytes() == b"old"
    assert sorted(tmp_path.iterdir()) == [target]  # the temporary file is gone too
    save_atomically({"w": torch.arange(3)}, target)
    assert torch.equal(torch.load(target)["w"], torch.arange(3))
    assert sorted(tmp_path.iterdir()) == [target]
    with atomic_write(tmp_path / "notes [1].txt", "w") as file:
        file.write("text")
    assert (tmp_path / "notes [1].txt").read_text() == "text"
    with pytest.raises(ValueError, match=r"atomic_write: mode must be 'w' or 'wb', got 'a'"):
        with atomic_write(target, "a"):
            pass


def test_temporary_files_finds_only_leftovers_of_that_file(tmp_path):
    (tmp_path / ".model.pt.abc123.tmp").write_bytes(b"")
    (tmp_path / ".other.pt.abc123.tmp").write_bytes(b"")
    (tmp_path / "model.pt").write_bytes(b"")
    assert temporary_files(tmp_path / "model.pt") == [tmp_path / ".model.pt.abc123.tmp"]


# What writes a file: torch.save, np.save/savez, Path.write_text/write_bytes, open(..., "w"/"a").
WRITERS = re.compile(r"\b(torch\.save|np\.save\w*|numpy\.save\w*)\(|\.write_(text|bytes)\(")


def writes(path: Path) -> list[str]:
    """The calls in ``path`` that write a file other than through cnnutils._files."""
    found = [m.group(0) for m in WRITERS.finditer(path.read_text())]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "open":
            modes = [a.value for a in node.args[1:2] if isinstance(a, ast.Constant)]
            modes += [k.value.value for k in node.keywords if k.arg == "mode"]
            if any(set(str(m)) & set("wax+") for m in modes):
                found.append(f"open(..., {modes[0]!r})")
    return found


def test_every_file_the_package_writes_goes_through_atomic_write(tmp_path):
    offenders = {
        str(path.relative_to(PACKAGE)): writes(path)
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "_files.py" and writes(path)
    }
    assert offenders == {}
    bad = tmp_path / "bad.py"  # the check can fail
    bad.write_text('import torch\ntorch.save(1, "x")\nopen("y", "w")\np.write_text("z")\n')
    assert writes(bad) == ["torch.save(", ".write_text(", "open(..., 'w')"]
