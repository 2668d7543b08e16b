"""Pooling from scratch: max and average pooling, max pooling's backward pass, disks, global.

The pooling chapter builds what ``torch.nn.functional.max_pool2d`` and ``avg_pool2d`` compute,
with their semantics and argument names, and the backward pass of max pooling by hand.
Conventions, where they bite:

* **Shifted slices.** A ``kH × kW`` window visits ``kH kW`` *taps*. Tap ``(a, b)`` of every
  window at once is one strided slice of the padded input,
  ``x_pad[..., d a :: s, d b :: s]`` (cut to the output size), so max pooling is the
  elementwise maximum of ``kH kW`` slices and average pooling their sum over a divisor. The
  same code pools over any set of taps: :func:`disk_pool2d` uses the taps of a disk.
* **Padding is per side and at most half the kernel** (``padding <= kernel_size // 2``, as
  PyTorch requires). Max pooling pads with ``-inf`` (padding never wins), average pooling with
  zeros (``count_include_pad`` says whether padded taps count in the divisor).
* **Stride defaults to the kernel size**: windows that tile the input without overlap.
  ``stride < kernel_size`` gives *overlapping* pooling, as in AlexNet (3×3, stride 2).
* **Output size**, per axis: ``(size + 2p - d (k - 1) - 1) // s + 1``; with ``ceil_mode`` the
  division rounds up, except that the last window must start inside the input or the left
  padding (otherwise it is dropped).
* **Switches.** The backward pass of max pooling needs, for each window, which input won:
  :func:`max_pool2d_forward` stores its index (``h W + w`` in the input plane, what
  ``F.max_pool2d(..., return_indices=True)`` returns) and :func:`max_pool2d_backward` adds each
  output gradient at that index. **Ties** go to the first maximum in row-major window order
  (top row first, then left to right), as PyTorch does on the CPU; a window holding a NaN
  outputs NaN and its switch points at its last NaN, also as PyTorch does; a window whose
  maximum is ``-inf`` points at its first tap on the input (never at the padding), as PyTorch
  does too, and so passes its gradient there.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from cnnutils._checks import _bool, _choice, _int, _pair, _tensor
from cnnutils.geometry import _output_length, check_fits

__all__ = [
    "MaxPool2d",
    "MaxPoolCache",
    "adaptive_avg_pool2d",
    "avg_pool2d",
    "disk_footprint",
    "disk_pool2d",
    "global_avg_pool2d",
    "global_max_pool2d",
    "max_pool2d",
    "max_pool2d_backward",
    "max_pool2d_forward",
]

_DISK_MODES = ("max", "avg")


# --- geometry, shared by every pooling function -----------------------------------------------


class _Geometry(NamedTuple):
    """One pooling call, checked: which taps a window has and where the windows go."""

    taps: tuple[tuple[int, int], ...]  # (row, col) of each tap from the window's corner
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]  # (top, bottom, left, right), ceil_mode's extra included
    out_size: tuple[int, int]  # (H_out, W_out)
    in_size: tuple[int, int]  # (H, W)


def _check_x(x: object, fn: str) -> Tensor:
    return _tensor(x, "x", fn, dims=(4, 3), layout="(N, C, H, W) or (C, H, W)", floating=True)


def _geometry(
    x: Tensor,
    fn: str,
    taps: tuple[tuple[int, int], ...],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    ceil_mode: bool,
    dilation: tuple[int, int] = (1, 1),
) -> _Geometry:
    """Place the windows (the window was checked to fit by :func:`_check_window`)."""
    in_size = (x.shape[-2], x.shape[-1])
    span = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel, strict=True))
    padded = tuple(n + 2 * p for n, p in zip(in_size, padding, strict=True))
    out_size = tuple(
        _output_length(n, k, s, p, d, ceil_mode)
        for n, k, s, p, d in zip(in_size, kernel, stride, padding, dilation, strict=True)
    )
    # ceil_mode's last window may hang over the bottom / right padding: pad that much more.
    extra = tuple(
        max(0, (o - 1) * s + e - q)
        for o, s, e, q in zip(out_size, stride, span, padded, strict=True)
    )
    pad = (padding[0], padding[0] + extra[0], padding[1], padding[1] + extra[1])
    return _Geometry(taps, stride, pad, out_size, in_size)


def _window_geometry(
    x: object,
    fn: str,
    kernel_size: object,
    stride: object,
    padding: object,
    dilation: object,
    ceil_mode: object,
) -> _Geometry:
    """Check the arguments of a rectangular pooling (max or average); every tap, row-major.

    Every check, the window's fit included, runs before the taps are listed, so a kernel far
    too large costs nothing but its error.
    """
    _check_x(x, fn)
    kernel, stride, pad, dil, ceil_mode = _check_window(
        fn, kernel_size, stride, padding, dilation, ceil_mode
    )
    check_fits(fn, tuple(x.shape[-2:]), kernel, pad, dil)
    taps = tuple((dil[0] * a, dil[1] * b) for a in range(kernel[0]) for b in range(kernel[1]))
    return _geometry(x, fn, taps, kernel, stride, pad, ceil_mode, dil)


def _check_window(
    fn: str,
    kernel_size: object,
    stride: object,
    padding: object,
    dilation: object,
    ceil_mode: object,
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int], bool]:
    """The hyperparameters of a rectangular pooling, checked (also at a layer's construction)."""
    kernel = _pair(kernel_size, "kernel_size", fn, 1)
    stride = kernel if stride is None else _pair(stride, "stride", fn, 1)
    pad = _pair(padding, "padding", fn, 0)
    dil = _pair(dilation, "dilation", fn, 1)
    ceil_mode = _bool(ceil_mode, "ceil_mode", fn)
    if pad[0] > kernel[0] // 2 or pad[1] > kernel[1] // 2:
        raise ValueError(
            f"{fn}: padding must be at most half the kernel size (padding <= kernel_size // 2, "
            f"as PyTorch requires), got padding {pad} for kernel {kernel}"
        )
    return kernel, stride, pad, dil, ceil_mode


def _pad(x: Tensor, padding: tuple[int, int, int, int], value: float) -> Tensor:
    """Pad the last two axes by ``(top, bottom, left, right)`` with ``value``."""
    if not any(padding):
        return x
    top, bottom, left, right = padding
    return F.pad(x, (left, right, top, bottom), value=value)


def _slices(xp: Tensor, g: _Geometry) -> list[Tensor]:
    """Tap ``t`` of every window at once: one strided view of the padded input per tap."""
    (sh, sw), (ho, wo) = g.stride, g.out_size
    return [
        xp[..., r : r + sh * (ho - 1) + 1 : sh, c : c + sw * (wo - 1) + 1 : sw]  # (..., Ho, Wo)
        for r, c in g.taps
    ]


# --- max pooling: values, switches, backward ------------------------------------------------


def _max_values(x: Tensor, g: _Geometry) -> Tensor:
    """Elementwise maximum of the shifted slices; the values only (no switches)."""
    return _maximum(_slices(_pad(x, g.padding, -math.inf), g))


def _maximum(slices: list[Tensor]) -> Tensor:
    if len(slices) == 1:
        return slices[0].contiguous()
    out = torch.maximum(slices[0], slices[1])  # NaN-propagating, as F.max_pool2d
    for view in slices[2:]:
        torch.maximum(out, view, out=out)
    return out


def _max_with_switches(x: Tensor, g: _Geometry) -> tuple[Tensor, Tensor]:
    """Values and switches: flat input index ``h W + w`` of each window's maximum.

    Data-dependent choices (NaN, ``-inf``) are elementwise selections, not Python branches, so
    the call never waits for the device to finish.
    """
    slices = _slices(_pad(x, g.padding, -math.inf), g)
    # One copy of the T slices side by side, then one reduction over them: values, and which
    # tap won. torch.max(dim) returns the first maximum on ties, i.e. the first in row-major
    # window order, as F.max_pool2d does on the CPU.
    stacked = torch.stack(slices)  # (T, N, C, Ho, Wo)
    out, tap = stacked.max(dim=0)  # (N, C, Ho, Wo) each
    tap = _last_nan_wins(stacked, out, tap)
    offsets, corner, first, orphan = _switch_tables(g, x.device)
    # A window whose maximum is -inf ties everywhere, padding included: PyTorch's switch is
    # the window's first tap on the input
    tap = torch.where(out == -math.inf, first, tap)
    indices = torch.take(offsets, tap) + corner  # (N, C, Ho, Wo)
    if orphan is not None:  # dilated windows with no tap on the input: no switch
        indices = indices.masked_fill(orphan, -1)
    return out, indices


def _last_nan_wins(stacked: Tensor, out: Tensor, tap: Tensor) -> Tensor:
    """PyTorch's switch of a window holding a NaN points at its last NaN: the largest 1-based
    tap number among the window's NaN taps (0 where there is none) says which.

    On the CPU, asking first whether there is a NaN at all is free and saves the search; on
    a GPU the answer would have to wait for the device, so the search always runs there.
    """
    if _reading_back_is_free(out.device) and not bool(torch.isnan(out).any()):
        return tap
    count = len(stacked)
    dtype = torch.uint8 if count < 256 else torch.int32  # numbers 1 … count
    numbers = torch.arange(1, count + 1, dtype=dtype, device=out.device)
    nan = torch.isnan(stacked).to(dtype)  # (T, N, C, Ho, Wo)
    last = nan.mul_(numbers.view(count, *[1] * out.dim())).amax(0)  # (N, C, Ho, Wo)
    return torch.where(last > 0, last.long() - 1, tap)


def _reading_back_is_free(device: torch.device) -> bool:
    return device.type == "cpu"


@functools.lru_cache(maxsize=32)
def _switch_tables(
    g: _Geometry, device: torch.device
) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
    """What the switches need from the geometry alone, built once per geometry and device
    (so that no call copies tables to the device and waits for it).

    Returns:
        ``offsets`` ``(T,)``: each tap's flat offset ``r W + c`` from its window's corner;
        ``corner`` ``(Ho, Wo)``: each window's corner ``h W + w`` (in the padding it is
        outside the plane); ``first`` ``(Ho, Wo)``: each window's first tap on the input, in
        row-major order; ``orphan`` ``(Ho, Wo)``, True for a window with no tap on the
        input, or ``None`` when there is none.
    """
    (sh, sw), (ho, wo) = g.stride, g.out_size
    top, _, left, _ = g.padding
    h, w = g.in_size
    tap_rows = torch.tensor([r - top for r, _ in g.taps]).view(-1, 1, 1)  # (T, 1, 1)
    tap_cols = torch.tensor([c - left for _, c in g.taps]).view(-1, 1, 1)
    corner_rows = torch.arange(ho).view(ho, 1) * sh  # (Ho, 1)
    corner_cols = torch.arange(wo) * sw  # (Wo,)
    rows, cols = corner_rows + tap_rows, corner_cols + tap_cols  # (T, Ho, 1), (T, 1, Wo)
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)  # (T, Ho, Wo)
    first = inside.to(torch.uint8).argmax(0)  # (Ho, Wo), the first True
    orphan = ~inside.any(0)  # (Ho, Wo)
    offsets = (tap_rows * w + tap_cols).flatten()  # (T,)
    tables = [t.to(device) for t in (offsets, corner_rows * w + corner_cols, first)]
    return (*tables, orphan.to(device) if bool(orphan.any()) else None)


