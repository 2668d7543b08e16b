"""Tests of cnnutils.ops.pooling against torch.nn.functional, scipy.ndimage and skimage."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.ndimage
import skimage.morphology
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from cnnutils.geometry import pool_output_size
from cnnutils.ops.pooling import (
    MaxPool2d,
    MaxPoolCache,
    adaptive_avg_pool2d,
    avg_pool2d,
    disk_footprint,
    disk_pool2d,
    global_avg_pool2d,
    global_max_pool2d,
    max_pool2d,
    max_pool2d_backward,
    max_pool2d_forward,
)


def randn(*shape: int, seed: int = 0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def randint(*shape: int, high: int = 3, seed: int = 0) -> torch.Tensor:
    """Small integers as float64: windows full of ties."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, high, shape, generator=gen).double()


# --- max_pool2d and avg_pool2d against torch ----------------------------------------------------

# (x shape, keyword arguments): awkward geometry.
MAX_GEOMETRIES = {
    "2x2, default stride": ((2, 3, 6, 8), {"kernel_size": 2}),
    "odd input, 2x2 drops the last row": ((2, 2, 7, 5), {"kernel_size": 2}),
    "3x3 stride 2 (AlexNet, overlapping)": ((2, 2, 13, 11), {"kernel_size": 3, "stride": 2}),
    "3x2 kernel, stride (2, 1), pad 1": (
        (2, 3, 7, 6),
        {"kernel_size": (3, 2), "stride": (2, 1), "padding": 1},
    ),
    "1x4 kernel, pad (0, 2), stride (1, 3)": (
        (1, 2, 5, 11),
        {"kernel_size": (1, 4), "stride": (1, 3), "padding": (0, 2)},
    ),
    "dilation 2": ((2, 2, 9, 8), {"kernel_size": 3, "stride": 1, "dilation": 2}),
    "dilation (2, 1), stride 2, pad 1": (
        (1, 3, 10, 9),
        {"kernel_size": 3, "stride": 2, "dilation": (2, 1), "padding": 1},
    ),
    "ceil_mode, 2x2 on 5x5": ((2, 2, 5, 5), {"kernel_size": 2, "ceil_mode": True}),
    "ceil_mode, 3x3 stride 2 on 14x13": (
        (1, 2, 14, 13),
        {"kernel_size": 3, "stride": 2, "ceil_mode": True},
    ),
    "ceil_mode drops a window starting in the right padding": (
        (1, 2, 5, 5),
        {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True},
    ),
    "ceil_mode, dilation, padding": (
        (1, 2, 10, 9),
        {"kernel_size": (3, 2), "stride": (3, 2), "dilation": 2, "padding": 1, "ceil_mode": True},
    ),
    "stride larger than kernel": ((1, 2, 9, 9), {"kernel_size": 2, "stride": (3, 4)}),
    "1x1 kernel, stride 2": ((2, 3, 5, 6), {"kernel_size": 1, "stride": 2}),
    "window as large as the input": ((2, 3, 5, 4), {"kernel_size": (5, 4)}),
    "batch of 0": ((0, 3, 5, 5), {"kernel_size": 2, "padding": 1}),
}

AVG_GEOMETRIES = {
    name: (shape, kwargs)
    for name, (shape, kwargs) in MAX_GEOMETRIES.items()
    if "dilation" not in kwargs
}


@pytest.mark.parametrize("case", MAX_GEOMETRIES.values(), ids=MAX_GEOMETRIES.keys())
def test_max_pool2d_matches_torch(case):
    shape, kwargs = case
    x = randn(*shape)
    expected, expected_indices = F.max_pool2d(x, **kwargs, return_indices=True)
    assert_close(max_pool2d(x, **kwargs), expected, rtol=0, atol=0)
    out, cache = max_pool2d_forward(x, **kwargs)
    assert_close(out, expected, rtol=0, atol=0)
    assert torch.equal(cache.indices, expected_indices)
    assert cache.input_shape == x.shape


