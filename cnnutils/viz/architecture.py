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

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Rectangle
from matplotlib.textpath import TextPath

from cnnutils.viz.layers import _cuboid, _project

__all__ = ["draw_architecture"]

_INPUT, _MAPS, _VECTOR = "#bdbdbd", "#9ecae1", "#fdae6b"
_PAD = 0.12  # inches between a label and the next block, and at the edges


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
    entries: list[tuple[str, tuple[int, ...], str]],
    spans: list[float],
    width: float,
    fontsize: float,
) -> tuple[float, list[float], list[float]]:
    """Inches per data unit, the gaps between blocks (inches) and how far each block's labels
    stick out on either side (inches). A gap holds its op label, or the labels that stick out
    of its two blocks (names and shapes are in rows above and below all blocks, clear of the
    op labels)."""
    labels = [
        max(_text_width(n, fontsize), _text_width(_shape_text(s), fontsize)) for n, s, _ in entries
    ]
    ops = [_text_width(op, fontsize) for _, _, op in entries[1:]]
    over = [0.0] * len(entries)
    for _ in range(4):  # the overhangs depend on the scale, the scale on the gaps
        gaps = [max(op, over[i] + over[i + 1]) + _PAD for i, op in enumerate(ops)]
        inch = (width - sum(gaps) - 2 * _PAD - over[0] - over[-1]) / sum(spans)
        over = [
            max(0.0, label - span * inch) / 2 for label, span in zip(labels, spans, strict=True)
        ]
    return inch, gaps, over


def draw_architecture(
    layers: Sequence[tuple[str, Sequence[int] | int, str | None]],
    *,
    width: float = 8.2,
    power: float = 0.5,
    fontsize: float = 9,
    dpi: float = 90,
) -> Figure:
    """A network as a row of volumes, labelled with names and shapes, joined by operations.

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

    Returns:
        a :class:`~matplotlib.figure.Figure` (not registered with ``pyplot``). Its texts are
        each entry's name (above), its shape written ``H×W×D`` or ``F`` (below) and each op.

    Raises:
        TypeError: ``layers`` is not a non-empty list of 3-tuples.
        ValueError: a shape is not ``(C, H, W)`` or ``(F,)`` of positive ints, or ``width``,
            ``power``, ``fontsize`` or ``dpi`` is not positive.

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
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ValueError(f"{fn}: {name} must be a positive number, got {value!r}")
    blocks = _footprints(entries, power)
    spans = [w + _project(0, 0, d)[0] for w, _, d in blocks]  # projected widths
    inch, gaps, over = _layout(entries, spans, width, fontsize)
    if inch <= 0:
        raise ValueError(
            f"{fn}: {len(entries)} layers do not fit {width} in at {fontsize} pt: "
            "raise width or lower fontsize"
        )
    fig = Figure(figsize=(width, 1.0), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    text = {"ha": "center", "fontsize": fontsize}
    line = 1.3 * fontsize / 72 / inch  # one line of text, in data units
    lines = max(op.count("\n") + 1 for _, _, op in entries)
    heights = [h / 2 + _project(0, 0, d)[1] for _, h, d in blocks]
    name_row = max(*heights, 0.08 / inch + lines * line) + 0.06 / inch
    shape_row = -max(h for _, h, _ in blocks) / 2 - 0.06 / inch
    x, right = (_PAD + over[0]) / inch, 0.0
    for i, ((name, shape, op), block) in enumerate(zip(entries, blocks, strict=True)):
        if i:
            x += gaps[i - 1] / inch
            start, end = (right + 0.1 / inch, 0.0), (x - 0.05 / inch, 0.0)
            ax.add_patch(
                FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, color="0.25")
            )
            if op:
                ax.text((start[0] + end[0]) / 2, 0.08 / inch, op, va="bottom", **text)
        color = _INPUT if i == 0 else _VECTOR if _is_vector(shape) else _MAPS
        right = _block(ax, x, block, color)
        ax.text((x + right) / 2, name_row, name, va="bottom", weight="bold", **text)
        ax.text((x + right) / 2, shape_row, _shape_text(shape), va="top", **text)
        x = right
    bottom, top = shape_row - line - 0.08 / inch, name_row + line + 0.08 / inch
    ax.set_xlim(0, width / inch)
    ax.set_ylim(bottom, top)
    fig.set_size_inches(width, (top - bottom) * inch)
    return fig


def _block(ax, x: float, block: tuple[float, float, float], color: str) -> float:
    """A box ``(w, h, d)`` (a rectangle when ``d`` is 0) centred on height 0 from ``x``; returns
    its right edge, depth included."""
    w, h, d = block
    if d:
        _cuboid(ax, (x, -h / 2, 0), (w, h, d), color, lw=0.7)
    else:
        ax.add_patch(Rectangle((x, -h / 2), w, h, facecolor=color, edgecolor="0.3", lw=0.7))
    return x + w + _project(0, 0, d)[0]
