"""Keep the chapter notebooks uniform, executed and free of volatile metadata.

    python tools/nbtool.py sync [NOTEBOOK ...]     rewrite the setup cell and notebook metadata
    python tools/nbtool.py execute [NOTEBOOK ...]  sync, run top to bottom in a fresh kernel, save
    python tools/nbtool.py errata                  write book/errata.md from the chapters

Without paths it works on every ``notebooks/*.ipynb`` and ``book/*.ipynb``. ``make execute`` calls
``execute`` with the network blocked (tests/netguard) and progress bars off, so committed outputs
are what nbval sees.
The first code cell of every chapter is generated here from ``_config.yml``'s repository, so the
install URL is configured in one place.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import os
import platform
import re
import sys
import time
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
SETUP_TAGS = ["hide-input", "setup"]
BADGE_TAG = "badge"
CELL_TIMEOUT_S = 300


def repository() -> tuple[str, str]:
    """The repository URL and branch configured in ``_config.yml``."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo = config["repository"]
    return repo["url"].rstrip("/"), repo.get("branch", "main")


# Where the setup cell writes the list of packages Colab has installed (its pip constraints).
COLAB_CONSTRAINTS = "/tmp/pins.txt"
# The variable that holds the requirement (IPython expands {name} in the %pip line).
REQUIREMENT_NAME = "requirement"


def setup_cell_source() -> str:
    """The first code cell of every chapter.

    On Colab it installs cnnutils from the repository with every package already installed
    pinned to its installed version (a constraints file written by ``pip list``), so the install
    adds packages but never up- or downgrades one of Colab's: pip refuses rather than replace
    Colab's torch or NumPy. ``tests/test_colab_install.py`` runs these two commands against a
    Colab-like environment.
    """
    url, branch = repository()
    return (
        "# Setup, the same in every chapter. On Colab, install cnnutils from the repository,\n"
        "# keeping every package Colab has installed at its version (pip list writes them down\n"
        "# as constraints). Then seed, pick the device, show figures inline.\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        "    %pip list --format=freeze --exclude cnnutils"
        f" > {COLAB_CONSTRAINTS}\n"
        f'    {REQUIREMENT_NAME} = "cnnutils @ git+{url}@{branch}"\n'
        f'    %pip install --quiet --constraint {COLAB_CONSTRAINTS} "{{{REQUIREMENT_NAME}}}"\n'
        "\n"
        "from cnnutils import get_device, seed_everything\n"
        "\n"
        "generator = seed_everything(0)\n"
        "device = get_device()\n"
        "%matplotlib inline"
    )


def notebook_metadata() -> dict:
    """Metadata every chapter carries: the kernel, and Colab's request for a GPU runtime."""
    return {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "accelerator": "GPU",
        "colab": {"provenance": [], "gpuType": "T4"},
    }


