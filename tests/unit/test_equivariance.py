"""Tests of cnnutils.ops.equivariance: shifts against torch.roll and slicing, the classic facts."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.testing import assert_close

from cnnutils.ops.equivariance import equivariance_error, invariance_error, shift


def randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def conv(padding_mode: str = "circular", stride: int = 1, k: int = 3, seed: int = 0) -> nn.Conv2d:
    torch.manual_seed(seed)
    return nn.Conv2d(2, 4, k, stride=stride, padding=k // 2, padding_mode=padding_mode).double()


SHIFTS = [(0, 0), (1, 0), (0, -1), (3, -2), (-5, 7), (11, 12), (-12, 0)]


@pytest.mark.parametrize(("dy", "dx"), SHIFTS)
def test_shift_definition(dy, dx):
    x = randn(2, 3, 12, 13)
    circular, zeros = shift(x, dy, dx), shift(x, dy, dx, mode="zeros")
    assert_close(circular, torch.roll(x, (dy, dx), dims=(-2, -1)))
    for i in range(12):
        for j in range(13):
            inside = 0 <= i - dy < 12 and 0 <= j - dx < 13
            expected = x[..., i - dy, j - dx] if inside else torch.zeros(2, 3, dtype=x.dtype)
            assert torch.equal(zeros[..., i, j], expected)
            assert torch.equal(circular[..., i, j], x[..., (i - dy) % 12, (j - dx) % 13])
    assert torch.equal(shift(circular, -dy, -dx), x)


def test_shift_beyond_the_size_and_two_dims():
    x = randn(5, 6)
    assert torch.equal(shift(x, 5, 0, mode="zeros"), torch.zeros(5, 6, dtype=x.dtype))
    assert torch.equal(shift(x, 0, -6, mode="zeros"), torch.zeros(5, 6, dtype=x.dtype))
    assert torch.equal(shift(x, 10, 12), x)  # whole turns of the torus


@pytest.mark.parametrize(("dy", "dx"), SHIFTS)
def test_circular_conv_is_exactly_equivariant_to_circular_shifts(dy, dx):
    x = randn(2, 2, 12, 13, seed=1)
    assert equivariance_error(conv("circular", k=5), x, dy, dx) < 1e-14


@pytest.mark.parametrize(("dy", "dx"), [(1, 0), (0, -1), (3, -2), (-4, 4)])
@pytest.mark.parametrize("mode", ["circular", "zeros"])
def test_zero_padding_breaks_only_at_the_borders(dy, dx, mode):
    x, f = randn(2, 2, 16, 16, seed=2), conv("zeros", k=3)
    assert equivariance_error(f, x, dy, dx, mode=mode) > 1e-2
    margin = max(abs(dy), abs(dx)) + 1  # the shift plus the kernel's radius
    assert equivariance_error(f, x, dy, dx, mode=mode, crop=margin) < 1e-14
    if mode == "circular":  # one row/column less and the wrapped seam shows: the margin is tight
        assert equivariance_error(f, x, dy, dx, mode=mode, crop=margin - 1) > 1e-3


def test_stride_s_is_equivariant_only_to_multiples_of_s():
    x = randn(1, 2, 24, 24, seed=3)
    for s in (2, 3):
        f = conv("circular", stride=s)
        for d in range(0, 7):
            error = equivariance_error(f, x, d, 0, stride=s)
            if d % s == 0:
                assert error < 1e-14, (s, d)
            else:
                assert error > 0.1, (s, d, error)
    # Measured without the stride, even shifts look wrong too: stride is part of the question.
    assert equivariance_error(conv("circular", stride=2), x, 2, 0) > 0.1


def test_off_grid_shift_takes_the_nearest_output_shift():
    """A stride-2 map of a constant-along-rows input: any row shift is a perfect output shift."""
    x = randn(1, 2, 1, 16, seed=4).expand(1, 2, 16, 16)
    f = conv("circular", stride=2)
    assert equivariance_error(f, x, 1, 0, stride=2) < 1e-14
    assert equivariance_error(f, x, 0, 1, stride=2) > 0.1


def test_invariance_of_global_pooling():
    x, f = randn(1, 2, 16, 16, seed=5), conv("circular")
    for pool in (lambda y: y.mean(dim=(-2, -1)), lambda y: y.amax(dim=(-2, -1))):
        for dy, dx in SHIFTS:
            assert invariance_error(lambda x, p=pool: p(f(x)), x, dy, dx) < 1e-14
    assert invariance_error(f, x, 2, 3) > 0.5  # the map itself moves
    assert invariance_error(f, x, 0, 0) == 0.0
    # With a stride, global pooling is invariant only to multiples of the stride.
    strided = conv("circular", stride=2)
    pooled = lambda x: F.relu(strided(x)).mean(dim=(-2, -1))  # noqa: E731
    assert invariance_error(pooled, x, 2, 4) < 1e-14
    assert invariance_error(pooled, x, 1, 0) > 1e-3


def test_zero_norms():
    x = torch.zeros(1, 1, 6, 6)
    assert equivariance_error(lambda x: x, x, 1, 1) == 0.0
    assert invariance_error(lambda x: x.sum(), x, 1, 1) == 0.0
    y = torch.zeros(1, 1, 6, 6)
    y[0, 0, 0, 0] = 1.0
    assert equivariance_error(lambda x: x, y, 0, 0, crop=1) == 0.0
    assert invariance_error(lambda x: x[..., 1, 0], y, 1, 0) == math.inf


def test_errors():
    x = randn(1, 1, 8, 8)
    with pytest.raises(TypeError, match=r"shift: x must be a torch.Tensor"):
        shift(x.numpy(), 1, 1)
    with pytest.raises(ValueError, match=r"shift: x must have at least 2 dims"):
        shift(torch.zeros(3), 1, 1)
    with pytest.raises(TypeError, match=r"shift: dx must be an int, got 1.0"):
        shift(x, 1, 1.0)
    with pytest.raises(TypeError, match=r"shift: dy must be an int, got True"):
        shift(x, True, 1)
    with pytest.raises(ValueError, match=r"mode must be one of \('circular', 'zeros'\)"):
        shift(x, 1, 1, mode="reflect")
    with pytest.raises(TypeError, match=r"equivariance_error: f must be callable"):
        equivariance_error(3, x, 1, 1)
    with pytest.raises(TypeError, match=r"f must return a torch.Tensor, got float"):
        equivariance_error(lambda x: 1.0, x, 1, 1)
    with pytest.raises(ValueError, match=r"f must return \(\.\.\., H', W'\)"):
        equivariance_error(lambda x: x.sum(), x, 1, 1)
    with pytest.raises(ValueError, match=r"crop \(4, 4\) leaves nothing of the output \(8, 8\)"):
        equivariance_error(lambda x: x, x, 1, 1, crop=4)
    with pytest.raises(ValueError, match=r"crop must be >= 0"):
        equivariance_error(lambda x: x, x, 1, 1, crop=-1)
    with pytest.raises(ValueError, match=r"stride must be >= 1"):
        equivariance_error(lambda x: x, x, 1, 1, stride=0)
    with pytest.raises(ValueError, match=r"invariance_error: f must return one shape"):
        sizes = iter([2, 3])
        invariance_error(lambda x: x[..., : next(sizes), :], x, 1, 0)
    with pytest.raises(ValueError, match=r"invariance_error: mode must be one of"):
        invariance_error(lambda x: x, x, 1, 0, mode="wrap")