@pytest.mark.parametrize("case", MAX_GEOMETRIES.values(), ids=MAX_GEOMETRIES.keys())
def test_max_pool2d_gradients_match_autograd_through_torch(case):
    shape, kwargs = case
    x = randn(*shape)
    ours, theirs = x.clone().requires_grad_(), x.clone().requires_grad_()
    out = max_pool2d(ours, **kwargs)
    grad = randn(*out.shape, seed=1)
    out.backward(grad)
    F.max_pool2d(theirs, **kwargs).backward(grad)
    assert_close(ours.grad, theirs.grad, rtol=0, atol=1e-15)
    # the pure functions give the same gradient
    _, cache = max_pool2d_forward(x, **kwargs)
    assert_close(max_pool2d_backward(grad, cache), theirs.grad, rtol=0, atol=1e-15)


@pytest.mark.parametrize("include_pad", [True, False])
@pytest.mark.parametrize("case", AVG_GEOMETRIES.values(), ids=AVG_GEOMETRIES.keys())
def test_avg_pool2d_matches_torch(case, include_pad):
    shape, kwargs = case
    x = randn(*shape).requires_grad_()
    ours = avg_pool2d(x, **kwargs, count_include_pad=include_pad)
    theirs = F.avg_pool2d(x, **kwargs, count_include_pad=include_pad)
    assert_close(ours, theirs)
    grad = randn(*ours.shape, seed=1)
    assert_close(torch.autograd.grad(ours, x, grad)[0], torch.autograd.grad(theirs, x, grad)[0])


GRAD_CASES = {
    "2x2": ((1, 2, 4, 6), {"kernel_size": 2}),
    "3x3 stride 2, pad 1, ceil": (
        (2, 1, 6, 7),
        {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    ),
    "3x2 stride (2, 1), dilation (1, 2)": (
        (1, 2, 7, 7),
        {"kernel_size": (3, 2), "stride": (2, 1), "dilation": (1, 2)},
    ),
}


@pytest.mark.parametrize("case", GRAD_CASES.values(), ids=GRAD_CASES.keys())
def test_max_pool2d_gradcheck(case):
    """Finite differences agree with the hand-written backward pass (no ties in randn)."""
    shape, kwargs = case
    x = randn(*shape).requires_grad_()
    assert torch.autograd.gradcheck(lambda t: max_pool2d(t, **kwargs), (x,))


def test_disk_pool2d_gradcheck():
    x = randn(1, 2, 7, 6).requires_grad_()
    assert torch.autograd.gradcheck(lambda t: disk_pool2d(t, 2, stride=2, padding=1), (x,))
    assert torch.autograd.gradcheck(lambda t: disk_pool2d(t, 1, padding=1, mode="avg"), (x,))


# --- ties, NaN, and the switches ------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kernel_size": 2},
        {"kernel_size": 3, "stride": 2},  # overlapping windows share their maximum
        {"kernel_size": 3, "stride": 1, "padding": 1},
        {"kernel_size": (2, 3), "stride": (1, 2), "dilation": (2, 1), "ceil_mode": True},
    ],
)
@pytest.mark.parametrize("high", [1, 2, 3])  # 1: every value equal
def test_ties_go_to_the_first_maximum_in_row_major_order_as_torch(kwargs, high):
    x = randint(2, 3, 9, 10, high=high)
    _, indices = F.max_pool2d(x, **kwargs, return_indices=True)
    out, cache = max_pool2d_forward(x, **kwargs)
    assert torch.equal(cache.indices, indices)
    xs, xt = x.clone().requires_grad_(), x.clone().requires_grad_()
    grad = randn(*out.shape, seed=2)
    max_pool2d(xs, **kwargs).backward(grad)
    F.max_pool2d(xt, **kwargs).backward(grad)
    assert_close(xs.grad, xt.grad, rtol=0, atol=1e-15)


def test_tie_rule_by_hand():
    # Window of 2x2: all four equal -> the top-left one; (0, 1) and (1, 0) tie -> (0, 1).
    x = torch.tensor([[[[5.0, 5.0, 0.0, 7.0], [5.0, 5.0, 7.0, 1.0]]]])
    _, cache = max_pool2d_forward(x, 2)
    assert cache.indices.tolist() == [[[[0, 3]]]]