class MaxPoolCache(NamedTuple):
    """What the backward pass of max pooling needs from the forward pass.

    Attributes:
        indices: the switches, shape of the output ``(N, C, H_out, W_out)`` (or
            ``(C, H_out, W_out)``), int64: the flat index ``h W + w`` of each window's maximum
            in its input plane, as ``F.max_pool2d(..., return_indices=True)`` gives (a window
            whose maximum is ``-inf`` points at its first tap on the input); -1 only for a
            dilated window with no tap on the input at all (it gets no gradient).
        input_shape: the shape of ``x``.
    """

    indices: Tensor
    input_shape: torch.Size


def _forward(x: Tensor, g: _Geometry) -> tuple[Tensor, Tensor]:
    if x.dim() == 3:  # one image (C, H, W)
        out, indices = _max_with_switches(x[None], g)
        return out[0], indices[0]
    return _max_with_switches(x, g)


def max_pool2d_forward(
    x: Tensor,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    ceil_mode: bool = False,
) -> tuple[Tensor, MaxPoolCache]:
    """Max pooling that also returns its switches, for :func:`max_pool2d_backward`.

    A pure function: it computes the output as :func:`max_pool2d` does and records, for each
    window, where its maximum came from. No autograd involved.

    Args:
        x: input, shape ``(N, C, H, W)`` or ``(C, H, W)``; a floating dtype.
        kernel_size, stride, padding, dilation, ceil_mode: as in :func:`max_pool2d`.

    Returns:
        ``(out, cache)``, ``out`` of shape ``(N, C, H_out, W_out)`` and a
        :class:`MaxPoolCache` whose ``indices`` equal those of
        ``F.max_pool2d(..., return_indices=True)``.

    Example:
        >>> x = torch.tensor([[[[1., 5., 2., 0.],
        ...                     [3., 4., 8., 1.],
        ...                     [0., 2., 7., 7.],
        ...                     [6., 1., 7., 3.]]]])
        >>> out, cache = max_pool2d_forward(x, 2)
        >>> out.tolist(), cache.indices.tolist()  # index = row * 4 + column
        ([[[[5.0, 8.0], [6.0, 7.0]]]], [[[[1, 6], [12, 10]]]])
    """
    fn = "max_pool2d_forward"
    g = _window_geometry(x, fn, kernel_size, stride, padding, dilation, ceil_mode)
    out, indices = _forward(x, g)
    return out, MaxPoolCache(indices, x.shape)


