"""Writing files so that nobody ever reads half of one.

Every file the package writes goes through :func:`atomic_write`: the bytes go to a temporary
file in the same directory, which is flushed to disk and then renamed over the target with
``os.replace`` (atomic on POSIX and Windows within one file system). A reader sees the old file
or the new one, never a truncated one, even if the writer is killed half-way; at worst a
temporary file named by :func:`temporary_files` is left behind.
"""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import torch

__all__ = ["atomic_write", "save_atomically", "temporary_files"]


def _prefix(path: Path) -> str:
    return f".{path.name}."


_SUFFIX = ".tmp"


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path``; on success it replaces ``path``.

    Args:
        path: the file to (re)write; its directory must exist.
        mode: ``"wb"`` or ``"w"``.

    Yields:
        the open temporary file. If the block raises, it is removed and ``path`` is untouched.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> with atomic_write(folder / "a.txt", "w") as f:
        ...     _ = f.write("done")
        >>> (folder / "a.txt").read_text(), sorted(p.name for p in folder.iterdir())
        ('done', ['a.txt'])
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write: mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=_prefix(path), suffix=_SUFFIX)
    try:
        with os.fdopen(handle, mode) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise


def save_atomically(obj: object, path: str | os.PathLike[str]) -> None:
    """``torch.save(obj, path)`` through :func:`atomic_write`."""
    with atomic_write(path) as file:
        torch.save(obj, file)


def temporary_files(path: str | os.PathLike[str]) -> list[Path]:
    """The temporary files that writers of ``path`` killed half-way left behind."""
    path = Path(path)
    return sorted(path.parent.glob(f"{glob.escape(_prefix(path))}*{_SUFFIX}"))
