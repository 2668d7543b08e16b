"""Where the code runs: seeding, device choice and Colab detection.

Nothing here runs at import time; a notebook calls these in its setup cell.
"""

from __future__ import annotations

import os
import random
import sys

import numpy as np
import torch

__all__ = ["get_device", "in_colab", "seed_everything"]


def seed_everything(seed: int, *, deterministic: bool = False) -> torch.Generator:
    """Seed Python's, NumPy's and PyTorch's (CPU and every CUDA device) random generators.

    Args:
        seed: a non-negative integer.
        deterministic: also ask PyTorch for deterministic algorithms (``warn_only=True``,
            because some CUDA backward kernels have no deterministic version) and turn off
            cuDNN's benchmark mode. Results are then repeatable on one machine; CPU and GPU
            results still differ in the last digits.

    Returns:
        a fresh CPU ``torch.Generator`` seeded with ``seed``. Create random tensors on the CPU
        with it and move them to the device, so that CPU and GPU runs see the same numbers.

    Example:
        >>> g = seed_everything(0)
        >>> a = torch.rand(2, generator=g)
        >>> torch.equal(a, torch.rand(2, generator=seed_everything(0)))
        True
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed_everything: seed must be an int, got {type(seed).__name__}")
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed_everything: seed must be in [0, 2**32), got {seed}")
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - the legacy global generator is what old code uses
    torch.manual_seed(seed)  # also seeds every CUDA device
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
    return torch.Generator().manual_seed(seed)


def get_device(prefer: str | None = None) -> torch.device:
    """The device to compute on: CUDA when present, else the CPU.

    Args:
        prefer: ``"cpu"`` or ``"cuda"`` to override the choice; ``None`` reads the
            ``CNNUTILS_DEVICE`` environment variable and otherwise picks automatically.

    Example:
        >>> get_device("cpu")
        device(type='cpu')
    """
    choice = prefer if prefer is not None else os.environ.get("CNNUTILS_DEVICE")
    if choice is None or choice == "":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(choice)
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"get_device: expected 'cpu' or 'cuda', got {choice!r}")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("get_device: CUDA was asked for, but torch.cuda.is_available() is False")
    return device


def in_colab() -> bool:
    """Whether this Python runs inside Google Colab.

    Returns:
        ``True`` when the ``google.colab`` module is loaded, as it always is on Colab.

    Example:
        >>> in_colab()
        False
    """
    return "google.colab" in sys.modules