def test_overlapping_windows_accumulate_the_gradient():
    # 3x3 stride 2 on 5x5: the centre of the middle row/column is in all four windows.
    x = torch.zeros(1, 1, 5, 5, dtype=torch.float64)
    x[0, 0, 2, 2] = 1.0
    out, cache = max_pool2d_forward(x, 3, stride=2)
    assert out.shape == (1, 1, 2, 2) and (cache.indices == 12).all()
    grad = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], dtype=torch.float64)
    grad_x = max_pool2d_backward(grad, cache)
    assert grad_x[0, 0, 2, 2] == 10 and grad_x.sum() == 10


def test_nan_propagates_and_its_switch_matches_torch():
    x = randn(1, 2, 6, 6)
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = x[0, 1, 4, 4] = float("nan")
    expected, indices = F.max_pool2d(x, 3, stride=2, padding=1, return_indices=True)
    out, cache = max_pool2d_forward(x, 3, stride=2, padding=1)
    assert_close(out, expected, equal_nan=True, rtol=0, atol=0)
    assert torch.equal(cache.indices, indices)


def test_window_that_sees_only_padding_has_no_switch():
    # kernel 2, dilation 3, padding 1 on 2 rows: the taps are rows -1 and 2, both padding.
    x = randn(1, 1, 2, 2).requires_grad_()
    out = max_pool2d(x, 2, padding=1, dilation=3)
    assert out.shape == (1, 1, 1, 1) and out.item() == float("-inf")
    _, cache = max_pool2d_forward(x.detach(), 2, padding=1, dilation=3)
    assert cache.indices.item() == -1
    out.sum().backward()
    assert (x.grad == 0).all()


