"""Figures for the first chapters: labelled matrices, connection diagrams, an accessible player.

Every helper builds a :class:`matplotlib.figure.Figure` without ``pyplot`` and returns it; nothing
is shown and nothing stays registered with ``pyplot``. Leave the figure as a cell's last
expression to display it once.

* :func:`show_matrices` draws kernels, weight matrices and response maps with their axes
  labelled (row and column indices) and a colour bar, so a reader can read values off the figure.
* :func:`connections_figure` draws the units of a few linear layers as circles and a line for
  every non-zero weight; :func:`reached_from` and :func:`depends_on` follow those connections
  up or down a stack.
* :func:`dense_vs_local_figure` is the picture behind the first chapter: one unit connected to
  every pixel, one connected to a window, and windows that share one set of weights.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

import numpy as np
import torch
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

__all__ = [
    "connections_figure",
    "dense_vs_local_figure",
    "depends_on",
    "reached_from",
    "show_matrices",
]

MatrixLike = torch.Tensor | np.ndarray


def _matrix(value: object, fn: str, what: str) -> np.ndarray:
    """A 2-D float64 array from a tensor or an array (any device, grad or not)."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().double().numpy()
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{fn}: {what} must be a tensor or an array, got {type(value).__name__}")
    if value.ndim != 2 or value.size == 0:
        raise ValueError(f"{fn}: {what} must be a non-empty 2-D matrix, got shape {value.shape}")
    return value.astype(np.float64)


def _label(value: float) -> str:
    """Integers without decimals, other numbers with two significant decimals."""
    if abs(value - round(value)) < 1e-9:
        return f"{round(value) + 0.0:.0f}"  # + 0.0 turns -0 into 0
    return f"{round(value, 2) + 0.0:.2f}"  # no "-0.00"


