"""Sphinx extension for the API page: no "Alias for field number N" entries for NamedTuple fields.

autodoc documents each field of a ``typing.NamedTuple`` as an attribute whose docstring is the
placeholder that ``collections.namedtuple`` writes. Our NamedTuples describe their fields in an
``Attributes:`` section, which napoleon turns into proper entries; the placeholders would repeat
every field (and Sphinx warns about the duplicate descriptions), so they are skipped.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx

_PLACEHOLDER = "Alias for field number "


def _skip_namedtuple_field(
    app: Sphinx, what: str, name: str, obj: Any, skip: bool, options: Any
) -> bool | None:
    doc = getattr(obj, "__doc__", None)
    if isinstance(doc, str) and doc.startswith(_PLACEHOLDER):
        return True
    return None  # let autodoc decide


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("autodoc-skip-member", _skip_namedtuple_field)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
