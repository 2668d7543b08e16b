"""Sphinx extension: one search button per page, the one in the book's sidebar.

pydata-sphinx-theme (0.17 and later) puts a search button in its top header whenever the theme
options do not set ``navbar_persistent``. sphinx-book-theme, which builds on it, already has
one in its sidebar and leaves the rest of that header empty, so every page showed a header bar
holding nothing but a second search button. Jupyter Book writes the theme options from the
``html`` section of ``_config.yml``, which has no key for this option; this extension sets it
to "nothing" unless it was set, before the theme reads it. Ctrl + K and the sidebar's button
open the search as before; on a phone the sidebar, and its button, open from the menu icon.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config


def _no_header_search(app: Sphinx, config: Config) -> None:
    config.html_theme_options.setdefault("navbar_persistent", [])


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", _no_header_search)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
