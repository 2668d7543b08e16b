"""Argument checks shared by the whole package: the one place that says what a bad input is.

One rule for every public function: a **TypeError** when an argument has the wrong type (a float
where an int is needed, a list where a tensor is needed, an integer tensor where a floating one
is needed; bools are not ints), a **ValueError** when it has the right type but a bad value (out
of range, wrong shape, an unknown option, a kernel that does not fit). Each message starts with
the name of the public function the user called, then names the argument, what was expected and
what came: ``"max_pool2d: stride must be >= 1, got 0"``. NumPy integers are accepted wherever
ints are, NumPy floats wherever floats are.

Every check takes ``(value, name, fn, ...)`` in that order and returns the value, normalised
(an ``int`` for a NumPy integer, a pair for an int-or-pair); :func:`_check_tensors`, which checks
the three tensors of a convolution-like call together, takes them first, then ``fn``.
Checks run before any work, so a bad argument costs microseconds, not the computation it would
have started.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection

import numpy as np
import torch
from torch import Tensor

__all__: list[str] = []  # internal: the public functions call these


def _is_int(value: object) -> bool:
    """An int, or a numpy integer; not a bool (``True`` as a stride is a bug, not a 1)."""
    return type(value) is int or (
        isinstance(value, numbers.Integral) and not isinstance(value, bool)
    )


def _is_number(value: object) -> bool:
    """A real number (int, float or their numpy kinds); not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _int(
    value: object, name: str, fn: str, minimum: int | None = None, maximum: int | None = None
) -> int:
    """``value`` as an int in ``[minimum, maximum]`` (either bound may be ``None``)."""
    if not _is_int(value):
        raise TypeError(f"{fn}: {name} must be an int, got {value!r}")
    if minimum is not None and value < minimum:
        if maximum is None:
            raise ValueError(f"{fn}: {name} must be >= {minimum}, got {value!r}")
        raise ValueError(f"{fn}: {name} must be in [{minimum}, {maximum}], got {value!r}")
    if maximum is not None and value > maximum:
        bounds = f"in [{minimum}, {maximum}]" if minimum is not None else f"<= {maximum}"
        raise ValueError(f"{fn}: {name} must be {bounds}, got {value!r}")
    return int(value)


def _positive_int(
    value: object, name: str, fn: str, minimum: int = 1, maximum: int | None = None
) -> int:
    """``value`` as an int ``>= minimum`` (1 unless told), and ``<= maximum`` if given."""
    return _int(value, name, fn, minimum, maximum)


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


def _bool(value: object, name: str, fn: str) -> bool:
    """``value`` as a bool: ``True``, ``False`` or a numpy bool (not 0, 1 or a string)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{fn}: {name} must be a bool, got {value!r}")
    return bool(value)


def _number(
    value: object,
    name: str,
    fn: str,
    *,
    minimum: float | None = None,
    positive: bool = False,
    maximum: float | None = None,
    finite: bool = True,
) -> float:
    """``value`` as a float: an int or float (not a bool), finite unless told, in range.

    ``minimum`` and ``maximum`` are inclusive; ``positive`` asks for ``> 0``.
    """
    if not _is_number(value):
        raise TypeError(f"{fn}: {name} must be a number, got {value!r}")
    number = float(value)
    if finite and not math.isfinite(number):
        raise ValueError(f"{fn}: {name} must be finite, got {value!r}")
    if positive and not number > 0:
        raise ValueError(f"{fn}: {name} must be > 0, got {value!r}")
    if minimum is not None and not number >= minimum:
        raise ValueError(f"{fn}: {name} must be >= {minimum:g}, got {value!r}")
    if maximum is not None and not number <= maximum:
        raise ValueError(f"{fn}: {name} must be <= {maximum:g}, got {value!r}")
    return number


def _choice(value: object, name: str, fn: str, choices: Collection[str]) -> str:
    """``value``, a str among ``choices``."""
    if not isinstance(value, str):
        raise TypeError(f"{fn}: {name} must be one of {tuple(choices)}, got {value!r}")
    if value not in choices:
        raise ValueError(f"{fn}: {name} must be one of {tuple(choices)}, got {value!r}")
    return value


def _str(value: object, name: str, fn: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{fn}: {name} must be a str, got {type(value).__name__}")
    return value


def _tensor(
    value: object,
    name: str,
    fn: str,
    *,
    dims: int | Collection[int] | None = None,
    layout: str = "",
    floating: bool = False,
) -> Tensor:
    """``value``, a tensor with one of ``dims`` dimensions (``layout`` names them in the
    message, e.g. ``"(N, C, H, W)"``) and, if ``floating``, a floating-point dtype."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{fn}: {name} must be a torch.Tensor, got {type(value).__name__}")
    if dims is not None:
        allowed = (dims,) if isinstance(dims, int) else tuple(dims)
        if value.dim() not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(
                f"{fn}: {name} must be {want}{' ' + layout if layout else ''}, "
                f"got shape {tuple(value.shape)}"
            )
    if floating and not value.is_floating_point():
        raise TypeError(f"{fn}: {name} must have a floating-point dtype, got {value.dtype}")
    return value


