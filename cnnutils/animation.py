"""Animations of the convolution: the kernel's window sliding over the input, step by step.

:func:`sliding_window_animation` returns a :class:`matplotlib.animation.FuncAnimation` of a
cross-correlation (what ``torch.nn.functional.conv2d`` and :func:`cnnutils.conv.conv2d`
compute), one frame per output position. It builds its figure without ``pyplot``, so nothing is
left for the inline backend to show a second time. :func:`animation_html` turns any animation
into HTML that plays without a kernel and without a network; show it with
``IPython.display.HTML``.
"""

from __future__ import annotations

import re

import numpy as np
import torch
from matplotlib.animation import FuncAnimation
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from cnnutils.conv import conv2d

__all__ = ["animation_html", "sliding_window_animation"]

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
_BUTTON_STYLE = "<style>\n" + "\n".join(
    f'.anim-buttons i.fa.{cls}::before {{content: "{glyph}"; font-family: sans-serif; '
    "font-style: normal; font-weight: normal;}"
    for cls, glyph in _BUTTON_GLYPHS.items()
) + "\n.anim-buttons i.fa.fa-flip-horizontal {transform: none;}\n</style>\n"


def animation_html(animation: FuncAnimation, **kwargs: object) -> str:
    """The animation as self-contained HTML: frames, player and buttons, no external requests.

    ``animation.to_jshtml(**kwargs)`` with matplotlib's Font Awesome stylesheet (loaded from a
    CDN) replaced by an inline style that draws the player's buttons with Unicode glyphs, so
    the player works the same in Jupyter, on Colab and on a site read offline.

    Args:
        animation: any matplotlib animation.
        **kwargs: passed to :meth:`~matplotlib.animation.Animation.to_jshtml`
            (``fps``, ``embed_frames``, ``default_mode``).

    Example:
        >>> anim = sliding_window_animation(torch.arange(9.0).reshape(3, 3), torch.ones(2, 2))
        >>> html = animation_html(anim)
        >>> "https://" in html, html.count("data:image/png")
        (False, 4)
    """
    if not isinstance(animation, FuncAnimation):
        raise TypeError(
            f"animation_html: animation must be a matplotlib FuncAnimation, "
            f"got {type(animation).__name__}"
        )
    return _CDN_STYLESHEET.sub(_BUTTON_STYLE, animation.to_jshtml(**kwargs), count=1)


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


