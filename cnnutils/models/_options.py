"""Checks of the builders' options, shared by :mod:`~cnnutils.models.alexnet` and
:mod:`~cnnutils.models.lenet5`.

Each network has a frozen dataclass of options (``AlexNetConfig``, ``LeNet5Config``) in which
``None`` means "the variant's choice". :func:`_fill_variant` checks the fields every network has
and fills those ``None`` fields in; the other checks follow the package's rule (TypeError for a
wrong type, ValueError for a bad value; the message names the function the user called).
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Collection, Mapping
from typing import Any, TypeVar

from cnnutils._checks import _positive_int

__all__: list[str] = []  # internal: the builders call these

Config = TypeVar("Config")


def _choice(value: object, name: str, fn: str, choices: Collection[str]) -> str:
    """``value``, one of the strings ``choices`` (listed in the message in their order)."""
    if not isinstance(value, str):
        raise TypeError(f"{fn}: {name} must be a str, one of {list(choices)}, got {value!r}")
    if value not in choices:
        raise ValueError(f"{fn}: {name} must be one of {list(choices)}, got {value!r}")
    return value


def _flag(value: object, name: str, fn: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{fn}: {name} must be a bool, got {value!r}")
    return value


def _number(value: object, name: str, fn: str) -> float:
    """A real number (an int or a float, not a bool); the caller checks its range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{fn}: {name} must be a number, got {value!r}")
    return value


def _fill_variant(
    config: object, cls: type[Config], fn: str, variants: Mapping[str, Mapping[str, Any]]
) -> Config:
    """Check that ``config`` is a ``cls``, check its ``variant``, ``num_classes`` and
    ``in_channels``, and give every field that is ``None`` the variant's choice,
    ``variants[config.variant][field]``."""
    if not isinstance(config, cls):
        article = "an" if cls.__name__[0] in "AEIOU" else "a"
        raise TypeError(
            f"{fn}: config must be {article} {cls.__name__}, got {type(config).__name__}"
        )
    variant = _choice(config.variant, "variant", fn, variants)
    chosen = {k: v for k, v in variants[variant].items() if getattr(config, k) is None}
    return dataclasses.replace(
        config,
        num_classes=_positive_int(config.num_classes, "num_classes", fn),
        in_channels=_positive_int(config.in_channels, "in_channels", fn),
        **chosen,
    )
