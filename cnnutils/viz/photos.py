"""The photos the book filters, from scikit-image's bundled samples: one reader, two views.

:func:`load_photos` gives colour ``(C, H, W)`` float32 tensors for datasets and figures;
:func:`load_photo` gives one grayscale ``(H, W)`` float64 image for the filtering chapters and
the explorer. Both read through the same checked loader; nothing is downloaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["IMAGE_NAMES", "PHOTOS", "load_photo", "load_photos"]

#: The colour photos :func:`load_photos` returns by default.
PHOTOS = ("astronaut", "camera", "chelsea", "coffee")
#: The grayscale photos :func:`load_photo` (and the convolution explorer) offers.
IMAGE_NAMES = ("camera", "astronaut", "coffee", "chelsea", "brick", "moon")


def _skimage_photo(name: object, fn: str) -> np.ndarray:
    """The array ``skimage.data.<name>()`` returns; a ``ValueError`` naming ``fn`` otherwise."""
    import skimage.data

    loader = getattr(skimage.data, name, None) if isinstance(name, str) else None
    if loader is None or name.startswith("_"):
        raise ValueError(f"{fn}: skimage.data has no photo {name!r}")
    return np.asarray(loader())


def load_photos(
    names: Sequence[str] = PHOTOS, *, size: int | tuple[int, int] | None = None
) -> dict[str, Tensor]:
    """scikit-image's sample photos as ``(C, H, W)`` float32 tensors in ``[0, 1]``.

    Args:
        names: functions of ``skimage.data`` that return a photo, e.g. ``"astronaut"``
            (512×512 RGB), ``"camera"`` (512×512 gray, ``C = 1``), ``"chelsea"`` (300×451 RGB),
            ``"coffee"`` (400×600 RGB).
        size: resize every photo to ``(H, W)`` (an int means square), with antialiasing.

    Example:
        >>> {k: tuple(v.shape) for k, v in load_photos(["camera"], size=64).items()}
        {'camera': (1, 64, 64)}
    """
    photos = {}
    for name in names:
        array = _skimage_photo(name, "load_photos")
        if array.ndim == 2:
            array = array[..., None]
        image = torch.from_numpy(array.astype(np.float32) / 255.0).permute(2, 0, 1)[:3]
        if size is not None:
            hw = (size, size) if isinstance(size, int) else tuple(size)
            image = F.interpolate(image[None], size=hw, mode="bilinear", antialias=True)[0]
            image = image.clamp(0.0, 1.0)
        photos[name] = image.contiguous()
    return photos


@lru_cache(maxsize=16)
def _photo(name: str, size: int) -> np.ndarray:
    from skimage import color, transform, util

    image = _skimage_photo(name, "load_photo")
    gray = color.rgb2gray(image) if image.ndim == 3 else util.img_as_float(image)
    scale = size / max(gray.shape)
    small = transform.rescale(gray, scale, anti_aliasing=True) if scale < 1 else gray
    small = small.astype(np.float64)
    small.setflags(write=False)  # cached: nobody may change it
    return small


def load_photo(name: str, size: int = 128) -> torch.Tensor:
    """A scikit-image sample photo in grayscale, floats in ``[0, 1]``, longer side ``size``.

    Args:
        name: one of :data:`IMAGE_NAMES`.
        size: length of the longer side in pixels (photos are only shrunk, with
            anti-aliasing), ``>= 8``.

    Returns:
        shape ``(H, W)``, float64, a new tensor.

    Example:
        >>> load_photo("coffee", size=60).shape
        torch.Size([40, 60])
    """
    if name not in IMAGE_NAMES:
        raise ValueError(f"load_photo: name must be one of {IMAGE_NAMES}, got {name!r}")
    if isinstance(size, bool) or not isinstance(size, int):
        raise TypeError(f"load_photo: size must be an int, got {type(size).__name__}")
    if size < 8:
        raise ValueError(f"load_photo: size must be >= 8, got {size}")
    return torch.from_numpy(_photo(name, size).copy())
