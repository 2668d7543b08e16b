"""Small figure helpers the chapters reuse: grids of images and orientation-histogram glyphs.

Every helper builds a :class:`matplotlib.figure.Figure` directly, without ``pyplot``, and returns
it: nothing is shown, nothing stays registered with ``pyplot``. In a notebook, leave the returned
figure as the cell's last expression to display it exactly once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from cnnutils.viz.diagrams import _colorbar

__all__ = ["show_images", "show_orientation_histograms"]

ImageLike = torch.Tensor | np.ndarray


def show_images(
    images: Sequence[ImageLike] | ImageLike,
    titles: Sequence[str] | None = None,
    *,
    ncols: int = 4,
    cmap: str | None = None,
    size: float = 2.5,
    symmetric: bool | Sequence[bool] = False,
    robust: bool = False,
    suptitle: str | None = None,
    colorbar_label: str | None = None,
    dpi: float = 90,
) -> Figure:
    """A grid of images (photos, filter responses or kernels), one panel each, axes off.

    Args:
        images: a sequence of images, or one stacked tensor or array of shape ``(N, H, W)``
            (and a tensor ``(N, C, H, W)``). A tensor image is ``(H, W)`` or ``(C, H, W)`` with
            ``C`` in ``{1, 3}`` (PyTorch's layout); an array image is ``(H, W)`` or
            ``(H, W, 3)`` (scikit-image's layout). Tensors may live on any device and require
            grad.
        titles: one title per image, or ``None``.
        ncols: panels per row (fewer if there are fewer images).
        cmap: colour map for single-channel images; ``None`` means ``"gray"``, or ``"RdBu_r"``
            when ``symmetric``.
        size: width and height of one panel, in inches.
        symmetric: centre the colour scale of each single-channel image on 0
            (``vmin = -vmax``), to show signed filter responses and kernels; otherwise each
            image is scaled from its own minimum to its maximum. One bool per image to mix
            both kinds in one figure.
        robust: take the colour limits of single-channel images from the 1st and 99th
            percentiles (of ``|image|`` when symmetric) instead of the extremes, so that a few
            strong pixels do not wash out the rest.
        suptitle: a title over the whole figure.
        colorbar_label: draw one colour bar, with this label, beside the grid; the
            single-channel images then share one colour scale (the limits above, taken over
            all of them), so that their values can be compared. ``None``: no colour bar, each
            image scaled on its own.
        dpi: resolution of the figure.

    Returns:
        the figure, with one axes per image (in order) and empty grid cells removed, then the
        colour bar's axes if there is one.

    Example:
        >>> fig = show_images([torch.rand(3, 8, 8), np.zeros((5, 7))], ["colour", "gray"])
        >>> len(fig.axes), fig.axes[1].get_title()
        (2, 'gray')
    """
    name = "show_images"
    panels = _as_panels(images, name)
    if titles is not None:
        titles = list(titles)
        if len(titles) != len(panels):
            raise ValueError(
                f"{name}: titles must have one entry per image ({len(panels)}), got {len(titles)}"
            )
    if isinstance(ncols, bool) or not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"{name}: ncols must be a positive int, got {ncols!r}")
    cols = min(ncols, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig = Figure(figsize=(cols * size, rows * size), dpi=dpi, layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    if isinstance(symmetric, bool):
        symmetric = [symmetric] * len(panels)
    elif len(symmetric) != len(panels):
        raise ValueError(
            f"{name}: symmetric must be a bool or one bool per image ({len(panels)}), "
            f"got {len(symmetric)}"
        )
    shared = colorbar_label is not None
    if shared and not all(p.ndim == 2 for p in panels):
        raise ValueError(f"{name}: a colour bar needs single-channel (H, W) images only")
    if shared and len(set(symmetric)) > 1:
        raise ValueError(f"{name}: a shared colour bar needs one symmetric setting for all")
    if shared:  # one scale for all: the limits of all their values together
        pooled = np.concatenate([p.ravel() for p in panels])
        shared_limits = _limits(pooled, symmetric[0], robust)
    image = None
    for i, (ax, panel) in enumerate(zip(axes, panels, strict=False)):
        if panel.ndim == 2:
            limits = shared_limits if shared else _limits(panel, symmetric[i], robust)
            default_cmap = "RdBu_r" if symmetric[i] else "gray"
            image = ax.imshow(panel, cmap=cmap if cmap is not None else default_cmap, **limits)
        else:
            ax.imshow(np.clip(panel, 0, 1) if panel.dtype.kind == "f" else panel)
        ax.set_axis_off()
        if titles is not None:
            ax.set_title(titles[i], fontsize=10)
    if shared:
        _colorbar(fig, image, list(axes[: len(panels)]), colorbar_label)
    for ax in axes[len(panels) :]:
        fig.delaxes(ax)
    if suptitle is not None:
        fig.suptitle(suptitle)
    return fig


def _limits(values: np.ndarray, symmetric: bool, robust: bool) -> dict[str, float]:
    """``imshow``'s ``vmin``/``vmax`` for :func:`show_images`' single-channel panels."""
    values = values.astype(np.float64)
    if symmetric:
        top = np.percentile(np.abs(values), 99) if robust else np.abs(values).max()
        vmax = float(top) or 1.0
        return {"vmin": -vmax, "vmax": vmax}
    if robust:
        low, high = np.percentile(values, [1, 99])
        return {"vmin": float(low), "vmax": float(high)}
    return {"vmin": float(values.min()), "vmax": float(values.max())}


def show_orientation_histograms(
    hist: ImageLike,
    *,
    cell_size: int,
    image: ImageLike | None = None,
    signed: bool = False,
    size: float = 5.0,
    color: str = "gold",
    dpi: float = 90,
) -> Figure:
    """Draw per-cell orientation histograms as glyphs, optionally over the image.

    Each cell gets one line per bin through its centre, drawn **along the edge**, i.e.
    perpendicular to the bin's mean gradient orientation, with a length proportional to the
    bin's value: the 99th percentile of all values spans the cell, larger ones are clipped to
    it. Angles follow :mod:`cnnutils.ops.filters`: from ``x`` (right) towards ``y`` (down). With
    ``signed`` the bins ``b`` and ``b + bins / 2`` draw the same line: the glyph shows edges,
    not their polarity.

    Args:
        hist: histograms of shape ``(cells_y, cells_x, bins)``, as returned by
            :func:`cnnutils.ops.filters.orientation_histogram`.
        cell_size: side of a cell in pixels, to place the glyphs on the image.
        image: a grayscale image ``(H, W)`` drawn underneath, darkened; ``None`` for a plain
            black background.
        signed: whether the bins cover 360° (else 180°).
        size: height of the figure in inches; the width follows the aspect ratio.
        color: colour of the glyphs.
        dpi: resolution of the figure.

    Returns:
        the figure, with one axes holding one ``LineCollection`` of
        ``cells_y * cells_x * bins`` segments.

    Example:
        >>> fig = show_orientation_histograms(torch.rand(4, 6, 9), cell_size=8)
        >>> len(fig.axes[0].collections[0].get_segments())
        216
    """
    name = "show_orientation_histograms"
    if isinstance(hist, torch.Tensor):
        hist = hist.detach().cpu().numpy()
    if not isinstance(hist, np.ndarray) or hist.ndim != 3:
        raise ValueError(
            f"{name}: hist must have shape (cells_y, cells_x, bins), "
            f"got {getattr(hist, 'shape', type(hist).__name__)}"
        )
    cells_y, cells_x, bins = hist.shape
    period = 2 * math.pi if signed else math.pi
    edge_angle = (np.arange(bins) + 0.5) * period / bins + math.pi / 2  # (bins,)
    scale = float(np.percentile(hist, 99)) or float(hist.max()) or 1.0
    half = 0.5 * cell_size * np.minimum(hist / scale, 1.0)  # (cells_y, cells_x, bins)
    cy = (np.arange(cells_y) + 0.5) * cell_size - 0.5  # pixel centres, imshow coordinates
    cx = (np.arange(cells_x) + 0.5) * cell_size - 0.5
    dx = half * np.cos(edge_angle)
    dy = half * np.sin(edge_angle)  # y points down, as in imshow
    x0 = cx[None, :, None]
    y0 = cy[:, None, None]
    start = np.stack([x0 - dx, y0 - dy], axis=-1)
    stop = np.stack([x0 + dx, y0 + dy], axis=-1)
    segments = np.stack([start, stop], axis=-2).reshape(-1, 2, 2)  # (cells * bins, 2, 2)

    height, width = cells_y * cell_size, cells_x * cell_size
    fig = Figure(figsize=(size * width / height, size), dpi=dpi, layout="constrained")
    ax = fig.add_subplot()
    if image is not None:
        panel = _to_numpy_image(image, name)
        if panel.ndim != 2:
            raise ValueError(f"{name}: image must be grayscale (H, W), got {panel.shape}")
        ax.imshow(panel, cmap="gray", alpha=0.45)  # over the black face: a dark photo
    ax.set_facecolor("black")
    ax.add_collection(LineCollection(segments, colors=color, linewidths=1.3))
    ax.set_xlim(-0.5, width - 0.5)
    ax.set_ylim(height - 0.5, -0.5)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    return fig


def _as_panels(images: Sequence[ImageLike] | ImageLike, name: str) -> list[np.ndarray]:
    if isinstance(images, torch.Tensor):
        if images.dim() not in (3, 4):
            raise ValueError(
                f"{name}: a stacked tensor must have shape (N, H, W) or (N, C, H, W), "
                f"got {tuple(images.shape)}"
            )
        images = list(images.unbind(0))
    elif isinstance(images, np.ndarray):
        if images.ndim != 3:
            raise ValueError(
                f"{name}: a stacked array must have shape (N, H, W), got {images.shape}"
            )
        images = list(images)
    elif not isinstance(images, Sequence) or isinstance(images, str):
        raise TypeError(
            f"{name}: images must be a sequence of tensors or arrays, got {type(images).__name__}"
        )
    if len(images) == 0:
        raise ValueError(f"{name}: images must not be empty")
    return [_to_numpy_image(image, name) for image in images]


def _to_numpy_image(image: ImageLike, name: str) -> np.ndarray:
    if isinstance(image, torch.Tensor):
        tensor = image.detach().cpu()
        array = (tensor.float() if tensor.is_floating_point() else tensor).numpy()
        if array.ndim == 3 and array.shape[0] in (1, 3):
            array = np.moveaxis(array, 0, -1)  # (C, H, W) -> (H, W, C)
    elif isinstance(image, np.ndarray):
        array = image
    else:
        raise TypeError(
            f"{name}: each image must be a torch.Tensor or a numpy array, "
            f"got {type(image).__name__}"
        )
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim == 2 or (array.ndim == 3 and array.shape[-1] in (3, 4)):
        return array
    raise ValueError(
        f"{name}: an image must be (H, W), a tensor (C, H, W) or an array (H, W, 3), "
        f"got {tuple(image.shape)}"
    )
