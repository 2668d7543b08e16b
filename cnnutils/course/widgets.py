"""Live explorers: thin ipywidgets shells around pure functions that return figures.

:func:`render_convolution` does the work and is what tests and static pages call;
:func:`conv_explorer` only wires controls to it. The shells use APIs that ipywidgets 7.x
(Colab) and 8.x share: ``Dropdown``, ``IntSlider``, ``Image``, ``HBox``/``VBox`` and
``observe``. ipywidgets is imported when an explorer is built, not with this module.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import torch
from matplotlib.figure import Figure

from cnnutils._checks import _choice, _number, _positive_int
from cnnutils.ops.conv import conv2d
from cnnutils.ops.filters import (
    box_kernel,
    gaussian_kernel,
    laplacian_kernel,
    sharpen_kernel,
    sobel_kernels,
)
from cnnutils.viz.photos import IMAGE_NAMES, load_photo

if TYPE_CHECKING:  # pragma: no cover
    import ipywidgets

__all__ = [
    "KERNEL_NAMES",
    "classic_kernel",
    "conv_explorer",
    "render_convolution",
]


def _identity() -> torch.Tensor:
    kernel = torch.zeros(3, 3, dtype=torch.float64)
    kernel[1, 1] = 1.0
    return kernel


def _random() -> torch.Tensor:
    return torch.randn(3, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


# name -> (factory of a float64 kernel, whether its output is signed, i.e. drawn around 0)
_KERNELS: dict[str, tuple[Callable[[], torch.Tensor], bool]] = {
    "identity": (_identity, False),
    "box blur 5×5": (lambda: box_kernel(5, dtype=torch.float64), False),
    "Gaussian blur σ=2": (lambda: gaussian_kernel(2.0, dtype=torch.float64), False),
    "sharpen": (lambda: sharpen_kernel(dtype=torch.float64), False),
    "Laplacian": (lambda: laplacian_kernel(dtype=torch.float64), True),
    "Sobel x": (lambda: sobel_kernels(dtype=torch.float64)[0], True),
    "Sobel y": (lambda: sobel_kernels(dtype=torch.float64)[1], True),
    "random N(0, 1) 3×3": (_random, False),  # its weights rarely sum to 0: a shaded photo
}
#: The kernels the explorer offers, in menu order.
KERNEL_NAMES = tuple(_KERNELS)


def classic_kernel(name: str) -> torch.Tensor:
    """One of the explorer's kernels by name, in float64.

    Args:
        name: one of :data:`KERNEL_NAMES`. ``"random N(0, 1) 3×3"`` is always the same draw
            (seed 0).

    Returns:
        shape ``(kH, kW)``, a new tensor.

    Example:
        >>> classic_kernel("sharpen")[1]
        tensor([-1.,  5., -1.], dtype=torch.float64)
    """
    _choice(name, "name", "classic_kernel", KERNEL_NAMES)
    return _KERNELS[name][0]()


def render_convolution(
    image_name: str = "camera",
    kernel_name: str = "sharpen",
    stride: int = 1,
    padding: int = 0,
    *,
    size: int = 128,
    dpi: float = 80,
) -> Figure:
    """Photo, kernel and the cross-correlation of the two, side by side.

    The photo (grayscale, longer side ``size``) is cross-correlated with the kernel by
    :func:`cnnutils.ops.conv.conv2d`, with zero padding per side and the given stride; the output
    size follows ``(n + 2 padding - k) // stride + 1``. Blurs and the sharpening kernel are
    drawn in gray from their own minimum to maximum, and so is the random kernel's output (its
    weights rarely sum to 0); the outputs of edge detectors in red (positive) and blue
    (negative), centred on 0. Kernels with at most 5 × 5 taps show their weights.

    Args:
        image_name: one of :data:`IMAGE_NAMES`.
        kernel_name: one of :data:`KERNEL_NAMES`.
        stride: ``>= 1``.
        padding: zeros per side, ``>= 0``.
        size: longer side of the photo in pixels.
        dpi: resolution of the figure.

    Returns:
        a figure with three axes (photo, kernel, output) whose titles give the sizes; it is not
        registered with ``pyplot``.

    Example:
        >>> fig = render_convolution("camera", "Sobel x", stride=2, padding=1, size=64)
        >>> [ax.get_title() for ax in fig.axes]
        ['camera 64×64', 'Sobel x, 3×3', 'output 32×32 (stride 2, padding 1)']
    """
    fn = "render_convolution"
    _choice(kernel_name, "kernel_name", fn, KERNEL_NAMES)
    _choice(image_name, "image_name", fn, IMAGE_NAMES)
    stride = _positive_int(stride, "stride", fn)
    padding = _positive_int(padding, "padding", fn, minimum=0)
    size = _positive_int(size, "size", fn, minimum=8)
    dpi = _number(dpi, "dpi", fn, positive=True)
    photo = load_photo(image_name, size)  # (H, W), float64
    factory, signed = _KERNELS[kernel_name]
    kernel = factory()  # (kH, kW)
    kh, kw = kernel.shape
    h, w = photo.shape
    if kh > h + 2 * padding or kw > w + 2 * padding:
        raise ValueError(f"{fn}: kernel {(kh, kw)} is larger than the padded photo")
    out = conv2d(photo[None, None], kernel[None, None], stride=stride, padding=padding)[0, 0]

    fig = Figure(figsize=(9, 3.3), dpi=dpi, layout="constrained")
    ax_photo, ax_kernel, ax_out = fig.subplots(1, 3, width_ratios=[1, 0.6, 1])
    out, kernel, photo = out.numpy(), kernel.numpy(), photo.numpy()  # matplotlib wants arrays
    ax_photo.imshow(photo, cmap="gray", vmin=0, vmax=1)
    ax_photo.set_title(f"{image_name} {h}×{w}")
    top = float(np.abs(kernel).max())
    ax_kernel.imshow(kernel, cmap="RdBu_r", vmin=-top, vmax=top)
    if kh * kw <= 25:
        for (r, c), value in np.ndenumerate(kernel):
            label = f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"
            dark = abs(value) > 0.6 * top  # white text on the darkest cells
            color = "white" if dark else "black"
            ax_kernel.text(c, r, label, ha="center", va="center", fontsize=9, color=color)
    ax_kernel.set_title(kernel_name if "×" in kernel_name else f"{kernel_name}, {kh}×{kw}")
    if signed:
        limit = float(np.percentile(np.abs(out), 99)) or 1.0
        ax_out.imshow(out, cmap="RdBu_r", vmin=-limit, vmax=limit)
    else:
        ax_out.imshow(out, cmap="gray")
    ax_out.set_title(f"output {out.shape[0]}×{out.shape[1]} (stride {stride}, padding {padding})")
    for ax in fig.axes:
        ax.set_axis_off()
    return fig


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def conv_explorer(
    image_name: str = "camera",
    kernel_name: str = "sharpen",
    stride: int = 1,
    padding: int = 0,
    *,
    render: Callable[..., Figure] = render_convolution,
) -> ipywidgets.VBox:
    """An interactive explorer: pick a photo, a kernel, a stride and a padding; see the output.

    A thin shell: two dropdowns and two sliders whose values are passed to ``render`` (by
    default :func:`render_convolution`) each time one changes; the returned figure is shown as
    a PNG in an ``Image`` widget. (An ``Image`` rather than an ``Output`` widget: nothing is
    printed or captured, so the explorer behaves the same in Jupyter, on Colab, under nbclient
    and in tests.) Needs a live kernel; a static page shows only the widget's text.

    Args:
        image_name: the photo shown first, one of :data:`IMAGE_NAMES`.
        kernel_name: the kernel shown first, one of :data:`KERNEL_NAMES`.
        stride: the first stride, 1 to 4.
        padding: the first padding, 0 to 8.
        render: called as ``render(image_name=..., kernel_name=..., stride=..., padding=...)``,
            returns the figure to show.

    Returns:
        ``VBox([HBox([photo, kernel]), HBox([stride, padding]), image])``; ``image.value``
        holds the PNG bytes of the current figure.

    Example:
        >>> explorer = conv_explorer(render=lambda **kw: Figure(figsize=(1, 1)))
        >>> rows = explorer.children[0].children + explorer.children[1].children
        >>> [c.description for c in rows]
        ['photo', 'kernel', 'stride', 'padding']
        >>> bytes(explorer.children[2].value[:4])
        b'\\x89PNG'
    """
    import ipywidgets as widgets

    fn = "conv_explorer"
    _choice(image_name, "image_name", fn, IMAGE_NAMES)
    _choice(kernel_name, "kernel_name", fn, KERNEL_NAMES)
    stride = _positive_int(stride, "stride", fn, maximum=4)
    padding = _positive_int(padding, "padding", fn, minimum=0, maximum=8)
    if not callable(render):
        raise TypeError(f"{fn}: render must be callable, got {type(render).__name__}")
    controls = {
        "image_name": widgets.Dropdown(options=IMAGE_NAMES, value=image_name, description="photo"),
        "kernel_name": widgets.Dropdown(
            options=KERNEL_NAMES, value=kernel_name, description="kernel"
        ),
        "stride": widgets.IntSlider(value=stride, min=1, max=4, description="stride"),
        "padding": widgets.IntSlider(value=padding, min=0, max=8, description="padding"),
    }
    # No tooltip: the widgets HTML manager that draws saved state on the book's pages cannot
    # draw an Image that has one; the site names the image instead (book/_static).
    image = widgets.Image(format="png")

    def update(change: object = None) -> None:
        values = {name: control.value for name, control in controls.items()}
        image.value = _png(render(**values))

    for control in controls.values():
        control.observe(update, names="value")
    update()
    return widgets.VBox(
        [
            widgets.HBox([controls["image_name"], controls["kernel_name"]]),
            widgets.HBox([controls["stride"], controls["padding"]]),
            image,
        ]
    )
