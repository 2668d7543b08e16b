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

from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from cnnutils._checks import _check_tensors, _is_int, _pair
from cnnutils.geometry import check_fits, output_length

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
    if not isinstance(method, str) or method not in _METHODS:
        raise ValueError(f"{fn}: method must be one of {_METHODS}, got {method!r}")
    _check_tensors(fn, x, weight, bias, "(C_out, C_in // groups, kH, kW)")

    if not _is_int(groups):
        raise TypeError(f"{fn}: groups must be an int, got {groups!r}")
    if groups < 1:
        raise ValueError(f"{fn}: groups must be >= 1, got {groups}")
    groups = int(groups)
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
        output_length(n + top + bottom, k, s, 0, d)
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
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
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
      one (batched) matrix multiply; memory ``C_in kH kW N H_out W_out`` for the columns.
    * ``"fft"``: domain: every input, worth it for large kernels (from about 9×9 on one
      channel); stride by subsampling the stride-1 result, dilation by inserting zeros into the
      kernel; float64 error ~1e-15, float32 ~1e-6 relative. A spectrum mixes every pixel into
      every output, so a non-finite result (an ``inf`` or NaN in ``x`` or ``weight``, or a sum
      that overflows) is computed again with ``"unfold"``: as in PyTorch, an ``inf`` or NaN
      then reaches only the outputs whose windows contain it (the check costs one pass over
      the output, and a device synchronisation on a GPU).

    All three are differentiable with autograd.

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
        kwargs = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
        return conv2d(x[None], weight, bias, **kwargs, method=method)[0]
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


# Column matrices larger than this are built and multiplied one block of samples at a time. A
# buffer this size is recycled by the memory allocator from call to call; a single matrix for a
# large batch (58 MB for 8 × 64 channels × 56² × 3×3) is handed back to the kernel on free and
# page-faulted in again on every call, which cost as much as the GEMM itself (benchmarks/).
_COLUMN_BLOCK_BYTES = 16 * 2**20
# From this many multiply-adds per block on, the GEMM is computed transposed (see below).
_TRANSPOSED_GEMM_MIN_MACS = 2**20


def _conv2d_unfold(x: Tensor, weight: Tensor, bias: Tensor | None, g: _Geometry) -> Tensor:
    """im2col as strided views, one copy, then one matrix multiply per block of samples.

    The columns are laid out ``(G, C_in / G · kH · kW, N · H_out · W_out)``: the copy writes long
    contiguous rows read from contiguous rows of the input, and the product of filters and
    columns is one large GEMM per group, computed transposed, whose ``(N, H_out, W_out, C_out)``
    result one last copy turns into NCHW. Batches whose column matrix would pass
    ``_COLUMN_BLOCK_BYTES`` go through in blocks of samples (one GEMM each), concatenated.
    """
    n = x.shape[0]
    c_in, (kh, kw) = x.shape[1], weight.shape[2:]
    per_sample = c_in * kh * kw * g.out_size[0] * g.out_size[1] * x.element_size()
    block = max(1, _COLUMN_BLOCK_BYTES // max(per_sample, 1))
    if n > block:
        return torch.cat(
            [_conv2d_unfold_block(x[i : i + block], weight, bias, g) for i in range(0, n, block)]
        )
    return _conv2d_unfold_block(x, weight, bias, g)


def _conv2d_unfold_block(x: Tensor, weight: Tensor, bias: Tensor | None, g: _Geometry) -> Tensor:
    """:func:`_conv2d_unfold` for one block of samples: one column matrix, one GEMM per group."""
    n = x.shape[0]
    c_out, c_group, kh, kw = weight.shape
    (sh, sw), (dh, dw) = g.stride, g.dilation
    h_out, w_out = g.out_size
    out_group = c_out // g.groups
    xp = _pad(x, g.padding)  # (N, C_in, Hp, Wp)
    if torch.is_grad_enabled() and xp.requires_grad:
        # Tensor.unfold makes windows of span d (k - 1) + 1 every s pixels; keeping every d-th
        # tap applies the dilation. All views, and unfold has a fast backward (gathering the
        # gradient of overlapping windows through one as_strided view, below, is 2× slower).
        xt = xp.transpose(0, 1)  # (C_in, N, Hp, Wp)
        patches = xt.unfold(2, dh * (kh - 1) + 1, sh).unfold(3, dw * (kw - 1) + 1, sw)
        if (dh, dw) != (1, 1):
            patches = patches[..., ::dh, ::dw]  # (C_in, N, H_out, W_out, kH, kW)
        patches = patches.reshape(g.groups, c_group, n, h_out, w_out, kh, kw)
        patches = patches.permute(0, 1, 5, 6, 2, 3, 4)  # (G, C_in / G, kH, kW, N, H_out, W_out)
    else:
        # Forward only: every tap of every window as one view, cheaper to build. Tap (a, b) of
        # output (i, j) is pixel (i·s + a·d, j·s + b·d), so the strides multiply by s and by d.
        sn, sc, sy, sx = xp.stride()
        patches = xp.as_strided(
            (g.groups, c_group, kh, kw, n, h_out, w_out),  # (G, C_in / G, kH, kW, N, H_out, W_out)
            (c_group * sc, sc, dh * sy, dw * sx, sn, sh * sy, sw * sx),
            xp.storage_offset(),
        )
    columns = patches.reshape(g.groups, c_group * kh * kw, n * h_out * w_out)  # the copy
    filters = weight.reshape(g.groups, out_group, c_group * kh * kw)
    if c_out * n * h_out * w_out * c_group * kh * kw < _TRANSPOSED_GEMM_MIN_MACS:
        # Small: (C_out, N · H_out · W_out) comes out NCHW after swapping two axes, free for N = 1.
        if bias is None:
            out = torch.bmm(filters, columns)  # (G, C_out / G, N · H_out · W_out)
        else:
            out = torch.baddbmm(bias.view(g.groups, out_group, 1), filters, columns)
        return out.view(c_out, n, h_out, w_out).transpose(0, 1).contiguous()
    # Large: ask for the transposed product, columnsᵀ · filtersᵀ = (filters · columns)ᵀ. Same
    # memory, but BLAS then runs the long N · H_out · W_out axis as its rows, which it does much
    # faster (benchmarks/README.md), and one copy of the (N, H_out, W_out, C_out) result is cheap.
    a, b = columns.transpose(1, 2), filters.transpose(1, 2)
    if bias is None:
        out = torch.bmm(a, b)  # (G, N · H_out · W_out, C_out / G)
    else:
        out = torch.baddbmm(bias.view(g.groups, 1, out_group), a, b)
    out = out.transpose(0, 1).reshape(n, h_out, w_out, c_out).permute(0, 3, 1, 2)
    return out.contiguous()  # NCHW memory, as F.conv2d returns


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
    if not isinstance(mode, str) or mode not in _SIGNAL_MODES:
        raise ValueError(f"{fn}: mode must be one of {_SIGNAL_MODES}, got {mode!r}")
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