def with_minus_inf_and_nan(shape, nan: bool) -> torch.Tensor:
    """Random values, about half of them -inf, the first plane all -inf, and (if ``nan``) a
    few NaNs in the last plane."""
    x = randn(*shape)
    g = torch.Generator().manual_seed(2)
    x[torch.rand(shape, generator=g, dtype=torch.float64) < 0.5] = -math.inf
    if x.numel():
        x[0, 0] = -math.inf
        if nan:
            x[-1, -1].view(-1)[:: max(1, x[0, 0].numel() // 3)] = math.nan
    return x


@pytest.mark.parametrize("nan", [False, True], ids=["-inf", "-inf and nan"])
@pytest.mark.parametrize("case", MAX_GEOMETRIES.values(), ids=MAX_GEOMETRIES.keys())
def test_minus_inf_windows_switch_and_gradient_as_torch(case, nan):
    """A window whose maximum is -inf ties everywhere, padding included: the switch is its
    first tap on the input, as PyTorch's, and the gradient goes there."""
    shape, kwargs = case
    for x in (with_minus_inf_and_nan(shape, nan), with_minus_inf_and_nan(shape, nan).float()):
        expected, indices = F.max_pool2d(x, **kwargs, return_indices=True)
        out, cache = max_pool2d_forward(x, **kwargs)
        assert_close(out, expected, equal_nan=True, rtol=0, atol=0)
        assert torch.equal(cache.indices, indices)
        last = x.contiguous(memory_format=torch.channels_last)
        assert torch.equal(max_pool2d_forward(last, **kwargs)[1].indices, indices)
        ours, theirs = x.clone().requires_grad_(), x.clone().requires_grad_()
        grad = randn(*expected.shape, seed=1).to(x.dtype)
        max_pool2d(ours, **kwargs).backward(grad)
        F.max_pool2d(theirs, **kwargs).backward(grad)
        assert_close(ours.grad, theirs.grad, rtol=0, atol=1e-6)
        assert_close(max_pool2d_backward(grad, cache), theirs.grad, rtol=0, atol=1e-6)


def test_all_minus_inf_planes_by_hand():
    x = torch.full((1, 1, 4, 4), -math.inf)
    _, cache = max_pool2d_forward(x, 3, stride=2, padding=1)
    assert cache.indices.flatten().tolist() == [0, 1, 4, 5]  # each window's first input tap
    grad_x = max_pool2d_backward(torch.ones(1, 1, 2, 2), cache)
    assert grad_x.sum() == 4 and grad_x[0, 0, 1, 1] == 1


@pytest.mark.parametrize("nan", [False, True], ids=["-inf", "-inf and nan"])
def test_switches_read_nothing_back_from_a_gpu(monkeypatch, nan):
    """No Python branch on a tensor's value (on a GPU, each one waits for the device): the
    CPU's shortcut (ask whether there is a NaN) is switched off, and reading is refused."""
    x = with_minus_inf_and_nan((2, 3, 9, 8), nan=nan)
    kwargs = {"kernel_size": 3, "stride": 2, "padding": 1}
    expected = max_pool2d_forward(x, **kwargs)  # builds the geometry's tables once
    monkeypatch.setattr("cnnutils.ops.pooling._reading_back_is_free", lambda device: False)

    def refuse(*_):
        raise AssertionError("a tensor's value was read back")

    for name in ("__bool__", "item", "tolist", "__int__", "__float__"):
        monkeypatch.setattr(torch.Tensor, name, refuse)
    out, cache = max_pool2d_forward(x, **kwargs)
    grad_x = max_pool2d_backward(torch.ones_like(out), cache)
    ours = x.clone().requires_grad_()
    max_pool2d(ours, **kwargs).backward(torch.ones_like(out))
    monkeypatch.undo()
    assert torch.equal(cache.indices, expected[1].indices)
    assert torch.equal(grad_x, ours.grad)
    with pytest.raises(AssertionError, match="read back"):  # the check can fail
        monkeypatch.setattr(torch.Tensor, "__bool__", refuse)
        bool(torch.isnan(out).any())


# --- layouts, dtypes, the module ---------------------------------------------------------------


def test_non_contiguous_and_unbatched_input():
    x = randn(2, 9, 8, 3).permute(0, 3, 1, 2)  # (2, 3, 9, 8), not contiguous
    assert not x.is_contiguous()
    kwargs = {"kernel_size": 3, "stride": 2, "padding": 1}
    assert_close(max_pool2d(x, **kwargs), F.max_pool2d(x, **kwargs))
    assert_close(avg_pool2d(x, **kwargs), F.avg_pool2d(x, **kwargs))
    one = x[1]  # (C, H, W)
    assert_close(max_pool2d(one, **kwargs), F.max_pool2d(one, **kwargs))
    assert_close(avg_pool2d(one, **kwargs), F.avg_pool2d(one, **kwargs))
    out, cache = max_pool2d_forward(one, **kwargs)
    assert torch.equal(cache.indices, F.max_pool2d(one, **kwargs, return_indices=True)[1])
    grad = randn(*out.shape, seed=3)
    one_t = one.clone().requires_grad_()
    F.max_pool2d(one_t, **kwargs).backward(grad)
    assert_close(max_pool2d_backward(grad, cache), one_t.grad)
    assert_close(disk_pool2d(one, 1, padding=1), disk_pool2d(one[None], 1, padding=1)[0])


def test_float32_and_backward_of_non_contiguous_gradient():
    x = randn(2, 3, 11, 10, dtype=torch.float32).requires_grad_()
    out = max_pool2d(x, 3, stride=2)
    assert out.dtype == torch.float32
    assert torch.equal(out, F.max_pool2d(x, 3, stride=2))
    grad = randn(2, 3, 4, 5, dtype=torch.float32).transpose(2, 3)  # (2, 3, 5, 4), strided
    out.backward(grad)
    xt = x.detach().clone().requires_grad_()
    F.max_pool2d(xt, 3, stride=2).backward(grad)
    assert torch.equal(x.grad, xt.grad)


def test_without_grad_no_switches_are_recorded():
    x = randn(1, 2, 6, 6)
    assert max_pool2d(x, 2).grad_fn is None
    assert max_pool2d(x.requires_grad_(), 2).grad_fn is not None
    with torch.no_grad():
        assert max_pool2d(x, 2).grad_fn is None


def test_max_pool2d_module_trains():
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1),
        MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(36, 2),
    ).double()
    reference = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(36, 2),
    ).double()
    reference.load_state_dict(net.state_dict())
    x, y = randn(8, 1, 6, 6), torch.arange(8) % 2
    for model in (net, reference):
        torch.nn.functional.cross_entropy(model(x), y).backward()
    for p, q in zip(net.parameters(), reference.parameters(), strict=True):
        assert_close(p.grad, q.grad)
    assert "kernel_size=2" in repr(net[1])