def show_matrices(
    matrices: Sequence[MatrixLike] | MatrixLike,
    titles: Sequence[str] | None = None,
    *,
    ncols: int = 4,
    size: float = 2.4,
    symmetric: bool | Sequence[bool] = True,
    shared_scale: bool = False,
    annotate: bool | None = None,
    annotate_zeros: bool = True,
    robust: bool = False,
    cmap: str | Sequence[str | None] | None = None,
    xlabel: str = "column",
    ylabel: str = "row",
    colorbar_label: str | None = None,
    suptitle: str | None = None,
    dpi: float = 90,
) -> Figure:
    """Matrices as labelled heat maps: row and column indices on the axes, a colour bar each.

    Use it for kernels, weight matrices and signed responses, where the numbers matter; use
    :func:`cnnutils.plotting.show_images` for photos.

    Args:
        matrices: a sequence of 2-D tensors or arrays, one stacked ``(N, H, W)`` tensor or
            array, or a single 2-D matrix.
        titles: one title per matrix, or ``None``.
        ncols: panels per row (fewer if there are fewer matrices).
        size: height of one panel in inches (its colour bar adds to the width).
        symmetric: centre the colour scale on 0 (``vmin = -vmax``, colour map ``"RdBu_r"``:
            red positive, blue negative); otherwise from the minimum to the maximum (colour map
            ``"gray"``). One bool per matrix to mix both.
        shared_scale: one colour scale and one colour bar for all panels (compare values
            across panels), instead of one per panel.
        annotate: write each entry's value in its cell; ``None`` means "when the matrix has at
            most 8 × 8 entries".
        annotate_zeros: also write the zeros (``False`` leaves zero cells blank, for sparse
            matrices such as an impulse).
        robust: colour limits from the 1st and 99th percentiles (of ``|values|`` when
            symmetric), so that a few extreme entries do not wash out the rest.
        cmap: a colour map for every panel, or one per matrix (``None`` entries keep the
            defaults above).
        xlabel, ylabel: the axis labels (the indices are those of the matrix).
        colorbar_label: a label for the colour bar(s), or ``None``.
        suptitle: a title over the whole figure.
        dpi: resolution of the figure.

    Returns:
        the figure. Its first ``N`` axes are the panels, in order; the colour bars' axes follow.

    Raises:
        TypeError: a matrix that is not a tensor or an array.
        ValueError: a matrix that is not 2-D, or titles or symmetric of the wrong length.

    Example:
        >>> fig = show_matrices([torch.eye(3), -torch.ones(2, 4)], ["identity", "minus one"])
        >>> [ax.get_title() for ax in fig.axes[:2]], fig.axes[0].get_xlabel()
        (['identity', 'minus one'], 'column')
        >>> len(fig.axes)  # two panels, two colour bars
        4
        >>> len(show_matrices(torch.rand(3, 5, 5), shared_scale=True).axes)  # one shared bar
        4
    """
    fn = "show_matrices"
    panels = _panels(matrices, fn)
    n = len(panels)
    if titles is not None and len(titles) != n:
        raise ValueError(f"{fn}: titles must have one entry per matrix ({n}), got {len(titles)}")
    if isinstance(symmetric, bool):
        symmetric = [symmetric] * n
    elif len(symmetric) != n:
        raise ValueError(
            f"{fn}: symmetric must be a bool or one bool per matrix ({n}), got {len(symmetric)}"
        )
    if isinstance(ncols, bool) or not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"{fn}: ncols must be a positive int, got {ncols!r}")
    cmaps = [cmap] * n if cmap is None or isinstance(cmap, str) else list(cmap)
    if len(cmaps) != n:
        raise ValueError(f"{fn}: cmap must be a name or one entry per matrix ({n})")
    if shared_scale:
        everything = np.concatenate([p.ravel() for p in panels])
        shared = _limits(everything, any(symmetric), robust)
    fig, axes = _panel_grid(panels, ncols, size, shared_scale, dpi)
    images = []
    for i, (ax, values) in enumerate(zip(axes, panels, strict=True)):
        vmin, vmax = shared if shared_scale else _limits(values, symmetric[i], robust)
        colours = cmaps[i] or ("RdBu_r" if symmetric[i] else "gray")
        image = ax.imshow(values, cmap=colours, vmin=vmin, vmax=vmax, interpolation="nearest")
        images.append(image)
        show_numbers = annotate if annotate is not None else max(values.shape) <= 8
        if show_numbers:
            dark = _dark_cells(values, vmin, vmax, symmetric[i], cmaps[i] is None)
            _write_cells(ax, values, dark, annotate_zeros)
        _index_axes(ax, values.shape, xlabel, ylabel)
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
    if shared_scale:
        _colorbar(fig, images[0], axes, colorbar_label)
    else:
        for ax, image in zip(axes, images, strict=True):
            _colorbar(fig, image, ax, colorbar_label)
    if suptitle is not None:
        fig.suptitle(suptitle, fontsize=10)
    return fig


def _panels(matrices: Sequence[MatrixLike] | MatrixLike, fn: str) -> list[np.ndarray]:
    """The matrices to show as 2-D arrays: a list, a stacked ``(N, H, W)`` or one ``(H, W)``."""
    if isinstance(matrices, (torch.Tensor, np.ndarray)):
        if matrices.ndim == 2:
            matrices = [matrices]
        elif matrices.ndim == 3:
            matrices = list(matrices)
        else:
            raise ValueError(
                f"{fn}: a stacked input must have shape (N, H, W) or (H, W), "
                f"got {tuple(matrices.shape)}"
            )
    panels = [_matrix(m, fn, f"matrix {i}") for i, m in enumerate(matrices)]
    if not panels:
        raise ValueError(f"{fn}: no matrices to show")
    return panels


def _limits(values: np.ndarray, centred: bool, robust: bool) -> tuple[float, float]:
    """Colour limits: symmetric about 0 when ``centred``; percentiles 1 and 99 when ``robust``."""
    if centred:
        top = np.percentile(np.abs(values), 99) if robust else np.abs(values).max()
        top = float(top) or 1.0
        return -top, top
    low, high = np.percentile(values, [1, 99]) if robust else (values.min(), values.max())
    return (float(low), float(high)) if high > low else (float(low) - 1, float(high) + 1)


