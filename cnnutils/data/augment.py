"""Batched augmentations: crops, shifts, flips, rotations and rescalings, and AlexNet's PCA
colour jitter.

Each acts on a whole batch ``(N, C, H, W)`` at once, on any device, and draws its random numbers
from a CPU ``torch.Generator`` so that results do not depend on the device.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from cnnutils._checks import (
    _check_images,
    _choice,
    _generator,
    _int,
    _number,
    _pair,
    _tensor,
)

__all__ = [
    "pca_colour_basis",
    "pca_colour_jitter",
    "random_affine",
    "random_crop",
    "random_flip",
    "random_shift",
]


def random_crop(
    x: Tensor,
    size: int | tuple[int, int],
    *,
    padding: int = 0,
    fill: float = 0.0,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Crop every image of a batch at its own random position (after optional zero padding).

    Args:
        x: images, shape ``(N, C, H, W)``, on any device.
        size: output ``(h, w)`` (an int means square), at most ``(H + 2p, W + 2p)``.
        padding: pixels of ``fill`` added on every side before cropping.
        fill: value of the padding.
        generator: a CPU generator for the positions.

    Returns:
        shape ``(N, C, h, w)``; the top-left corner of each crop is uniform over all positions.

    Example:
        >>> x = torch.arange(16.0).view(1, 1, 4, 4)
        >>> random_crop(x, 2, generator=torch.Generator().manual_seed(0)).shape
        torch.Size([1, 1, 2, 2])
    """
    return _random_crop(x, size, padding, fill, generator, "random_crop")


def _random_crop(
    x: Tensor,
    size: object,
    padding: object,
    fill: object,
    generator: torch.Generator | None,
    name: str,
) -> Tensor:
    """:func:`random_crop`, its errors naming ``name``, the public function the user called."""
    _check_images(x, "x", name)
    h, w = _pair(size, "size", name, 1)
    padding = _int(padding, "padding", name, minimum=0)
    fill = _number(fill, "fill", name, finite=False)
    _generator(generator, "generator", name)
    n, _, height, width = x.shape
    height, width = height + 2 * padding, width + 2 * padding
    if not (0 < h <= height and 0 < w <= width):
        raise ValueError(
            f"{name}: size must be at most the padded image size "
            f"({height}, {width}), got ({h}, {w})"
        )
    if padding:
        x = F.pad(x, (padding,) * 4, value=fill)
    top = torch.randint(0, height - h + 1, (n,), generator=generator).to(x.device)
    left = torch.randint(0, width - w + 1, (n,), generator=generator).to(x.device)
    rows = top[:, None] + torch.arange(h, device=x.device)  # (N, h)
    cols = left[:, None] + torch.arange(w, device=x.device)  # (N, w)
    batch = torch.arange(n, device=x.device)[:, None, None]
    # advanced indices around a slice: the result is (N, h, w, C)
    out = x[batch, :, rows[:, :, None], cols[:, None, :]]
    return out.permute(0, 3, 1, 2).contiguous()


def random_shift(
    x: Tensor, max_shift: int, *, fill: float = 0.0, generator: torch.Generator | None = None
) -> Tensor:
    """Translate every image by its own random whole-pixel offset in ``[-max_shift, max_shift]``
    in each direction, filling uncovered pixels with ``fill``; shape ``(N, C, H, W)`` kept.

    Args:
        x: images, shape ``(N, C, H, W)``, on any device.
        max_shift: the largest shift in pixels, along each axis.
        fill: the value of the uncovered pixels.
        generator: a CPU generator for the offsets.

    Returns:
        shape ``(N, C, H, W)``, a :func:`random_crop` of the images padded by ``max_shift``.

    Example:
        >>> x = torch.zeros(1, 1, 5, 5); x[0, 0, 2, 2] = 1
        >>> y = random_shift(x, 1, generator=torch.Generator().manual_seed(0))
        >>> y.shape, y.sum().item()
        (torch.Size([1, 1, 5, 5]), 1.0)
    """
    name = "random_shift"
    _check_images(x, "x", name)
    max_shift = _int(max_shift, "max_shift", name, minimum=0)
    return _random_crop(x, tuple(x.shape[-2:]), max_shift, fill, generator, name)


def random_flip(
    x: Tensor, *, p: float = 0.5, dim: int = -1, generator: torch.Generator | None = None
) -> Tensor:
    """Mirror each image with probability ``p`` along ``dim`` (-1: left-right, -2: up-down).

    Args:
        x: images, shape ``(N, C, H, W)``, on any device.
        p: the probability of flipping each image, in ``[0, 1]``.
        dim: ``-1`` (or 3) flips left-right, ``-2`` (or 2) upside down.
        generator: a CPU generator for the coin flips.

    Returns:
        shape ``(N, C, H, W)``, each image flipped or left as it was.

    Example:
        >>> x = torch.arange(3.0).view(1, 1, 1, 3)
        >>> random_flip(x, p=1.0).flatten().tolist()
        [2.0, 1.0, 0.0]
    """
    name = "random_flip"
    _check_images(x, "x", name)
    p = _number(p, "p", name, minimum=0.0, maximum=1.0)
    if _int(dim, "dim", name) not in (-1, -2, 2, 3):
        raise ValueError(f"{name}: dim must be -1 (width) or -2 (height), got {dim}")
    _generator(generator, "generator", name)
    flip = (torch.rand(len(x), generator=generator) < p).to(x.device).view(-1, 1, 1, 1)
    return torch.where(flip, x.flip(dim), x)