# --- disk pooling ----------------------------------------------------------------------------


@pytest.mark.parametrize("radius", [0, 1, 2, 3, 5])
def test_disk_footprint_is_skimage_disk(radius):
    expected = skimage.morphology.disk(radius).astype(bool)
    assert np.array_equal(disk_footprint(radius).numpy(), expected)


@pytest.mark.parametrize("stride", [1, 2, (2, 3)])
@pytest.mark.parametrize("radius", [1, 2, 3])
def test_disk_pool2d_matches_scipy(radius, stride):
    x = randn(2, 2, 13, 11)
    footprint = disk_footprint(radius).numpy()
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ours_max = disk_pool2d(x, radius, stride=stride, padding=radius)
    ours_avg = disk_pool2d(x, radius, stride=stride, padding=radius, mode="avg")
    for n, c in itertools.product(range(2), range(2)):
        image = x[n, c].numpy()
        maxed = scipy.ndimage.maximum_filter(
            image, footprint=footprint, mode="constant", cval=-np.inf
        )
        mean = scipy.ndimage.generic_filter(
            image, np.nanmean, footprint=footprint, mode="constant", cval=np.nan
        )
        assert np.array_equal(ours_max[n, c].numpy(), maxed[::sh, ::sw])
        np.testing.assert_allclose(ours_avg[n, c].numpy(), mean[::sh, ::sw], rtol=1e-12)


def test_disk_pool2d_without_padding_is_the_interior():
    x = randn(1, 1, 12, 12)
    inner = disk_pool2d(x, 2)
    assert inner.shape == (1, 1, 8, 8)
    assert torch.equal(inner, disk_pool2d(x, 2, padding=2)[..., 2:-2, 2:-2])
    assert torch.equal(disk_pool2d(x, 0), x)


def test_disk_max_pool_gradient_matches_a_masked_reference():
    """The disk's taps are a subset of the square's: mask the rest with -inf and use torch."""
    x = randn(2, 1, 9, 8)
    radius = 2
    xs = x.clone().requires_grad_()
    out = disk_pool2d(xs, radius, stride=2, padding=1)
    grad = randn(*out.shape, seed=4)
    out.backward(grad)
    # reference: unfold the windows, put -inf off the disk, take torch's max, autograd.
    xt = x.clone().requires_grad_()
    cols = F.unfold(F.pad(xt, (1, 1, 1, 1), value=float("-inf")), 5, stride=2)  # (N, 25, L)
    off = ~disk_footprint(radius).flatten()
    ref = cols.masked_fill(off.view(1, -1, 1), float("-inf")).amax(1).view(out.shape)
    assert_close(out, ref)
    ref.backward(grad)
    assert_close(xs.grad, xt.grad)


# --- global and adaptive pooling ------------------------------------------------------------


@pytest.mark.parametrize("size", [(1, 1), (7, 7), (28, 28), (40, 33)])
def test_global_pooling_matches_adaptive_pooling_to_one(size):
    x = randn(3, 4, *size)
    assert_close(global_avg_pool2d(x), F.adaptive_avg_pool2d(x, 1).flatten(1))
    assert_close(global_max_pool2d(x), F.adaptive_max_pool2d(x, 1).flatten(1))
    assert global_avg_pool2d(x, keepdim=True).shape == (3, 4, 1, 1)
    assert global_max_pool2d(x[0]).shape == (4,)