def _panel_grid(
    panels: list[np.ndarray], ncols: int, size: float, shared_scale: bool, dpi: float
) -> tuple[Figure, list]:
    """A figure with one axes per panel, ``ncols`` to a row; the unused grid cells removed."""
    n = len(panels)
    cols = min(ncols, n)
    rows = math.ceil(n / cols)
    aspect = max(p.shape[1] / p.shape[0] for p in panels)
    panel_width = size * min(max(aspect, 0.6), 3.0) + (0 if shared_scale else 0.45 * size)
    width = cols * panel_width + (0.5 if shared_scale else 0)
    fig = Figure(figsize=(width, rows * (size + 0.25)), dpi=dpi, layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[n:]:
        fig.delaxes(ax)
    return fig, list(axes[:n])


def _dark_cells(
    values: np.ndarray, vmin: float, vmax: float, diverging: bool, gray: bool
) -> np.ndarray:
    """Where the colour map is dark, so that a cell's number is written in white."""
    middle = (vmin + vmax) / 2
    spread = (vmax - vmin) or 1.0
    if diverging:  # dark at both ends
        return np.abs(values - middle) > 0.3 * spread
    if gray:  # dark at the low end
        return values < middle
    return values > vmin + 0.55 * spread  # sequential maps are dark at the high end


def _write_cells(ax, values: np.ndarray, dark: np.ndarray, zeros: bool) -> None:
    """Each entry's value in its cell (zeros left blank unless ``zeros``)."""
    fontsize = 7 if max(values.shape) > 5 else 8
    for (r, c), value in np.ndenumerate(values):
        if value == 0 and not zeros:
            continue
        colour = "white" if dark[r, c] else "black"
        ax.text(c, r, _label(value), ha="center", va="center", fontsize=fontsize, color=colour)


def _index_axes(ax, shape: tuple[int, int], xlabel: str, ylabel: str) -> None:
    """Row and column indices as ticks (every one up to 10, else about five), and labels."""
    h, w = shape
    for axis, count in ((ax.xaxis, w), (ax.yaxis, h)):
        if count <= 10:
            axis.set_ticks(range(count))
        else:
            axis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    ax.tick_params(labelsize=7, length=2)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)


def _colorbar(fig: Figure, image, ax, label: str | None) -> None:
    """A colour bar beside ``ax`` (one axes or a list of them), small ticks, an optional label."""
    bar = fig.colorbar(image, ax=ax, shrink=0.8)
    bar.ax.tick_params(labelsize=7)
    if label:
        bar.set_label(label, fontsize=8)


def _support(matrix: MatrixLike) -> np.ndarray:
    """Boolean ``(n_out, n_in)``: where a weight matrix is non-zero."""
    return _matrix(matrix, "connections", "a weight matrix") != 0


def reached_from(matrices: Sequence[MatrixLike], j: int) -> list[set[int]]:
    """The units each level of a stack reaches from unit ``j`` of the bottom level, going up.

    Args:
        matrices: the stack's weight matrices, bottom first; matrix ``l`` has shape
            ``(n_{l+1}, n_l)`` and connects level ``l`` to level ``l + 1`` where non-zero.
        j: a unit of level 0.

    Returns:
        one set of unit indices per level, ``len(matrices) + 1`` in all, ``{j}`` first.

    Example:
        >>> band = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 1], [0, 0, 1, 1]])
        >>> reached_from([band, band], 0)
        [{0}, {0, 1}, {0, 1, 2}]
    """
    marked = [{j}]
    for m in matrices:
        support = _support(m)
        marked.append({i for i in range(support.shape[0]) if support[i, list(marked[-1])].any()})
    return marked