Range = float | tuple[float, float]


def _uniform(value: object, n: int, generator: torch.Generator | None, name: str) -> Tensor:
    """``n`` numbers uniform in ``[low, high)`` (a single number: ``n`` copies of it)."""
    fn = "random_affine"
    if isinstance(value, tuple | list) and len(value) == 2:
        low, high = (_number(v, name, fn) for v in value)
        if high < low:
            raise ValueError(f"{fn}: {name} must be (low, high) with low <= high, got {value}")
    elif isinstance(value, tuple | list):
        raise ValueError(f"{fn}: {name} must be a number or a (low, high) pair, got {value}")
    else:
        low = high = _number(value, name, fn)
    return low + (high - low) * torch.rand(n, generator=generator, dtype=torch.float64)


def random_affine(
    x: Tensor,
    *,
    degrees: Range = 0.0,
    scale: Range = 1.0,
    translate: Range = 0.0,
    padding_mode: str = "border",
    generator: torch.Generator | None = None,
) -> Tensor:
    """Rotate, rescale and translate every image of a batch by its own random amounts.

    Each image is turned counter-clockwise by ``θ`` degrees about its centre, magnified by ``s``
    (``s > 1`` enlarges the content) and moved by ``(t_x, t_y)`` fractions of half its width and
    height (positive: right and up), each drawn uniformly from its range (a single number fixes
    it); both offsets are drawn from ``translate``. All images go through one
    ``torch.nn.functional.affine_grid`` / ``grid_sample`` call (bilinear): output pixel ``p``
    samples the input at ``R(-θ) (p - t) / s``, in coordinates from -1 to 1 centred on the image.
    With ``padding_mode="border"`` the pixels that come from outside the image repeat the
    nearest border pixel, so a shape on a plain background keeps that background, whatever its
    colour.

    Args:
        x: images, shape ``(N, C, H, W)``, floating point, on any device.
        degrees: the rotation angle in degrees, or a ``(low, high)`` range.
        scale: the magnification, or a range; positive.
        translate: the offset as a fraction of half the image size, or a range.
        padding_mode: ``"border"`` or ``"zeros"``.
        generator: a CPU generator for the random amounts.

    Returns:
        shape ``(N, C, H, W)``, the dtype and device of ``x``.

    Example:
        >>> x = torch.zeros(2, 1, 5, 5); x[:, 0, 0, 2] = 1.0  # a dot above the centre
        >>> y = random_affine(x, degrees=90.0, padding_mode="zeros")  # turned to the left
        >>> y[0, 0].argmax().item() == 2 * 5 + 0, y.shape
        (True, torch.Size([2, 1, 5, 5]))
    """
    fn = "random_affine"
    x = _check_images(x, "x", fn, floating=True)
    padding_mode = _choice(padding_mode, "padding_mode", fn, ("border", "zeros"))
    generator = _generator(generator, "generator", fn)
    n = len(x)
    theta = torch.deg2rad(_uniform(degrees, n, generator, "degrees"))
    s = _uniform(scale, n, generator, "scale")
    if bool((s <= 0).any()):
        raise ValueError(f"{fn}: scale must be positive, got {scale}")
    tx, ty = (_uniform(translate, n, generator, "translate") for _ in range(2))
    # affine_grid maps output coordinates (x right, y down) to input coordinates. With y up,
    # the inverse of "rotate by θ, scale by s, then move by t" is R(-θ)(p - t) / s; with y
    # pointing down the sine terms and t_y change sign.
    cos, sin = torch.cos(theta) / s, torch.sin(theta) / s
    matrix = torch.stack(
        [
            torch.stack([cos, -sin, -(cos * tx + sin * ty)], dim=1),
            torch.stack([sin, cos, -(sin * tx - cos * ty)], dim=1),
        ],
        dim=1,
    )  # (N, 2, 3)
    grid = F.affine_grid(matrix.to(x), list(x.shape), align_corners=False)  # (N, H, W, 2)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode=padding_mode, align_corners=False)


