"""Hygiene of the committed chapter notebooks, checked before nbval re-executes them.

nbval compares only cells that carry an execution count, so a notebook committed without
outputs would "pass" while testing nothing; these tests make that impossible.
"""

import re
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import nbtool  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))  # the chapters
# Every executed notebook: the chapters and notebook pages such as book/conventions.ipynb.
ALL_NOTEBOOKS = NOTEBOOKS + sorted((ROOT / "book").glob("*.ipynb"))
MAX_BYTES = 2 * 1024 * 1024


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part.get("chapters", [])]
    return files


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]


def test_there_are_chapters():
    assert NOTEBOOKS, "no notebooks found under notebooks/"


def test_toc_and_notebooks_agree():
    listed = {f for f in toc_files() if f.startswith("notebooks/")}
    present = {f"notebooks/{p.stem}" for p in NOTEBOOKS}
    assert listed == present, (
        f"in the TOC only: {listed - present}; on disk only: {present - listed}"
    )
    for page in toc_files():
        assert list(ROOT.glob(page + ".*")), f"_toc.yml lists {page}, which does not exist"


def _read(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    return path, nb


@pytest.fixture(params=NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def notebook(request):
    return _read(request.param)


@pytest.fixture(params=ALL_NOTEBOOKS, ids=[p.relative_to(ROOT).as_posix() for p in ALL_NOTEBOOKS])
def any_notebook(request):
    return _read(request.param)


def test_name_pattern(notebook):
    path, _ = notebook
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name), path.name


def test_fully_executed_top_to_bottom(any_notebook):
    path, nb = any_notebook
    counts = [c.execution_count for c in code_cells(nb)]
    assert None not in counts, f"{path.name}: {counts.count(None)} code cells were never executed"
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: not run top to bottom in one fresh kernel (execution counts {counts})"
    )
    assert any(c.outputs for c in code_cells(nb)), f"{path.name}: no outputs at all"


def test_no_unexpected_errors_or_stderr(any_notebook):
    path, nb = any_notebook
    for i, cell in enumerate(code_cells(nb)):
        tags = cell.metadata.get("tags", [])
        for out in cell.outputs:
            if out.output_type == "error":
                assert "raises-exception" in tags, f"{path.name} cell {i}: committed traceback"
            if out.output_type == "stream" and out.name == "stderr":
                pytest.fail(f"{path.name} cell {i}: stderr output {out.text[:200]!r}")


def test_setup_cell_and_colab_metadata(any_notebook):
    path, nb = any_notebook
    first = code_cells(nb)[0]
    assert first.source == nbtool.setup_cell_source(), (
        f"{path.name}: the setup cell differs from tools/nbtool.py's; run make execute"
    )
    assert first.metadata.get("tags", [])[:2] == nbtool.SETUP_TAGS
    assert first.outputs == [], f"{path.name}: the setup cell must print nothing"
    for key, value in nbtool.notebook_metadata().items():
        assert nb.metadata.get(key) == value, (
            f"{path.name}: metadata {key!r} is {nb.metadata.get(key)!r}"
        )


def test_setup_cell_installs_from_the_configured_repository():
    url, branch = nbtool.repository()
    source = nbtool.setup_cell_source()
    constraints = nbtool.COLAB_CONSTRAINTS
    freeze, install = (
        line.strip() for line in source.splitlines() if " -m pip " in line or "%pip" in line
    )
    # first every installed package is written down with its version, cnnutils left out ...
    assert freeze == ("%pip list --format=freeze --exclude cnnutils > " + constraints)
    # ... then cnnutils is installed with those versions as constraints: nothing is replaced
    name = nbtool.REQUIREMENT_NAME
    assert f'    {name} = "cnnutils @ git+{url}@{branch}"\n' in source
    assert install == f'%pip install --quiet --constraint {constraints} "{{{name}}}"'
    assert max(map(len, source.splitlines())) <= 88, "the folded setup cell must fit the page"
    assert "torch" not in install.replace("cnnutils", ""), "the install must not name torch"
    # tests/test_colab_install.py runs these two commands against a Colab-like environment


