"""Sphinx extension: two pieces of markup that other packages write, made accessible.

The site test (tests/test_site.py) audits every page with axe-core. Two findings come from the
HTML that myst-nb and docutils write, on every page that has them; this extension keeps their
writers and only changes the one attribute at fault:

* myst-nb folds a ``hide-input`` cell into ``<details>`` whose ``<summary>`` carries
  ``aria-label="Toggle hidden content"``. That label replaces the visible "Show code cell
  source" for a screen reader, and a speech-input user saying what they see does not match it
  (WCAG 2.5.3, label in name). Without the attribute the summary is named by its visible text.
* docutils wraps a bibliography in ``role="list"`` whose entries carry
  ``role="doc-biblioentry"``, a role DPUB-ARIA 1.1 deprecates and that is not a list item, so
  the list has no items for assistive technology (axe: aria-required-children, critical). The
  entries become ``role="listitem"``.

The theme's search button and colour-mode switch are fixed by the templates in
``book/_templates`` instead (they are theme components, not document markup).
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx.application import Sphinx

_SUMMARY_LABEL = ' aria-label="Toggle hidden content"'
_BIBLIOENTRY = 'role="doc-biblioentry"'


def _replace_in_new_output(translator: Any, start: int, old: str, new: str) -> None:
    """Replace ``old`` in what the translator appended to its body since index ``start``."""
    for i in range(start, len(translator.body)):
        translator.body[i] = translator.body[i].replace(old, new)


def _visit_citation(self: Any, node: nodes.citation) -> None:
    start = len(self.body)
    type(self).visit_citation(self, node)  # the writer's own markup, then one attribute changed
    _replace_in_new_output(self, start, _BIBLIOENTRY, 'role="listitem"')


def _depart_citation(self: Any, node: nodes.citation) -> None:
    type(self).depart_citation(self, node)


def _visit_hidden_cell(self: Any, node: nodes.Element) -> None:
    from myst_nb.sphinx_ import visit_HideCellInput

    start = len(self.body)
    visit_HideCellInput(self, node)
    _replace_in_new_output(self, start, _SUMMARY_LABEL, "")


def _depart_hidden_cell(self: Any, node: nodes.Element) -> None:
    from myst_nb.sphinx_ import depart_HideCellInput

    depart_HideCellInput(self, node)


def setup(app: Sphinx) -> dict[str, Any]:
    from myst_nb.sphinx_ import HideCodeCellNode

    app.setup_extension("myst_nb")  # its node must be registered before we override its writer
    app.add_node(nodes.citation, override=True, html=(_visit_citation, _depart_citation))
    app.add_node(HideCodeCellNode, override=True, html=(_visit_hidden_cell, _depart_hidden_cell))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