def max_pool2d_backward(grad_out: Tensor, cache: MaxPoolCache) -> Tensor:
    """Backward pass of max pooling: each output gradient goes to its
    window's maximum.

    ``grad_x[n, c, h, w]`` is the sum of ``grad_out[n, c, i, j]`` over the
    windows ``(i, j)`` whose switch is ``(h, w)``; every other input gets 0.
    Where windows overlap, one input can win several windows and its
    gradients add up.

    Args:
        grad_out: gradient of the loss with respect to the output, shape of
            the output.
        cache: from :func:`max_pool2d_forward`.

    Returns:
        gradient with respect to ``x``, shape ``cache.input_shape``.

    Example:
        >>> x = torch.tensor([[[[1., 2., 0.],
        ...                     [3., 9., 4.],
        ...                     [0., 5., 2.]]]])
        >>> # the 9 wins all four windows
        >>> out, cache = max_pool2d_forward(x, 2, stride=1)
        >>> max_pool2d_backward(torch.ones_like(out), cache).tolist()
        [[[[0.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 0.0]]]]
    """
    fn = "max_pool2d_backward"
    if not isinstance(grad_out, Tensor):
        got = type(grad_out).__name__
        raise TypeError(f"{fn}: grad_out must be a torch.Tensor, got {got}")
    indices, shape = cache.indices, cache.input_shape
    if grad_out.shape != indices.shape:
        raise ValueError(
            f"{fn}: grad_out must have the output's shape "
            f"{tuple(indices.shape)}, got {tuple(grad_out.shape)}"
        )
    planes = math.prod(shape[:-2])  # N · C
    windows = math.prod(indices.shape[-2:])  # Ho · Wo
    index = indices.reshape(planes, windows)
    src = grad_out.reshape(index.shape)
    # windows with no tap on the input pass nothing back
    src = torch.where(index < 0, 0, src)
    index = index.clamp(min=0)
    grad_x = grad_out.new_zeros((planes, shape[-2] * shape[-1]))
    # adds up where one input won several windows
    grad_x.scatter_add_(1, index, src)
    return grad_x.view(shape)


