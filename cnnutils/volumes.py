"""Convolution layers on volumes: what a layer costs, which inputs its windows read, animations.

A convolution layer maps a volume ``(C_in, H, W)`` to a volume ``(C_out, H_out, W_out)``. Each
of its ``C_out`` filters spans the full depth of its input (of its channel group, with
``groups > 1``), so the weights are 4-D, ``(C_out, C_in // groups, kH, kW)``, and each output
value is one dot product of a filter with a ``C_in // groups × kH × kW`` chunk of the input,
plus a bias. Conventions, as in PyTorch and :mod:`cnnutils.conv`:

* **NCHW**: channels first; one image here is ``(C, H, W)``.
* **Padding is per side**: ``padding=1`` adds a row of zeros on top *and* one below.
* **Dilation 1 means no gaps** (CS231n and some papers call that dilation 0). A kernel of size
  ``k`` with dilation ``d`` spans ``k_eff = d (k - 1) + 1`` pixels.
* **Multiply-adds** count one per weight per output position, biases not counted: what
  ``torch.utils.flop_counter.FlopCounterMode`` reports, divided by 2 (it counts a multiply-add
  as two FLOPs).

:func:`conv2d_cost` counts parameters and multiply-adds; :func:`window_taps` and
:func:`untouched_indices` say which input rows (or columns) each output position reads and which
none reads; :func:`volume_conv_frame` and :func:`volume_conv_animation` draw it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.animation import FuncAnimation
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from cnnutils.conv import _is_int, _pair, conv_output_size

__all__ = [
    "ConvCost",
    "conv2d_cost",
    "untouched_indices",
    "volume_conv_animation",
    "volume_conv_frame",
    "window_taps",
]


@dataclass(frozen=True)
class ConvCost:
    """Shapes, parameters and arithmetic of one ``nn.Conv2d`` applied to one image.

    Attributes:
        in_shape: the input volume ``(C_in, H, W)``.
        out_shape: the output volume ``(C_out, H_out, W_out)``.
        weight_shape: ``(C_out, C_in // groups, kH, kW)``, as ``nn.Conv2d.weight``.
        parameters: weights plus biases, as ``sum(p.numel() for p in conv.parameters())``.
        multiply_adds: ``C_out H_out W_out (C_in // groups) kH kW``, one per weight per output
            position; the bias additions are not counted (``FlopCounterMode`` does not count
            them either).
    """

    in_shape: tuple[int, int, int]
    out_shape: tuple[int, int, int]
    weight_shape: tuple[int, int, int, int]
    parameters: int
    multiply_adds: int

    @property
    def flops(self) -> int:
        """Twice ``multiply_adds``, what ``torch.utils.flop_counter`` counts for one image."""
        return 2 * self.multiply_adds


def _positive_int(value: object, name: str, fn: str, minimum: int = 1) -> int:
    if not _is_int(value):
        raise TypeError(f"{fn}: {name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{fn}: {name} must be >= {minimum}, got {value!r}")
    return int(value)


def _check_fits(
    fn: str,
    size: tuple[int, int],
    kernel: tuple[int, int],
    padding: tuple[int, int],
    dilation: tuple[int, int],
) -> None:
    """Raise a ``ValueError`` naming ``fn`` when the dilated kernel exceeds the padded input."""
    span = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel, strict=True))
    padded = tuple(n + 2 * p for n, p in zip(size, padding, strict=True))
    if span[0] > padded[0] or span[1] > padded[1]:
        raise ValueError(
            f"{fn}: the effective kernel (dilation·(k - 1) + 1) {span} must fit in the padded "
            f"input {padded}; got kernel {kernel}, dilation {dilation}, input {size}"
        )


def conv2d_cost(
    in_shape: tuple[int, int, int],
    out_channels: int,
    kernel_size: int | tuple[int, int],
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
    bias: bool = True,
) -> ConvCost:
    """Output shape, parameter count and multiply-adds of ``nn.Conv2d`` on one image.

    With ``g = groups``: weights ``C_out (C_in / g) kH kW`` (each filter spans the ``C_in / g``
    channels of its group), plus ``C_out`` biases; multiply-adds ``H_out W_out`` times the
    number of weights. Groups divide both counts by ``g``; a depthwise convolution
    (``g = C_in``) has filters one channel deep.

    Args:
        in_shape: the input volume ``(C_in, H, W)`` (one image, no batch axis).
        out_channels: ``C_out``, the number of filters.
        kernel_size: ``k`` or ``(kH, kW)``.
        stride: an int or a pair, ``>= 1``.
        padding: zeros **per side**, an int or a pair, ``>= 0``.
        dilation: an int or a pair, ``>= 1``; 1 means no gaps.
        groups: divides ``C_in`` and ``C_out``.
        bias: whether the layer has biases.

    Returns:
        A :class:`ConvCost`; ``out_shape`` uses :func:`cnnutils.conv.conv_output_size`,
        ``(H + 2p - d (k - 1) - 1) // s + 1`` per axis.

    Raises:
        TypeError: a non-integer size or hyperparameter, or a non-bool ``bias``.
        ValueError: out-of-range values, ``groups`` not dividing the channels, or a kernel
            that does not fit in the padded input.

    Example:
        >>> cost = conv2d_cost((3, 32, 32), 6, 5)  # the slide's six 5×5 filters on CIFAR-10
        >>> cost.out_shape, cost.weight_shape, cost.parameters, cost.multiply_adds
        ((6, 28, 28), (6, 3, 5, 5), 456, 352800)
    """
    fn = "conv2d_cost"
    if not (isinstance(in_shape, (tuple, list)) and len(in_shape) == 3):
        raise TypeError(f"{fn}: in_shape must be a tuple (C_in, H, W), got {in_shape!r}")
    c_in, h, w = (_positive_int(v, f"in_shape[{i}]", fn) for i, v in enumerate(in_shape))
    c_out = _positive_int(out_channels, "out_channels", fn)
    groups = _positive_int(groups, "groups", fn)
    if not isinstance(bias, bool):
        raise TypeError(f"{fn}: bias must be a bool, got {bias!r}")
    if c_in % groups or c_out % groups:
        raise ValueError(
            f"{fn}: groups must divide C_in and out_channels, got groups={groups}, "
            f"C_in={c_in}, out_channels={c_out}"
        )
    kernel = _pair(kernel_size, "kernel_size", fn, 1)
    stride_ = _pair(stride, "stride", fn, 1)
    padding_ = _pair(padding, "padding", fn, 0)
    dilation_ = _pair(dilation, "dilation", fn, 1)
    _check_fits(fn, (h, w), kernel, padding_, dilation_)
    h_out, w_out = conv_output_size((h, w), kernel, stride_, padding_, dilation_)

    weight_shape = (c_out, c_in // groups, kernel[0], kernel[1])
    n_weights = int(np.prod(weight_shape))
    return ConvCost(
        in_shape=(c_in, h, w),
        out_shape=(c_out, h_out, w_out),
        weight_shape=weight_shape,
        parameters=n_weights + (c_out if bias else 0),
        multiply_adds=n_weights * h_out * w_out,
    )


def _axis_args(
    fn: str, size: object, kernel_size: object, stride: object, padding: object, dilation: object
) -> tuple[int, int, int, int, int]:
    size = _positive_int(size, "size", fn)
    kernel_size = _positive_int(kernel_size, "kernel_size", fn)
    stride = _positive_int(stride, "stride", fn)
    padding = _positive_int(padding, "padding", fn, minimum=0)
    dilation = _positive_int(dilation, "dilation", fn)
    _check_fits(fn, (size, size), (kernel_size,) * 2, (padding,) * 2, (dilation,) * 2)
    return size, kernel_size, stride, padding, dilation


def window_taps(
    size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> list[list[int]]:
    """The input indices each output position reads, along one axis.

    Output position ``i`` reads input indices ``s i - p + d a`` for ``a = 0, ..., k - 1``.
    Indices ``< 0`` or ``>= size`` fall in the zero padding. Rows and columns are independent:
    output ``(i, j)`` reads the rows ``window_taps(H, ...)[i]`` times the columns
    ``window_taps(W, ...)[j]``, in every input channel of its group.

    Args:
        size: input length along the axis (unpadded).
        kernel_size: ``k``, ``>= 1``.
        stride: ``s``, ``>= 1``.
        padding: zeros per side, ``p >= 0``.
        dilation: ``d >= 1``; 1 means no gaps.

    Returns:
        One list of ``k`` input indices per output position, ``conv_output_size(...)`` lists.

    Raises:
        TypeError: a non-integer argument.
        ValueError: an out-of-range argument or a kernel that does not fit.

    Example:
        >>> window_taps(5, 3, stride=2, padding=1)
        [[-1, 0, 1], [1, 2, 3], [3, 4, 5]]
        >>> window_taps(7, 3, dilation=2)
        [[0, 2, 4], [1, 3, 5], [2, 4, 6]]
    """
    size, k, s, p, d = _axis_args("window_taps", size, kernel_size, stride, padding, dilation)
    n_out = conv_output_size(size, k, s, p, d)
    return [[s * i - p + d * a for a in range(k)] for i in range(n_out)]


def untouched_indices(
    size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> list[int]:
    """Input indices along one axis that no output position reads.

    They exist when the last window stops short of the end, ``(size + 2p - k_eff) % s`` rows
    left over at the bottom (minus any padding there), and, with dilation, in the gaps between
    taps when the stride does not fill them in. A filter cannot react to what it never reads.

    Args:
        size: input length along the axis (unpadded).
        kernel_size: ``k``, ``>= 1``.
        stride: ``s``, ``>= 1``.
        padding: zeros per side, ``p >= 0``.
        dilation: ``d >= 1``; 1 means no gaps.

    Returns:
        The sorted indices in ``range(size)`` that :func:`window_taps` never lists.

    Example:
        >>> untouched_indices(7, 3, stride=3)  # windows at rows 0-2 and 3-5; row 6 is left out
        [6]
        >>> untouched_indices(7, 3, stride=2)
        []
    """
    taps = window_taps(size, kernel_size, stride, padding, dilation)
    read = {t for window in taps for t in window}
    return [i for i in range(size) if i not in read]


# --- drawing ------------------------------------------------------------------------------------

_INPUT_COLOR = "#dbe9f6"  # an input value not read yet
_READ_COLOR = "#9ecae1"  # an input value some earlier output position read
_PAD_COLOR = "#f0f0f0"  # a zero of the padding
_TAP_COLOR = "#fd8d3c"  # a value the current output position reads
_OUT_EMPTY = "#ffffff"
_OUT_COLORS = ("#74c476", "#9e9ac8", "#fdae6b", "#6baed6", "#fb6a4a", "#bdbdbd")


class _VolumeConvDrawing:
    """The artists of one drawing and a pure ``update(frame)`` that sets them for a frame."""

    def __init__(
        self,
        fn: str,
        in_channels: object,
        height: object,
        width: object,
        kernel_size: object,
        stride: object,
        padding: object,
        dilation: object,
        out_channels: object,
        dpi: float,
    ) -> None:
        self.c_in = _positive_int(in_channels, "in_channels", fn)
        self.c_out = _positive_int(out_channels, "out_channels", fn)
        h = _positive_int(height, "height", fn)
        w = _positive_int(width, "width", fn)
        self.kernel = _pair(kernel_size, "kernel_size", fn, 1)
        self.stride = _pair(stride, "stride", fn, 1)
        self.padding = _pair(padding, "padding", fn, 0)
        self.dilation = _pair(dilation, "dilation", fn, 1)
        _check_fits(fn, (h, w), self.kernel, self.padding, self.dilation)
        if self.c_in + self.c_out > 8:
            raise ValueError(
                f"{fn}: in_channels + out_channels must be <= 8 to stay legible, got "
                f"{self.c_in} + {self.c_out}"
            )
        self.size = (h, w)
        self.rows = window_taps(
            h, self.kernel[0], self.stride[0], self.padding[0], self.dilation[0]
        )
        self.cols = window_taps(
            w, self.kernel[1], self.stride[1], self.padding[1], self.dilation[1]
        )
        self.out_size = (len(self.rows), len(self.cols))
        self.n_frames = self.out_size[0] * self.out_size[1]
        self._build(dpi)

    def _build(self, dpi: float) -> None:
        (h, w), (ph, pw) = self.size, self.padding
        hp, wp = h + 2 * ph, w + 2 * pw
        ho, wo = self.out_size
        widths = [wp] * self.c_in + [wo] * self.c_out
        # Height of the tallest grid sets the scale; about 0.32 inch per cell, within 10 × 4.
        unit = min(0.32, 9.6 / (sum(widths) + len(widths)), 3.2 / max(hp, ho))
        unit = max(1, int(unit * dpi)) / dpi  # whole pixels per cell: crisper, smaller PNGs
        fig = Figure(
            figsize=(unit * (sum(widths) + len(widths)) + 0.3, unit * max(hp, ho) + 1.0),
            dpi=dpi,
            layout="constrained",
        )
        axes = fig.subplots(1, len(widths), width_ratios=widths)
        axes = np.atleast_1d(axes)
        self.in_cells: list[dict[tuple[int, int], Rectangle]] = []
        self.out_cells: list[dict[tuple[int, int], Rectangle]] = []
        self.spans: list[Rectangle] = []
        k_eff = [d * (k - 1) + 1 for d, k in zip(self.dilation, self.kernel, strict=True)]
        for c, ax in enumerate(axes[: self.c_in]):
            cells = {}
            for r in range(-ph, h + ph):
                for q in range(-pw, w + pw):
                    rect = Rectangle((q, r), 1, 1, edgecolor="#969696", linewidth=0.6)
                    rect.set_gid(f"in{c}:{r},{q}")
                    ax.add_patch(rect)
                    cells[(r, q)] = rect
                    if not (0 <= r < h and 0 <= q < w):  # a zero of the padding
                        ax.text(
                            q + 0.5,
                            r + 0.5,
                            "0",
                            ha="center",
                            va="center",
                            fontsize=9,
                            color="#737373",
                        )
            self.in_cells.append(cells)
            span = Rectangle((0, 0), k_eff[1], k_eff[0], fill=False, edgecolor="#d94801", lw=2)
            ax.add_patch(span)
            self.spans.append(span)
            if ph or pw:  # the outline of the real input, inside the padding
                ax.add_patch(Rectangle((0, 0), w, h, fill=False, edgecolor="#08519c", lw=1.2))
            self._frame(ax, (-ph, h + ph), (-pw, w + pw))
            ax.set_title(f"input ch. {c + 1}/{self.c_in}", fontsize=11)
        for o, ax in enumerate(axes[self.c_in :]):
            cells = {}
            for i in range(ho):
                for j in range(wo):
                    rect = Rectangle((j, i), 1, 1, edgecolor="#969696", linewidth=0.6)
                    rect.set_gid(f"out{o}:{i},{j}")
                    ax.add_patch(rect)
                    cells[(i, j)] = rect
            self.out_cells.append(cells)
            self._frame(ax, (0, ho), (0, wo))
            ax.set_title(f"map {o + 1}", fontsize=11)
        self.fig, self.axes = fig, axes
        self.title = fig.suptitle("", fontsize=12)
        fig.supxlabel(
            "orange: read now · darker blue: read before · light blue: not read yet"
            + (" · 0: zero padding" if ph or pw else ""),
            fontsize=10,
        )

    @staticmethod
    def _frame(ax, rows: tuple[int, int], cols: tuple[int, int]) -> None:
        ax.set_xlim(cols[0] - 0.1, cols[1] + 0.1)
        ax.set_ylim(rows[1] + 0.1, rows[0] - 0.1)  # row 0 at the top, as in an image
        ax.set_aspect("equal")
        ax.axis("off")

    def update(self, frame: int) -> list:
        """Draw output position ``frame`` (row-major) and everything computed before it."""
        (h, w), wo = self.size, self.out_size[1]
        i, j = divmod(frame, wo)
        read = {(r, q) for f in range(frame) for r in self.rows[f // wo] for q in self.cols[f % wo]}
        taps = {(r, q) for r in self.rows[i] for q in self.cols[j]}
        for cells in self.in_cells:
            for (r, q), rect in cells.items():
                if (r, q) in taps:
                    color = _TAP_COLOR
                elif not (0 <= r < h and 0 <= q < w):
                    color = _PAD_COLOR
                elif (r, q) in read:
                    color = _READ_COLOR
                else:
                    color = _INPUT_COLOR
                rect.set_facecolor(color)
        for span in self.spans:
            span.set_xy((self.cols[j][0], self.rows[i][0]))
        for o, cells in enumerate(self.out_cells):
            done = _OUT_COLORS[o % len(_OUT_COLORS)]
            for (a, b), rect in cells.items():
                index = a * wo + b
                rect.set_facecolor(done if index <= frame else _OUT_EMPTY)
                rect.set_linewidth(2.0 if index == frame else 0.6)
                rect.set_edgecolor("#252525" if index == frame else "#969696")
        kh, kw = self.kernel
        self.title.set_text(
            f"output ({i}, {j}) of {self.out_size[0]}×{self.out_size[1]}: "
            f"{self.c_out} filter{'s' if self.c_out > 1 else ''} of {self.c_in}×{kh}×{kw} · "
            f"stride {_fmt(self.stride)} · padding {_fmt(self.padding)} · "
            f"dilation {_fmt(self.dilation)}"
        )
        return []


def _fmt(pair: tuple[int, int]) -> str:
    return str(pair[0]) if pair[0] == pair[1] else f"{pair}"


def volume_conv_frame(
    in_channels: int,
    height: int,
    width: int,
    kernel_size: int | tuple[int, int],
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    out_channels: int = 1,
    position: int = 0,
    dpi: float = 80,
) -> Figure:
    """One frame of :func:`volume_conv_animation`, as a static figure.

    The input volume is drawn as its channels side by side, each ``(H + 2pH) × (W + 2pW)``
    with the zero padding in grey and the real input outlined in blue. The window of output
    position ``position`` (row-major) is the orange outline, ``k_eff = d (k - 1) + 1`` wide; its
    ``kH × kW`` taps are the orange cells, in every channel (a filter spans the full depth),
    and the cells in between are the dilation gaps. Input cells read by earlier positions are a
    darker blue, so cells that stay light at the last frame are never read (see
    :func:`untouched_indices`). On the right, one output map per filter ("map 1", ...) fills
    in up to ``position``; the current cell is outlined in black.

    Args:
        in_channels: ``C_in``; ``in_channels + out_channels <= 8``.
        height: ``H`` of the input (unpadded).
        width: ``W``.
        kernel_size: ``k`` or ``(kH, kW)``.
        stride: an int or a pair, ``>= 1``.
        padding: zeros per side, an int or a pair.
        dilation: an int or a pair, ``>= 1``; 1 means no gaps.
        out_channels: ``C_out``, the number of filters (output maps).
        position: the output position ``i W_out + j`` to show, ``0 <= position < H_out W_out``.
        dpi: resolution.

    Returns:
        The figure, with ``in_channels + out_channels`` axes, each cell a ``Rectangle`` whose gid
        is ``"in{c}:{row},{col}"`` (input coordinates, negative or past the end in the padding)
        or ``"out{o}:{i},{j}"``.

    Raises:
        TypeError: a non-integer argument.
        ValueError: out-of-range arguments, a kernel that does not fit, or too many panels.

    Example:
        >>> fig = volume_conv_frame(3, 5, 5, 3, stride=2, padding=1, out_channels=2, position=4)
        >>> len(fig.axes), fig.axes[0].get_title()
        (5, 'input ch. 1/3')
    """
    drawing = _VolumeConvDrawing(
        "volume_conv_frame",
        in_channels,
        height,
        width,
        kernel_size,
        stride,
        padding,
        dilation,
        out_channels,
        dpi,
    )
    if not _is_int(position) or not 0 <= position < drawing.n_frames:
        raise ValueError(
            f"volume_conv_frame: position must be an int in [0, {drawing.n_frames}), "
            f"got {position!r}"
        )
    drawing.update(int(position))
    return drawing.fig


def volume_conv_animation(
    in_channels: int,
    height: int,
    width: int,
    kernel_size: int | tuple[int, int],
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    out_channels: int = 1,
    interval: int = 700,
    dpi: float = 60,
) -> FuncAnimation:
    """A convolution layer sliding over a multi-channel volume, one frame per output position.

    Each frame is :func:`volume_conv_frame` at the next output position (row-major), so the
    animation has ``H_out W_out`` frames. The figure is built without ``pyplot``: nothing
    extra is displayed in a notebook. Show it with
    ``IPython.display.HTML(cnnutils.animation.animation_html(anim))`` (plays offline, no
    kernel); every frame is a PNG in that HTML, so keep the
    volume small (a few channels of at most about 9×9 and 16 frames).

    Args:
        in_channels: ``C_in``; ``in_channels + out_channels <= 8``.
        height: ``H`` of the input (unpadded).
        width: ``W``.
        kernel_size: ``k`` or ``(kH, kW)``.
        stride: an int or a pair, ``>= 1``.
        padding: zeros per side, an int or a pair.
        dilation: an int or a pair, ``>= 1``; 1 means no gaps.
        out_channels: ``C_out``, the number of filters (output maps).
        interval: milliseconds between frames.
        dpi: resolution of the frames.

    Returns:
        A ``FuncAnimation`` over ``H_out W_out`` frames (``anim.new_frame_seq()`` yields their
        positions ``0, 1, ...``).

    Raises:
        TypeError: a non-integer argument.
        ValueError: out-of-range arguments, a kernel that does not fit, or too many panels.

    Example:
        >>> anim = volume_conv_animation(2, 3, 3, 3, padding=1, stride=2)  # 2×2 outputs
        >>> len(list(anim.new_frame_seq()))
        4
        >>> "<img" in anim.to_jshtml()
        True
    """
    drawing = _VolumeConvDrawing(
        "volume_conv_animation",
        in_channels,
        height,
        width,
        kernel_size,
        stride,
        padding,
        dilation,
        out_channels,
        dpi,
    )
    interval = _positive_int(interval, "interval", "volume_conv_animation")
    drawing.update(0)
    return FuncAnimation(
        drawing.fig,
        drawing.update,
        frames=drawing.n_frames,
        init_func=lambda: drawing.update(0),
        interval=interval,
        blit=False,
    )
