"""The repository speaks of the project only: not of how, by whom or with which tools it was
written, and it cites no tracker issue numbers (they mean nothing to a reader of the book)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Phrases that describe the making of the project instead of the project.
FORBIDDEN = {
    "issue number": r"\bissues?\s*#?\d+\b|\bissues/\d+\b",
    "work session": r"\b(this|that|the previous|an earlier|earlier|a later|later|next|future)"
    r" sessions?\b|\bsessions? that (wrote|built|ran|measured)\b",
    "authoring tool": r"\b(Claude|ChatGPT|Copilot|LLM|language model|subagent|AI assistant)\b",
    "who wrote it": r"\bthe lead\b|\bwritten by (an? )?(assistant|agent|model|bot)\b",
}
PATTERN = re.compile("|".join(f"(?P<g{i}>{p})" for i, p in enumerate(FORBIDDEN.values())), re.I)
# Text files only; lock files are written by tools, and notebook outputs are checked as text.
SKIP_SUFFIXES = {".png", ".jpg", ".npz", ".woff", ".woff2", ".ttf", ".eot", ".ico", ".gz"}
SKIP_FILES = {"requirements/package-lock.json", "tests/unit/test_project_text.py"}


def offences(text: str) -> list[str]:
    """The forbidden phrases in ``text``, each as ``'kind: phrase'``."""
    names = list(FORBIDDEN)
    found = []
    for match in PATTERN.finditer(text):
        kind = next(names[i] for i in range(len(names)) if match.group(f"g{i}"))
        found.append(f"{kind}: {match.group(0)!r}")
    return found


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("measured on issue 3's shape", True),
        ("see #12 and issues/14", True),
        ("No GPU was available to the sessions that wrote these", True),
        ("an earlier session left this", True),
        ("drafted with ChatGPT", True),
        ("one Chromium for the whole pytest session", False),
        ("a session-scoped fixture", False),
        ("the convolution issues a GEMM per block", False),
        ("helpers return values and print nothing", False),
    ],
)
def test_the_patterns_can_fail(text, bad):
    assert bool(offences(text)) is bad, offences(text)


def test_no_file_speaks_of_its_making():
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    report = []
    for name in filter(None, files):
        path = ROOT / name
        if name in SKIP_FILES or path.suffix in SKIP_SUFFIXES or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if path.suffix == ".ipynb":  # outputs carry base64 images: check sources and text only
            text = re.sub(r'"image/(png|jpeg)": "[^"]*"', "", text)
        report += [f"{name}: {o}" for o in offences(text)]
    assert not report, "\n".join(report)