def depends_on(matrices: Sequence[MatrixLike], i: int) -> list[set[int]]:
    """The units of each level that unit ``i`` of the top level depends on: its receptive field.

    Args:
        matrices: the stack's weight matrices, bottom first, as in :func:`reached_from`.
        i: a unit of the top level.

    Returns:
        one set per level, bottom first, ``{i}`` last.

    Example:
        >>> band = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 1], [0, 0, 1, 1]])
        >>> depends_on([band, band], 3)
        [{1, 2, 3}, {2, 3}, {3}]
    """
    marked = [{i}]
    for m in reversed(matrices):
        support = _support(m)
        marked.insert(0, {k for k in range(support.shape[1]) if support[list(marked[0]), k].any()})
    return marked


def connections_figure(
    stacks: Sequence[Sequence[MatrixLike]],
    *,
    names: Sequence[str],
    marked: Sequence[Sequence[set[int]] | None] | None = None,
    titles: Sequence[str] | None = None,
    panel_size: tuple[float, float] = (4.0, 2.3),
    dpi: float = 90,
) -> Figure:
    """Units as circles, level 0 at the bottom, and a line for every non-zero weight.

    Args:
        stacks: one stack per panel; a stack is a list of weight matrices, bottom first,
            matrix ``l`` of shape ``(n_{l+1}, n_l)``.
        names: the letter of each level's units, bottom first (``["x", "s"]`` labels the units
            ``x_1 ... x_n`` and ``s_1 ... s_m``); the same for every panel.
        marked: per panel, one set of unit indices per level to draw in orange (a line is
            orange when both its ends are marked), as :func:`reached_from` and
            :func:`depends_on` return; ``None`` marks nothing.
        titles: one title per panel.
        panel_size: width and height of one panel, in inches.
        dpi: resolution of the figure.

    Returns:
        the figure, one axes per panel, axes hidden.

    Raises:
        ValueError: stacks whose matrices do not chain, or names, marked or titles of the
            wrong length.

    Example:
        >>> band = torch.tensor([[1.0, 1, 0], [1, 1, 1], [0, 1, 1]])
        >>> fig = connections_figure([[band], [torch.ones(3, 3)]], names=["x", "s"],
        ...                          marked=[reached_from([band], 0), None])
        >>> len(fig.axes), len(fig.axes[0].lines), len(fig.axes[1].lines)
        (2, 7, 9)
    """
    fn = "connections_figure"
    n = len(stacks)
    marked = [None] * n if marked is None else list(marked)
    if len(marked) != n or (titles is not None and len(titles) != n):
        raise ValueError(f"{fn}: marked and titles need one entry per panel ({n})")
    fig = Figure(figsize=(panel_size[0] * n, panel_size[1]), dpi=dpi, layout="constrained")
    axes = fig.subplots(1, n, squeeze=False)[0]
    for p, (ax, stack) in enumerate(zip(axes, stacks, strict=True)):
        supports = [_support(m) for m in stack]
        sizes = [supports[0].shape[1]] + [s.shape[0] for s in supports]
        for below, above in pairwise(supports):
            if above.shape[1] != below.shape[0]:
                raise ValueError(f"{fn}: panel {p}: matrix shapes do not chain")
        if len(names) != len(sizes):
            raise ValueError(f"{fn}: names needs one letter per level ({len(sizes)})")
        mark = marked[p] if marked[p] is not None else [set() for _ in sizes]
        offsets = [(max(sizes) - s) / 2 for s in sizes]  # centre narrower levels
        for level, support in enumerate(supports):
            for i, j in zip(*np.nonzero(support), strict=True):
                on = j in mark[level] and i in mark[level + 1]
                ax.plot(
                    [j + offsets[level], i + offsets[level + 1]],
                    [level, level + 1],
                    color="tab:orange" if on else "0.7",
                    lw=2.2 if on else 0.8,
                    zorder=1,
                )
        for level, (count, name) in enumerate(zip(sizes, names, strict=True)):
            for j in range(count):
                x = j + offsets[level]
                face = "tab:orange" if j in mark[level] else "white"
                ax.scatter(x, level, s=420, color=face, edgecolors="0.2", zorder=2)
                label = f"${name}_{{{j + 1}}}$"
                ax.text(x, level, label, ha="center", va="center", fontsize=9, zorder=3)
        ax.set_xlim(-0.6, max(sizes) - 0.4)
        ax.set_ylim(-0.5, len(sizes) - 0.5)
        if titles is not None:
            ax.set_title(titles[p], fontsize=10)
        ax.set_axis_off()
    return fig