class _MaxPool2dFunction(torch.autograd.Function):
    """Autograd wrapper around :func:`_forward` and :func:`max_pool2d_backward`."""

    @staticmethod
    def forward(ctx, x: Tensor, g: _Geometry) -> tuple[Tensor, Tensor]:  # type: ignore[override]
        out, indices = _forward(x, g)
        ctx.save_for_backward(indices)
        ctx.mark_non_differentiable(indices)
        ctx.input_shape = x.shape
        return out, indices

    @staticmethod
    def backward(ctx, grad_out: Tensor, _grad_indices: None) -> tuple[Tensor, None]:  # type: ignore[override]
        (indices,) = ctx.saved_tensors
        return max_pool2d_backward(grad_out, MaxPoolCache(indices, ctx.input_shape)), None


def max_pool2d(
    x: Tensor,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """2-D max pooling, what ``torch.nn.functional.max_pool2d`` computes, from scratch.

    ``out[n, c, i, j] = max_{a, b} x_pad[n, c, s_H i + d_H a, s_W j + d_W b]`` where ``x_pad``
    is ``x`` padded with ``-inf``. Computed as the elementwise maximum of ``kH kW`` strided
    slices of the padded input (one per tap of the window). When ``x`` requires a gradient the
    call goes through a ``torch.autograd.Function`` whose backward pass is
    :func:`max_pool2d_backward` (the switches are recorded only then).

    Args:
        x: input, shape ``(N, C, H, W)``, or ``(C, H, W)`` for one image; a floating dtype.
        kernel_size: window size, int or ``(kH, kW)``, ``>= 1``.
        stride: step between windows, int or ``(sH, sW)``, ``>= 1``; ``None`` (the default)
            means ``kernel_size``: windows that tile without overlap.
        padding: ``-inf`` added per side, int or ``(pH, pW)``, at most ``kernel_size // 2``.
        dilation: spacing of the taps, int or ``(dH, dW)``; 1 means no gaps.
        ceil_mode: round the output size up (the last window may hang over the edge; it
            must start inside the input or the left padding).
        return_indices: also return the switches, the flat index ``h W + w`` of each window's
            maximum in its input plane (``MaxPoolCache.indices`` of
            :func:`max_pool2d_forward`).

    Returns:
        shape ``(N, C, H_out, W_out)``, ``H_out = (H + 2 pH - dH (kH - 1) - 1) // sH + 1``
        (see :func:`pool_output_size`), and likewise ``W_out``; with ``return_indices``, the
        pair ``(out, indices)``, as ``F.max_pool2d`` returns.

    Raises:
        TypeError: a non-tensor or non-floating input, or a non-integer hyperparameter.
        ValueError: a wrong rank, out-of-range hyperparameters, or a window that does not fit.

    Example:
        >>> x = torch.randn(2, 3, 7, 6)
        >>> max_pool2d(x, (3, 2), stride=(2, 1), padding=1).shape
        torch.Size([2, 3, 4, 7])
        >>> torch.equal(max_pool2d(x, 3, stride=2, ceil_mode=True),
        ...             F.max_pool2d(x, 3, stride=2, ceil_mode=True))
        True
    """
    fn = "max_pool2d"
    g = _window_geometry(x, fn, kernel_size, stride, padding, dilation, ceil_mode)
    if _bool(return_indices, "return_indices", fn):
        if x.requires_grad and torch.is_grad_enabled():
            return _MaxPool2dFunction.apply(x, g)
        return _forward(x, g)
    if x.requires_grad and torch.is_grad_enabled():
        return _MaxPool2dFunction.apply(x, g)[0]
    return _max_values(x, g)


class MaxPool2d(nn.Module):
    """Max pooling layer. See :func:`max_pool2d`.

    The arguments are ``nn.MaxPool2d``'s, in its order (``return_indices`` before
    ``ceil_mode``, unlike the function), and are checked here, at construction.

    Example:
        >>> MaxPool2d(3, stride=2)(torch.randn(1, 96, 55, 55)).shape
        torch.Size([1, 96, 27, 27])
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        fn = "MaxPool2d"
        _check_window(fn, kernel_size, stride, padding, dilation, ceil_mode)
        self.return_indices = _bool(return_indices, "return_indices", fn)
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.dilation, self.ceil_mode = dilation, ceil_mode

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return max_pool2d(
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.return_indices,
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


# --- average pooling ----------------------------------------------------------------------------


def _tap_sum(x: Tensor, g: _Geometry) -> Tensor:
    """Sum of the shifted slices of the zero-padded input."""
    slices = _slices(_pad(x, g.padding, 0.0), g)
    out = slices[0].clone()
    for view in slices[1:]:
        out += view
    return out


def _divisor(x: Tensor, g: _Geometry, region: tuple[int, int, int, int]) -> Tensor:
    """How many taps of each window fall in ``region`` (top, bottom, left, right) of the
    padded plane: the same tap sum, applied to a plane of ones there."""
    top, bottom, left, right = g.padding
    h, w = g.in_size
    mask = x.new_zeros((h + top + bottom, w + left + right))
    mask[region[0] : region[1], region[2] : region[3]] = 1
    slices = _slices(mask, g)
    return torch.stack(slices).sum(0)  # (Ho, Wo)


def avg_pool2d(
    x: Tensor,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """2-D average pooling, what ``torch.nn.functional.avg_pool2d`` computes, from scratch.

    The sum of ``kH kW`` strided slices of the zero-padded input, divided by the number of
    taps that count: all ``kH kW`` (padding included) with ``count_include_pad=True``, or only
    those on the input with ``False``. With ``ceil_mode``, the taps of a last window hanging
    beyond the padding never count (PyTorch's rule). ``divisor_override`` replaces that count
    by one number for every window. Differentiable with autograd.

    Args:
        x: input, shape ``(N, C, H, W)``, or ``(C, H, W)``; a floating dtype.
        kernel_size: window size, int or ``(kH, kW)``.
        stride: step between windows; ``None`` means ``kernel_size``.
        padding: zeros added per side, at most ``kernel_size // 2``.
        ceil_mode: round the output size up (see :func:`pool_output_size`).
        count_include_pad: whether padded taps count in the divisor.
        divisor_override: ``None``, or a nonzero int that divides every window's sum instead
            (``avg_pool2d(x, 2, divisor_override=1)`` is sum pooling).

    Returns:
        shape ``(N, C, H_out, W_out)``, as for :func:`max_pool2d` with dilation 1.

    Raises:
        TypeError: a non-tensor or non-floating input, a non-integer hyperparameter or a
            non-bool flag.
        ValueError: a wrong rank, out-of-range hyperparameters, or a window that does not fit.

    Example:
        >>> x = torch.arange(16.).view(1, 1, 4, 4)
        >>> avg_pool2d(x, 2).tolist()
        [[[[2.5, 4.5], [10.5, 12.5]]]]
        >>> y = torch.randn(2, 3, 7, 6)
        >>> kw = dict(stride=2, padding=1, ceil_mode=True, count_include_pad=False)
        >>> torch.allclose(avg_pool2d(y, 3, **kw), F.avg_pool2d(y, 3, **kw))
        True
    """
    fn = "avg_pool2d"
    g = _window_geometry(x, fn, kernel_size, stride, padding, 1, ceil_mode)
    count_include_pad = _bool(count_include_pad, "count_include_pad", fn)
    if divisor_override is not None:
        if _int(divisor_override, "divisor_override", fn) == 0:
            raise ValueError(f"{fn}: divisor_override must be a nonzero int or None, got 0")
        return _tap_sum(x, g) / int(divisor_override)
    ph, pw = g.padding[0], g.padding[2]
    h, w = g.in_size
    if count_include_pad:  # the input and its padding, not ceil_mode's overhang
        region = (0, h + 2 * ph, 0, w + 2 * pw)
    else:
        region = (ph, ph + h, pw, pw + w)
    return _tap_sum(x, g) / _divisor(x, g, region)


# --- disk-shaped pooling --------------------------------------------------------------------


def disk_footprint(radius: int) -> Tensor:
    """The disk of a given radius: offsets ``(dy, dx)`` with ``dy² + dx² <= radius²``.

    Args:
        radius: int ``>= 0``.

    Returns:
        bool tensor of shape ``(2 radius + 1, 2 radius + 1)``, True on the disk (the same as
        ``skimage.morphology.disk(radius)``).

    Example:
        >>> disk_footprint(2).int().tolist()
        [[0, 0, 1, 0, 0], [0, 1, 1, 1, 0], [1, 1, 1, 1, 1], [0, 1, 1, 1, 0], [0, 0, 1, 0, 0]]
    """
    radius = _int(radius, "radius", "disk_footprint", minimum=0)
    offsets = torch.arange(-radius, radius + 1)
    return offsets.view(-1, 1) ** 2 + offsets**2 <= radius**2


def disk_pool2d(
    x: Tensor,
    radius: int,
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    mode: str = "max",
) -> Tensor:
    """Pooling over a disk-shaped window: the maximum or mean of the taps within ``radius``.

    The window is :func:`disk_footprint` ``(radius)``, inside a ``(2r + 1) × (2r + 1)`` square;
    only its taps are pooled, with the same shifted-slice code as :func:`max_pool2d` (and its
    hand-written backward pass for ``mode="max"``). ``padding=radius`` with stride 1 keeps the
    size, like ``scipy.ndimage.maximum_filter(x, footprint=disk(r), mode="constant",
    cval=-inf)``. The mean counts only taps on the input, never padding.

    Args:
        x: input, shape ``(N, C, H, W)``, or ``(C, H, W)``; a floating dtype.
        radius: radius of the disk in pixels, int ``>= 0`` (0 is the identity).
        stride: step between windows, int or ``(sH, sW)``.
        padding: per side, int or ``(pH, pW)``, at most ``radius`` (so that every window's
            centre is on the input).
        mode: ``"max"`` or ``"avg"``.

    Returns:
        shape ``(N, C, H_out, W_out)``, ``H_out = (H + 2 pH - 2 radius - 1) // sH + 1``.

    Raises:
        TypeError: a non-tensor or non-floating input, or a non-integer hyperparameter.
        ValueError: a wrong rank, out-of-range hyperparameters, a disk that does not fit, or
            an unknown mode.

    Example:
        >>> x = torch.zeros(1, 1, 5, 5); x[0, 0, 0, 0] = 1.
        >>> disk_pool2d(x, 2, padding=2)[0, 0].int().tolist()  # the 1 spreads as a disk
        [[1, 1, 1, 0, 0], [1, 1, 0, 0, 0], [1, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]]
    """
    fn = "disk_pool2d"
    _check_x(x, fn)
    radius = _int(radius, "radius", fn, minimum=0)
    mode = _choice(mode, "mode", fn, _DISK_MODES)
    stride = _pair(stride, "stride", fn, 1)
    pad = _pair(padding, "padding", fn, 0)
    if max(pad) > radius:
        raise ValueError(f"{fn}: padding must be at most the radius {radius}, got {pad}")
    size = 2 * radius + 1
    check_fits(fn, tuple(x.shape[-2:]), (size, size), pad)  # before the disk is drawn
    footprint = disk_footprint(radius)
    taps = tuple((int(r), int(c)) for r, c in footprint.nonzero())  # row-major order
    g = _geometry(x, fn, taps, (size, size), stride, pad, False)
    if mode == "avg":
        ph, pw = pad
        h, w = g.in_size
        return _tap_sum(x, g) / _divisor(x, g, (ph, ph + h, pw, pw + w))
    if x.requires_grad and torch.is_grad_enabled():
        return _MaxPool2dFunction.apply(x, g)[0]
    return _max_values(x, g)


# --- global and adaptive pooling ------------------------------------------------------------


def _check_global(x: object, fn: str) -> None:
    _check_x(x, fn)
    if x.shape[-1] == 0 or x.shape[-2] == 0:
        raise ValueError(f"{fn}: x must have H, W >= 1, got shape {tuple(x.shape)}")


def global_avg_pool2d(x: Tensor, keepdim: bool = False) -> Tensor:
    """Mean of each feature map over all positions, whatever the input size.

    Args:
        x: input, shape ``(N, C, H, W)`` or ``(C, H, W)``; a floating dtype.
        keepdim: keep the two spatial axes, with size 1.

    Returns:
        shape ``(N, C)`` (``(N, C, 1, 1)`` with ``keepdim``), the same as
        ``F.adaptive_avg_pool2d(x, 1)`` flattened.

    Example:
        >>> global_avg_pool2d(torch.ones(2, 5, 28, 28)).shape, global_avg_pool2d(
        ...     torch.ones(2, 5, 40, 40)).shape
        (torch.Size([2, 5]), torch.Size([2, 5]))
    """
    _check_global(x, "global_avg_pool2d")
    keepdim = _bool(keepdim, "keepdim", "global_avg_pool2d")
    return x.mean(dim=(-2, -1), keepdim=keepdim)


def global_max_pool2d(x: Tensor, keepdim: bool = False) -> Tensor:
    """Maximum of each feature map over all positions, whatever the input size.

    Args:
        x: input, shape ``(N, C, H, W)`` or ``(C, H, W)``; a floating dtype.
        keepdim: keep the two spatial axes, with size 1.

    Returns:
        shape ``(N, C)`` (``(N, C, 1, 1)`` with ``keepdim``), the same as
        ``F.adaptive_max_pool2d(x, 1)`` flattened.

    Example:
        >>> global_max_pool2d(torch.arange(8.).view(1, 2, 2, 2)).tolist()
        [[3.0, 7.0]]
    """
    _check_global(x, "global_max_pool2d")
    keepdim = _bool(keepdim, "keepdim", "global_max_pool2d")
    return x.amax(dim=(-2, -1), keepdim=keepdim)


def _bin_mean(x: Tensor, dim: int, bins: int) -> Tensor:
    """Mean over adaptive bins along ``dim``: bin ``i`` of ``size`` positions averages
    positions ``floor(i size / bins)`` to ``ceil((i + 1) size / bins) - 1``.

    Each bin's positions are gathered (bins differ in length by at most one, so they are
    padded to the longest with a repeat of the bin's own position, then masked out), summed and
    divided by the bin's length: a direct sum, so an ``inf`` or NaN reaches only its own bins.
    """
    size = x.shape[dim]
    i = torch.arange(bins)
    start = (i * size) // bins
    end = -((-(i + 1) * size) // bins)  # ceil
    longest = int((end - start).max())
    positions = start.view(-1, 1) + torch.arange(longest)  # (bins, longest)
    inside = positions < end.view(-1, 1)
    positions = torch.where(inside, positions, start.view(-1, 1))
    gathered = x.index_select(dim, positions.flatten().to(x.device))
    gathered = gathered.unflatten(dim, (bins, longest))  # bins and their positions along dim
    shape = [1] * gathered.dim()
    shape[dim], shape[dim + 1] = bins, longest
    mask = inside.view(shape).to(x.device)
    total = torch.where(mask, gathered, 0.0).sum(dim + 1)
    lengths = (end - start).to(dtype=x.dtype, device=x.device)
    return total / lengths.view(shape[: dim + 1] + [1] * (x.dim() - dim - 1))


def adaptive_avg_pool2d(x: Tensor, output_size: int | tuple[int | None, int | None]) -> Tensor:
    """Average pooling to a fixed output size, for inputs of any size.

    Output bin ``i`` of an axis of length ``H`` averages the positions
    ``floor(i H / out)`` to ``ceil((i + 1) H / out) - 1``, as ``F.adaptive_avg_pool2d`` does; the
    bins differ in size by at most one and overlap when ``H`` is not a multiple of ``out``.
    The mean over a rectangle is the mean over its rows of the means over its columns, so the
    bins are averaged one axis after the other. Each is a direct sum over the bin's positions
    (a matrix of bin weights would be shorter, but its zeros times an ``inf`` or NaN elsewhere
    give NaN): as in PyTorch, a non-finite value reaches only the bins that contain it.

    Args:
        x: input, shape ``(N, C, H, W)`` or ``(C, H, W)``; a floating dtype.
        output_size: ``out`` or ``(out_H, out_W)``, each ``>= 1``; ``None`` keeps that axis.

    Returns:
        shape ``(N, C, out_H, out_W)``.

    Example:
        >>> x = torch.arange(5.).view(1, 1, 1, 5)
        >>> adaptive_avg_pool2d(x, (1, 2)).tolist()  # bins [0, 3) and [2, 5)
        [[[[1.0, 3.0]]]]
    """
    fn = "adaptive_avg_pool2d"
    _check_global(x, fn)
    h, w = x.shape[-2:]
    if isinstance(output_size, (tuple, list)) and len(output_size) == 2:
        output_size = tuple(n if v is None else v for v, n in zip(output_size, (h, w), strict=True))
    out_h, out_w = _pair(output_size, "output_size", fn, 1)
    rows = _bin_mean(x, x.dim() - 1, out_w)  # (..., H, out_W)
    return _bin_mean(rows, x.dim() - 2, out_h)  # (..., out_H, out_W)