def execution_record(seconds: float) -> dict:
    """What a chapter's badge says about its last execution: measured here, never typed."""
    import torch

    device = os.environ.get("CNNUTILS_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
    return {
        "seconds": round(seconds, 1),
        "device": device,
        "cpu_threads": torch.get_num_threads(),
        "torch": torch.__version__.split("+")[0],
        "python": platform.python_version(),
        "date": datetime.date.today().isoformat(),
    }


def badge_source(record: dict) -> str:
    """The badge cell under a chapter's title, rendered from its execution record."""
    where = (
        "a CUDA GPU"
        if record["device"].startswith("cuda")
        else f"CPU, {record['cpu_threads']} thread{'s' * (record['cpu_threads'] != 1)}"
    )
    return (
        f'<div class="chapter-badge">Outputs generated {record["date"]} in '
        f"{record['seconds']:.0f} s ({where}), torch {record['torch']}, "
        f"Python {record['python']}</div>"
    )


def sync_badge(nb: nbformat.NotebookNode) -> None:
    """Put the badge cell right under the title, or drop it if there is no execution record."""
    nb.cells = [c for c in nb.cells if BADGE_TAG not in c.metadata.get("tags", [])]
    record = nb.metadata.get("cnnbook", {}).get("execution")
    if record is None:
        return
    cell = nbformat.v4.new_markdown_cell(badge_source(record))
    cell.metadata["tags"] = [BADGE_TAG]
    cell["id"] = "chapter-badge"  # stable, so re-syncing changes nothing
    title = next(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown")
    nb.cells.insert(title + 1, cell)


def sync(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Write the setup cell, the badge and the metadata; drop volatile per-cell metadata."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not code:
        raise ValueError("a chapter notebook needs at least its setup code cell")
    first = code[0]
    if "get_device" not in first.source and "seed_everything" not in first.source:
        first = nbformat.v4.new_code_cell()
        nb.cells.insert(nb.cells.index(code[0]), first)
    first.source = setup_cell_source()
    tags = [t for t in first.metadata.get("tags", []) if t not in SETUP_TAGS]
    first.metadata["tags"] = SETUP_TAGS + tags
    nb.metadata = nbformat.NotebookNode({**nb.metadata, **notebook_metadata()})
    # Saved widget state (metadata.widgets, written by execute) stays: the site renders it with
    # the widgets HTML manager vendored into _build/vendor/widgets, no CDN (see _config.yml).
    for cell in nb.cells:
        for key in ("execution", "collapsed", "scrolled", "ExecuteTime"):
            cell.metadata.pop(key, None)
    sync_badge(nb)
    return nb


def execute(path: Path) -> float:
    """Run a notebook top to bottom in a fresh kernel in its own folder; save it in place."""
    from nbclient import NotebookClient

    nb = sync(nbformat.read(path, as_version=4))
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=True,  # the site shows the widgets as they were left
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    nb.metadata.setdefault("cnnbook", {})["execution"] = execution_record(elapsed)
    sync(nb)  # nbclient adds execution timestamps; drop them again
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return elapsed


ERRATUM_TAG = "erratum"
ERRATA_PAGE = ROOT / "book" / "errata.md"
_ERRATUM = re.compile(
    r"\A\((?P<label>erratum-\d{2}-[a-z0-9-]+)\)=\n"
    r"(?P<fence>`{3,}|:{3,})\{admonition\} That's funny: (?P<title>[^\n]+)\n"
    r":class: erratum\n"
    r"(?P<body>.*?)\n(?P=fence)\s*\Z",
    re.S,
)
ERRATA_HEADER = """\
# That's funny…

> The most exciting phrase to hear in science, the one that heralds new discoveries, is not
> "Eureka!" but "That's funny…" — attributed to Isaac Asimov, quoted in the lecture's closing
> advice: when what you observe differs from what you expected, don't ignore the moment.

This page collects every place where the lecture slides' numbers, shapes or formulas do not add
up, each with the computation that shows it and a link to the chapter that discusses it. It is
generated from the chapters by `python tools/nbtool.py errata`: each entry is a cell of a chapter
tagged `erratum` together with the code cell that follows it and the output that cell printed
when the chapter was last executed (nbval checks that output still reproduces), so there is one
source for each finding. The slide text we worked from was extracted from the slides and has
noise of its own; we list only what the computation settles.
"""


def chapter_title(nb: nbformat.NotebookNode) -> str:
    """A chapter's ``# N. Title`` heading, without the ``#``."""
    first = next(c for c in nb.cells if c.cell_type == "markdown")
    return first.source.splitlines()[0].lstrip("#").strip()


def _stream_text(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")


def errata_entries(path: Path, nb: nbformat.NotebookNode | None = None) -> list[dict[str, str]]:
    """The errata of one chapter: label, title, body, code and printed output, in order.

    ``nb`` is the chapter already read from ``path``, if the caller has it.

    Raises:
        ValueError: for a tagged cell that is not in the documented form.
    """
    nb = nbformat.read(path, as_version=4) if nb is None else nb
    tagged = [i for i, c in enumerate(nb.cells) if ERRATUM_TAG in c.metadata.get("tags", [])]
    entries = []
    for i in tagged:
        cell = nb.cells[i]
        if cell.cell_type == "code":
            if i == 0 or ERRATUM_TAG not in nb.cells[i - 1].metadata.get("tags", []):
                raise ValueError(f"{path.name} cell {i}: an erratum code cell without its text")
            continue
        match = _ERRATUM.match(cell.source.strip() + "\n")
        if match is None:
            raise ValueError(
                f"{path.name} cell {i}: an erratum cell must be '(erratum-NN-slug)=' followed "
                f"by a '{{admonition}} That's funny: ...' with ':class: erratum'; got "
                f"{cell.source[:80]!r}"
            )
        if not match["label"].startswith(f"erratum-{path.name[:2]}-"):
            raise ValueError(f"{path.name}: label {match['label']} names another chapter")
        code = nb.cells[i + 1] if i + 1 < len(nb.cells) else None
        if code is None or code.cell_type != "code" or i + 1 not in tagged:
            raise ValueError(f"{path.name} cell {i}: the erratum needs a tagged code cell after it")
        entries.append(
            {
                "label": match["label"],
                "title": match["title"].strip(),
                "body": match["body"].strip(),
                "code": _without_asserts(code.source).strip(),
                "output": _stream_text(code).rstrip(),
            }
        )
    return entries


def _without_asserts(source: str) -> str:
    """``source`` without its top-level ``assert`` statements: the errata page shows the
    computation, and the chapter, where the cell runs under nbval, keeps the checks."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    drop = {
        n for node in tree.body if isinstance(node, ast.Assert)
        for n in range(node.lineno, node.end_lineno + 1)
    }  # fmt: skip
    lines = source.splitlines()
    return "\n".join(line for i, line in enumerate(lines, start=1) if i not in drop)


def errata_page(chapters: list[Path]) -> str:
    """The whole errata page, chapter by chapter, from the chapters' tagged cells."""
    parts = [ERRATA_HEADER]
    count = 0
    for path in chapters:
        nb = nbformat.read(path, as_version=4)
        entries = errata_entries(path, nb)
        if not entries:
            continue
        title = chapter_title(nb)
        link = f"../notebooks/{path.name}"
        parts.append(f"## [{title}]({link})\n")
        for entry in entries:
            count += 1
            fence = "````" if "```" in entry["body"] else "```"
            parts.append(
                f"### {entry['title'][0].upper() + entry['title'][1:]}\n\n"
                f"{entry['body']}\n\n"
                f"{fence}python\n{entry['code']}\n{fence}\n"
            )
            if entry["output"]:
                output = entry["output"]
                parts.append(f"Output when the chapter was last run:\n\n```none\n{output}\n```\n")
            parts.append(f"{{ref}}`Where the chapter discusses it <{entry['label']}>`\n")
    parts.insert(1, f"Entries so far: {count}.\n")
    return "\n".join(parts)


def chapters_in_toc() -> list[Path]:
    """The chapter notebooks in ``_toc.yml`` order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    return [ROOT / f"{f.removesuffix('.ipynb')}.ipynb" for f in files if f.startswith("notebooks/")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["sync", "execute", "errata"])
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    if args.command == "errata":
        ERRATA_PAGE.write_text(errata_page(chapters_in_toc()), encoding="utf-8")
        print(f"wrote {ERRATA_PAGE.relative_to(ROOT)}")
        return 0
    paths = args.notebooks or sorted(
        [*(ROOT / "notebooks").glob("*.ipynb"), *(ROOT / "book").glob("*.ipynb")]
    )
    if not paths:
        print("nbtool: no notebooks found", file=sys.stderr)
        return 1
    for path in paths:
        if args.command == "sync":
            nbformat.write(sync(nbformat.read(path, as_version=4)), path)
            print(f"synced   {path}")
        else:
            print(f"executing {path} ...", flush=True)
            print(f"executed {path} in {execute(path):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