@pytest.mark.parametrize(
    ("size", "output_size"),
    [
        ((10, 10), 5),
        ((7, 5), 3),  # bins of unequal size that overlap
        ((13, 11), (4, 6)),
        ((5, 7), (7, 9)),  # more bins than positions
        ((6, 8), (None, 3)),
        ((4, 4), 1),
        ((1, 1), (2, 2)),
    ],
)
def test_adaptive_avg_pool2d_matches_torch(size, output_size):
    x = randn(2, 3, *size).requires_grad_()
    ours, theirs = adaptive_avg_pool2d(x, output_size), F.adaptive_avg_pool2d(x, output_size)
    assert_close(ours, theirs)
    grad = randn(*ours.shape, seed=1)
    assert_close(torch.autograd.grad(ours, x, grad)[0], torch.autograd.grad(theirs, x, grad)[0])
    assert_close(adaptive_avg_pool2d(x[0], output_size), F.adaptive_avg_pool2d(x[0], output_size))


def test_adaptive_avg_pool2d_bin_rule_by_hand():
    # H = 7, 3 bins: [0, 3), [2, 5), [4, 7)
    x = torch.arange(7.0, dtype=torch.float64).view(1, 1, 7, 1)
    assert adaptive_avg_pool2d(x, (3, 1)).flatten().tolist() == [1.0, 3.0, 5.0]


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize(("size", "output_size"), [((6, 6), 3), ((7, 5), (3, 2)), ((5, 7), (7, 9))])
def test_adaptive_avg_pool2d_non_finite_only_in_its_bins(value, size, output_size):
    x = randn(2, 3, *size)
    x[0, 1, 1, 2] = value
    x[1, 2] = -math.inf  # a whole plane: -inf, not NaN
    ours, theirs = adaptive_avg_pool2d(x, output_size), F.adaptive_avg_pool2d(x, output_size)
    assert_close(ours, theirs, equal_nan=True)
    assert ours.isfinite().sum() == theirs.isfinite().sum() > ours.numel() // 2
    assert (ours[1, 2] == -math.inf).all()


# --- sizes -----------------------------------------------------------------------------------


