"""Convolution from scratch: three ways to compute ``conv2d``, 2-D signal convolution, sizes.

The convolution chapter builds the operation that ``torch.nn.functional.conv2d`` computes three
times over, with one signature: :func:`conv2d` with ``method="naive"`` (loops over output
positions, to read), ``"unfold"`` (im2col and one matrix multiply, to use) and ``"fft"`` (the
convolution theorem, for large kernels). Conventions, where they bite:

* **Cross-correlation.** What deep learning calls convolution does not flip the kernel:
  ``out[i, j] = sum_{a, b} x[i + a, j + b] * w[a, b]``. True convolution flips it;
  :func:`convolve2d` computes that one, :func:`correlate2d` the other, as ``scipy.signal`` does.
* **Padding is per side**, as in PyTorch: ``padding=1`` adds one row on top *and* one below.
* **Dilation 1 means no gaps**, as in PyTorch (CS231n and some papers count the gaps, so their
  dilation 0 is our 1). A kernel of size ``k`` with dilation ``d`` spans ``d (k - 1) + 1``
  pixels.
* The output-size formula, per axis: ``(size + 2p - d (k - 1) - 1) // s + 1``
  (:func:`cnnutils.geometry.conv_output_size`).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from cnnutils import _machine
from cnnutils._checks import _check_tensors, _choice, _pair, _positive_int
from cnnutils.geometry import _output_length, check_fits

__all__ = ["conv2d", "convolve2d", "correlate2d"]

_METHODS = ("naive", "unfold", "fft")
_SIGNAL_MODES = ("full", "same", "valid")
# Kernels with at least this many taps go through the FFT in convolve2d / correlate2d: with
# benchmarks/bench_conv.py on one 224×224 channel, fft beats unfold from 9×9 (one thread).
_FFT_MIN_TAPS = 81


# --- argument checking, shared by every method ----------------------------------------------


class _Geometry(NamedTuple):
    """Hyperparameters of one conv2d call, checked and normalised to pairs."""

    stride: tuple[int, int]
    padding: tuple[int, int, int, int]  # (top, bottom, left, right)
    dilation: tuple[int, int]
    groups: int
    out_size: tuple[int, int]  # (H_out, W_out)


def _check_conv2d_args(
    x: object,
    weight: object,
    bias: object,
    stride: object,
    padding: object,
    dilation: object,
    groups: object,
    method: object,
) -> _Geometry:
    """Check every argument of :func:`conv2d` before anything is computed; raise a clear error."""
    fn = "conv2d"
    _choice(method, "method", fn, _METHODS)
    _check_tensors(x, weight, bias, fn, "(C_out, C_in // groups, kH, kW)")
    groups = _positive_int(groups, "groups", fn)
    c_in, c_out = x.shape[1], weight.shape[0]
    if c_in % groups or c_out % groups:
        raise ValueError(
            f"{fn}: groups must divide C_in and C_out, got groups={groups}, "
            f"C_in={c_in}, C_out={c_out}"
        )
    if weight.shape[1] != c_in // groups:
        raise ValueError(
            f"{fn}: weight.shape[1] must be C_in // groups = {c_in // groups}, "
            f"got weight of shape {tuple(weight.shape)}"
        )
    if bias is not None and tuple(bias.shape) != (c_out,):
        raise ValueError(f"{fn}: bias must have shape ({c_out},), got {tuple(bias.shape)}")

    stride = _pair(stride, "stride", fn, 1)
    dilation = _pair(dilation, "dilation", fn, 1)
    kernel = tuple(weight.shape[2:])
    span = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel, strict=True))
    if isinstance(padding, str):
        if padding == "valid":
            pad = (0, 0, 0, 0)
        elif padding == "same":
            if stride != (1, 1):
                raise ValueError(f"{fn}: padding='same' needs stride 1, got stride={stride}")
            # Total padding span - 1 per axis; an odd total puts the extra row/column at the
            # bottom/right, as PyTorch does.
            top, left = ((s - 1) // 2 for s in span)
            pad = (top, span[0] - 1 - top, left, span[1] - 1 - left)
        else:
            raise ValueError(
                f"{fn}: padding must be an int, a pair, 'valid' or 'same', got {padding!r}"
            )
    else:
        ph, pw = _pair(padding, "padding", fn, 0)
        pad = (ph, ph, pw, pw)

    check_fits(fn, tuple(x.shape[2:]), kernel, pad, dilation)
    out_size = tuple(
        _output_length(n + top + bottom, k, s, 0, d, False)
        for n, k, s, d, (top, bottom) in zip(
            x.shape[2:], kernel, stride, dilation, (pad[:2], pad[2:]), strict=True
        )
    )
    return _Geometry(stride, pad, dilation, groups, out_size)


def _pad(x: Tensor, padding: tuple[int, int, int, int]) -> Tensor:
    """Zero-pad the last two axes by ``(top, bottom, left, right)``."""
    top, bottom, left, right = padding
    if not any(padding):
        return x
    return F.pad(x, (left, right, top, bottom))


# --- conv2d -----------------------------------------------------------------------------------


def conv2d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
    *,
    method: str = "unfold",
) -> Tensor:
    """2-D cross-correlation, what ``torch.nn.functional.conv2d`` computes, from scratch.

    Cross-correlation: the kernel is not flipped, ``out[n, o, i, j] = b[o] + sum_{c, a, b'}
    x_pad[n, c, s i + d a, s j + d b'] * w[o, c, a, b']`` (channels ``c`` of ``o``'s group).
    Each channel group ``g`` of ``groups`` sees only its ``C_in // groups`` input channels and
    makes ``C_out // groups`` output channels.

    Methods (same result, same arguments):

    * ``"naive"``: Python loops over the output positions, vectorised over batch and channels;
      for reading, tiny inputs only.
    * ``"unfold"``: domain: every input, the default; im2col as strided views, one copy and
      one (batched) matrix multiply per block of samples, with a written-out backward pass;
      memory ``C_in kH kW N H_out W_out`` for the columns, in blocks sized from the machine's
      memory and kept from call to call.
    * ``"fft"``: domain: every input, worth it for large kernels (from about 9×9 on one
      channel); stride by subsampling the stride-1 result, dilation by inserting zeros into the
      kernel; float64 error ~1e-15, float32 ~1e-6 relative. A spectrum mixes every pixel into
      every output, so a non-finite result (an ``inf`` or NaN in ``x`` or ``weight``, or a sum
      that overflows) is computed again with ``"unfold"``: as in PyTorch, an ``inf`` or NaN
      then reaches only the outputs whose windows contain it (the check costs one pass over
      the output, and a device synchronisation on a GPU).

    All three are differentiable with autograd. The arguments are ``F.conv2d``'s, in its order
    and with its defaults (the op contract of :mod:`cnnutils.ops`); ``method`` is ours,
    keyword-only.

    Args:
        x: input, shape ``(N, C_in, H, W)``, or ``(C_in, H, W)`` for one image (then the output
            has no batch axis either); a floating dtype.
        weight: filters, shape ``(C_out, C_in // groups, kH, kW)``, same dtype and device as
            ``x``.
        bias: ``None`` or shape ``(C_out,)``.
        stride: step between output positions, int or ``(sH, sW)``, ``>= 1``.
        padding: zeros added **per side**, int or ``(pH, pW)``; or ``"valid"`` (no padding) or
            ``"same"`` (output as large as the input, stride 1 only; when the total padding
            ``d (k - 1)`` is odd the extra row and column go to the bottom and right, as in
            PyTorch).
        dilation: spacing of the kernel taps, int or ``(dH, dW)``; 1 means no gaps.
        groups: number of channel groups; divides ``C_in`` and ``C_out``.
        method: ``"naive"``, ``"unfold"`` or ``"fft"``.

    Returns:
        shape ``(N, C_out, H_out, W_out)``, ``H_out = (H + 2 pH - dH (kH - 1) - 1) // sH + 1``
        and likewise ``W_out`` (with ``"same"``, ``H_out = H``).

    Raises:
        TypeError: a non-tensor, a non-floating input, or a non-integer hyperparameter.
        ValueError: wrong ranks or shapes, out-of-range hyperparameters, a kernel that does not
            fit, mismatched dtypes or devices, or an unknown method.

    Example:
        >>> x, w = torch.randn(2, 3, 5, 4), torch.randn(8, 3, 3, 2)
        >>> conv2d(x, w, stride=(2, 1)).shape
        torch.Size([2, 8, 2, 3])
        >>> y = F.conv2d(x, w, stride=(2, 1))
        >>> all(torch.allclose(conv2d(x, w, stride=(2, 1), method=m), y, atol=1e-4)
        ...     for m in ("naive", "unfold", "fft"))
        True
    """
    if isinstance(x, Tensor) and x.dim() == 3:  # one image, as F.conv2d allows
        return conv2d(x[None], weight, bias, stride, padding, dilation, groups, method=method)[0]
    geometry = _check_conv2d_args(x, weight, bias, stride, padding, dilation, groups, method)
    if method == "naive":
        return _conv2d_naive(x, weight, bias, geometry)
    if method == "fft":
        return _conv2d_fft(x, weight, bias, geometry)
    return _conv2d_unfold(x, weight, bias, geometry)


def _conv2d_naive(x: Tensor, weight: Tensor, bias: Tensor | None, g: _Geometry) -> Tensor:
    """Loop over channel groups and output positions; each step is one patch times the filters."""
    n = x.shape[0]
    c_out, c_group, kh, kw = weight.shape
    (sh, sw), (dh, dw) = g.stride, g.dilation
    h_out, w_out = g.out_size
    out_group = c_out // g.groups
    xp = _pad(x, g.padding)  # (N, C_in, H + pad, W + pad)
    out = x.new_zeros((n, c_out, h_out, w_out))
    for group in range(g.groups):
        xg = xp[:, group * c_group : (group + 1) * c_group]  # (N, C_in / G, Hp, Wp)
        wg = weight[group * out_group : (group + 1) * out_group]  # (C_out / G, C_in / G, kH, kW)
        for i in range(h_out):
            rows = slice(i * sh, i * sh + dh * (kh - 1) + 1, dh)  # the kH rows the kernel sees
            for j in range(w_out):
                cols = slice(j * sw, j * sw + dw * (kw - 1) + 1, dw)
                patch = xg[:, :, rows, cols]  # (N, C_in / G, kH, kW)
                # (N, 1, C_in / G, kH, kW) * (C_out / G, C_in / G, kH, kW), summed over a patch
                out[:, group * out_group : (group + 1) * out_group, i, j] = (
                    patch.unsqueeze(1) * wg
                ).sum(dim=(2, 3, 4))
    if bias is not None:
        out = out + bias.view(1, c_out, 1, 1)
    return out


# --- the unfold method: im2col, then one batched matrix product per block of samples --------
#
# On a CPU its speed is decided by memory and by the number of operations, more than by the
# arithmetic (benchmarks/README.md, with the profiles): the GEMMs alone run as fast as
# F.conv2d's whole convolution. So the column matrix is written into a buffer kept between
# calls (a fresh one is page-faulted in on every call: 2× slower), a block of samples is as
# large as memory allows (each block is a few more multi-threaded operations, and each of those
# waits for a descheduled thread when the machine is busy), and the backward pass is written
# out (autograd's way back through Tensor.unfold views, a generic kernel that gathers the
# gradient of overlapping windows, took 40% of forward + backward).


@functools.cache
def _column_block_bytes() -> int:
    """Most scratch memory, in bytes, that one block of samples may use: a share of the machine.

    A block holds a padded copy of its samples and their column matrix, ``kH · kW`` times the
    size of the input: 58 MB for 8 × 64 channels × 56² and 3×3. It is kept for the next call,
    so it is sized from the machine's memory: 1/64 of it, between 16 MiB and 256 MiB (256 MiB
    from 16 GiB of memory on; 64 MiB if the system does not say).
    """
    memory = _machine.memory_bytes()
    if memory is None:
        return 64 * 2**20
    return min(max(memory // 64, 16 * 2**20), 256 * 2**20)


# Blocks smaller than this take fresh tensors instead of the kept buffer (see _blocks).
_SCRATCH_MIN_BYTES = 2**20
_scratch = threading.local()  # per thread, per dtype: one 1-D CPU tensor, reused by every call


def _scratch_buffer(numel: int, like: Tensor) -> Tensor:
    """A 1-D buffer of ``numel`` elements of ``like``'s dtype, kept from call to call on the CPU.

    The CPU allocator hands large blocks back to the operating system when they are freed, so a
    column matrix allocated on every call is page-faulted in again on every call; this one is
    allocated once per thread and dtype, and grows to the largest block seen (at most
    :func:`_column_block_bytes`, or one sample where a sample needs more). On other devices a
    fresh tensor: their caching allocators already recycle memory.
    """
    if like.device.type != "cpu":
        return torch.empty(numel, dtype=like.dtype, device=like.device)
    buffers = _scratch.__dict__.setdefault("buffers", {})
    buffer = buffers.get(like.dtype)
    if buffer is None or buffer.numel() < numel:
        buffers.pop(like.dtype, None)  # free the smaller one first
        with torch.inference_mode(False):  # usable in and out of inference mode
            buffer = torch.empty(numel, dtype=like.dtype)
        buffers[like.dtype] = buffer
    return buffer.narrow(0, 0, numel)


def _windows(xp: Tensor, g: _Geometry, kernel: tuple[int, int]) -> Tensor:
    """Every tap of every window of ``xp`` as one view, ``(N, G, C_in / G, kH, kW, H_out, W_out)``.

    Tap ``(a, b)`` of output ``(i, j)`` is pixel ``(i·s + a·d, j·s + b·d)`` of the padded input
    ``xp``, so the strides of the input multiply by ``s`` and by ``d``.
    """
    n, c_in = xp.shape[:2]
    c_group = c_in // g.groups
    (kh, kw), (sh, sw), (dh, dw) = kernel, g.stride, g.dilation
    sn, sc, sy, sx = xp.stride()
    return xp.as_strided(
        (n, g.groups, c_group, kh, kw, *g.out_size),
        (sn, c_group * sc, sc, dh * sy, dw * sx, sh * sy, sw * sx),
        xp.storage_offset(),
    )


def _scratch_numel(x: Tensor, g: _Geometry, kernel: tuple[int, int]) -> int:
    """Elements of scratch memory :func:`_im2col` needs per sample: padded input and columns."""
    (h, w), (top, bottom, left, right) = x.shape[2:], g.padding
    padded = (h + top + bottom) * (w + left + right) if any(g.padding) else 0
    return x.shape[1] * (padded + kernel[0] * kernel[1] * g.out_size[0] * g.out_size[1])


def _im2col(x: Tensor, g: _Geometry, kernel: tuple[int, int], scratch: Tensor | None) -> Tensor:
    """The column matrices of a block of samples, ``(N · G, C_in / G · kH · kW, H_out · W_out)``.

    Column ``p`` of sample ``n``, group ``g`` holds the taps that output position ``p`` sees. In
    ``scratch`` (``_scratch_numel`` elements per sample) go the padded input, then the columns:
    zero borders and one copy of ``x``, then one copy of the strided windows. Without scratch,
    fresh tensors (differentiable).
    """
    n, c_in, h, w = x.shape
    kh, kw = kernel
    shape = (n * g.groups, c_in // g.groups * kh * kw, g.out_size[0] * g.out_size[1])
    if scratch is None:
        return _windows(_pad(x, g.padding), g, kernel).reshape(shape)
    xp = x
    if any(g.padding):
        top, bottom, left, right = g.padding
        hp, wp = h + top + bottom, w + left + right
        xp = scratch.narrow(0, 0, n * c_in * hp * wp).view(n, c_in, hp, wp)
        scratch = scratch.narrow(0, xp.numel(), scratch.numel() - xp.numel())
        xp[:, :, :top].zero_()
        xp[:, :, hp - bottom :].zero_()
        xp[:, :, top : hp - bottom, :left].zero_()
        xp[:, :, top : hp - bottom, wp - right :].zero_()
        xp[:, :, top : hp - bottom, left : wp - right].copy_(x)
    windows = _windows(xp, g, kernel)
    columns = scratch.narrow(0, 0, windows.numel()).view(windows.shape)
    columns.copy_(windows)  # the one copy of im2col
    return columns.view(shape)


def _blocks(
    x: Tensor, g: _Geometry, kernel: tuple[int, int], scratch: bool
) -> list[tuple[int, int, Tensor | None]]:
    """``(start, stop, scratch buffer or None)`` for each block of samples of ``x``.

    As many samples per block as fit in :func:`_column_block_bytes` (at least one). With
    ``scratch``, blocks of at least ``_SCRATCH_MIN_BYTES`` share one buffer kept between calls
    (:func:`_scratch_buffer`); smaller ones get fresh tensors, which the allocator recycles
    without page faults and which take fewer operations to fill.
    """
    n, per_sample = x.shape[0], _scratch_numel(x, g, kernel)
    sample_bytes = max(per_sample * x.element_size(), 1)
    block = max(1, min(n, _column_block_bytes() // sample_bytes))
    if not scratch or block * sample_bytes < _SCRATCH_MIN_BYTES:
        return [(start, min(start + block, n), None) for start in range(0, n, block)]
    buffer = _scratch_buffer(block * per_sample, x)
    return [
        (start, stop, buffer.narrow(0, 0, (stop - start) * per_sample))
        for start in range(0, n, block)
        for stop in (min(start + block, n),)
    ]


def _per_sample(matrices: Tensor, n: int) -> Tensor:
    """``(G, r, c)`` matrices, one set per sample: ``(n · G, r, c)``, a view when ``G == 1``."""
    if n == 1:
        return matrices
    if matrices.shape[0] == 1:
        return matrices.expand(n, *matrices.shape[1:])
    return matrices.expand(n, *matrices.shape).reshape(n * matrices.shape[0], *matrices.shape[1:])


def _unfold_forward(x: Tensor, weight: Tensor, bias: Tensor | None, g: _Geometry) -> Tensor:
    """im2col and one batched GEMM per block of samples, written straight into the NCHW output.

    Sample ``n``, group ``g``: ``out[n, g] = filters[g] @ columns[n, g]``,
    ``(C_out / G, C_in / G · kH · kW) @ (C_in / G · kH · kW, H_out · W_out)``.
    """
    n, (kh, kw) = x.shape[0], weight.shape[2:]
    c_out, out_group = weight.shape[0], weight.shape[0] // g.groups
    filters = weight.reshape(g.groups, out_group, -1)  # (G, C_out / G, C_in / G · kH · kW)
    blocks = _blocks(x, g, (kh, kw), scratch=True)
    if len(blocks) == 1 and blocks[0][2] is None:  # small: one product, fresh tensors
        columns = _im2col(x, g, (kh, kw), None)
        if bias is None:
            out = torch.bmm(_per_sample(filters, n), columns)
        else:
            bias_rows = _per_sample(bias.view(g.groups, out_group, 1), n)
            out = torch.baddbmm(bias_rows, _per_sample(filters, n), columns)
        return out.view(n, c_out, *g.out_size)
    out = x.new_empty((n, c_out, *g.out_size))
    positions = g.out_size[0] * g.out_size[1]
    rows = out.view(n * g.groups, out_group, positions)  # (N · G, C_out / G, H_out · W_out)
    for start, stop, scratch in blocks:
        columns = _im2col(x.narrow(0, start, stop - start), g, (kh, kw), scratch)
        block = rows.narrow(0, start * g.groups, (stop - start) * g.groups)
        torch.bmm(_per_sample(filters, stop - start), columns, out=block)
    if bias is not None:
        out += bias.view(1, c_out, 1, 1)
    return out


def _tap_range(tap: int, d: int, s: int, before: int, size: int, out_size: int):
    """The outputs whose tap ``tap`` reads a pixel (not the padding), and those pixels.

    Along one axis output ``i`` reads pixel ``i·s + tap·d - before`` of the unpadded input.
    Returns ``(outputs, pixels)`` as two slices, or ``None`` if every read falls in the padding.
    """
    offset = tap * d - before
    first = max(0, -(offset // s))  # the smallest i with i·s + offset >= 0
    last = min(out_size - 1, (size - 1 - offset) // s)  # the largest with i·s + offset < size
    if first > last:
        return None
    pixel = first * s + offset
    return slice(first, last + 1), slice(pixel, pixel + (last - first) * s + 1, s)


def _col2im_add_(grad_x: Tensor, col_grads: Tensor, g: _Geometry) -> None:
    """col2im: add each tap's column gradients onto the pixels that tap read, in place.

    ``col_grads`` is ``(N, C_in, kH, kW, H_out, W_out)``; one strided addition per tap, where
    overlapping windows meet the sums add up.
    """
    (h, w), (kh, kw) = grad_x.shape[2:], col_grads.shape[2:4]
    top, _, left, _ = g.padding
    for a in range(kh):
        rows = _tap_range(a, g.dilation[0], g.stride[0], top, h, g.out_size[0])
        for b in range(kw):
            cols = _tap_range(b, g.dilation[1], g.stride[1], left, w, g.out_size[1])
            if rows is None or cols is None:
                continue
            grad_x[:, :, rows[1], cols[1]].add_(col_grads[:, :, a, b, rows[0], cols[0]])


def _unfold_backward(
    grad_out: Tensor, x: Tensor, weight: Tensor, g: _Geometry, needs: Sequence[bool]
) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
    """Gradients of :func:`_unfold_forward` for ``x``, ``weight`` and ``bias`` (where ``needs``).

    Per block of samples, with ``G_out = grad_out`` as ``(N · G, C_out / G, H_out · W_out)``:

    * weight: ``G_out @ columnsᵀ``, summed over the samples. The columns are built again rather
      than kept from the forward pass: they are the largest tensor of the layer.
    * x: the columns' gradient ``filtersᵀ @ G_out``, then col2im (:func:`_col2im_add_`).
    * bias: ``grad_out`` summed over samples and positions.

    When the backward pass is itself differentiated (``create_graph=True``, grad mode on here)
    it uses fresh tensors instead of the scratch buffer, so that autograd can record it.
    """
    need_x, need_weight, need_bias = needs
    scratch = not torch.is_grad_enabled()
    n, c_in = x.shape[:2]
    c_out, _, kh, kw = weight.shape
    out_group = c_out // g.groups
    filters = weight.reshape(g.groups, out_group, -1)  # (G, C_out / G, C_in / G · kH · kW)
    positions = g.out_size[0] * g.out_size[1]
    rows = grad_out.reshape(n * g.groups, out_group, positions)  # (N · G, C_out / G, H_out · W_out)
    grad_x = x.new_zeros(x.shape) if need_x else None
    grad_filters = None
    grad_bias = grad_out.sum((0, 2, 3)) if need_bias else None
    for start, stop, buffer in _blocks(x, g, (kh, kw), scratch=scratch):
        block_rows = rows.narrow(0, start * g.groups, (stop - start) * g.groups)
        if need_weight:
            columns = _im2col(x.narrow(0, start, stop - start), g, (kh, kw), buffer)
            part = torch.bmm(block_rows, columns.transpose(1, 2))  # (N · G, C_out / G, K)
            part = part.view(stop - start, *filters.shape).sum(0)
            grad_filters = part if grad_filters is None else grad_filters + part
        if need_x:
            shape = ((stop - start) * g.groups, filters.shape[2], block_rows.shape[2])
            into = None
            if buffer is not None:
                into = buffer.narrow(0, 0, shape[0] * shape[1] * shape[2]).view(shape)
            col_grads = torch.bmm(
                _per_sample(filters.transpose(1, 2), stop - start), block_rows, out=into
            )  # (N · G, C_in / G · kH · kW, H_out · W_out)
            col_grads = col_grads.view(stop - start, c_in, kh, kw, *g.out_size)
            _col2im_add_(grad_x.narrow(0, start, stop - start), col_grads, g)
    grad_weight = None
    if need_weight:
        grad_weight = weight.new_zeros(weight.shape) if grad_filters is None else grad_filters
        grad_weight = grad_weight.reshape(weight.shape)
    return grad_x, grad_weight, grad_bias


class _UnfoldConv2d(torch.autograd.Function):
    """The unfold method as one autograd node: :func:`_unfold_forward` and its backward."""

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor | None, g: _Geometry) -> Tensor:
        ctx.save_for_backward(x, weight)
        ctx.geometry = g
        return _unfold_forward(x, weight, bias, g)

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        x, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad[:3]
        return (*_unfold_backward(grad_out, x, weight, ctx.geometry, needs), None)


def _conv2d_unfold(x: Tensor, weight: Tensor, bias: Tensor | None, g: _Geometry) -> Tensor:
    """im2col as a strided view copied into a kept buffer, then one GEMM per block of samples.

    The columns are laid out ``(N · G, C_in / G · kH · kW, H_out · W_out)``: the copy reads
    rows of the input and writes long contiguous rows, and the product of each sample's
    filters and columns lands in the NCHW output as it is, no copy after. Calls that need a
    gradient go through one autograd node with a written-out backward pass.
    """
    needs_grad = (
        x.requires_grad or weight.requires_grad or (bias is not None and bias.requires_grad)
    )
    if needs_grad and torch.is_grad_enabled():
        return _UnfoldConv2d.apply(x, weight, bias, g)
    return _unfold_forward(x, weight, bias, g)


def _next_fast_len(size: int) -> int:
    """The smallest ``m >= size`` whose only prime factors are 2, 3 and 5 (fast FFT sizes)."""
    m = size
    while True:
        rest = m
        for p in (2, 3, 5):
            while rest % p == 0:
                rest //= p
        if rest == 1:
            return m
        m += 1


def _conv2d_fft(x: Tensor, weight: Tensor, bias: Tensor | None, g: _Geometry) -> Tensor:
    """Convolution theorem: a product of spectra, summed over the input channels of a group.

    Cross-correlation is ``irfft2(rfft2(x) · conj(rfft2(w)))``; it is circular, but on an FFT
    grid at least as large as the padded input the valid outputs do not wrap around. Dilation
    inserts ``d - 1`` zeros between the taps of the kernel; stride keeps every ``s``-th output
    of the stride-1 result (so a strided call costs as much as an unstrided one). A non-finite
    result goes through :func:`_conv2d_unfold` instead (see :func:`conv2d`).
    """
    if x.numel() == 0:  # MKL's FFT rejects empty tensors; the product is empty anyway
        return _conv2d_unfold(x, weight, bias, g)
    out = _conv2d_fft_product(x, weight, g)
    # an inf or NaN went into every output: redo (the meta device has shapes, not values)
    if out.device.type != "meta" and not bool(torch.isfinite(out).all()):
        return _conv2d_unfold(x, weight, bias, g)
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out.contiguous()


def _conv2d_fft_product(x: Tensor, weight: Tensor, g: _Geometry) -> Tensor:
    """The cross-correlation of :func:`_conv2d_fft` as a product of spectra, without bias."""
    n = x.shape[0]
    c_out, c_group, kh, kw = weight.shape
    (sh, sw), (dh, dw) = g.stride, g.dilation
    xp = _pad(x, g.padding)  # (N, C_in, Hp, Wp)
    hp, wp = xp.shape[2:]
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    dilated = weight.new_zeros((c_out, c_group, span_h, span_w))
    dilated[:, :, ::dh, ::dw] = weight  # (C_out, C_in / G, span_h, span_w), zeros in the gaps
    size = (_next_fast_len(hp), _next_fast_len(wp))
    x_f = torch.fft.rfft2(xp, s=size)  # (N, C_in, Lh, Lw // 2 + 1), complex
    w_f = torch.fft.rfft2(dilated, s=size)  # (C_out, C_in / G, Lh, Lw // 2 + 1)
    x_f = x_f.reshape(n, g.groups, c_group, *x_f.shape[2:])
    w_f = w_f.reshape(g.groups, c_out // g.groups, c_group, *w_f.shape[2:])
    out_f = torch.einsum("ngchw,gochw->ngohw", x_f, w_f.conj())  # (N, G, C_out / G, Lh, Lw')
    out = torch.fft.irfft2(out_f.reshape(n, c_out, *out_f.shape[3:]), s=size)
    return out[:, :, : hp - span_h + 1 : sh, : wp - span_w + 1 : sw]  # (N, C_out, H_out, W_out)


# --- 2-D signal convolution, as in scipy.signal -------------------------------------------------


def _signal_args(image: object, kernel: object, mode: object, fn: str) -> tuple[Tensor, Tensor]:
    """Check ``image``, ``kernel`` and ``mode``; both as float tensors of one dtype."""
    for name, value in (("image", image), ("kernel", kernel)):
        if not isinstance(value, (np.ndarray, Tensor)):
            raise TypeError(
                f"{fn}: {name} must be a numpy array or a torch.Tensor, got {type(value).__name__}"
            )
        if value.ndim != 2:
            raise ValueError(f"{fn}: {name} must be 2-D, got shape {tuple(value.shape)}")
        if 0 in value.shape:
            raise ValueError(f"{fn}: {name} must not be empty, got shape {tuple(value.shape)}")
    _choice(mode, "mode", fn, _SIGNAL_MODES)
    # NumPy views with negative strides (``kernel[::-1, ::-1]``) cannot become tensors as is.
    image_t, kernel_t = (
        torch.as_tensor(np.ascontiguousarray(v) if isinstance(v, np.ndarray) else v)
        for v in (image, kernel)
    )
    for name, value in (("image", image_t), ("kernel", kernel_t)):
        if value.is_complex():
            raise TypeError(f"{fn}: {name} must be real, got {value.dtype}")
    dtype = torch.promote_types(image_t.dtype, kernel_t.dtype)
    if not dtype.is_floating_point:
        dtype = torch.float64  # integers and bools are computed in float64, as scipy would
    if image_t.device != kernel_t.device:
        raise ValueError(
            f"{fn}: kernel must be on image's device {image_t.device}, got {kernel_t.device}"
        )
    if mode == "valid":
        (h, w), (kh, kw) = image_t.shape, kernel_t.shape
        if not ((h >= kh and w >= kw) or (h <= kh and w <= kw)):
            raise ValueError(
                f"{fn}: mode 'valid' needs one input at least as large as the other on both "
                f"axes, got image {(h, w)} and kernel {(kh, kw)}"
            )
    return image_t.to(dtype), kernel_t.to(dtype)


def _correlate_full(image: Tensor, kernel: Tensor) -> Tensor:
    """Full cross-correlation of two 2-D tensors: every overlap, size ``H + kH - 1``."""
    kh, kw = kernel.shape
    method = "fft" if kernel.numel() >= _FFT_MIN_TAPS else "unfold"
    out = conv2d(image[None, None], kernel[None, None], padding=(kh - 1, kw - 1), method=method)
    return out[0, 0]


def _crop(
    full: Tensor,
    image_shape: tuple[int, int],
    kernel_shape: tuple[int, int],
    mode: str,
    same_offset: tuple[int, int],
) -> Tensor:
    """Cut the ``"same"`` or ``"valid"`` part out of a ``"full"`` result, as scipy does."""
    if mode == "full":
        return full
    if mode == "same":
        (top, left), (h, w) = same_offset, image_shape
        return full[top : top + h, left : left + w]
    # valid: the outputs that see no padding; the smaller input slides inside the larger one
    rows, cols = (
        slice(min(n, k) - 1, max(n, k)) for n, k in zip(image_shape, kernel_shape, strict=True)
    )
    return full[rows, cols]


def _like(result: Tensor, image: np.ndarray | Tensor) -> np.ndarray | Tensor:
    return result.numpy() if isinstance(image, np.ndarray) else result


def correlate2d(
    image: np.ndarray | Tensor, kernel: np.ndarray | Tensor, mode: str = "full"
) -> np.ndarray | Tensor:
    """2-D cross-correlation of two arrays, what ``scipy.signal.correlate2d`` computes.

    The kernel is not flipped: ``out[i, j] = sum_{a, b} image[i + a, j + b] * kernel[a, b]``,
    offset by the mode. Zero boundary.

    Args:
        image: 2-D, shape ``(H, W)``; a numpy array or a tensor.
        kernel: 2-D, shape ``(kH, kW)``; may be larger than ``image``.
        mode: ``"full"`` (every overlap, ``(H + kH - 1, W + kW - 1)``), ``"same"`` (``(H, W)``,
            centred on the full result as scipy does: for an even kernel the window starts
            ``kH // 2`` rows into the full result) or ``"valid"`` (no zero padding,
            ``(|H - kH| + 1, |W - kW| + 1)``; one input must be at least as large as the other
            on both axes).

    Returns:
        The same kind as ``image``, a numpy array for a numpy ``image``, else a tensor. Float
        inputs keep their (promoted) dtype; integers are computed in float64. Kernels of 81
        taps or more go through the FFT (:func:`conv2d` with ``method="fft"``).

    Example:
        >>> correlate2d(np.arange(9.0).reshape(3, 3), np.array([[1.0, -1.0]]), mode="valid")
        array([[-1., -1.],
               [-1., -1.],
               [-1., -1.]])
    """
    image_t, kernel_t = _signal_args(image, kernel, mode, "correlate2d")
    full = _correlate_full(image_t, kernel_t)
    kh, kw = kernel_t.shape
    result = _crop(full, tuple(image_t.shape), (kh, kw), mode, (kh // 2, kw // 2))
    return _like(result, image)


def convolve2d(
    image: np.ndarray | Tensor, kernel: np.ndarray | Tensor, mode: str = "full"
) -> np.ndarray | Tensor:
    """True 2-D convolution of two arrays, what ``scipy.signal.convolve2d`` computes.

    The kernel is flipped on both axes: ``out[i, j] = sum_{a, b} image[i - a, j - b] *
    kernel[a, b]``, so ``convolve2d(a, b) == convolve2d(b, a)`` in ``"full"`` mode (it is
    commutative; cross-correlation is not). It is :func:`correlate2d` with
    ``kernel[::-1, ::-1]``, except for the centring of ``"same"`` with an even kernel.

    Args:
        image: 2-D, shape ``(H, W)``; a numpy array or a tensor.
        kernel: 2-D, shape ``(kH, kW)``; may be larger than ``image``.
        mode: ``"full"`` (``(H + kH - 1, W + kW - 1)``), ``"same"`` (``(H, W)``, centred as
            scipy does: the window starts ``(kH - 1) // 2`` rows into the full result) or
            ``"valid"`` (``(|H - kH| + 1, |W - kW| + 1)``; one input must be at least as large
            as the other on both axes).

    Returns:
        The same kind as ``image``, a numpy array for a numpy ``image``, else a tensor. Float
        inputs keep their (promoted) dtype; integers are computed in float64.

    Example:
        >>> convolve2d(np.eye(2), np.array([[1.0, 2.0], [3.0, 4.0]]))
        array([[1., 2., 0.],
               [3., 5., 2.],
               [0., 3., 4.]])
        >>> torch.equal(convolve2d(torch.eye(2), torch.ones(3, 3)),
        ...             convolve2d(torch.ones(3, 3), torch.eye(2)))
        True
    """
    image_t, kernel_t = _signal_args(image, kernel, mode, "convolve2d")
    full = _correlate_full(image_t, kernel_t.flip(0, 1))
    kh, kw = kernel_t.shape
    result = _crop(full, tuple(image_t.shape), (kh, kw), mode, ((kh - 1) // 2, (kw - 1) // 2))
    return _like(result, image)
