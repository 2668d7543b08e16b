"""The option check that :mod:`~cnnutils.models.alexnet` and :mod:`~cnnutils.models.lenet5`
share.

Each network has a frozen dataclass of options (``AlexNetConfig``, ``LeNet5Config``) in which
``None`` means "the variant's choice". :func:`_fill_variant` checks the fields every network has
and fills those ``None`` fields in; the other checks come from :mod:`cnnutils._checks`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

from cnnutils._checks import _choice, _positive_int

__all__: list[str] = []  # internal: the builders call these

Config = TypeVar("Config")


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
