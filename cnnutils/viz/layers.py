"""Concept pictures for the layer chapters: volumes, 1×1 bottlenecks, labelled matrices, pooling.

Every picture is drawn by code from the same hyperparameters the chapters compute with, so a
shape or a count written on a figure comes from :func:`cnnutils.geometry.conv2d_cost` or
:mod:`cnnutils.ops.pooling`, never from a typed-in number.

Volumes are drawn in an oblique projection: width to the right, height up, depth (the channels)
going back and up to the right, as in the lecture's pictures. Sizes are written the slides' way,
``H×W×D`` (height, width, depth); in PyTorch the same volume is a ``(D, H, W)`` tensor.

Every helper builds a :class:`matplotlib.figure.Figure` directly, without ``pyplot``, and
returns it (or a :class:`~matplotlib.animation.FuncAnimation`): nothing is shown, nothing stays
registered with ``pyplot``. Every matrix figure has axis labels and a colour bar.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from matplotlib.animation import FuncAnimation
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, Polygon, Rectangle
from matplotlib.ticker import MaxNLocator

from cnnutils.geometry import conv2d_cost
from cnnutils.ops.pooling import max_pool2d_backward, max_pool2d_forward

__all__ = [
    "draw_bottleneck",
    "draw_conv_volume",
    "draw_max_pool_backward",
    "overlap_backward_animation",
    "shift_curves_figure",
    "show_feature_maps",
]

# Direction in which depth recedes (35° above the horizontal), and how much it is shortened.
_DEPTH_DIR = (math.cos(math.radians(35)), math.sin(math.radians(35)))
_DEPTH_SHORTEN = 0.5
_FILTER_COLORS = ("#e6550d", "#3182bd", "#31a354", "#756bb1", "#d6616b", "#8c6d31", "#17becf")
_INPUT_COLORS = ("#fb6a4a", "#74c476", "#6baed6")  # R, G, B slices of a colour image
_WINDOW = "#d94801"


def _positive(value: object, name: str, fn: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{fn}: {name} must be a positive int, got {value!r}")
    return int(value)


def _project(x: float, y: float, z: float) -> tuple[float, float]:
    """Oblique projection: ``x`` right, ``y`` up, ``z`` (depth) back and up to the right."""
    k = _DEPTH_SHORTEN * z
    return x + k * _DEPTH_DIR[0], y + k * _DEPTH_DIR[1]


def _shade(color: str, amount: float) -> tuple[float, float, float]:
    """Mix a colour with white (``amount > 0``) or black (``amount < 0``)."""
    rgb = np.array(to_rgb(color))
    target = 1.0 if amount > 0 else 0.0
    return tuple(rgb + abs(amount) * (target - rgb))


def _cuboid(
    ax,
    corner: tuple[float, float, float],
    size: tuple[float, float, float],
    color: str,
    *,
    alpha: float = 1.0,
    edge: str = "0.3",
    lw: float = 0.8,
    zorder: float = 1,
) -> None:
    """The three visible faces (front, top, right) of a box ``size = (w, h, d)`` at ``corner``."""
    x, y, z = corner
    w, h, d = size
    faces = {
        "front": [(x, y, z), (x + w, y, z), (x + w, y + h, z), (x, y + h, z)],
        "top": [(x, y + h, z), (x + w, y + h, z), (x + w, y + h, z + d), (x, y + h, z + d)],
        "right": [(x + w, y, z), (x + w, y, z + d), (x + w, y + h, z + d), (x + w, y + h, z)],
    }
    shades = {"front": 0.0, "top": 0.35, "right": -0.2}
    for name, corners in faces.items():
        points = [_project(*p) for p in corners]
        color_face = _shade(color, shades[name]) if shades[name] else to_rgb(color)
        ax.add_patch(
            Polygon(
                points,
                closed=True,
                facecolor=(*color_face, alpha),
                edgecolor=edge,
                linewidth=lw,
                zorder=zorder,
            )
        )


def _slices(
    ax,
    x0: float,
    size: tuple[int, int],
    colors: Sequence[str],
    unit: float,
    *,
    alpha: float,
    grid: bool = False,
) -> None:
    """A volume drawn as one thin slab per channel, back to front (channel 0 in front)."""
    h, w = size
    for c in reversed(range(len(colors))):
        _cuboid(ax, (x0, 0, c * unit), (w, h, 0.6 * unit), colors[c], alpha=alpha, lw=0.6)
    if grid:  # cell borders on the front face, for small volumes
        for r in range(1, h):
            ax.plot([x0, x0 + w], [r, r], color="0.45", lw=0.4, zorder=2)
        for q in range(1, w):
            ax.plot([x0 + q, x0 + q], [0, h], color="0.45", lw=0.4, zorder=2)


def draw_conv_volume(
    in_shape: tuple[int, int, int] = (3, 32, 32),
    out_channels: int = 6,
    kernel_size: int = 5,
    *,
    position: tuple[int, int] = (8, 18),
    stride: int = 1,
    padding: int = 0,
    note: str | None = None,
    dpi: float = 90,
) -> Figure:
    """A convolution layer on a volume: the input, its filters, and the stack of output maps.

    Left, the input volume ``H×W×C`` (PyTorch ``(C, H, W)``), one slab per channel, with the
    ``k×k×C`` chunk that the output neurons at ``position`` read: local in height and width,
    the full depth. Middle, the ``out_channels`` filters, each ``k×k×C``, one colour each.
    Right, the output volume ``H_out×W_out×out_channels``: one activation map per filter, in
    the filter's colour, stacked; the neurons at ``position`` form a column ``[D×1×1]``, one
    neuron per filter, all reading the same chunk. Shapes come from
    :func:`cnnutils.geometry.conv2d_cost`.

    Args:
        in_shape: the input ``(C, H, W)``; ``C <= 16``.
        out_channels: the number of filters, ``<= 7`` so each has its own colour.
        kernel_size: ``k`` of the square ``k×k`` filters.
        position: the output position ``(row, col)`` whose chunk and column are drawn.
        stride: the stride of the layer.
        padding: zeros per side (drawn inside the input's outline).
        note: an extra line of text under the picture.
        dpi: resolution.

    Returns:
        the figure, one axes without ticks; its ``texts`` hold the three shape labels.

    Raises:
        ValueError: arguments out of range, or a ``position`` outside the output.

    Example:
        >>> fig = draw_conv_volume((3, 32, 32), 6, 5)
        >>> [t.get_text() for t in fig.axes[0].texts][:3]
        ['input 32×32×3', '6 filters, each 5×5×3', 'output 28×28×6']
    """
    fn = "draw_conv_volume"
    c_in, h, w = (_positive(v, name, fn) for v, name in zip(in_shape, "CHW", strict=True))
    c_out = _positive(out_channels, "out_channels", fn)
    k = _positive(kernel_size, "kernel_size", fn)
    if c_in > 16 or c_out > len(_FILTER_COLORS):
        raise ValueError(
            f"{fn}: at most 16 input channels and {len(_FILTER_COLORS)} filters stay legible, "
            f"got {c_in} and {c_out}"
        )
    cost = conv2d_cost((c_in, h, w), c_out, k, stride=stride, padding=padding)
    _, h_out, w_out = cost.out_shape
    row, col = position
    if not (0 <= row < h_out and 0 <= col < w_out):
        raise ValueError(f"{fn}: position {position} is outside the {h_out}×{w_out} output")

    unit = max(2.0, 18 / max(c_in, c_out))  # drawing depth of one channel
    fig, ax = _canvas((10, 3.9), dpi)

    # The input, and the chunk read at `position` (rows counted from the top).
    in_colors = list(_INPUT_COLORS) if c_in == 3 else ["#bdbdbd"] * c_in
    _slices(ax, 0, (h, w), in_colors, unit, alpha=0.18, grid=max(h, w) <= 12)
    top = stride * row - padding
    left = stride * col - padding
    chunk_corner = (left, h - top - k, 0.0)
    _cuboid(ax, chunk_corner, (k, k, c_in * unit), _WINDOW, alpha=0.45, edge=_WINDOW, zorder=5)

    # The filters, in a grid between input and output; the output maps after them.
    depth_in = _project(0, 0, c_in * unit)
    x_filters = w + depth_in[0] + 2 * max(3.0, 0.12 * w)
    filters_mid, x_out = _filter_grid(ax, x_filters, (c_in, h, w), c_out, k, unit)
    _slices(ax, x_out, (h_out, w_out), _FILTER_COLORS[:c_out], unit, alpha=0.15)
    # The column of neurons at `position`, one per map.
    for f in reversed(range(c_out)):
        corner = (x_out + col, h_out - row - 1, f * unit)
        _cuboid(ax, corner, (1, 1, 0.6 * unit), _FILTER_COLORS[f], edge="black", lw=1, zorder=6)

    # Dashed lines from the chunk to the column.
    a = _project(left + k, h - top, 0)
    b = _project(left + k, h - top - k, 0)
    ax.plot(*zip(a, _project(x_out + col, h_out - row, 0), strict=True), "--", c="0.4", lw=0.8)
    ax.plot(*zip(b, _project(x_out + col, h_out - row - 1, 0), strict=True), "--", c="0.4", lw=0.8)

    right, top_edge = _conv_volume_labels(
        ax, (c_in, h, w), cost.out_shape, k, unit, filters_mid, x_out
    )
    if note:
        ax.text(right / 2, -6, note, ha="center", va="top", fontsize=11.5)
    ax.set_xlim(-1, right)
    ax.set_ylim(-9 if note else -5, top_edge + 5)
    return fig


def _conv_volume_labels(
    ax,
    in_shape: tuple[int, int, int],
    out_shape: tuple[int, int, int],
    k: int,
    unit: float,
    filters_mid: float,
    x_out: float,
) -> tuple[float, float]:
    """The shape labels under the three parts of :func:`draw_conv_volume` and the two captions
    above; returns the drawing's right edge and its top."""
    (c_in, h, w), (c_out, h_out, w_out) = in_shape, out_shape
    label = {"ha": "center", "va": "top", "fontsize": 12}
    ax.text(w / 2, -2, f"input {h}×{w}×{c_in}", **label)
    ax.text(filters_mid, -2, f"{c_out} filter{'s' * (c_out > 1)}, each {k}×{k}×{c_in}", **label)
    ax.text(x_out + w_out / 2, -2, f"output {h_out}×{w_out}×{c_out}", **label)
    small = {"ha": "center", "va": "bottom", "fontsize": 10.5, "color": "0.2"}
    depth_in = _project(0, 0, c_in * unit)
    ax.text(
        w / 2 + depth_in[0] / 2,
        h + depth_in[1] + 1,
        f"orange: the {k}×{k}×{c_in} chunk one neuron reads (full depth)",
        **small,
    )
    depth_out = _project(0, 0, c_out * unit)
    ax.text(
        x_out + w_out / 2 + depth_out[0] / 2,
        h_out + depth_out[1] + 1,
        f"black: a column of {c_out} neurons [{c_out}×1×1], one per filter"
        if c_out > 1
        else "black: the neuron at this position",
        **small,
    )
    right = x_out + w_out + depth_out[0] + 1
    return right, max(h + depth_in[1], h_out + depth_out[1])


def _canvas(figsize: tuple[float, float], dpi: float) -> tuple[Figure, object]:
    """A figure with one axes, no ticks, equal scales: the page of a volume drawing."""
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_aspect("equal")
    return fig, ax


def _filter_grid(
    ax, x0: float, in_shape: tuple[int, int, int], c_out: int, k: int, unit: float
) -> tuple[float, float]:
    """The ``c_out`` filters of ``k×k×C_in`` in columns from ``x0``, first filter on top, as
    high as the input; returns the grid's middle and where the output volume starts."""
    c_in, h, w = in_shape
    depth_in = _project(0, 0, c_in * unit)
    gap = max(3.0, 0.12 * w)
    filter_w, filter_h = k + depth_in[0], k + depth_in[1]
    per_column = max(1, min(c_out, int((h + gap) // (filter_h + gap))))
    n_cols = math.ceil(c_out / per_column)
    for f in range(c_out):
        fx = x0 + (f // per_column) * (filter_w + gap)
        fy = h - (f % per_column) * (filter_h + gap) - filter_h
        _cuboid(ax, (fx, fy, 0), (k, k, c_in * unit), _FILTER_COLORS[f], alpha=0.85)
    middle = x0 + (n_cols * (filter_w + gap) - gap) / 2
    return middle, x0 + n_cols * (filter_w + gap) + gap


def _arrow(ax, start: tuple[float, float], end: tuple[float, float], text: str) -> None:
    ax.add_patch(
        FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14, color="0.2", lw=1.2)
    )
    mid = ((start[0] + end[0]) / 2, start[1] + 2)
    ax.text(*mid, text, ha="center", va="bottom", fontsize=10.5, linespacing=1.3)


def draw_bottleneck(
    in_shape: tuple[int, int, int] = (192, 28, 28),
    reduced: int = 16,
    out_channels: int = 32,
    kernel_size: int = 5,
    *,
    padding: int | None = None,
    dpi: float = 90,
) -> Figure:
    """The 1×1 bottleneck: a ``k×k`` layer directly, or after a 1×1 layer that cuts the depth.

    Top row: ``H×W×C_in → H×W×C_out`` with ``C_out`` filters of ``k×k×C_in``. Bottom row: a
    ``1×1`` layer down to ``reduced`` channels first, then the ``k×k`` layer on the thin
    volume. Each arrow carries its multiply-adds, and the bottom row its total and the saving,
    all from :func:`cnnutils.geometry.conv2d_cost` (one multiply-add per weight per output
    position, biases not counted). The depth of each box is drawn in proportion to its
    channels.

    Args:
        in_shape: the input ``(C_in, H, W)``.
        reduced: channels after the ``1×1`` layer.
        out_channels: channels of the output.
        kernel_size: ``k`` of the spatial layer.
        padding: of the spatial layer; ``None`` keeps the size, ``(k - 1) // 2``.
        dpi: resolution.

    Returns:
        the figure, one axes without ticks; the counts are in its ``texts``.

    Example:
        >>> fig = draw_bottleneck((192, 28, 28), 16, 32, 5)
        >>> any("120,422,400" in t.get_text() for t in fig.axes[0].texts)
        True
        >>> any("12,443,648" in t.get_text() for t in fig.axes[0].texts)
        True
    """
    fn = "draw_bottleneck"
    c_in, h, w = (_positive(v, name, fn) for v, name in zip(in_shape, "CHW", strict=True))
    mid = _positive(reduced, "reduced", fn)
    c_out = _positive(out_channels, "out_channels", fn)
    k = _positive(kernel_size, "kernel_size", fn)
    pad = (k - 1) // 2 if padding is None else padding
    direct = conv2d_cost((c_in, h, w), c_out, k, padding=pad)
    reduce = conv2d_cost((c_in, h, w), mid, 1)
    spatial = conv2d_cost((mid, h, w), c_out, k, padding=pad)
    total = reduce.multiply_adds + spatial.multiply_adds

    fig, ax = _canvas((10, 5.2), dpi)
    depth_scale = 60 / max(c_in, mid, c_out)  # the deepest box is 60 units deep

    def box(x: float, y: float, shape: tuple[int, int, int], color: str) -> float:
        c, hh, ww = shape
        _cuboid(ax, (x, y, 0), (ww, hh, c * depth_scale), color, alpha=0.9)
        ax.text(x + ww / 2, y - 2, f"{hh}×{ww}×{c}", ha="center", va="top", fontsize=11.5)
        return x + ww + _project(0, 0, c * depth_scale)[0]  # right edge

    def arrow(x0: float, x1: float, y: float, text: str) -> None:
        _arrow(ax, (x0 + 2, y + h / 2), (x1 - 2, y + h / 2), text)

    gap = 52
    top_of_box = h + _project(0, 0, 60)[1]  # the deepest box's top edge, above its front
    rows_y = (top_of_box + 32, 0)
    # Bottom row: input -> 1x1 -> thin volume -> kxk -> output.
    right = box(0, rows_y[1], (c_in, h, w), "#9ecae1")
    x_mid = right + gap
    arrow(right, x_mid, rows_y[1], f"1×1 conv, {mid} filters\n{reduce.multiply_adds:,}")
    right_mid = box(x_mid, rows_y[1], reduce.out_shape, "#fdae6b")
    x_out = right_mid + gap
    arrow(right_mid, x_out, rows_y[1], f"{k}×{k} conv, {c_out} filters\n{spatial.multiply_adds:,}")
    right_out = box(x_out, rows_y[1], spatial.out_shape, "#a1d99b")
    # Top row: input -> kxk -> output, the output above the bottom row's.
    right = box(0, rows_y[0], (c_in, h, w), "#9ecae1")
    text = f"{k}×{k} conv, {c_out} filters\n{direct.multiply_adds:,} multiply-adds"
    arrow(right, x_out, rows_y[0], text)
    box(x_out, rows_y[0], direct.out_shape, "#a1d99b")

    title = {"fontsize": 12.5, "weight": "bold", "va": "bottom"}
    ax.text(-4, rows_y[0] + top_of_box + 3, "directly", **title)
    ax.text(-4, rows_y[1] + top_of_box + 3, f"through a 1×1 bottleneck of {mid}", **title)
    ax.text(
        right_out,
        rows_y[1] - 12,
        f"total {total:,} multiply-adds, {direct.multiply_adds / total:.2f}× fewer",
        ha="right",
        va="top",
        fontsize=11.5,
    )
    ax.set_xlim(-6, right_out + 2)
    ax.set_ylim(rows_y[1] - 20, rows_y[0] + top_of_box + 14)
    return fig


def _as_matrix(value: object, fn: str) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().double().numpy()
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != 2 or 0 in array.shape:
        raise ValueError(f"{fn}: each matrix must be 2-D and non-empty, got shape {array.shape}")
    return array


def show_feature_maps(
    matrices: Sequence[torch.Tensor | np.ndarray],
    titles: Sequence[str],
    *,
    colorbar_label: str | Sequence[str],
    cmap: str = "viridis",
    xlabel: str = "column",
    ylabel: str = "row",
    symmetric: bool = False,
    annotate: bool = False,
    colorbar_ticks: Sequence[float] | None = None,
    ncols: int = 4,
    size: float = 2.6,
    dpi: float = 90,
) -> Figure:
    """Matrices (feature maps, photos, footprints) side by side, each with axes and a colour bar.

    Args:
        matrices: 2-D tensors or arrays, shown with ``imshow`` (row 0 on top).
        titles: one per matrix.
        colorbar_label: what the colours mean, one label for all or one per matrix.
        cmap: colour map.
        xlabel: label of the horizontal axis.
        ylabel: label of the vertical axis.
        symmetric: centre each colour scale on 0 (for signed values).
        annotate: write each value in its cell (for small matrices).
        colorbar_ticks: the values to mark on every colour bar (``[0, 1]`` for a mask), or
            ``None`` for matplotlib's choice.
        ncols: panels per row.
        size: width of one panel in inches.
        dpi: resolution.

    Returns:
        the figure: ``fig.axes`` holds the image axes, in order, then their colour bars.

    Raises:
        ValueError: matrices that are not 2-D, or a number of titles or labels that does not
            match.

    Example:
        >>> mats = [np.eye(3), np.ones((2, 4))]
        >>> fig = show_feature_maps(mats, ["eye", "ones"], colorbar_label="v")
        >>> len(fig.axes), fig.axes[1].get_xlabel(), fig.axes[2].get_ylabel()
        (4, 'column', 'v')
    """
    fn = "show_matrices"
    arrays = [_as_matrix(m, fn) for m in matrices]
    labels = [colorbar_label] * len(arrays) if isinstance(colorbar_label, str) else colorbar_label
    if len(titles) != len(arrays) or len(labels) != len(arrays):
        raise ValueError(
            f"{fn}: {len(arrays)} matrices need as many titles and colour-bar labels, got "
            f"{len(titles)} and {len(labels)}"
        )
    cols = min(ncols, len(arrays))
    rows = math.ceil(len(arrays) / cols)
    fig = Figure(figsize=(cols * size * 1.25, rows * size), dpi=dpi, layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, array, title, label in zip(axes, arrays, titles, labels, strict=False):
        limits = {}
        if symmetric:
            top = float(np.abs(array).max()) or 1.0
            limits = {"vmin": -top, "vmax": top}
        image = ax.imshow(array, cmap=cmap, **limits)
        if annotate:
            _write_values(ax, image, array)
        for axis in (ax.xaxis, ax.yaxis):  # rows and columns are whole numbers
            axis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        ax.set_title(title, fontsize=11)
        ax.set_xlabel(xlabel, fontsize=10)
        ax.set_ylabel(ylabel, fontsize=10)
        ax.tick_params(labelsize=9)
        bar = fig.colorbar(image, ax=ax, shrink=0.85, ticks=colorbar_ticks)
        bar.set_label(label, fontsize=10)
        bar.ax.tick_params(labelsize=9)
    for ax in axes[len(arrays) :]:
        fig.delaxes(ax)
    return fig


def _write_values(ax, image, values: np.ndarray) -> None:
    """Each value in its cell, white on dark colours and black on light ones."""
    for (r, c), v in np.ndenumerate(values):
        red, green, blue, _ = image.cmap(image.norm(v))
        dark = 0.2126 * red + 0.7152 * green + 0.0722 * blue < 0.45
        ax.text(
            c,
            r,
            f"{v:g}",
            ha="center",
            va="center",
            fontsize=10,
            color="white" if dark else "black",
        )


def _annotated(
    fig: Figure,
    ax,
    values: np.ndarray,
    title: str,
    *,
    cmap: str,
    label: str,
    symmetric: bool = False,
    winners: Sequence[tuple[int, int]] = (),
) -> None:
    """A small matrix with its numbers written in, winners circled, axes and a colour bar."""
    top = float(np.abs(values).max()) or 1.0
    vmin = -top if symmetric else min(float(values.min()), 0.0)
    image = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=top)
    _write_values(ax, image, values)
    for r, c in winners:
        ax.add_patch(Circle((c, r), 0.4, fill=False, lw=2.5, color="tab:orange"))
    h, w = values.shape
    ax.set_xticks(range(w))
    ax.set_yticks(range(h))
    ax.set_xlabel("column", fontsize=9)
    ax.set_ylabel("row", fontsize=9)
    ax.tick_params(labelsize=8, length=0)
    ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=ax, shrink=0.8).set_label(label, fontsize=9)


def draw_max_pool_backward(
    x: torch.Tensor | np.ndarray,
    grad_out: torch.Tensor | np.ndarray,
    kernel_size: int = 2,
    *,
    stride: int | None = None,
    dpi: float = 90,
) -> Figure:
    """Max pooling forward and backward on one small map, numbers written in every cell.

    Four panels in two rows. Forward, on top: the input with each window's winner (its switch)
    circled, and the pooled output. Backward, below each: the gradient arriving from above
    (right) and the gradient with respect to the input (left), which is that gradient routed
    to the switches (and summed where one input wins several windows).
    Computed with :func:`cnnutils.ops.pooling.max_pool2d_forward` and
    :func:`cnnutils.ops.pooling.max_pool2d_backward` in float64.

    Args:
        x: the input map, shape ``(H, W)``.
        grad_out: the gradient of the loss with respect to the output, ``(H_out, W_out)``.
        kernel_size: the square window.
        stride: defaults to ``kernel_size``; window borders are drawn when they tile the map.
        dpi: resolution.

    Returns:
        the figure: ``fig.axes`` holds the four panels (x, y, dL/dx, dL/dy), then their colour
        bars.

    Example:
        >>> x = torch.tensor([[1.0, 3.0], [4.0, 2.0]])
        >>> fig = draw_max_pool_backward(x, torch.tensor([[0.5]]))
        >>> fig.axes[2].get_title(), fig.axes[6].get_ylabel()
        ('backward: dL/dx, routed to the switches', 'dL/dx')
    """
    fn = "draw_max_pool_backward"
    x = torch.as_tensor(_as_matrix(x, fn))
    grad = torch.as_tensor(_as_matrix(grad_out, fn))
    k = _positive(kernel_size, "kernel_size", fn)
    s = k if stride is None else _positive(stride, "stride", fn)
    y, cache = max_pool2d_forward(x[None, None], k, stride=s)
    if tuple(grad.shape) != tuple(y.shape[2:]):
        raise ValueError(
            f"{fn}: grad_out must have the output's shape {tuple(y.shape[2:])}, "
            f"got {tuple(grad.shape)}"
        )
    grad_x = max_pool2d_backward(grad[None, None], cache)[0, 0]
    width = x.shape[1]
    winners = [divmod(int(i), width) for i in cache.indices.flatten()]
    fig = Figure(figsize=(8, 6.4), dpi=dpi, layout="constrained")
    # Forward on top (x -> y), backward below it (dL/dx <- dL/dy), each under its variable.
    (ax_x, ax_y), (ax_gx, ax_gy) = fig.subplots(2, 2, width_ratios=[x.shape[1], y.shape[3]])
    _annotated(
        fig,
        ax_x,
        x.numpy(),
        "forward: input x, winners circled",
        cmap="Blues",
        label="x",
        winners=winners,
    )
    _annotated(fig, ax_y, y[0, 0].numpy(), "output y = max", cmap="Blues", label="y")
    _annotated(
        fig,
        ax_gx,
        grad_x.numpy(),
        "backward: dL/dx, routed to the switches",
        cmap="RdBu_r",
        label="dL/dx",
        symmetric=True,
        winners=winners,
    )
    _annotated(
        fig, ax_gy, grad.numpy(), "dL/dy from above", cmap="RdBu_r", label="dL/dy", symmetric=True
    )
    axes = [ax_x, ax_y, ax_gy, ax_gx]
    if s == k:  # windows tile the map: draw their borders
        for ax in (axes[0], axes[3]):
            for b in range(k, x.shape[0], k):
                ax.axhline(b - 0.5, color="black", lw=2)
            for b in range(k, x.shape[1], k):
                ax.axvline(b - 0.5, color="black", lw=2)
    return fig


def overlap_backward_animation(
    x: torch.Tensor | np.ndarray,
    kernel_size: int = 3,
    stride: int = 2,
    *,
    interval: int = 900,
    dpi: float = 72,
) -> FuncAnimation:
    """Max pooling's backward pass window by window: each window sends a gradient of 1 to its
    maximum, and where windows overlap one input can collect several.

    Left, the input with the current window (orange) and its maximum (red circle); right, the
    gradient with respect to the input after the windows so far, numbers written in, on a
    fixed colour scale up to the final maximum. Computed with
    :func:`cnnutils.ops.pooling.max_pool2d_forward` and
    :func:`~cnnutils.ops.pooling.max_pool2d_backward`.

    Args:
        x: the input map, shape ``(H, W)``.
        kernel_size: the square window.
        stride: the stride; smaller than ``kernel_size`` makes the windows overlap.
        interval: milliseconds between frames.
        dpi: resolution.

    Returns:
        the animation, one frame per window (row-major). Show it with
        ``IPython.display.HTML(cnnutils.animation_html(anim, alt=...))``.

    Example:
        >>> anim = overlap_backward_animation(torch.rand(5, 5), 3, 2)
        >>> len(list(anim.new_frame_seq()))
        4
        >>> anim.to_jshtml().count("data:image/png")  # plays in a browser, no kernel needed
        4
    """
    fn = "overlap_backward_animation"
    x = torch.as_tensor(_as_matrix(x, fn))
    k = _positive(kernel_size, "kernel_size", fn)
    s = _positive(stride, "stride", fn)
    _, cache = max_pool2d_forward(x[None, None], k, stride=s)
    h_out, w_out = cache.indices.shape[2:]
    n = h_out * w_out
    switches = cache.indices.flatten().tolist()

    def gradient(frames: int) -> np.ndarray:
        g = torch.zeros(n, dtype=torch.float64)
        g[:frames] = 1.0
        return max_pool2d_backward(g.view(1, 1, h_out, w_out), cache)[0, 0].numpy()

    final_max = float(gradient(n).max())
    fig = Figure(figsize=(7.0, 3.1), dpi=dpi, layout="constrained")
    ax_in, ax_g = fig.subplots(1, 2)
    image_in = ax_in.imshow(x.numpy(), cmap="Greys")
    fig.colorbar(image_in, ax=ax_in, shrink=0.85).set_label("activation x", fontsize=9)
    image_g = ax_g.imshow(gradient(0), cmap="Reds", vmin=0, vmax=final_max)
    fig.colorbar(image_g, ax=ax_g, shrink=0.85).set_label("dL/dx so far", fontsize=9)
    for ax in (ax_in, ax_g):  # ticks where the windows start: fewer labels, faster frames
        ax.set_xticks(range(0, x.shape[1], s))
        ax.set_yticks(range(0, x.shape[0], s))
        ax.set_xlabel("column", fontsize=9)
        ax.set_ylabel("row", fontsize=9)
        ax.tick_params(labelsize=8, length=0)
    window = Rectangle((0, 0), k, k, fill=False, lw=3, color="tab:orange")
    ax_in.add_patch(window)
    (winner,) = ax_in.plot([], [], "o", ms=14, mfc="none", mec="tab:red", mew=2.5)
    texts = [
        [ax_g.text(c, r, "", ha="center", va="center", fontsize=11) for c in range(x.shape[1])]
        for r in range(x.shape[0])
    ]

    def update(frame: int) -> list:
        i, j = divmod(frame, w_out)
        window.set_xy((s * j - 0.5, s * i - 0.5))
        r, c = divmod(switches[frame], x.shape[1])
        winner.set_data([c], [r])
        ax_in.set_title(f"window {frame + 1} of {n} and its maximum", fontsize=10)
        grads = gradient(frame + 1)
        image_g.set_data(grads)
        for (rr, cc), v in np.ndenumerate(grads):
            texts[rr][cc].set_text(f"{v:g}" if v else "")
            texts[rr][cc].set_color("white" if v > 0.7 * final_max else "black")
        ax_g.set_title("gradient so far: 1 per window won", fontsize=10)
        return []

    update(0)
    fig.draw_without_rendering()  # lay the figure out once; the frames keep that layout
    fig.set_layout_engine("none")
    return FuncAnimation(fig, update, frames=n, interval=interval)


def shift_curves_figure(
    shifts: Sequence[int],
    curves: Mapping[str, Sequence[float]],
    *,
    ylabel: str,
    title: str,
    styles: Sequence[str] | None = None,
    dpi: float = 90,
) -> Figure:
    """One line per representation: how much its output changes against the input's shift.

    Args:
        shifts: the shifts in pixels (the x axis).
        curves: a name and one value per shift for each line.
        ylabel: what the values are.
        title: the title.
        styles: one matplotlib format string per curve (``"k-"``, ``"C0-o"``), or ``None``.
        dpi: resolution.

    Returns:
        the figure, one axes with one line per curve and the legend outside on the right.

    Example:
        >>> fig = shift_curves_figure([0, 1], {"a": [0.0, 0.5]}, ylabel="change", title="t")
        >>> len(fig.axes[0].lines), fig.axes[0].get_xlabel()
        (1, 'shift of the input (pixels)')
    """
    if styles is not None and len(styles) != len(curves):
        raise ValueError(
            f"shift_curves_figure: {len(curves)} curves need as many styles, got {len(styles)}"
        )
    fig = Figure(figsize=(9, 3.6), dpi=dpi, layout="constrained")
    ax = fig.add_subplot()
    for index, (name, values) in enumerate(curves.items()):
        style = styles[index] if styles is not None else "-o"
        ax.plot(list(shifts), list(values), style, label=name, ms=4)
    ax.set_xlabel("shift of the input (pixels)")
    ax.set_ylabel(ylabel)
    ax.set_xticks(list(shifts))
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title(title, fontsize=11)
    return fig