def _check_images(value: object, name: str, fn: str, *, floating: bool = False) -> Tensor:
    """A batch of images: a tensor of shape ``(N, C, H, W)`` (floating-point if asked)."""
    return _tensor(value, name, fn, dims=4, layout="(N, C, H, W)", floating=floating)


def _labels(value: object, name: str, fn: str) -> Tensor:
    """Class labels: integers in a tensor, a numpy array or a list, as a CPU int64 tensor."""
    if isinstance(value, Tensor):
        labels = value.detach().cpu()
    elif isinstance(value, np.ndarray | list | tuple):
        try:
            array = np.asarray(value, dtype=np.int64 if len(value) == 0 else None)
        except ValueError:  # ragged
            raise ValueError(f"{fn}: {name} must be a flat list of labels, got {value!r}") from None
        if array.dtype.kind not in "biufc":  # strings, objects
            raise TypeError(f"{fn}: {name} must hold integer labels, got {value!r}")
        labels = torch.as_tensor(array)
    else:
        raise TypeError(
            f"{fn}: {name} must be a tensor, array or list of integer labels, got "
            f"{type(value).__name__}"
        )
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise TypeError(
            f"{fn}: {name} must hold integer labels, got {labels.dtype} (for scores or "
            "probabilities, take .argmax(dim=1) first)"
        )
    return labels.long()


def _dtype(value: object, name: str, fn: str) -> torch.dtype:
    """A floating-point ``torch.dtype``."""
    if not isinstance(value, torch.dtype):
        raise TypeError(f"{fn}: {name} must be a torch.dtype, got {value!r}")
    if not value.is_floating_point:
        raise TypeError(f"{fn}: {name} must be a floating dtype, got {value}")
    return value


def _generator(value: object, name: str, fn: str) -> torch.Generator | None:
    """``None`` or a ``torch.Generator``."""
    if value is not None and not isinstance(value, torch.Generator):
        raise TypeError(
            f"{fn}: {name} must be a torch.Generator or None, got {type(value).__name__}"
        )
    return value


def _module(value: object, name: str, fn: str) -> torch.nn.Module:
    if not isinstance(value, torch.nn.Module):
        raise TypeError(f"{fn}: {name} must be a torch.nn.Module, got {type(value).__name__}")
    return value


def _check_tensors(x: object, weight: object, bias: object, fn: str, weight_layout: str) -> None:
    """Check the tensors of a convolution-like call: types, ranks, dtypes, devices.

    ``x`` must be 4-D (the callers unsqueeze an unbatched input first); ``weight`` must have as
    many dimensions as ``weight_layout`` names, e.g. ``"(C_out, C_in // groups, kH, kW)"``.
    """
    _tensor(x, "x", fn)
    _tensor(weight, "weight", fn)
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"{fn}: bias must be a torch.Tensor or None, got {type(bias).__name__}")
    if x.dim() != 4:
        raise ValueError(
            f"{fn}: x must be 4-D (N, C_in, H, W) or 3-D (C_in, H, W), got shape {tuple(x.shape)}"
        )
    _tensor(weight, "weight", fn, dims=weight_layout.count(",") + 1, layout=weight_layout)
    _tensor(x, "x", fn, floating=True)
    for name, value in (("weight", weight), ("bias", bias)):
        if value is None:
            continue
        if value.dtype != x.dtype:
            raise ValueError(f"{fn}: {name} must have x's dtype {x.dtype}, got {value.dtype}")
        if value.device != x.device:
            raise ValueError(f"{fn}: {name} must be on x's device {x.device}, got {value.device}")
