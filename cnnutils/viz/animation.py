"""Animations of the convolution: the kernel's window sliding over the input, step by step.

Two drawings share one player: :func:`sliding_window_animation` (one channel, every number
shown) and :func:`volume_conv_frame` / :func:`volume_conv_animation` (a filter bank sliding over
a volume, which input rows and columns each position reads). :func:`animation_html` turns either
into HTML that plays offline.

:func:`sliding_window_animation` returns a :class:`matplotlib.animation.FuncAnimation` of a
cross-correlation (what ``torch.nn.functional.conv2d`` and :func:`cnnutils.ops.conv.conv2d`
compute), one frame per output position. It builds its figure without ``pyplot``, so nothing is
left for the inline backend to show a second time. :func:`animation_html` turns any animation
into HTML that plays without a kernel and without a network; show it with
``IPython.display.HTML``.
"""

from __future__ import annotations

import re
from html import escape

import numpy as np
import torch
from matplotlib.animation import FuncAnimation
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from cnnutils._checks import _is_int, _positive_int
from cnnutils.geometry import _window_args, window_taps
from cnnutils.ops.conv import conv2d

__all__ = [
    "animation_html",
    "sliding_window_animation",
    "volume_conv_animation",
    "volume_conv_frame",
]

_WINDOW = "tab:orange"
_OUTPUT = "tab:blue"
_PAD = "0.88"  # grey of the zero-padding cells

# matplotlib's JS-HTML player draws its buttons with Font Awesome 4 from a CDN, which an offline
# site cannot reach (and which leaks readers' visits). Draw the same buttons with plain glyphs.
_CDN_STYLESHEET = re.compile(r"<link\s+rel=\"stylesheet\"\s+href=\"https?://[^\"]*\">\s*")
_BUTTON_GLYPHS = {  # glyphs that common fonts (DejaVu Sans, Arial, Segoe) all have
    "fa-minus": "\u2212",
    "fa-fast-backward": "|\u25c0\u25c0",
    "fa-step-backward": "|\u25c0",
    "fa-play.fa-flip-horizontal": "\u25c0",
    "fa-pause": "\u275a\u275a",
    "fa-play:not(.fa-flip-horizontal)": "\u25b6",
    "fa-step-forward": "\u25b6|",
    "fa-fast-forward": "\u25b6\u25b6|",
    "fa-plus": "+",
}
_BUTTON_STYLE = (
    "<style>\n"
    + "\n".join(
        f'.anim-buttons i.fa.{cls}::before {{content: "{glyph}"; font-family: sans-serif; '
        "font-style: normal; font-weight: normal;}"
        for cls, glyph in _BUTTON_GLYPHS.items()
    )
    + "\n.anim-buttons i.fa.fa-flip-horizontal {transform: none;}\n</style>\n"
)


def animation_html(
    animation: FuncAnimation, *, alt: str = "an animation, one frame per step", **kwargs: object
) -> str:
    """The animation as self-contained HTML: frames, player and buttons, no external requests.

    ``animation.to_jshtml(**kwargs)`` with matplotlib's Font Awesome stylesheet (loaded from a
    CDN) replaced by an inline style that draws the player's buttons with Unicode glyphs, so
    the player works the same in Jupyter, on Colab and on a site read offline. The frame image
    gets ``alt`` as its text alternative and the frame slider a label, for screen readers.

    Args:
        animation: any matplotlib animation.
        alt: what the animation shows, in words.
        **kwargs: passed to :meth:`~matplotlib.animation.Animation.to_jshtml`
            (``fps``, ``embed_frames``, ``default_mode``).

    Example:
        >>> image, kernel = torch.arange(9.0).reshape(3, 3), torch.ones(2, 2)
        >>> anim = sliding_window_animation(image, kernel)
        >>> html = animation_html(anim)
        >>> "https://" in html, html.count("data:image/png"), 'alt="an animation' in html
        (False, 4, True)
    """
    if not isinstance(animation, FuncAnimation):
        raise TypeError(
            f"animation_html: animation must be a matplotlib FuncAnimation, "
            f"got {type(animation).__name__}"
        )
    if not isinstance(alt, str):
        raise TypeError(f"animation_html: alt must be a str, got {type(alt).__name__}")
    if not alt.strip():
        raise ValueError(f"animation_html: alt must be a non-empty description, got {alt!r}")
    html = _CDN_STYLESHEET.sub(_BUTTON_STYLE, animation.to_jshtml(**kwargs), count=1)
    text = escape(alt.strip(), quote=True)
    html = re.sub(r'<img id="(_anim_img\w+)"', rf'<img id="\1" alt="{text}"', html)
    return re.sub(r'(<input id="_anim_slider\w+" type="range")', r'\1 aria-label="frame"', html)


