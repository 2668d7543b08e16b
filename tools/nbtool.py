"""Keep the chapter notebooks uniform, executed and free of volatile metadata.

    python tools/nbtool.py sync [NOTEBOOK ...]     rewrite the setup cell and notebook metadata
    python tools/nbtool.py execute [NOTEBOOK ...]  sync, run top to bottom in a fresh kernel, save

Without paths it works on every ``notebooks/*.ipynb`` and ``book/*.ipynb``. ``make execute`` calls
``execute`` with the network blocked (tests/netguard) and progress bars off, so committed outputs
are what nbval sees.
The first code cell of every chapter is generated here from ``_config.yml``'s repository, so the
install URL is configured in one place.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
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


def setup_cell_source() -> str:
    """The first code cell of every chapter."""
    url, branch = repository()
    return (
        "# Setup, the same in every chapter. On Colab, install cnnutils from the repository;\n"
        "# Colab's own torch is kept. Then seed, pick the device, show figures inline.\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        f'    %pip install --quiet "cnnutils @ git+{url}@{branch}"\n'
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
        else f"CPU, {record['cpu_threads']} threads"
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["sync", "execute"])
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
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
