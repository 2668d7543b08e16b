"""Architecture diagrams: a network drawn as its sequence of volumes, one arrow per operation.

:func:`draw_architecture` takes a list of ``(name, shape, operation)`` entries, the shapes
being PyTorch's ``(C, H, W)`` for a stack of maps or ``(F,)`` for a vector, so that a chapter
can read them from :func:`cnnutils.layer_summary` instead of typing them. A stack of maps is a
box whose front face is ``H×W`` and whose depth grows with ``C``; a vector (or a ``C×1×1``
stack) is a thin bar. Sizes are written the slides' way, ``H×W×D``.

Side lengths are compressed (a power of the size, logarithms for depth and vector length) so
that a 227×227 input and a 13×13 map, or 6 and 384 channels, fit one readable row.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Rectangle
from matplotlib.textpath import TextPath

from cnnutils._checks import _int, _number
from cnnutils.viz.layers import _cuboid, _project

__all__ = ["draw_architecture"]

_INPUT, _MAPS, _VECTOR = "#bdbdbd", "#9ecae1", "#fdae6b"
_PAD = 0.12  # inches between a label and the next block, and at the edges
_ARROW = 0.3  # inches: the shortest arrow into or out of a row


def _entries(layers: object, fn: str) -> list[tuple[str, tuple[int, ...], str]]:
    if not isinstance(layers, Sequence) or isinstance(layers, str) or not layers:
        raise TypeError(f"{fn}: layers must be a non-empty list of (name, shape, op) entries")
    entries = []
    for i, entry in enumerate(layers):
        if not isinstance(entry, Sequence) or isinstance(entry, str) or len(entry) != 3:
            raise TypeError(f"{fn}: layers[{i}] must be (name, shape, op), got {entry!r}")
        name, shape, op = entry
        shape = tuple(shape) if isinstance(shape, Sequence) else (shape,)
        if len(shape) not in (1, 3) or not all(
            isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0 for s in shape
        ):
            raise ValueError(
                f"{fn}: layers[{i}] shape must be (C, H, W) or (F,) of positive ints, got {shape!r}"
            )
        entries.append((str(name), tuple(int(s) for s in shape), "" if op is None else str(op)))
    return entries


def _is_vector(shape: tuple[int, ...]) -> bool:
    return len(shape) == 1 or shape[1:] == (1, 1)


def _shape_text(shape: tuple[int, ...]) -> str:
    """``(C, H, W)`` written ``H×W×C``; a vector ``(F,)`` as ``F``."""
    return str(shape[0]) if len(shape) == 1 else f"{shape[1]}×{shape[2]}×{shape[0]}"


def _text_width(text: str, fontsize: float) -> float:
    """Width of ``text`` in inches, at ``fontsize`` points: its widest line as a path."""
    lines = [line for line in text.split("\n") if line.strip()]
    widths = [TextPath((0, 0), line, size=fontsize).get_extents().width for line in lines]
    return max(widths, default=0.0) / 72


def _footprints(
    entries: list[tuple[str, tuple[int, ...], str]], power: float
) -> list[tuple[float, float, float]]:
    """``(width, height, depth)`` of each drawn block in data units, before projection."""
    sides = [s[1:] for _, s, _ in entries if not _is_vector(s)]
    top = max((max(h, w) ** power for h, w in sides), default=4.0)
    longest = max(math.log2(s[0] + 1) for _, s, _ in entries)
    blocks = []
    for _, shape, _ in entries:
        if _is_vector(shape):  # a bar as high as the largest face for the longest vector
            height = top * max(0.25, math.log2(shape[0] + 1) / longest)
            blocks.append((0.08 * top, height, 0.0))
        else:
            c, h, w = shape
            blocks.append((w**power, h**power, 0.35 * top * math.log2(c + 1) / 4))
    return blocks


def _layout(
    rows: list[list[tuple[str, tuple[int, ...], str]]],
    spans: list[list[float]],
    width: float,
    fontsize: float,
) -> tuple[float, list[tuple[float, list[float]]]]:
    """Inches per data unit, shared by all rows, and for each row the room left of its first
    block and the gaps between its blocks (inches). A gap holds its op label, or the labels
    that stick out of its two blocks (names and shapes are in rows above and below all blocks,
    clear of the op labels). A row after the first starts with an arrow from the left edge that
    carries its first op; a row before the last ends with an arrow to the right edge."""
    labels = [
        [max(_text_width(n, fontsize), _text_width(_shape_text(s), fontsize)) for n, s, _ in row]
        for row in rows
    ]
    ops = [[_text_width(op, fontsize) for _, _, op in row] for row in rows]
    over = [[0.0] * len(row) for row in rows]
    last = len(rows) - 1
    for _ in range(4):  # the overhangs depend on the scale, the scale on the gaps
        layout, fits = [], []
        for r, (op, o, span) in enumerate(zip(ops, over, spans, strict=True)):
            gaps = [max(op[i + 1], o[i] + o[i + 1]) + _PAD for i in range(len(o) - 1)]
            left = o[0] if r == 0 else max(op[0], _ARROW, o[0]) + _PAD
            right = o[-1] if r == last else max(_ARROW, o[-1]) + _PAD
            layout.append((left, gaps))
            fits.append((width - sum(gaps) - 2 * _PAD - left - right) / sum(span))
        inch = min(fits)
        over = [
            [max(0.0, label - s * inch) / 2 for label, s in zip(lab, span, strict=True)]
            for lab, span in zip(labels, spans, strict=True)
        ]
    layout[0] = (over[0][0], layout[0][1])  # the first row starts where its labels fit
    return inch, layout


def _split(n: int, rows: int) -> list[slice]:
    """``n`` entries in ``rows`` rows, the earlier rows one longer where they do not divide."""
    sizes = [n // rows + (r < n % rows) for r in range(rows)]
    starts = itertools.accumulate(sizes, initial=0)
    return [slice(a, b) for a, b in itertools.pairwise(starts)]


def draw_architecture(
    layers: Sequence[tuple[str, Sequence[int] | int, str | None]],
    *,
    width: float = 8.2,
    power: float = 0.5,
    fontsize: float = 9,
    dpi: float = 90,
    rows: int = 1,
) -> Figure:
    """A network as rows of volumes, labelled with names and shapes, joined by operations.

    Args:
        layers: one ``(name, shape, op)`` entry per volume, in order. ``shape`` is PyTorch's
            ``(C, H, W)`` (a box; a ``C×1×1`` stack is drawn as a bar) or ``(F,)`` (a bar),
            e.g. ``LayerSummary.out_shape``. ``op`` labels the arrow that leads *into* this
            volume, e.g. ``"conv 5×5"``; ``None`` or ``""`` for the first (no arrow) or for
            no label. A ``"\\n"`` breaks a label into lines.
        width: figure width in inches (the book's code column is about 8.2 in at 90 dpi).
        power: a map's side ``n`` is drawn ``n ** power`` long (1 is to scale).
        fontsize: of every label, in points.
        dpi: resolution of the figure.
        rows: how many rows to draw the volumes in, one under the other, all at one scale
            (the earlier rows take one more volume where the count does not divide). A row
            ends with an arrow to the right edge, and the next starts with an arrow from the
            left edge labelled with the op into its first volume. More rows leave room for
            larger text in a long network.

    Returns:
        a :class:`~matplotlib.figure.Figure` (not registered with ``pyplot``). Its texts are
        each entry's name (above), its shape written ``H×W×D`` or ``F`` (below) and each op.

    Raises:
        TypeError: ``layers`` is not a non-empty list of 3-tuples, ``width``, ``power``,
            ``fontsize`` or ``dpi`` is not a number, or ``rows`` is not an int.
        ValueError: a shape is not ``(C, H, W)`` or ``(F,)`` of positive ints, ``width``,
            ``power``, ``fontsize`` or ``dpi`` is not positive, ``rows`` is not between 1
            and the number of layers, or the labels do not fit the width.

    Example:
        >>> fig = draw_architecture(
        ...     [("input", (1, 8, 8), None), ("conv", (4, 6, 6), "3×3"), ("fc", (10,), "")]
        ... )
        >>> sorted(t.get_text() for t in fig.axes[0].texts)
        ['10', '3×3', '6×6×4', '8×8×1', 'conv', 'fc', 'input']
    """
    fn = "draw_architecture"
    entries = _entries(layers, fn)
    for name, value in [("width", width), ("power", power), ("fontsize", fontsize), ("dpi", dpi)]:
        _number(value, name, fn, positive=True)
    rows = _int(rows, "rows", fn, minimum=1, maximum=len(entries))
    blocks = _footprints(entries, power)
    parts = _split(len(entries), rows)
    spans = [[w + _project(0, 0, d)[0] for w, _, d in blocks[part]] for part in parts]
    inch, layout = _layout([entries[part] for part in parts], spans, width, fontsize)
    if inch <= 0:
        raise ValueError(
            f"{fn}: {len(entries)} layers do not fit {width} in at {fontsize} pt: "
            "raise width or rows, or lower fontsize"
        )
    fig = Figure(figsize=(width, 1.0), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    line = 1.3 * fontsize / 72 / inch  # one line of text, in data units
    # rows one under the other: each row's top touches the bottom of the row above
    extents = [_extent(entries[part], blocks[part], inch, line) for part in parts]
    base, top = 0.0, extents[0][2]
    for r, (part, (left, gaps)) in enumerate(zip(parts, layout, strict=True)):
        name_row, shape_row, row_top, row_bottom = extents[r]
        if r:
            base -= row_top
        _row(
            ax,
            entries[part],
            blocks[part],
            left=left,
            gaps=gaps,
            rows=(base + name_row, base, base + shape_row),
            inch=inch,
            fontsize=fontsize,
            lead=r > 0,
            trail=(width - _PAD) / inch if r < len(parts) - 1 else None,
        )
        base += row_bottom
    ax.set_xlim(0, width / inch)
    ax.set_ylim(base, top)
    fig.set_size_inches(width, (top - base) * inch)
    return fig


def _extent(
    entries: list[tuple[str, tuple[int, ...], str]],
    blocks: list[tuple[float, float, float]],
    inch: float,
    line: float,
) -> tuple[float, float, float, float]:
    """Heights of a row's name and shape labels, and of its top and bottom edges, in data
    units from the row's axis (where the arrows run)."""
    lines = max(op.count("\n") + 1 for _, _, op in entries)
    heights = [h / 2 + _project(0, 0, d)[1] for _, h, d in blocks]
    name_row = max(*heights, 0.08 / inch + lines * line) + 0.06 / inch
    shape_row = -max(h for _, h, _ in blocks) / 2 - 0.06 / inch
    return name_row, shape_row, name_row + line + 0.08 / inch, shape_row - line - 0.08 / inch


def _row(
    ax,
    entries: list[tuple[str, tuple[int, ...], str]],
    blocks: list[tuple[float, float, float]],
    *,
    left: float,
    gaps: list[float],
    rows: tuple[float, float, float],
    inch: float,
    fontsize: float,
    lead: bool,
    trail: float | None,
) -> None:
    """One row of volumes: ``rows`` are the heights of its names, arrows and shapes; ``lead``
    draws an arrow from the left edge into the first volume, ``trail`` one from the last
    volume to that x."""
    name_row, axis, shape_row = rows
    text = {"ha": "center", "fontsize": fontsize}

    def arrow(start: float, end: float, op: str) -> None:
        ax.add_patch(
            FancyArrowPatch(
                (start, axis), (end, axis), arrowstyle="-|>", mutation_scale=10, color="0.25"
            )
        )
        if op:
            ax.text((start + end) / 2, axis + 0.08 / inch, op, va="bottom", **text)

    x, right = (_PAD + left) / inch, 0.0
    if lead:
        arrow(_PAD / inch, x - 0.05 / inch, entries[0][2])
    for i, ((name, shape, op), block) in enumerate(zip(entries, blocks, strict=True)):
        if i:
            x += gaps[i - 1] / inch
            arrow(right + 0.1 / inch, x - 0.05 / inch, op)
        color = _INPUT if (i == 0 and not lead) else _VECTOR if _is_vector(shape) else _MAPS
        right = _block(ax, x, block, color, axis)
        ax.text((x + right) / 2, name_row, name, va="bottom", weight="bold", **text)
        ax.text((x + right) / 2, shape_row, _shape_text(shape), va="top", **text)
        x = right
    if trail is not None:
        arrow(right + 0.1 / inch, trail, "")


def _block(ax, x: float, block: tuple[float, float, float], color: str, y: float = 0.0) -> float:
    """A box ``(w, h, d)`` (a rectangle when ``d`` is 0) centred on height ``y`` from ``x``;
    returns its right edge, depth included."""
    w, h, d = block
    if d:
        _cuboid(ax, (x, y - h / 2, 0), (w, h, d), color, lw=0.7)
    else:
        ax.add_patch(Rectangle((x, y - h / 2), w, h, facecolor=color, edgecolor="0.3", lw=0.7))
    return x + w + _project(0, 0, d)[0]
