"""Hand-crafted filters: Sobel, Gabor, image gradients and HOG-like orientation histograms.

The filters chapter 01 applies to photos before a network learns its own, and the classic kernels
of chapter 02 (box and Gaussian blur, sharpening, the Laplacian). One convention holds
in the whole module, the one of image arrays (and of scikit-image and OpenCV): ``x`` runs along
the columns, to the right, and ``y`` runs along the rows, **downwards**. An angle is measured
from the ``x`` axis towards the ``y`` axis, which is *clockwise* on screen. Filtering means
cross-correlation, what ``torch.nn.functional.conv2d`` computes: the kernel is not flipped.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from cnnutils._checks import _bool, _choice, _dtype, _int, _number, _pair, _tensor

__all__ = [
    "box_kernel",
    "filter2d",
    "gabor_kernel",
    "gaussian_kernel",
    "gradient_magnitude_orientation",
    "laplacian_kernel",
    "orientation_histogram",
    "sharpen_kernel",
    "sobel_kernels",
]

_PADDING_MODES = ("reflect", "replicate", "zeros", "circular")


def sobel_kernels(
    *, dtype: torch.dtype = torch.float32, device: torch.device | str | None = None
) -> tuple[Tensor, Tensor]:
    """The two 3×3 Sobel kernels, for cross-correlation (``conv2d``), unnormalised.

    ``kx`` is a central difference along ``x`` smoothed by ``[1, 2, 1]`` along ``y``; ``ky`` is
    its transpose. Sign convention: the response to ``kx`` is **positive where the intensity
    increases to the right**, the response to ``ky`` positive where it increases **downwards**
    (rows). Divide a response by 8 to get the slope in intensity per pixel. The same kernels
    give ``scipy.ndimage.sobel(image, axis=1)`` and ``axis=0``.

    Args:
        dtype: floating dtype of the kernels.
        device: where to create them.

    Returns:
        ``(kx, ky)``, each of shape ``(3, 3)``.

    Example:
        >>> kx, ky = sobel_kernels()
        >>> kx
        tensor([[-1.,  0.,  1.],
                [-2.,  0.,  2.],
                [-1.,  0.,  1.]])
        >>> torch.equal(ky, kx.T)
        True
    """
    _dtype(dtype, "dtype", "sobel_kernels")
    kx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]], dtype=dtype)
    kx = kx.to(device)
    return kx, kx.T.contiguous()


def gabor_kernel(
    *,
    sigma: float,
    theta: float,
    lambd: float,
    gamma: float = 1.0,
    psi: float = 0.0,
    size: int | tuple[int, int] | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Tensor:
    """A real Gabor kernel built from its formula (Daugman 1985).

    A Gaussian envelope times a cosine carrier, with ``x`` right and ``y`` down:

    .. math::

        g(x, y) = \\exp\\Big(-\\frac{x'^2 + \\gamma^2 y'^2}{2\\sigma^2}\\Big)
                  \\cos\\Big(2\\pi\\frac{x'}{\\lambda} + \\psi\\Big),

        x' = x\\cos\\theta + y\\sin\\theta, \\qquad y' = -x\\sin\\theta + y\\cos\\theta .

    The carrier oscillates along the direction ``theta``, so the stripes of the kernel run
    perpendicular to it: ``theta = 0`` gives vertical stripes (a detector of vertical edges and
    bars), ``theta = π/2`` horizontal ones; since ``y`` points down, ``theta = π/4`` gives
    stripes that run from bottom-left to top-right. ``psi = 0`` gives an even (bar) detector,
    ``psi = -π/2`` an odd (edge) detector. The peak of the envelope is 1: no normalisation.

    Relation to ``skimage.filters.gabor_kernel`` (same axes and angle convention): ours is
    ``2π σ_x σ_y`` times the real part of skimage's kernel with ``frequency = 1 / lambd``,
    ``sigma_x = sigma``, ``sigma_y = sigma / gamma`` and ``offset = psi``.

    Args:
        sigma: standard deviation of the envelope along the carrier, in pixels (> 0).
        theta: orientation of the carrier, in radians.
        lambd: wavelength of the carrier, in pixels (> 0).
        gamma: spatial aspect ratio (> 0); the envelope's standard deviation along the stripes
            is ``sigma / gamma``.
        psi: phase offset of the carrier, in radians.
        size: kernel size ``k`` or ``(kH, kW)``, odd; ``None`` picks the smallest odd square
            size that covers three standard deviations of the envelope in every direction.
        dtype: floating dtype of the kernel.
        device: where to create it.

    Returns:
        shape ``(kH, kW)``; the centre pixel is ``(kH // 2, kW // 2)``.

    Example:
        >>> k = gabor_kernel(sigma=2.0, theta=0.0, lambd=4.0)
        >>> k.shape
        torch.Size([13, 13])
        >>> float(k[6, 6]), float(k[6, 8])  # centre, and half a wavelength to the right
        (1.0, -0.6065...)
    """
    fn = "gabor_kernel"
    sigma, lambd, gamma = (
        _number(value, name, fn, positive=True)
        for name, value in (("sigma", sigma), ("lambd", lambd), ("gamma", gamma))
    )
    theta, psi = _number(theta, "theta", fn), _number(psi, "psi", fn)
    _dtype(dtype, "dtype", fn)
    if size is None:
        half = math.ceil(3 * max(sigma, sigma / gamma))
        kh = kw = 2 * half + 1
    else:
        kh, kw = _odd_size(size, fn)
    y = torch.arange(kh, dtype=torch.float64, device=device) - kh // 2
    x = torch.arange(kw, dtype=torch.float64, device=device) - kw // 2
    y, x = torch.meshgrid(y, x, indexing="ij")  # (kH, kW) each; y grows downwards
    xr = x * math.cos(theta) + y * math.sin(theta)
    yr = -x * math.sin(theta) + y * math.cos(theta)
    envelope = torch.exp(-(xr**2 + gamma**2 * yr**2) / (2 * sigma**2))
    carrier = torch.cos(2 * math.pi * xr / lambd + psi)
    return (envelope * carrier).to(dtype)


# --- classic kernels: blur, sharpen, Laplacian -------------------------------------------------


def _odd_size(size: object, fn: str) -> tuple[int, int]:
    """A kernel size ``k`` or ``(kH, kW)``, odd and positive, so that it has a centre pixel."""
    kh, kw = _pair(size, "size", fn, 1)
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f"{fn}: size must be odd and positive, got {size!r}")
    return kh, kw


def box_kernel(
    size: int | tuple[int, int],
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Tensor:
    """The box (mean) filter: every weight ``1 / (kH kW)``, so the weights sum to 1.

    Cross-correlating with it replaces each pixel by the mean of the window, a blur; with
    ``filter2d`` and ``padding="reflect"`` it is ``scipy.ndimage.uniform_filter`` with
    ``mode="mirror"``. Its frequency response is a product of Dirichlet kernels: it keeps the
    mean (gain 1 at frequency 0) and damps, but does not remove, high frequencies.

    Args:
        size: ``k`` or ``(kH, kW)``, each ``>= 1`` (even sizes are allowed).
        dtype: floating dtype of the kernel.
        device: where to create it.

    Returns:
        shape ``(kH, kW)``.

    Example:
        >>> box_kernel(3)
        tensor([[0.1111, 0.1111, 0.1111],
                [0.1111, 0.1111, 0.1111],
                [0.1111, 0.1111, 0.1111]])
        >>> box_kernel((1, 4)).sum().item()
        1.0
    """
    kh, kw = _pair(size, "size", "box_kernel", 1)
    _dtype(dtype, "dtype", "box_kernel")
    return torch.full((kh, kw), 1.0 / (kh * kw), dtype=dtype, device=device)


def gaussian_kernel(
    sigma: float,
    size: int | tuple[int, int] | None = None,
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Tensor:
    """A normalised, isotropic Gaussian blur kernel, ``exp(-(x² + y²) / (2σ²))`` summed to 1.

    The default size truncates the Gaussian at 4σ, as ``scipy.ndimage.gaussian_filter`` does
    (``truncate=4.0``): radius ``int(4σ + 0.5)``, size ``2 radius + 1``. The kernel is then the
    outer product of scipy's 1-D weights, so ``filter2d(image, gaussian_kernel(s))`` equals
    ``scipy.ndimage.gaussian_filter(image, s, mode="mirror")``. It is separable: two 1-D passes
    of ``k`` taps do the work of one ``k × k`` pass. A given size crops (or extends) the same
    Gaussian around the centre and renormalises it to sum 1.

    Args:
        sigma: standard deviation in pixels, ``> 0``.
        size: ``None``, ``k`` or ``(kH, kW)``, odd so that the kernel has a centre pixel.
        dtype: floating dtype of the kernel.
        device: where to create it.

    Returns:
        shape ``(kH, kW)``, summing to 1; the centre pixel is ``(kH // 2, kW // 2)``.

    Example:
        >>> k = gaussian_kernel(1.0)
        >>> k.shape, round(k.sum().item(), 6)
        (torch.Size([9, 9]), 1.0)
        >>> gaussian_kernel(1.0, size=3)[1]
        tensor([0.1238, 0.2042, 0.1238])
    """
    sigma = _number(sigma, "sigma", "gaussian_kernel", positive=True)
    _dtype(dtype, "dtype", "gaussian_kernel")
    if size is None:
        radius = int(4.0 * sigma + 0.5)
        kh = kw = 2 * radius + 1
    else:
        kh, kw = _odd_size(size, "gaussian_kernel")

    def weights(k: int) -> Tensor:  # (k,), 1-D, summing to 1
        x = torch.arange(k, dtype=torch.float64) - k // 2
        w = torch.exp(-0.5 * (x / sigma) ** 2)
        return w / w.sum()

    return torch.outer(weights(kh), weights(kw)).to(dtype=dtype, device=device)


def laplacian_kernel(
    *,
    diagonals: bool = False,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Tensor:
    """A 3×3 discrete Laplacian ``∂²/∂x² + ∂²/∂y²``, a second-derivative edge detector.

    ``diagonals=False`` gives the 5-point stencil ``[[0, 1, 0], [1, -4, 1], [0, 1, 0]]``, the
    sum of ``[1, -2, 1]`` along each axis: ``filter2d(image, laplacian_kernel())`` equals
    ``scipy.ndimage.laplace(image, mode="mirror")``. ``diagonals=True`` gives the isotropic
    8-neighbour kernel ``[[1, 1, 1], [1, -8, 1], [1, 1, 1]]``, which estimates **3 times** the
    Laplacian (on ``x² + y²`` it gives 12, not 4). The weights sum to 0, so a flat region gives
    0; the response changes sign across an edge. Sign: positive in the centre of a dark spot
    (as scipy's); many texts show the negative, ``[[0, -1, 0], [-1, 4, -1], [0, -1, 0]]``.

    Args:
        diagonals: use the 8-neighbour kernel.
        dtype: floating dtype of the kernel.
        device: where to create it.

    Returns:
        shape ``(3, 3)``.

    Example:
        >>> laplacian_kernel()
        tensor([[ 0.,  1.,  0.],
                [ 1., -4.,  1.],
                [ 0.,  1.,  0.]])
        >>> laplacian_kernel(diagonals=True).sum().item()
        0.0
    """
    _dtype(dtype, "dtype", "laplacian_kernel")
    if _bool(diagonals, "diagonals", "laplacian_kernel"):
        kernel = torch.ones(3, 3, dtype=dtype)
        kernel[1, 1] = -8.0
    else:
        kernel = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]], dtype=dtype)
    return kernel.to(device)


def sharpen_kernel(
    amount: float = 1.0,
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Tensor:
    """A 3×3 sharpening kernel: the identity minus ``amount`` times the 5-point Laplacian.

    ``image - amount · laplace(image)`` adds back the second derivative, which steepens the
    intensity change across edges (an overshoot on both sides). ``amount=1`` gives the classic
    ``[[0, -1, 0], [-1, 5, -1], [0, -1, 0]]``. The weights sum to 1, so flat regions keep their
    value; the gain at the highest frequency (a checkerboard) is ``1 + 8 amount``.

    Args:
        amount: strength, a number ``>= 0`` (0 gives the identity).
        dtype: floating dtype of the kernel.
        device: where to create it.

    Returns:
        shape ``(3, 3)``, summing to 1.

    Example:
        >>> sharpen_kernel()
        tensor([[ 0., -1.,  0.],
                [-1.,  5., -1.],
                [ 0., -1.,  0.]])
    """
    amount = _number(amount, "amount", "sharpen_kernel", minimum=0.0)
    _dtype(dtype, "dtype", "sharpen_kernel")
    identity = torch.zeros(3, 3, dtype=torch.float64)
    identity[1, 1] = 1.0
    kernel = identity - amount * laplacian_kernel(dtype=torch.float64)
    return kernel.to(dtype=dtype, device=device)


def filter2d(image: Tensor, kernel: Tensor, *, padding: str = "reflect") -> Tensor:
    """Cross-correlate an image with one kernel or a bank of kernels, keeping the size.

    Each channel is filtered on its own with every kernel, by
    ``torch.nn.functional.conv2d`` (no flip). The image is padded so that the output has the
    input's size; with an even kernel size the extra padding row or column goes before the image
    (top, left), which is the origin ``scipy.ndimage.correlate`` uses (PyTorch's
    ``padding="same"`` puts it after). Padding modes and their scipy names:
    ``"reflect"`` (mirror without repeating the edge, scipy ``"mirror"``), ``"replicate"``
    (``"nearest"``), ``"zeros"`` (``"constant"``), ``"circular"`` (``"wrap"``).

    Args:
        image: floating tensor of shape ``(H, W)`` or ``(C, H, W)``.
        kernel: shape ``(kH, kW)`` or a bank ``(K, kH, kW)``; cast to the image's dtype and
            device.
        padding: one of ``"reflect"``, ``"replicate"``, ``"zeros"``, ``"circular"``.

    Returns:
        shape ``image.shape[:-2] + kernel.shape[:-2] + (H, W)``, that is ``(H, W)``,
        ``(K, H, W)``, ``(C, H, W)`` or ``(C, K, H, W)``.

    Example:
        >>> image = torch.arange(20.0).reshape(4, 5)
        >>> kx, ky = sobel_kernels()
        >>> filter2d(image, kx)[1:3, 1:4]  # intensity grows by 1 per column
        tensor([[8., 8., 8.],
                [8., 8., 8.]])
        >>> filter2d(torch.zeros(3, 8, 9), torch.stack([kx, ky])).shape
        torch.Size([3, 2, 8, 9])
    """
    return _filter2d(image, kernel, padding, "filter2d")


def _check_image(image: object, padding: object, fn: str) -> None:
    """An image ``(H, W)`` or ``(C, H, W)`` of a floating dtype, and a padding mode."""
    _tensor(image, "image", fn, dims=(2, 3), layout="(H, W) or (C, H, W)")
    if not image.is_floating_point():
        raise TypeError(
            f"{fn}: image must have a floating dtype, got {image.dtype} "
            "(convert with skimage.util.img_as_float32 or .float())"
        )
    _choice(padding, "padding", fn, _PADDING_MODES)


def _filter2d(image: Tensor, kernel: Tensor, padding: str, fn: str) -> Tensor:
    """:func:`filter2d`, its errors naming ``fn``, the public function the user called."""
    _check_image(image, padding, fn)
    _tensor(kernel, "kernel", fn, dims=(2, 3), layout="(kH, kW) or (K, kH, kW)")
    *lead, h, w = image.shape
    *bank, kh, kw = kernel.shape
    if 0 in (kh, kw):
        raise ValueError(f"{fn}: kernel must not be empty, got shape {tuple(kernel.shape)}")
    top, left = kh // 2, kw // 2
    bottom, right = kh - 1 - top, kw - 1 - left
    if padding == "reflect" and (max(top, bottom) >= h or max(left, right) >= w):
        raise ValueError(
            f"{fn}: reflect padding needs the image larger than half the kernel, "
            f"got image {(h, w)} and kernel {(kh, kw)}"
        )
    if padding == "circular" and (max(top, bottom) > h or max(left, right) > w):
        raise ValueError(
            f"{fn}: circular padding wraps around once at most, so it needs the image at least "
            f"as large as half the kernel, got image {(h, w)} and kernel {(kh, kw)}"
        )
    x = image.reshape(-1, 1, h, w)  # (C, 1, H, W): channels as a batch
    weight = kernel.to(dtype=image.dtype, device=image.device).reshape(-1, 1, kh, kw)
    pad = (left, right, top, bottom)
    x = F.pad(x, pad) if padding == "zeros" else F.pad(x, pad, mode=padding)
    out = F.conv2d(x, weight)  # (C, K, H, W)
    return out.reshape(*lead, *bank, h, w)


def gradient_magnitude_orientation(
    image: Tensor, *, operator: str = "sobel", padding: str = "reflect"
) -> tuple[Tensor, Tensor]:
    """Gradient magnitude and orientation of an image, per pixel.

    Args:
        image: floating tensor of shape ``(H, W)`` or ``(C, H, W)``.
        operator: ``"sobel"`` (the kernels of :func:`sobel_kernels`, divided by 8 so that
            they estimate the slope per pixel) or ``"central"`` (``[-1, 0, 1]`` with no
            smoothing and no division, what Dalal & Triggs found best for HOG and what
            ``skimage.feature.hog`` uses).
        padding: border handling, as in :func:`filter2d`. With ``"reflect"`` the central
            difference is 0 on the border rows and columns, as in ``skimage.feature.hog``.

    Returns:
        ``(magnitude, orientation)``, each of the image's shape. ``orientation`` is
        ``atan2(gy, gx)`` in radians, in ``(-π, π]``, measured from ``x`` (right) towards
        ``y`` (down); it points from dark to bright, across the edge.

    Example:
        >>> ramp = torch.arange(6.0).repeat(5, 1)  # brighter to the right by 1 per column
        >>> magnitude, orientation = gradient_magnitude_orientation(ramp)
        >>> float(magnitude[2, 2]), float(orientation[2, 2])
        (1.0, 0.0)
    """
    return _gradient(image, operator, padding, "gradient_magnitude_orientation")


def _gradient(image: Tensor, operator: str, padding: str, fn: str) -> tuple[Tensor, Tensor]:
    _check_image(image, padding, fn)
    if _choice(operator, "operator", fn, ("sobel", "central")) == "sobel":
        kx, ky = sobel_kernels(dtype=torch.float64)
        kx, ky = kx / 8, ky / 8
    else:
        kx = torch.tensor([[-1.0, 0.0, 1.0]], dtype=torch.float64)
        ky = kx.T
    gx = _filter2d(image, kx, padding, fn)
    gy = _filter2d(image, ky, padding, fn)
    return torch.hypot(gx, gy), torch.atan2(gy, gx)


def orientation_histogram(
    image: Tensor,
    *,
    cell_size: int = 8,
    bins: int = 9,
    signed: bool = False,
    operator: str = "central",
) -> Tensor:
    """HOG-like histograms of gradient orientation, one per cell.

    The image is cut into non-overlapping ``cell_size × cell_size`` cells
    (rows and columns that do not fill a cell are dropped, as in
    ``skimage.feature.hog``). Every pixel votes with its gradient magnitude
    into the one bin that holds its orientation; the bins split
    ``[0°, 180°)`` (``signed=False``: a gradient and its opposite count the
    same, so a dark-to-bright and a bright-to-dark edge look alike) or
    ``[0°, 360°)`` (``signed=True``) evenly; bin ``i`` covers
    ``[i, i + 1) · period / bins``.

    How it differs from full HOG (Dalal & Triggs 2005): there is no block
    normalisation (no overlapping blocks of cells, no L2-Hys), no bilinear
    interpolation of votes between neighbouring bins and cells, no Gaussian
    weighting inside a block, and colour images are not handled (pass a
    grayscale image). The votes are summed, not averaged: with
    ``cells_per_block=(1, 1)`` and ``block_norm="L1"``,
    ``skimage.feature.hog`` returns these histograms divided by their sum
    (plus ``1e-5`` after dividing by the cell area).

    Args:
        image: floating tensor of shape ``(H, W)``, at least one cell in
            each direction.
        cell_size: side of a square cell, in pixels.
        bins: number of orientation bins.
        signed: orientations over 360° instead of 180°.
        operator: gradient operator, as in
            :func:`gradient_magnitude_orientation`.

    Returns:
        shape ``(H // cell_size, W // cell_size, bins)``, the sum of the
        magnitudes of the pixels of each cell whose orientation falls in
        each bin.

    Example:
        >>> stripes = torch.tensor([0.0, 0.0, 1.0, 1.0]).repeat(16, 4)
        >>> hist = orientation_histogram(stripes, cell_size=8, bins=9)
        >>> hist.shape
        torch.Size([2, 2, 9])
        >>> # 8 rows × 7 columns with |gx| = 1 (0 on the border): bin 0
        >>> hist[0, 0]
        tensor([56.,  0.,  0.,  0.,  0.,  0.,  0.,  0.,  0.])
    """
    name = "orientation_histogram"
    _tensor(image, "image", name, dims=2, layout="(H, W)")
    cell_size = _int(cell_size, "cell_size", name, minimum=1)
    bins = _int(bins, "bins", name, minimum=1)
    signed = _bool(signed, "signed", name)
    h, w = image.shape
    cells_y, cells_x = h // cell_size, w // cell_size
    if cells_y == 0 or cells_x == 0:
        too_small = f"image of shape {(h, w)} is smaller than one cell"
        raise ValueError(f"{name}: {too_small} of size {cell_size}")
    magnitude, orientation = _gradient(image, operator, "reflect", name)
    period = 360.0 if signed else 180.0
    degrees = torch.rad2deg(orientation.double()) % period  # in [0, period)
    index = (degrees * (bins / period)).floor().long()
    index = index.clamp_(0, bins - 1)  # (H, W)
    one_hot = F.one_hot(index, bins).to(magnitude.dtype)  # (H, W, bins)
    votes = one_hot * magnitude[..., None]
    votes = votes[: cells_y * cell_size, : cells_x * cell_size]
    votes = votes.reshape(cells_y, cell_size, cells_x, cell_size, bins)
    return votes.sum(dim=(1, 3))  # (cells_y, cells_x, bins)
