"""Fixtures of the unit tier.

``device``: the oracle tests that take it run once per device this machine has, CPU always and
CUDA where a CUDA device is visible; the parameter list is built from what exists, so a CPU-only
machine runs the CPU half and reports no skipped CUDA half.
"""

from __future__ import annotations

import pytest
import torch

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(params=DEVICES)
def device(request) -> torch.device:
    return torch.device(request.param)
