"""Argument checks shared by the whole package: the one place that says what a bad input is.

One rule for every public function: a **TypeError** when an argument has the wrong type (a float
where an int is needed, a list where a tensor is needed; bools are not ints), a **ValueError**
when it has the right type but a bad value (out of range, wrong shape, a kernel that does not
fit). Each message starts with the name of the public function the user called, then names the
argument, what was expected and what came. NumPy integers are accepted wherever ints are.
Every check takes ``(value, name, fn, ...)`` in that order, except the tensor checks, which
take ``fn`` first because they check several arguments at once.
"""

from __future__ import annotations

import numbers

from torch import Tensor

__all__: list[str] = []  # internal: the public functions call these


def _is_int(value: object) -> bool:
    """An int, or a numpy integer; not a bool (``True`` as a stride is a bug, not a 1)."""
    return type(value) is int or (
        isinstance(value, numbers.Integral) and not isinstance(value, bool)
    )


def _pair(value: object, name: str, fn: str, minimum: int) -> tuple[int, int]:
    """``value`` as a pair of ints ``>= minimum``: an int, or a tuple or list of two ints."""
    if _is_int(value):
        pair = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(_is_int(v) for v in value):
        pair = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{fn}: {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{fn}: {name} must be >= {minimum}, got {value!r}")
    return pair


def _check_tensors(fn: str, x: object, weight: object, bias: object, weight_layout: str) -> None:
    """Check the tensors of a convolution-like layer: types, ranks, dtypes, devices.

    ``x`` must be 4-D (the callers unsqueeze an unbatched input first); ``weight`` must have as
    many dimensions as ``weight_layout`` names, e.g. ``"(C_out, C_in // groups, kH, kW)"``.
    """
    for name, value in (("x", x), ("weight", weight)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{fn}: {name} must be a torch.Tensor, got {type(value).__name__}")
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"{fn}: bias must be a torch.Tensor or None, got {type(bias).__name__}")
    if x.dim() != 4:
        raise ValueError(
            f"{fn}: x must be 4-D (N, C_in, H, W) or 3-D (C_in, H, W), got shape {tuple(x.shape)}"
        )
    weight_dim = weight_layout.count(",") + 1
    if weight.dim() != weight_dim:
        raise ValueError(
            f"{fn}: weight must be {weight_dim}-D {weight_layout}, got shape {tuple(weight.shape)}"
        )
    if not x.dtype.is_floating_point:
        raise TypeError(f"{fn}: x must have a floating-point dtype, got {x.dtype}")
    for name, value in (("weight", weight), ("bias", bias)):
        if value is None:
            continue
        if value.dtype != x.dtype:
            raise ValueError(f"{fn}: {name} must have x's dtype {x.dtype}, got {value.dtype}")
        if value.device != x.device:
            raise ValueError(f"{fn}: {name} must be on x's device {x.device}, got {value.device}")


def _positive_int(value: object, name: str, fn: str, minimum: int = 1) -> int:
    if not _is_int(value):
        raise TypeError(f"{fn}: {name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{fn}: {name} must be >= {minimum}, got {value!r}")
    return int(value)


def _check_images(x: Tensor, func: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{func}: x must be a tensor, got {type(x).__name__}")
    if x.dim() != 4:
        raise ValueError(f"{func}: x must have shape (N, C, H, W), got {tuple(x.shape)}")
