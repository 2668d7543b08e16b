"""Measuring translation equivariance and invariance, honestly.

A map ``f`` is *equivariant* to translations when shifting the input shifts the output the same
way, ``f(shift(x)) = shift(f(x))``, and *invariant* when shifting the input leaves the output
alone, ``f(shift(x)) = f(x)``. A convolution is exactly equivariant only on a torus: with
circular padding and circular shifts. Zero padding breaks it near the borders, and a stride
``s`` breaks it for shifts that are not multiples of ``s`` (the output grid is coarser than the
input's; Azulay & Weiss, 2019; Zhang, 2019). The functions here measure by how much, as a
relative error, on the whole map or away from its borders.

Conventions: ``shift(x, dy, dx)`` moves the content of the last two axes ``dy`` rows **down**
and ``dx`` columns **right**: ``out[..., i, j] = x[..., i - dy, j - dx]``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import product

import torch
from torch import Tensor

from cnnutils._checks import _choice, _int, _pair, _tensor

__all__ = ["equivariance_error", "invariance_error", "shift"]

_MODES = ("circular", "zeros")


def _check_shift(x: object, dy: object, dx: object, mode: object, fn: str) -> None:
    """The arguments of a shift (several at once: the values first, then ``fn``)."""
    _tensor(x, "x", fn)
    if x.dim() < 2:
        raise ValueError(f"{fn}: x must have at least 2 dims (..., H, W), got {tuple(x.shape)}")
    _int(dy, "dy", fn)
    _int(dx, "dx", fn)
    _choice(mode, "mode", fn, _MODES)


def shift(x: Tensor, dy: int, dx: int, *, mode: str = "circular") -> Tensor:
    """Translate the last two axes: content moves ``dy`` rows down and ``dx`` columns right.

    Args:
        x: shape ``(..., H, W)``.
        dy: rows to move down (negative: up).
        dx: columns to move right (negative: left).
        mode: ``"circular"``: what leaves one side comes back on the other (``torch.roll``),
            so the shift loses nothing and ``shift(x, -dy, -dx)`` undoes it. ``"zeros"``:
            what leaves is lost and zeros come in, as when a camera pans over a dark scene.

    Returns:
        same shape, dtype and device as ``x``; ``out[..., i, j] = x[..., i - dy, j - dx]``
        (indices modulo ``H`` and ``W`` when circular, zero outside when ``"zeros"``).

    Raises:
        TypeError: a non-tensor, or a non-integer shift.
        ValueError: fewer than 2 dims, or an unknown mode.

    Example:
        >>> x = torch.arange(1.0, 5.0).reshape(1, 4)
        >>> shift(x, 0, 1)
        tensor([[4., 1., 2., 3.]])
        >>> shift(x, 0, 1, mode="zeros")
        tensor([[0., 1., 2., 3.]])
    """
    _check_shift(x, dy, dx, mode, "shift")
    dy, dx = int(dy), int(dx)
    if mode == "circular":
        return torch.roll(x, shifts=(dy, dx), dims=(-2, -1))
    h, w = x.shape[-2:]
    out = torch.zeros_like(x)
    if abs(dy) >= h or abs(dx) >= w:
        return out
    # Rows i - dy for output rows i that stay inside, likewise columns.
    dst_rows, src_rows = slice(max(dy, 0), h + min(dy, 0)), slice(max(-dy, 0), h - max(dy, 0))
    dst_cols, src_cols = slice(max(dx, 0), w + min(dx, 0)), slice(max(-dx, 0), w - max(dx, 0))
    out[..., dst_rows, dst_cols] = x[..., src_rows, src_cols]
    return out


def _relative(difference: Tensor, reference: Tensor) -> float:
    """``‖difference‖ / ‖reference‖``; 0 when both are 0, inf when only the reference is."""
    num = float(torch.linalg.vector_norm(difference.double()))
    den = float(torch.linalg.vector_norm(reference.double()))
    if den == 0:
        return 0.0 if num == 0 else math.inf
    return num / den


def _call(f: Callable[[Tensor], Tensor], x: Tensor, fn: str) -> Tensor:
    if not callable(f):
        raise TypeError(f"{fn}: f must be callable, got {type(f).__name__}")
    with torch.no_grad():
        out = f(x)
    if not isinstance(out, Tensor):
        raise TypeError(f"{fn}: f must return a torch.Tensor, got {type(out).__name__}")
    return out


def equivariance_error(
    f: Callable[[Tensor], Tensor],
    x: Tensor,
    dy: int,
    dx: int,
    *,
    mode: str = "circular",
    stride: int | tuple[int, int] = 1,
    crop: int | tuple[int, int] = 0,
) -> float:
    """Relative error of ``f(shift(x)) = shift(f(x))``, on the whole map or away from borders.

    ``‖f(shift(x)) - shift(f(x), dy / s, dx / s)‖ / ‖shift(f(x), dy / s, dx / s)‖`` over the
    output, with both shifts in ``mode``. For a map whose output grid is ``s`` times coarser
    than the input's (total stride ``s``), an input shift of ``dy`` pixels can only be an output
    shift of ``dy / s``; when that is not an integer, the error is the smallest over the nearest
    output shifts (``floor`` and ``ceil`` of ``dy / s`` and of ``dx / s``): the distance to the
    closest shifted copy of ``f(x)``, never an overestimate from a badly chosen comparison.

    Args:
        f: maps ``x`` to a tensor ``(..., H', W')``; called twice, without gradients.
        x: input, shape ``(..., H, W)``, as ``f`` takes it.
        dy: rows to shift the input down.
        dx: columns to shift the input right.
        mode: ``"circular"`` or ``"zeros"``, for the input and the output shifts
            (see :func:`shift`).
        stride: total stride ``s`` (or ``(sH, sW)``) from the input grid to the output grid.
        crop: output rows/columns dropped on **every** side before measuring, int or
            ``(cH, cW)``; 0 measures the whole map. Cropping ``|shift| / s`` plus the
            receptive-field radius leaves the part that zero padding and lost content cannot
            reach.

    Returns:
        the relative error, a Python float (0.0 for an exactly equivariant map; 0 when both
        norms are 0, ``inf`` when only the reference is).

    Raises:
        TypeError: a non-callable ``f``, a non-tensor input or output, non-integer shifts,
            stride or crop.
        ValueError: an unknown mode, a crop that leaves nothing, or an output with fewer than
            2 dims.

    Example:
        >>> conv = torch.nn.Conv2d(1, 4, 3, padding=1, padding_mode="circular")
        >>> x = torch.randn(1, 1, 16, 16)
        >>> equivariance_error(conv, x, 3, -5) < 1e-6  # exact on a torus
        True
        >>> zero_pad = torch.nn.Conv2d(1, 4, 3, padding=1)
        >>> equivariance_error(zero_pad, x, 3, -5) > 0.01  # not at the borders ...
        True
        >>> equivariance_error(zero_pad, x, 3, -5, crop=6) < 1e-6  # ... but away from them
        True
    """
    fn = "equivariance_error"
    _check_shift(x, dy, dx, mode, fn)
    sh, sw = _pair(stride, "stride", fn, 1)
    ch, cw = _pair(crop, "crop", fn, 0)
    y = _call(f, x, fn)
    y_shifted = _call(f, shift(x, dy, dx, mode=mode), fn)
    if y.dim() < 2 or y.shape != y_shifted.shape:
        raise ValueError(
            f"{fn}: f must return (..., H', W') of one shape for x and its shift, got "
            f"{tuple(y.shape)} and {tuple(y_shifted.shape)}"
        )
    h, w = y.shape[-2:]
    if 2 * ch >= h or 2 * cw >= w:
        raise ValueError(f"{fn}: crop {(ch, cw)} leaves nothing of the output {(h, w)}")
    rows, cols = slice(ch, h - ch), slice(cw, w - cw)
    candidates = product(
        {math.floor(dy / sh), math.ceil(dy / sh)}, {math.floor(dx / sw), math.ceil(dx / sw)}
    )
    errors = []
    for oy, ox in sorted(candidates):
        reference = shift(y, oy, ox, mode=mode)[..., rows, cols]
        errors.append(_relative(y_shifted[..., rows, cols] - reference, reference))
    return min(errors)


def invariance_error(
    f: Callable[[Tensor], Tensor], x: Tensor, dy: int, dx: int, *, mode: str = "circular"
) -> float:
    """Relative change of ``f``'s output when the input shifts: ``‖f(shift(x)) - f(x)‖ / ‖f(x)‖``.

    Args:
        f: maps ``x`` to a tensor of any shape (a feature vector, logits, a map); called twice,
            without gradients.
        x: input, shape ``(..., H, W)``, as ``f`` takes it.
        dy: rows to shift the input down.
        dx: columns to shift the input right.
        mode: ``"circular"`` or ``"zeros"`` (see :func:`shift`).

    Returns:
        the relative change, a Python float (0.0 for an exactly invariant map; 0 when both
        norms are 0, ``inf`` when only ``f(x)`` is).

    Raises:
        TypeError: a non-callable ``f``, a non-tensor input or output, or non-integer shifts.
        ValueError: an unknown mode, or outputs of different shapes.

    Example:
        >>> conv = torch.nn.Conv2d(1, 4, 3, padding=1, padding_mode="circular")
        >>> x = torch.randn(1, 1, 16, 16)
        >>> # the map moves: equivariant, not invariant
        >>> invariance_error(conv, x, 2, 3) > 0.1
        True
        >>> pooled = lambda x: conv(x).mean(dim=(-2, -1))  # global average pooling
        >>> invariance_error(pooled, x, 2, 3) < 1e-6
        True
    """
    fn = "invariance_error"
    _check_shift(x, dy, dx, mode, fn)
    y = _call(f, x, fn)
    y_shifted = _call(f, shift(x, dy, dx, mode=mode), fn)
    if y.shape != y_shifted.shape:
        raise ValueError(
            f"{fn}: f must return one shape for x and its shift, got {tuple(y.shape)} and "
            f"{tuple(y_shifted.shape)}"
        )
    return _relative(y_shifted - y, y)