def dense_vs_local_figure(side: int = 6, window: int = 3, *, dpi: float = 90) -> Figure:
    """Three ways to connect a hidden layer to an image, drawn on a ``side × side`` pixel grid.

    Left, *fully connected*: one hidden unit with a line to every pixel (``side²`` weights).
    Middle, *local*: one unit with lines to a ``window × window`` patch only. Right,
    *convolution*: two units at different positions, each with a window, and the same
    ``window²`` weights (drawn as the same colours) in both windows.

    Args:
        side: pixels per side of the grid, ``>= window + 1``.
        window: side of the local window, ``>= 1``.
        dpi: resolution of the figure.

    Returns:
        the figure, three axes; the left one holds ``side²`` connection lines, the middle one
        ``window²``, the right one ``2 · window²``.

    Example:
        >>> fig = dense_vs_local_figure(side=5, window=2)
        >>> [len(ax.lines) for ax in fig.axes]
        [25, 4, 8]
    """
    fn = "dense_vs_local_figure"
    for name, value, low in (("side", side, 2), ("window", window, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{fn}: {name} must be an int >= {low}, got {value!r}")
    if window >= side:
        raise ValueError(f"{fn}: window ({window}) must be smaller than side ({side})")
    fig = Figure(figsize=(8.4, 3.6), dpi=dpi, layout="constrained")
    axes = fig.subplots(1, 3)
    weights = np.linspace(0.15, 0.95, window * window)  # a fixed set of "weights"
    palette = [tuple(c) for c in colormaps["viridis"](weights)]
    unit_y = side + 2.2  # hidden units float above the grid
    titles = [
        f"fully connected: {side * side} weights",
        f"local window: {window * window} weights",
        f"convolution: {window * window} shared weights",
    ]

    def grid(ax) -> None:
        for r in range(side):
            for c in range(side):
                ax.add_patch(Rectangle((c, r), 1, 1, facecolor="0.96", edgecolor="0.6", lw=0.6))

    def connect(ax, corner: tuple[int, int], size: int, unit_x: float, coloured: bool) -> None:
        # corner: (column, row) of the window's lower-left pixel; y grows upwards.
        c0, r0 = corner
        cells = [(r, c) for r in range(r0, r0 + size) for c in range(c0, c0 + size)]
        for k, (r, c) in enumerate(cells):
            colour = palette[k] if coloured else "0.5"
            fill = palette[k] if coloured else "tab:orange"
            if size < side:
                ax.add_patch(Rectangle((c, r), 1, 1, facecolor=fill, alpha=0.5, lw=0))
            ax.plot([c + 0.5, unit_x], [r + 0.5, unit_y], color=colour, lw=1.0 if coloured else 0.5)
        ax.scatter(unit_x, unit_y, s=260, color="tab:orange", edgecolors="0.2", zorder=3)

    for ax, title in zip(axes, titles, strict=True):
        grid(ax)
        ax.set_title(title, fontsize=9)
    top = side - window  # windows in the top rows, so their lines cross no other pixel
    connect(axes[0], (0, 0), side, side / 2, coloured=False)
    connect(axes[1], ((side - window) // 2, top), window, side / 2, coloured=False)
    connect(axes[2], (0, top), window, window / 2, coloured=True)
    connect(axes[2], (side - window, top), window, side - window / 2, coloured=True)
    for ax in axes:
        ax.text(side / 2, -0.4, "image pixels", ha="center", va="top", fontsize=8)
        ax.text(side / 2, unit_y + 0.9, "hidden units", ha="center", va="bottom", fontsize=8)
        ax.set_xlim(-0.3, side + 0.3)
        ax.set_ylim(-1.4, unit_y + 2.0)
        ax.set_aspect("equal")
        ax.set_axis_off()
    return fig
