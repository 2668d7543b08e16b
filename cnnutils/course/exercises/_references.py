"""Reference pieces that the checkers of several chapters use."""

from __future__ import annotations

import torch

__all__: list[str] = []  # internal: the chapter checkers import these


def _binomial_blur(channels: int, like: torch.Tensor) -> torch.Tensor:
    """The normalised binomial blur ``(1/16) [1, 2, 1]ᵀ [1, 2, 1]`` (it sums to 1), one per
    channel: shape ``(channels, 1, 3, 3)`` with ``like``'s dtype and device, for
    ``F.conv2d(..., groups=channels)``."""
    binomial = torch.tensor([1.0, 2.0, 1.0], dtype=like.dtype, device=like.device)
    return (binomial[:, None] * binomial[None, :] / 16).expand(channels, 1, 3, 3)