def test_pool_output_size_matches_torch_on_a_grid():
    x = torch.empty(1, 1, 1, 1)
    checked = 0
    for size, k, s, d, ceil in itertools.product(
        range(1, 12), range(1, 5), range(1, 4), range(1, 3), (False, True)
    ):
        for p in range(k // 2 + 1):
            expected = pool_output_size(size, k, s, p, d, ceil)
            if expected < 1:
                continue
            x = torch.empty(1, 1, size, 1)
            out = F.max_pool2d(x, (k, 1), (s, 1), (p, 0), (d, 1), ceil_mode=ceil)
            assert out.shape[2] == expected, (size, k, s, p, d, ceil)
            assert max_pool2d(x.normal_(), (k, 1), (s, 1), (p, 0), (d, 1), ceil).shape == out.shape
            checked += 1
    assert checked > 800


# --- bad input ---------------------------------------------------------------------------------

X = torch.zeros(1, 1, 4, 4)
BAD_INPUTS = [
    (lambda: max_pool2d([[1.0]], 2), TypeError, "max_pool2d: x must be a torch.Tensor, got list"),
    (lambda: max_pool2d(torch.zeros(4, 4), 2), ValueError, r"x must be 4-D .* got shape \(4, 4\)"),
    (
        lambda: max_pool2d(torch.zeros(4, 4, dtype=torch.long)[None, None], 2),
        TypeError,
        "x must have a floating-point dtype, got torch.int64",
    ),
    (
        lambda: max_pool2d(X, 2.0),
        TypeError,
        r"kernel_size must be an int or a pair of ints, got 2\.0",
    ),
    (lambda: max_pool2d(X, (2, 2, 2)), TypeError, "kernel_size must be an int or a pair"),
    (
        lambda: max_pool2d(X, True),
        TypeError,
        "kernel_size must be an int or a pair of ints, got True",
    ),
    (lambda: max_pool2d(X, 0), ValueError, "max_pool2d: kernel_size must be >= 1, got 0"),
    (lambda: max_pool2d(X, 2, stride=0), ValueError, "max_pool2d: stride must be >= 1, got 0"),
    (lambda: max_pool2d(X, 2, stride=(1, 0)), ValueError, r"stride must be >= 1, got \(1, 0\)"),
    (lambda: max_pool2d(X, 2, padding=-1), ValueError, "padding must be >= 0, got -1"),
    (
        lambda: max_pool2d(X, 3, padding=2),
        ValueError,
        r"padding must be at most half the kernel size .* got padding \(2, 2\) for kernel \(3, 3\)",
    ),
    (
        lambda: max_pool2d(X, (4, 2), padding=(2, 2)),
        ValueError,
        r"at most half the kernel size .* padding \(2, 2\) for kernel \(4, 2\)",
    ),
    (lambda: max_pool2d(X, 2, dilation=0), ValueError, "dilation must be >= 1, got 0"),
    (
        lambda: max_pool2d(X, 5),
        ValueError,
        r"max_pool2d: the window \(5, 5\) .* must fit in the padded input \(4, 4\)",
    ),
    (
        lambda: max_pool2d(X, 3, dilation=2),
        ValueError,
        r"the window \(5, 5\) \(.* kernel \(3, 3\), dilation \(2, 2\)\)",
    ),
    (lambda: max_pool2d(X, 2, ceil_mode=1), TypeError, "ceil_mode must be a bool, got 1"),
    (
        lambda: max_pool2d_forward(X, 2, stride="2"),
        TypeError,
        "max_pool2d_forward: stride must be an int",
    ),
    (lambda: avg_pool2d(X, (5, 2)), ValueError, r"avg_pool2d: the window \(5, 2\)"),
    (
        lambda: avg_pool2d(X, 2, count_include_pad=None),
        TypeError,
        "count_include_pad must be a bool",
    ),
    (
        lambda: avg_pool2d(X, 2, padding=(0, 2)),
        ValueError,
        "avg_pool2d: padding must be at most half",
    ),
    (
        lambda: max_pool2d_backward(torch.zeros(1, 1, 3, 3), max_pool2d_forward(X, 2)[1]),
        ValueError,
        r"grad_out must have the output's shape \(1, 1, 2, 2\), got \(1, 1, 3, 3\)",
    ),
    (
        lambda: max_pool2d_backward(None, MaxPoolCache(X.long(), X.shape)),
        TypeError,
        "grad_out must be a torch.Tensor, got NoneType",
    ),
    (lambda: disk_pool2d(X, 1.5), TypeError, "disk_pool2d: radius must be an int, got 1.5"),
    (lambda: disk_pool2d(X, -1), ValueError, "radius must be >= 0, got -1"),
    (
        lambda: disk_pool2d(X, 1, mode="median"),
        ValueError,
        r"mode must be one of \('max', 'avg'\), got 'median'",
    ),
    (
        lambda: disk_pool2d(X, 1, padding=2),
        ValueError,
        r"padding must be at most the radius 1, got \(2, 2\)",
    ),
    (lambda: disk_pool2d(X, 3), ValueError, r"disk_pool2d: the window \(7, 7\)"),
    (lambda: disk_pool2d(X, 1, stride=0), ValueError, "disk_pool2d: stride must be >= 1"),
    (lambda: disk_footprint(2.0), TypeError, "disk_footprint: radius must be an int"),
    (lambda: global_avg_pool2d(torch.zeros(2, 3)), ValueError, "global_avg_pool2d: x must be 4-D"),
    (lambda: global_max_pool2d(torch.zeros(1, 2, 0, 3)), ValueError, "H, W >= 1"),
    (lambda: global_avg_pool2d(X, keepdim=1), TypeError, "keepdim must be a bool"),
    (
        lambda: adaptive_avg_pool2d(X, 0),
        ValueError,
        "adaptive_avg_pool2d: output_size must be >= 1, got 0",
    ),
    (lambda: adaptive_avg_pool2d(X, 2.5), TypeError, "output_size must be an int or a pair"),
]


@pytest.mark.parametrize(("call", "error", "message"), BAD_INPUTS, ids=[m for *_, m in BAD_INPUTS])
def test_bad_input_is_rejected_with_a_clear_message(call, error, message):
    with pytest.raises(error, match=message):
        call()