def pca_colour_basis(x: Tensor) -> tuple[Tensor, Tensor]:
    """Eigen-decomposition of the 3×3 covariance of RGB pixel values over a set of images.

    AlexNet's colour augmentation (Krizhevsky et al., 2012, section 4.1) perturbs images along
    the principal components of this covariance.

    Args:
        x: images, shape ``(N, 3, H, W)``; every pixel of every image is one sample. Any real
            dtype: integer images (e.g. ``uint8``, 0–255) are read as numbers, not converted
            to ``[0, 1]``.

    Returns:
        ``(eigenvalues, eigenvectors)``, shape ``(3,)`` in descending order, and ``(3, 3)``
        with eigenvector ``i`` in column ``i`` (``cov = V diag(λ) Vᵀ``). Computed in float64;
        returned in ``x``'s dtype if it is floating point, else in PyTorch's default dtype
        (float32): an integer dtype cannot hold them.

    Example:
        >>> x = torch.rand(4, 3, 8, 8, generator=torch.Generator().manual_seed(0))
        >>> lam, vec = pca_colour_basis(x)
        >>> lam.shape, vec.shape, bool(lam[0] >= lam[1] >= lam[2])
        (torch.Size([3]), torch.Size([3, 3]), True)
    """
    name = "pca_colour_basis"
    _check_images(x, "x", name)
    if x.shape[1] != 3:
        raise ValueError(f"{name}: x must have 3 (RGB) channels, got {x.shape[1]}")
    pixels = x.permute(1, 0, 2, 3).reshape(3, -1).double()  # (3, N·H·W)
    if pixels.shape[1] < 2:
        raise ValueError(f"{name}: need at least 2 pixels, got {pixels.shape[1]}")
    cov = torch.cov(pixels)  # (3, 3)
    eigenvalues, eigenvectors = torch.linalg.eigh(cov)  # ascending
    eigenvalues = eigenvalues.flip(0).clamp_min(0.0)
    eigenvectors = eigenvectors.flip(1)
    dtype = x.dtype if x.is_floating_point() else torch.get_default_dtype()
    return eigenvalues.to(dtype), eigenvectors.to(dtype)


def pca_colour_jitter(
    x: Tensor,
    eigenvalues: Tensor,
    eigenvectors: Tensor,
    *,
    std: float = 0.1,
    generator: torch.Generator | None = None,
) -> Tensor:
    """AlexNet's "PCA colour augmentation": add one random RGB offset to all pixels of an image.

    For each image, draw ``α ~ N(0, std²)`` (3 values) and add ``V (α ⊙ λ)`` to every pixel,
    where ``λ`` and ``V`` come from :func:`pca_colour_basis` on the training set
    (Krizhevsky et al., 2012, use ``std = 0.1`` on 0–255 pixel values; the offset scales with
    ``λ``, so the same ``std`` works on 0–1 values). Values are not clipped.

    Args:
        x: images, shape ``(N, 3, H, W)``, floating point. Integer images are refused: the
            offset is fractional and can leave the range (``x.float()`` converts them; round
            and clip the result to go back).
        eigenvalues: shape ``(3,)``.
        eigenvectors: shape ``(3, 3)``, one eigenvector per column.
        std: standard deviation of the coefficients ``α``.
        generator: a CPU generator for ``α``.

    Returns:
        shape ``(N, 3, H, W)``, ``x``'s dtype.

    Raises:
        TypeError: ``x`` is not floating point.

    Example:
        >>> x = torch.rand(2, 3, 4, 4, generator=torch.Generator().manual_seed(0))
        >>> g = torch.Generator().manual_seed(1)
        >>> out = pca_colour_jitter(x, *pca_colour_basis(x), generator=g)
        >>> out.shape, torch.allclose((out - x)[:, :, 0, 0], (out - x)[:, :, 3, 2])
        (torch.Size([2, 3, 4, 4]), True)
    """
    name = "pca_colour_jitter"
    _check_images(x, "x", name)
    if not x.is_floating_point():
        raise TypeError(
            f"{name}: x must be a floating-point tensor (the offset is fractional), got "
            f"{x.dtype}; convert with x.float() (and round and clip the result if you need "
            f"{x.dtype} again)"
        )
    if x.shape[1] != 3:
        raise ValueError(f"{name}: x must have 3 (RGB) channels, got {x.shape[1]}")
    _tensor(eigenvalues, "eigenvalues", name)
    _tensor(eigenvectors, "eigenvectors", name)
    if eigenvalues.shape != (3,) or eigenvectors.shape != (3, 3):
        raise ValueError(
            f"{name}: expected eigenvalues of shape (3,) and eigenvectors (3, 3), got "
            f"{tuple(eigenvalues.shape)} and {tuple(eigenvectors.shape)}"
        )
    std = _number(std, "std", name, minimum=0.0)
    _generator(generator, "generator", name)
    alpha = std * torch.randn(len(x), 3, generator=generator)  # (N, 3), on the CPU
    alpha = alpha.to(device=x.device, dtype=x.dtype)
    lam = eigenvalues.to(device=x.device, dtype=x.dtype)
    vec = eigenvectors.to(device=x.device, dtype=x.dtype)
    offset = (alpha * lam) @ vec.T  # (N, 3): row n is V (α_n ⊙ λ)
    return x + offset[:, :, None, None]
