"""Synthetic shapes: labelled colour images of any size and number, deterministic per seed.

:func:`make_shapes` draws circles, squares, triangles, crosses and rings with controllable
position, scale, rotation, colour, background and noise; the invariance experiments of the AlexNet
chapter train on it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from cnnutils._checks import _int, _is_number, _number
from cnnutils.data.datasets import ImageDataset

__all__ = ["SHAPES", "make_shapes"]

#: The classes of :func:`make_shapes`, in label order.
SHAPES = ("circle", "square", "triangle", "cross", "ring")

Range = float | tuple[float, float]


def make_shapes(
    n: int,
    *,
    size: int = 32,
    seed: int = 0,
    shapes: Sequence[str] = SHAPES,
    scale: Range = (0.45, 0.8),
    shift: Range = (-0.25, 0.25),
    rotation: Range = (0.0, 360.0),
    colour: tuple[float, float, float] | None = None,
    background: tuple[float, float, float] | None = None,
    noise: float = 0.0,
) -> ImageDataset:
    """Labelled synthetic colour images: one filled shape on a plain background.

    Every factor is drawn per image, uniformly in its range (a single number fixes it), from a
    generator seeded with ``seed``: the same arguments give the same images on every machine,
    and without noise the first ``k`` images do not depend on ``n``.
    Shapes are drawn analytically with a one-pixel antialiased edge, so any ``size`` works.

    Args:
        n: number of images; labels cycle through ``shapes`` (balanced classes).
        size: height and width in pixels.
        seed: seed of the generator.
        shapes: class names, a subset of :data:`SHAPES` (``"circle"``, ``"square"``,
            ``"triangle"``, ``"cross"``, ``"ring"``), in label order.
        scale: the shape's outer radius as a fraction of half the image size.
        shift: the centre's offset from the image centre, in each direction, as a fraction of
            half the image size.
        rotation: rotation in degrees, counter-clockwise.
        colour: the shape's RGB colour; ``None`` draws a saturated colour of random hue.
        background: the background's RGB colour; ``None`` draws a dark, grayish colour.
        noise: standard deviation of Gaussian pixel noise added at the end (then clipped).

    Returns:
        an :class:`ImageDataset` with ``x`` ``(n, 3, size, size)`` in ``[0, 1]`` and ``factors``
        ``scale`` ``(n,)``, ``shift`` ``(n, 2)`` (x, y), ``rotation`` ``(n,)``, ``colour`` and
        ``background`` ``(n, 3)``.

    Example:
        >>> ds = make_shapes(10, size=16, seed=1)
        >>> ds.x.shape, ds.classes[:3], ds.y[:6].tolist()
        (torch.Size([10, 3, 16, 16]), ('circle', 'square', 'triangle'), [0, 1, 2, 3, 4, 0])
    """
    name = "make_shapes"
    n = _int(n, "n", name, minimum=0)
    size = _int(size, "size", name, minimum=1)
    seed = _int(seed, "seed", name, minimum=0)
    if isinstance(shapes, str) or not isinstance(shapes, Sequence):
        raise TypeError(f"{name}: shapes must be a sequence of shape names, got {shapes!r}")
    shapes = tuple(shapes)
    unknown = [s for s in shapes if s not in SHAPES]
    if not shapes or unknown:
        raise ValueError(f"{name}: shapes must be a non-empty subset of {SHAPES}, got {shapes}")
    noise = _number(noise, "noise", name, minimum=0.0)
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % len(shapes)
    # one row of uniform numbers per image, so that the first k images are the same for any n
    u = torch.rand(n, 10, generator=g)  # scale, shift x, y, rotation, 3 + 3 for the colours
    factors = {
        "scale": _uniform(scale, u[:, 0], name, "scale"),
        "shift": _uniform(shift, u[:, 1:3], name, "shift"),
        "rotation": _uniform(rotation, u[:, 3], name, "rotation"),
        "colour": _colours(colour, u[:, 4:7], "colour", bright=True),
        "background": _colours(background, u[:, 7:10], "background", bright=False),
    }
    kind = torch.tensor([SHAPES.index(s) for s in shapes])[y]
    chunks = []
    for start in range(0, n, 2048):  # bounded memory for large n
        part = slice(start, start + 2048)
        alpha = _render(kind[part], {k: v[part] for k, v in factors.items()}, size)  # (B, H, W)
        fg = factors["colour"][part, :, None, None]
        bg = factors["background"][part, :, None, None]
        chunks.append(bg + alpha[:, None] * (fg - bg))  # (B, 3, H, W)
    x = torch.cat(chunks) if chunks else torch.zeros(0, 3, size, size)
    if noise > 0:
        x = (x + noise * torch.randn(x.shape, generator=g)).clamp_(0.0, 1.0)
    return ImageDataset(x, y, shapes, "synthetic shapes", factors)


def _uniform(value: Range, u: Tensor, func: str, arg: str) -> Tensor:
    """Map uniform numbers ``u`` in [0, 1) to [low, high) (a single number: constant)."""
    if _is_number(value):
        low = high = _number(value, arg, func)
    elif isinstance(value, tuple | list) and len(value) == 2 and all(map(_is_number, value)):
        low, high = (_number(v, arg, func) for v in value)
    else:
        raise TypeError(f"{func}: {arg} must be a number or a (low, high) pair, got {value!r}")
    if high < low:
        raise ValueError(f"{func}: {arg} must be a number or a (low, high) pair, got {value}")
    return low + (high - low) * u


def _colours(value, u: Tensor, arg: str, *, bright: bool) -> Tensor:
    """(n, 3) RGB colours: ``value`` for every image, or drawn from ``u`` (n, 3) in HSV."""
    if value is not None:
        if not (isinstance(value, tuple | list) and all(map(_is_number, value))):
            raise TypeError(f"make_shapes: {arg} must be None or 3 numbers (RGB), got {value!r}")
        rgb = torch.tensor([float(v) for v in value], dtype=torch.float32)
        if rgb.shape != (3,) or rgb.min() < 0 or rgb.max() > 1:
            raise ValueError(f"make_shapes: {arg} must be 3 values in [0, 1], got {value}")
        return rgb.expand(len(u), 3).clone()
    hue = u[:, 0]
    if bright:  # saturated, light colours
        sat, val = 0.6 + 0.4 * u[:, 1], 0.7 + 0.3 * u[:, 2]
    else:  # grayish, dark colours
        sat, val = 0.3 * u[:, 1], 0.1 + 0.3 * u[:, 2]
    return _hsv_to_rgb(hue, sat, val)


def _hsv_to_rgb(h: Tensor, s: Tensor, v: Tensor) -> Tensor:
    """(N,) hue, saturation, value in [0, 1] -> (N, 3) RGB (the standard hexcone formula)."""
    k = (torch.tensor([5.0, 3.0, 1.0]) + 6.0 * h[:, None]) % 6.0  # (N, 3)
    return v[:, None] - (v * s)[:, None] * (torch.minimum(k, 4.0 - k).clamp(0.0, 1.0))


def _triangle(u: Tensor, v: Tensor) -> Tensor:
    # equilateral triangle with inradius 0.5 (outer radius 1): the largest of 3 edge distances
    normals = ((0.0, 1.0), (-0.866, -0.5), (0.866, -0.5))
    return torch.stack([a * u + b * v for a, b in normals]).amax(0) - 0.5


def _cross(u: Tensor, v: Tensor) -> Tensor:
    # union of a horizontal and a vertical bar of half-width 0.3
    horizontal = torch.maximum(u.abs() - 1.0, v.abs() - 0.3)
    vertical = torch.maximum(u.abs() - 0.3, v.abs() - 1.0)
    return torch.minimum(horizontal, vertical)


# Signed distance-like functions of local coordinates (outer radius 1): negative inside.
_SIGNED_DISTANCE = {
    "circle": lambda u, v: torch.sqrt(u**2 + v**2) - 1.0,
    "square": lambda u, v: torch.maximum(u.abs(), v.abs()) - 0.75,
    "triangle": _triangle,
    "cross": _cross,
    "ring": lambda u, v: (torch.sqrt(u**2 + v**2) - 0.7).abs() - 0.3,
}


def _render(kind: Tensor, factors: dict[str, Tensor], size: int) -> Tensor:
    """Coverage in [0, 1] of each image's shape, shape (B, size, size)."""
    coords = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2.0 - 1.0  # pixel centres
    py, px = coords.view(1, -1, 1), coords.view(1, 1, -1)
    scale = factors["scale"].view(-1, 1, 1)
    cx, cy = factors["shift"][:, 0].view(-1, 1, 1), factors["shift"][:, 1].view(-1, 1, 1)
    theta = torch.deg2rad(factors["rotation"]).view(-1, 1, 1)
    # local coordinates: undo the shift, the rotation (y points up) and the scale
    dx, dy = px - cx, -py - cy  # the centre is at (cx, cy) with y up, i.e. at row -cy
    u = (torch.cos(theta) * dx + torch.sin(theta) * dy) / scale  # (B, H, W)
    v = (-torch.sin(theta) * dx + torch.cos(theta) * dy) / scale
    distance = torch.empty_like(u)
    for k in kind.unique().tolist():
        chosen = kind == k
        distance[chosen] = _SIGNED_DISTANCE[SHAPES[k]](u[chosen], v[chosen])
    pixels = distance * scale * (size / 2.0)  # local units -> pixels
    return (0.5 - pixels).clamp(0.0, 1.0)