def test_setup_cell_lexes_as_python():
    """Sphinx highlights the shown cells with Pygments' Python lexer and, building with -W,
    fails on a token it cannot lex (a shell escape ``!cmd`` is one; ``%magic`` lexes)."""
    from pygments.lexers import PythonLexer
    from pygments.token import Error

    tokens = PythonLexer().get_tokens(nbtool.setup_cell_source())
    bad = [value for kind, value in tokens if kind in Error]
    assert not bad, f"the setup cell has tokens Python's lexer rejects: {bad}"


def test_chapter_structure(notebook):
    path, nb = notebook
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert markdown and markdown[0].lstrip().startswith("# "), f"{path.name}: starts with a title"
    headings = {
        line.strip("# ").strip().lower()
        for md in markdown
        for line in md.splitlines()
        if line.startswith("## ")
    }
    for needed in ("summary", "exercises", "references"):
        assert any(h.startswith(needed) for h in headings), f"{path.name}: no '## {needed}' section"
    solutions = [c for c in code_cells(nb)[1:] if "hide-input" in c.metadata.get("tags", [])]
    assert solutions, f"{path.name}: exercises need solutions hidden behind a toggle (hide-input)"


def test_size(any_notebook):
    path, _ = any_notebook
    assert path.stat().st_size < MAX_BYTES, f"{path.name}: {path.stat().st_size} bytes"


def test_no_volatile_metadata(any_notebook):
    path, nb = any_notebook
    assert "version" not in nb.metadata.get("language_info", {})
    for cell in nb.cells:
        assert "execution" not in cell.metadata, f"{path.name}: execution timestamps committed"


def test_kernels_started_by_tests_have_no_network():
    """nbval's kernels inherit the guard through PYTHONPATH (see the root conftest.py)."""
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    try:
        reply = client.execute_interactive(
            "import socket, urllib.request\n"
            "assert socket.NETWORK_BLOCKED_BY_TESTS\n"
            "urllib.request.urlopen('https://example.com', timeout=5)",
            timeout=60,
        )
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert reply["content"]["status"] == "error"
    assert "network access is blocked" in reply["content"]["evalue"]


def test_site_build_shows_committed_outputs():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    # The string "off": a bare off is YAML for false, which Jupyter Book would not honour.
    assert config["execute"]["execute_notebooks"] == "off"
    assert config["repository"]["branch"] == "main"
    assert config["launch_buttons"]["colab_url"] == "https://colab.research.google.com"


def test_badge_is_generated_from_the_execution_record(any_notebook):
    path, nb = any_notebook
    record = nb.metadata.get("cnnbook", {}).get("execution")
    assert record, f"{path.name}: no execution record; run make execute"
    assert set(record) >= {"seconds", "device", "cpu_threads", "torch", "python", "date"}
    # The per-notebook budget (180 s; the book aims at well under 120 s, and chapter 07 is over
    # it on an AVX2-only 2-core machine: see benchmarks/README.md for machines of this kind)
    assert 0 < record["seconds"] < 180, f"{path.name}: {record['seconds']} s on the last execution"
    badge = nb.cells[1]
    assert "badge" in badge.metadata.get("tags", []), f"{path.name}: no badge under the title"
    assert badge.source == nbtool.badge_source(record), f"{path.name}: badge edited by hand"


def test_errata_page_is_generated_from_the_chapters():
    page = (ROOT / "book" / "errata.md").read_text(encoding="utf-8")
    assert page == nbtool.errata_page(nbtool.chapters_in_toc()), (
        "book/errata.md is stale: run python tools/nbtool.py errata"
    )


def _erratum_notebook(markdown: str, code: str = "print(1 + 1)", tag_code: bool = True):
    nb = nbformat.v4.new_notebook()
    text = nbformat.v4.new_markdown_cell(markdown)
    text.metadata["tags"] = ["erratum"]
    cell = nbformat.v4.new_code_cell(code)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="2\n")]
    if tag_code:
        cell.metadata["tags"] = ["erratum"]
    nb.cells = [nbformat.v4.new_markdown_cell("# 9. A chapter"), text, cell]
    return nb