def _as_matrix(value: object, name: str) -> np.ndarray:
    """A 2-D, non-empty, finite float64 array from a tensor or an array."""
    fn = "sliding_window_animation"
    if isinstance(value, torch.Tensor):
        array = value.detach().cpu().double().numpy()
    elif isinstance(value, np.ndarray):
        if not (np.issubdtype(value.dtype, np.number) or value.dtype == bool):
            raise TypeError(f"{fn}: {name} must hold numbers, got dtype {value.dtype}")
        array = value.astype(np.float64)
    else:
        raise TypeError(
            f"{fn}: {name} must be a torch.Tensor or a numpy array, got {type(value).__name__}"
        )
    if array.ndim != 2 or 0 in array.shape:
        raise ValueError(f"{fn}: {name} must be 2-D and non-empty, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{fn}: {name} must be finite")
    return array


def _label(value: float) -> str:
    """Integers without decimals, other numbers with two."""
    if abs(value - round(value)) < 1e-9:
        return f"{round(value) + 0.0:.0f}"  # + 0.0 turns -0 into 0
    return f"{value:.2f}"


def _grid(ax, shape: tuple[int, int], title: str) -> None:
    """Cell borders and limits for an ``(rows, cols)`` grid of unit cells, row 0 on top."""
    rows, cols = shape
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)
    ax.set_aspect("equal")
    ax.set_xticks(np.arange(cols + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(rows + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="0.6", linewidth=0.6)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=10)


# --- the animator core: a drawing of panels, and the player -------------------------------------
#
# A drawing builds its figure once and has a pure ``update(frame)`` that sets every changing
# artist for that frame, whatever was drawn before (so that the player can seek and restart);
# ``n_frames`` is the number of output positions. :func:`_animate` plays any such drawing.


def _panels(widths: list[int], figsize: tuple[float, float], dpi: float) -> tuple[Figure, list]:
    """A figure, without ``pyplot``, of panels side by side with widths in proportion."""
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    return fig, list(np.atleast_1d(fig.subplots(1, len(widths), width_ratios=widths)))


def _animate(drawing: _SlidingWindowDrawing | _VolumeConvDrawing, interval: int) -> FuncAnimation:
    """The player: frame ``f`` is ``drawing.update(f)``, from frame 0, looping."""
    drawing.update(0)
    return FuncAnimation(
        drawing.fig,
        drawing.update,
        frames=drawing.n_frames,
        init_func=lambda: drawing.update(0),
        interval=interval,
        repeat=True,
    )


# --- one channel, every number shown ------------------------------------------------------------


def _cell_labels(ax, values: np.ndarray, fontsize: float) -> list:
    """One text per cell of ``values``, at the cell's centre."""
    return [
        ax.text(c, r, _label(value), ha="center", va="center", fontsize=fontsize)
        for (r, c), value in np.ndenumerate(values)
    ]


def _changed(name: str, value: object, pair: tuple[int, int], default: tuple[int, int]) -> str:
    """``", stride 2"`` for a title, as the caller wrote the value, or nothing for the default."""
    return f", {name} {value}" if pair != default else ""


class _SlidingWindowDrawing:
    """The three panels of :func:`sliding_window_animation` and its ``update(frame)``.

    Args:
        padded: the zero-padded input, ``(H + 2 pH, W + 2 pW)``.
        padding: ``(pH, pW)``.
        kernel: ``(kH, kW)``.
        out: the cross-correlation, ``(H_out, W_out)``.
        stride, dilation: pairs.
        titles: of the input, kernel and output panels.
        annotate: write the numbers in the cells.
        cell_size: side of one cell, in inches.
        dpi: resolution.
    """

    def __init__(self, padded, padding, kernel, out, stride, dilation, titles, *,
                 annotate: bool, cell_size: float, dpi: float) -> None:  # fmt: skip
        self.out, self.stride, self.dilation, self.annotate = out, stride, dilation, annotate
        self.n_frames, self.kernel_width = out.size, kernel.shape[1]
        widths = [padded.shape[1], kernel.shape[1], out.shape[1]]
        rows = max(padded.shape[0], kernel.shape[0], out.shape[0])
        figsize = (cell_size * (sum(widths) + 3), cell_size * rows + 0.9)
        self.fig, (ax_in, ax_k, ax_out) = _panels(widths, figsize, dpi)
        fontsize = 8 if max(padded.shape) <= 8 else 6.5
        self.taps = self._input_panel(ax_in, padded, padding, kernel.size, titles[0], fontsize)
        _grid(ax_k, kernel.shape, titles[1])
        ax_k.imshow(np.ones(kernel.shape), cmap="Oranges", vmin=0, vmax=4)
        if annotate:
            _cell_labels(ax_k, kernel, fontsize)
        self._output_panel(ax_out, titles[2], fontsize)
        self.heading = self.fig.suptitle(" ", fontsize=10)

    def _input_panel(self, ax, padded, padding, n_taps, title, fontsize) -> list[Rectangle]:
        """Values, padding in grey, and the kernel's taps (placed by ``update``)."""
        _grid(ax, padded.shape, title)
        (ph, pw), (hp, wp) = padding, padded.shape
        is_pad = np.ones(padded.shape, dtype=bool)
        is_pad[ph : hp - ph, pw : wp - pw] = False
        ax.imshow(np.where(is_pad, 0.88, 1.0), cmap="gray", vmin=0, vmax=1)
        if self.annotate:
            for text, pad in zip(_cell_labels(ax, padded, fontsize), is_pad.flat, strict=True):
                text.set_color("0.45" if pad else "black")
        style = {"facecolor": _WINDOW, "alpha": 0.35, "edgecolor": _WINDOW, "linewidth": 1.5}
        taps = [Rectangle((0, 0), 1, 1, **style) for _ in range(n_taps)]
        for tap in taps:
            ax.add_patch(tap)
        return taps

    def _output_panel(self, ax, title, fontsize) -> None:
        """An image that fills in, its numbers, and the current cell."""
        _grid(ax, self.out.shape, title)
        top = float(np.abs(self.out).max()) or 1.0
        self.shown = np.ma.masked_all(self.out.shape)
        self.picture = ax.imshow(self.shown, cmap="RdBu_r", vmin=-top, vmax=top, alpha=0.45)
        self.labels = _cell_labels(ax, self.out, fontsize) if self.annotate else []
        for text in self.labels:
            text.set_visible(False)
        self.current = Rectangle(
            (-0.5, -0.5), 1, 1, facecolor="none", edgecolor=_OUTPUT, linewidth=2.5, zorder=3
        )
        ax.add_patch(self.current)

    def update(self, frame: int) -> list:
        (sh, sw), (dh, dw), w_out = self.stride, self.dilation, self.out.shape[1]
        i, j = divmod(frame, w_out)
        for index, tap in enumerate(self.taps):
            a, b = divmod(index, self.kernel_width)
            tap.set_xy((j * sw + b * dw - 0.5, i * sh + a * dh - 0.5))
        # Stateless: frame f shows outputs 0..f whatever was drawn before (seeking, restarts).
        done = np.arange(self.n_frames).reshape(self.out.shape) <= frame
        self.shown[:] = np.ma.masked_array(self.out, mask=~done)
        self.picture.set_data(self.shown)
        for index, text in enumerate(self.labels):
            text.set_visible(index <= frame)
        self.current.set_xy((j - 0.5, i - 0.5))
        value = self.out[i, j]
        self.heading.set_text(
            f"out[{i}, {j}] = sum(window × kernel) = {_label(value)}"
            if self.annotate
            else f"out[{i}, {j}] = {value:.3g}"
        )
        return [*self.taps, self.picture, self.current, self.heading, *self.labels]


def sliding_window_animation(
    image: torch.Tensor | np.ndarray,
    kernel: torch.Tensor | np.ndarray,
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    annotate: bool | None = None,
    interval: int = 700,
    cell_size: float = 0.36,
    dpi: float = 72,
    max_frames: int = 200,
) -> FuncAnimation:
    """Animate a 2-D cross-correlation: the window moves, the output fills in cell by cell.

    Three panels: the zero-padded input (padding cells in grey) with the kernel's taps
    highlighted at the current position, the kernel, and the output, where each frame adds one
    value, in row-major order. The title of each frame gives the position and the value, the sum
    of the highlighted inputs times the kernel weights. The values drawn are those of
    :func:`cnnutils.ops.conv.conv2d` (float64): cross-correlation, padding per side, dilation 1 =
    no gaps, output size ``(H + 2p - d (k - 1) - 1) // s + 1`` per axis.

    Args:
        image: the input, shape ``(H, W)``, a tensor or an array of numbers.
        kernel: shape ``(kH, kW)``.
        stride: step of the window, int or ``(sH, sW)``, ``>= 1``.
        padding: zeros added per side, int or ``(pH, pW)``, ``>= 0``.
        dilation: spacing of the taps, int or ``(dH, dW)``, ``>= 1``.
        annotate: write the numbers in the cells; ``None`` means "when the padded input has
            at most 12 × 12 cells".
        interval: milliseconds between frames.
        cell_size: side of one cell, in inches.
        dpi: resolution of the frames.
        max_frames: refuse to make more frames than this (each frame is one PNG in the HTML).

    Returns:
        the animation, with ``H_out · W_out`` frames. Its figure (matplotlib keeps it as
        ``anim._fig``) is not registered with ``pyplot``; after the last frame, the output
        panel's image, ``fig.axes[2].images[0].get_array()``, holds the whole output.

    Raises:
        TypeError: an input that is not a tensor or an array, or a non-integer hyperparameter.
        ValueError: inputs that are not 2-D or not finite, out-of-range hyperparameters, a
            kernel that does not fit, or more than ``max_frames`` output positions.

    Example:
        >>> image, kernel = torch.arange(9.0).reshape(3, 3), torch.ones(2, 2)
        >>> anim = sliding_window_animation(image, kernel)
        >>> len(list(anim.new_frame_seq()))  # one frame per output position, 2 × 2
        4
        >>> anim.to_jshtml().count("data:image/png")  # plays in a browser, no kernel needed
        4
    """
    fn = "sliding_window_animation"
    x = _as_matrix(image, "image")
    w = _as_matrix(kernel, "kernel")
    _, s, p, d = _window_args(fn, x.shape, w.shape, stride, padding, dilation)
    interval = _positive_int(interval, "interval", fn)
    out = conv2d(
        torch.from_numpy(x)[None, None], torch.from_numpy(w)[None, None],
        stride=s, padding=p, dilation=d,
    )[0, 0].numpy()  # (H_out, W_out)  # fmt: skip
    if out.size > max_frames:
        raise ValueError(
            f"{fn}: {out.size} output positions would make {out.size} frames, more than "
            f"max_frames={max_frames}; use a smaller input or a larger stride"
        )
    padded = np.pad(x, ((p[0], p[0]), (p[1], p[1])))  # (H + 2 pH, W + 2 pW)
    titles = (
        f"input {x.shape[0]}×{x.shape[1]}" + _changed("padding", padding, p, (0, 0)),
        f"kernel {w.shape[0]}×{w.shape[1]}" + _changed("dilation", dilation, d, (1, 1)),
        f"output {out.shape[0]}×{out.shape[1]}" + _changed("stride", stride, s, (1, 1)),
    )
    annotate = max(padded.shape) <= 12 if annotate is None else annotate
    drawing = _SlidingWindowDrawing(
        padded, p, w, out, s, d, titles, annotate=annotate, cell_size=cell_size, dpi=dpi
    )
    return _animate(drawing, interval)


# --- a filter sliding over a volume -------------------------------------------------------------


_INPUT_COLOR = "#dbe9f6"  # an input value not read yet
_READ_COLOR = "#9ecae1"  # an input value some earlier output position read
_PAD_COLOR = "#f0f0f0"  # a zero of the padding
_TAP_COLOR = "#fd8d3c"  # a value the current output position reads
_OUT_EMPTY = "#ffffff"
_OUT_COLORS = ("#74c476", "#9e9ac8", "#fdae6b", "#6baed6", "#fb6a4a", "#bdbdbd")


class _VolumeConvDrawing:
    """The panels of :func:`volume_conv_frame` (input channels, then output maps) and a pure
    ``update(frame)`` that draws output position ``frame``; the arguments are theirs."""

    def __init__(self, fn, in_channels, height, width, kernel_size, stride, padding, dilation,
                 out_channels, dpi) -> None:  # fmt: skip
        self.c_in = _positive_int(in_channels, "in_channels", fn)
        self.c_out = _positive_int(out_channels, "out_channels", fn)
        self.size = (_positive_int(height, "height", fn), _positive_int(width, "width", fn))
        self.kernel, self.stride, self.padding, self.dilation = _window_args(
            fn, self.size, kernel_size, stride, padding, dilation
        )
        if self.c_in + self.c_out > 8:
            raise ValueError(
                f"{fn}: in_channels + out_channels must be <= 8 to stay legible, got "
                f"{self.c_in} + {self.c_out}"
            )
        self.rows, self.cols = (
            window_taps(n, k, s, p, d)
            for n, k, s, p, d in zip(
                self.size, self.kernel, self.stride, self.padding, self.dilation, strict=True
            )
        )
        self.out_size = (len(self.rows), len(self.cols))
        self.n_frames = self.out_size[0] * self.out_size[1]
        self._build(dpi)

    def _build(self, dpi: float) -> None:
        (h, w), (ph, pw), (ho, wo) = self.size, self.padding, self.out_size
        hp, wp = h + 2 * ph, w + 2 * pw
        widths = [wp] * self.c_in + [wo] * self.c_out
        # Height of the tallest grid sets the scale; about 0.32 inch per cell, within 10 × 4.
        unit = min(0.32, 9.6 / (sum(widths) + len(widths)), 3.2 / max(hp, ho))
        unit = max(1, int(unit * dpi)) / dpi  # whole pixels per cell: crisper, smaller PNGs
        figsize = (unit * (sum(widths) + len(widths)) + 0.3, unit * max(hp, ho) + 1.0)
        self.fig, axes = _panels(widths, figsize, dpi)
        self.in_cells, self.spans = [], []
        for c, ax in enumerate(axes[: self.c_in]):
            self._input_panel(ax, c)
        self.out_cells = [self._output_panel(ax, o) for o, ax in enumerate(axes[self.c_in :])]
        self.title = self.fig.suptitle("", fontsize=12)
        self.fig.supxlabel(
            "orange: read now · darker blue: read before · light blue: not read yet"
            + (" · 0: zero padding" if ph or pw else ""),
            fontsize=10,
        )

    def _input_panel(self, ax, c: int) -> None:
        """Input channel ``c``: a cell per padded value, the window's outline, the real input's."""
        (h, w), (ph, pw) = self.size, self.padding
        cells = {}
        for r in range(-ph, h + ph):
            for q in range(-pw, w + pw):
                cells[(r, q)] = self._cell(ax, (r, q), f"in{c}:{r},{q}")
                if not (0 <= r < h and 0 <= q < w):  # a zero of the padding
                    zero = {"ha": "center", "va": "center", "fontsize": 9, "color": "#737373"}
                    ax.text(q + 0.5, r + 0.5, "0", **zero)
        self.in_cells.append(cells)
        k_eff = [d * (k - 1) + 1 for d, k in zip(self.dilation, self.kernel, strict=True)]
        span = Rectangle((0, 0), k_eff[1], k_eff[0], fill=False, edgecolor="#d94801", lw=2)
        ax.add_patch(span)
        self.spans.append(span)
        if ph or pw:  # the outline of the real input, inside the padding
            ax.add_patch(Rectangle((0, 0), w, h, fill=False, edgecolor="#08519c", lw=1.2))
        self._frame(ax, (-ph, h + ph), (-pw, w + pw))
        ax.set_title(f"input ch. {c + 1}/{self.c_in}", fontsize=11)

    def _output_panel(self, ax, o: int) -> dict[tuple[int, int], Rectangle]:
        """Output map ``o``: a cell per output position."""
        ho, wo = self.out_size
        cells = {
            (i, j): self._cell(ax, (i, j), f"out{o}:{i},{j}") for i in range(ho) for j in range(wo)
        }
        self._frame(ax, (0, ho), (0, wo))
        ax.set_title(f"map {o + 1}", fontsize=11)
        return cells

    @staticmethod
    def _cell(ax, row_col: tuple[int, int], gid: str) -> Rectangle:
        rect = Rectangle(row_col[::-1], 1, 1, edgecolor="#969696", linewidth=0.6)
        rect.set_gid(gid)
        ax.add_patch(rect)
        return rect

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
        >>> fig = volume_conv_frame(3, 5, 5, 3, stride=2, padding=1, out_channels=2,
        ...                         position=4)
        >>> len(fig.axes), fig.axes[0].get_title()
        (5, 'input ch. 1/3')
    """
    fn = "volume_conv_frame"
    drawing = _VolumeConvDrawing(
        fn, in_channels, height, width, kernel_size, stride, padding, dilation, out_channels, dpi
    )
    if not _is_int(position) or not 0 <= position < drawing.n_frames:
        raise ValueError(
            f"{fn}: position must be an int in [0, {drawing.n_frames}), got {position!r}"
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
    ``IPython.display.HTML(cnnutils.animation_html(anim))`` (plays offline, no
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
    fn = "volume_conv_animation"
    interval = _positive_int(interval, "interval", fn)
    drawing = _VolumeConvDrawing(
        fn, in_channels, height, width, kernel_size, stride, padding, dilation, out_channels, dpi
    )
    return _animate(drawing, interval)