def _int_pair(value: object, name: str, minimum: int) -> tuple[int, int]:
    fn = "sliding_window_animation"
    if isinstance(value, bool) or not (
        isinstance(value, int)
        or (
            isinstance(value, (tuple, list))
            and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        )
    ):
        raise TypeError(f"{fn}: {name} must be an int or a pair of ints, got {value!r}")
    pair = (value, value) if isinstance(value, int) else (value[0], value[1])
    if min(pair) < minimum:
        raise ValueError(f"{fn}: {name} must be >= {minimum}, got {value!r}")
    return pair


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
    :func:`cnnutils.conv.conv2d` (float64): cross-correlation, padding per side, dilation 1 =
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
        >>> anim = sliding_window_animation(torch.arange(9.0).reshape(3, 3), torch.ones(2, 2))
        >>> len(list(anim.new_frame_seq()))  # one frame per output position, 2 × 2
        4
        >>> anim.to_jshtml().count("data:image/png")  # plays in a browser, no kernel needed
        4
    """
    fn = "sliding_window_animation"
    x = _as_matrix(image, "image")
    w = _as_matrix(kernel, "kernel")
    (sh, sw) = _int_pair(stride, "stride", 1)
    (ph, pw) = _int_pair(padding, "padding", 0)
    (dh, dw) = _int_pair(dilation, "dilation", 1)
    h, wd = x.shape
    kh, kw = w.shape
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    padded_shape = (h + 2 * ph, wd + 2 * pw)
    if span[0] > padded_shape[0] or span[1] > padded_shape[1]:
        raise ValueError(
            f"{fn}: the kernel spans {span} (with dilation), more than the padded input "
            f"{padded_shape}"
        )
    out = conv2d(
        torch.from_numpy(x)[None, None],
        torch.from_numpy(w)[None, None],
        stride=(sh, sw),
        padding=(ph, pw),
        dilation=(dh, dw),
    )[0, 0].numpy()  # (H_out, W_out)
    h_out, w_out = out.shape
    n_frames = h_out * w_out
    if n_frames > max_frames:
        raise ValueError(
            f"{fn}: {n_frames} output positions would make {n_frames} frames, more than "
            f"max_frames={max_frames}; use a smaller input or a larger stride"
        )
    if annotate is None:
        annotate = max(padded_shape) <= 12
    padded = np.pad(x, ((ph, ph), (pw, pw)))  # (H + 2 pH, W + 2 pW)

    # Figure: three panels side by side, widths in proportion to their numbers of columns.
    widths = [padded_shape[1], kw, w_out]
    rows = max(padded_shape[0], kh, h_out)
    fig = Figure(
        figsize=(cell_size * (sum(widths) + 3), cell_size * rows + 0.9),
        dpi=dpi,
        layout="constrained",
    )
    ax_in, ax_k, ax_out = fig.subplots(1, 3, width_ratios=widths)
    fontsize = 8 if max(padded_shape) <= 8 else 6.5

    # Input panel: values, padding in grey.
    _grid(ax_in, padded_shape, f"input {h}×{wd}" + (f", padding {padding}" if ph or pw else ""))
    is_pad = np.ones(padded_shape, dtype=bool)
    is_pad[ph : ph + h, pw : pw + wd] = False
    ax_in.imshow(np.where(is_pad, 0.88, 1.0), cmap="gray", vmin=0, vmax=1)
    if annotate:
        for (r, c), value in np.ndenumerate(padded):
            color = "0.45" if is_pad[r, c] else "black"
            ax_in.text(
                c, r, _label(value), ha="center", va="center", fontsize=fontsize, color=color
            )
    taps = [
        Rectangle((0, 0), 1, 1, facecolor=_WINDOW, alpha=0.35, edgecolor=_WINDOW, linewidth=1.5)
        for _ in range(kh * kw)
    ]
    for tap in taps:
        ax_in.add_patch(tap)

    # Kernel panel.
    title = f"kernel {kh}×{kw}" + (f", dilation {dilation}" if (dh, dw) != (1, 1) else "")
    _grid(ax_k, (kh, kw), title)
    ax_k.imshow(np.ones((kh, kw)), cmap="Oranges", vmin=0, vmax=4)
    if annotate:
        for (r, c), value in np.ndenumerate(w):
            ax_k.text(c, r, _label(value), ha="center", va="center", fontsize=fontsize)

    # Output panel: an image that fills in, its numbers, the current cell.
    out_title = f"output {h_out}×{w_out}" + (f", stride {stride}" if (sh, sw) != (1, 1) else "")
    _grid(ax_out, (h_out, w_out), out_title)
    top = float(np.abs(out).max()) or 1.0
    shown = np.ma.masked_all(out.shape)
    picture = ax_out.imshow(shown, cmap="RdBu_r", vmin=-top, vmax=top, alpha=0.45)
    labels = []
    if annotate:
        for (r, c), value in np.ndenumerate(out):
            text = ax_out.text(c, r, _label(value), ha="center", va="center", fontsize=fontsize)
            text.set_visible(False)
            labels.append(text)
    current = Rectangle(
        (-0.5, -0.5), 1, 1, facecolor="none", edgecolor=_OUTPUT, linewidth=2.5, zorder=3
    )
    ax_out.add_patch(current)
    heading = fig.suptitle(" ", fontsize=10)

    def update(frame: int) -> list:
        i, j = divmod(frame, w_out)
        for index, tap in enumerate(taps):
            a, b = divmod(index, kw)
            tap.set_xy((j * sw + b * dw - 0.5, i * sh + a * dh - 0.5))
        # Stateless: frame f shows outputs 0..f whatever was drawn before (seeking, restarts).
        done = np.arange(n_frames).reshape(h_out, w_out) <= frame
        shown[:] = np.ma.masked_array(out, mask=~done)
        picture.set_data(shown)
        for index, text in enumerate(labels):
            text.set_visible(index <= frame)
        current.set_xy((j - 0.5, i - 0.5))
        heading.set_text(
            f"out[{i}, {j}] = sum(window × kernel) = {_label(out[i, j])}"
            if annotate
            else f"out[{i}, {j}] = {out[i, j]:.3g}"
        )
        return [*taps, picture, current, heading, *labels]

    update(0)
    return FuncAnimation(fig, update, frames=n_frames, interval=interval, repeat=True)
