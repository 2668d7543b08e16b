"""The conventions page (book/conventions.ipynb): committed as executed, and its links still land.

nbval re-executes the page and compares its outputs; these tests add what nbval cannot see. The
page links each convention to a chapter *section* with a raw HTML anchor, because MyST checks a
``file.ipynb#heading`` link only when ``myst_heading_anchors`` is set, and Sphinx never checks a raw
anchor. So a renamed heading in a chapter would break the link silently until the browser test
of the built site; here it fails in a second, from the notebooks alone.
"""

import re
import sys
from pathlib import Path

import nbformat
import pytest
from docutils.nodes import make_id

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "book" / "conventions.ipynb"
sys.path.insert(0, str(ROOT / "tools"))
import nbtool  # noqa: E402

ANCHOR = re.compile(r'<a href="\.\./notebooks/(\w+)\.html#([\w-]+)">([^<]+)</a>')
CHAPTER_LINK = re.compile(r"\]\(\.\./notebooks/(\w+)\.ipynb\)")


@pytest.fixture(scope="module")
def page() -> nbformat.NotebookNode:
    nb = nbformat.read(PAGE, as_version=4)
    nbformat.validate(nb)
    return nb


def section_ids(notebook: Path) -> dict[str, str]:
    """The HTML id Sphinx gives each heading of a notebook, mapped to the heading's text."""
    nb = nbformat.read(notebook, as_version=4)
    ids = {}
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            match = re.match(r"#{1,6} (.+)", line)
            if match:
                text = re.sub(r"[`$*]", "", match.group(1)).strip()
                ids[make_id(text)] = text
    return ids


def sections(nb: nbformat.NotebookNode) -> list[tuple[str, list]]:
    """Each ``## `` section of the page with the cells that follow its heading."""
    out: list[tuple[str, list]] = []
    for cell in nb.cells:
        heading = cell.cell_type == "markdown" and cell.source.startswith("## ")
        if heading:
            out.append((cell.source.splitlines()[0][3:], []))
        if out:
            out[-1][1].append(cell)
    return out


def test_executed_top_to_bottom_without_errors_or_stderr(page):
    code = [c for c in page.cells if c.cell_type == "code" and c.source.strip()]
    assert code[0].source == nbtool.setup_cell_source(), "run tools/nbtool.py execute"
    assert code[0].outputs == []
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    for i, cell in enumerate(code):
        for out in cell.outputs:
            assert out.output_type != "error", f"cell {i}: committed traceback"
            assert out.get("name") != "stderr", f"cell {i}: stderr {out.text[:200]!r}"


def test_every_convention_is_checked_and_linked(page):
    found = sections(page)
    assert page.cells[0].source.startswith("# Conventions\n")
    assert found[-1][0] == "References" and len(found) >= 15
    for title, cells in found[:-1]:
        text = "\n".join(c.source for c in cells if c.cell_type == "markdown")
        checks = [c for c in cells if c.cell_type == "code"]
        assert checks and all("assert" in c.source for c in checks), f"{title!r}: no assert"
        assert all(c.outputs for c in checks), f"{title!r}: a check prints nothing"
        assert CHAPTER_LINK.search(text) and ANCHOR.search(text), f"{title!r}: no chapter link"


def test_section_anchors_name_existing_headings(page):
    text = "\n".join(c.source for c in page.cells if c.cell_type == "markdown")
    anchors = ANCHOR.findall(text)
    assert len(anchors) >= 20
    for chapter in {c for c, _, _ in anchors} | set(CHAPTER_LINK.findall(text)):
        assert (ROOT / "notebooks" / f"{chapter}.ipynb").exists(), chapter
    cache: dict[str, dict[str, str]] = {}
    for chapter, anchor, label in anchors:
        ids = cache.setdefault(chapter, section_ids(ROOT / "notebooks" / f"{chapter}.ipynb"))
        assert anchor in ids, f"{chapter}: no heading with id {anchor!r} (link text {label!r})"
        assert ids[anchor] == label, f"{chapter}#{anchor} is {ids[anchor]!r}, linked as {label!r}"