GOOD_ERRATUM = (
    "(erratum-09-sum)=\n```{admonition} That's funny: the slide's sum\n:class: erratum\n"
    "The slide says 1 + 1 = 3.\n```"
)


@pytest.mark.parametrize(
    ("markdown", "tag_code", "message"),
    [
        (GOOD_ERRATUM, False, "needs a tagged code cell"),
        (GOOD_ERRATUM.replace("erratum-09", "erratum-04"), True, "names another chapter"),
        (GOOD_ERRATUM.replace(":class: erratum\n", ""), True, "must be '\\(erratum-NN-slug\\)='"),
        ("That's funny: no label", True, "must be '\\(erratum-NN-slug\\)='"),
    ],
)
def test_errata_parser_rejects_malformed_cells(tmp_path, markdown, tag_code, message):
    path = tmp_path / "09_x.ipynb"
    nbformat.write(_erratum_notebook(markdown, tag_code=tag_code), path)
    with pytest.raises(ValueError, match=message):
        nbtool.errata_entries(path)


def test_errata_parser_reads_a_wellformed_erratum(tmp_path):
    path = tmp_path / "09_x.ipynb"
    nbformat.write(_erratum_notebook(GOOD_ERRATUM), path)
    (entry,) = nbtool.errata_entries(path)
    assert entry == {
        "label": "erratum-09-sum",
        "title": "the slide's sum",
        "body": "The slide says 1 + 1 = 3.",
        "code": "print(1 + 1)",
        "output": "2",
    }
    page = nbtool.errata_page([path])
    assert "Entries so far: 1." in page and "### The slide's sum" in page
    assert "{ref}`Where the chapter discusses it <erratum-09-sum>`" in page


# The site's code column holds about 88 characters of code at 1280 px (tests/site measures it);
# package source shown with literalinclude is formatted for 100 columns, so a shown object must
# be kept narrower by hand, and this catches a reformat that widens it before the site build.
SHOWN_SOURCE_WIDTH = 84
_INCLUDE = re.compile(r"```\{literalinclude\} (\S+)\n((?::\w+: .*\n)*)```")


def shown_package_source(nb: nbformat.NotebookNode, base: Path) -> list[tuple[str, list[str]]]:
    """Each ``literalinclude`` of a markdown cell: its target and the lines it shows."""
    import ast

    shown = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for target, options in _INCLUDE.findall(cell.source + "\n"):
            path = (base / target).resolve()
            assert path.is_file(), f"literalinclude of a missing file: {target}"
            lines = path.read_text(encoding="utf-8").splitlines()
            wanted = re.search(r":pyobject: (\S+)", options)
            if wanted:
                node = ast.parse("\n".join(lines))
                for part in wanted.group(1).split("."):
                    node = next(
                        n
                        for n in ast.iter_child_nodes(node)
                        if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == part
                    )
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                lines = lines[first - 1 : node.end_lineno]
            shown.append((f"{target}:{wanted.group(1) if wanted else ''}", lines))
    return shown


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_shown_package_source_fits_the_code_column(path):
    nb = nbformat.read(path, as_version=4)
    for name, lines in shown_package_source(nb, path.parent):
        wide = [line for line in lines if len(line) > SHOWN_SOURCE_WIDTH]
        assert not wide, f"{path.name} shows {name} with {len(wide)} line(s) too wide: {wide[0]!r}"


def test_shown_package_source_detection(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    return 1\n\n\nclass C:\n    def g(self):\n        pass\n")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("```{literalinclude} m.py\n:pyobject: C.g\n```"),
        nbformat.v4.new_markdown_cell("```{literalinclude} m.py\n:language: python\n```"),
    ]
    shown = shown_package_source(nb, tmp_path)
    assert shown[0] == ("m.py:C.g", ["    def g(self):", "        pass"])
    assert len(shown[1][1]) == 7
