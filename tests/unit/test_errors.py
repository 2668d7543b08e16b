"""The error contract, across the package: clear errors, early and cheap.

A wrong type raises TypeError, a bad value ValueError, before any work; the message starts with
the public function the user called (not a helper it calls) and names the argument, what was
expected and what came. NumPy integers are ints.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from torch import nn

import cnnutils
from cnnutils import (
    ImageDataset,
    LocallyConnected2d,
    LocalResponseNorm,
    MaxPool2d,
    avg_pool2d,
    confusion_matrix,
    disk_pool2d,
    filter2d,
    gradient_magnitude_orientation,
    max_pool2d,
    max_pool2d_forward,
    orientation_histogram,
    pool_output_size,
    random_shift,
    replace_head,
)

X = torch.rand(1, 1, 10, 10)


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((10, 3, -1), ValueError, r"^pool_output_size: stride must be >= 1, got -1$"),
        ((10, 3, 0), ValueError, r"^pool_output_size: stride must be >= 1, got 0$"),
        ((10, 3, 1.0), TypeError, r"^pool_output_size: stride must be an int, got 1.0$"),
        ((10, 3, 1, -1), ValueError, r"^pool_output_size: padding must be >= 0, got -1$"),
        ((10, 3, 1, 0, 1, 1), TypeError, r"^pool_output_size: ceil_mode must be a bool, got 1$"),
    ],
)
def test_pool_output_size_checks_its_arguments(args, error, match):
    with pytest.raises(error, match=match):
        pool_output_size(*args)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: cnnutils.output_length(10, 3, 0), ValueError,
         r"^output_length: stride must be >= 1, got 0$"),
        (lambda: cnnutils.output_length(10.0, 3), TypeError,
         r"^output_length: size must be an int, got 10.0$"),
        (lambda: cnnutils.output_length(10, 3, ceil_mode=None), TypeError,
         r"^output_length: ceil_mode must be a bool"),
        (lambda: cnnutils.untouched_indices(5, 7), ValueError,
         r"^untouched_indices: the window .* must fit"),
        (lambda: cnnutils.untouched_indices(5, 3, stride=0), ValueError,
         r"^untouched_indices: stride must be >= 1, got 0$"),
        (lambda: cnnutils.load_digits(train_fraction="0.5"), TypeError,
         r"^load_digits: train_fraction must be a number, got '0.5'$"),
        (lambda: cnnutils.load_digits(train_fraction=1.0), ValueError,
         r"^load_digits: train_fraction must be in \(0, 1\), got 1.0$"),
    ],
)  # fmt: skip
def test_geometry_and_loaders_check_their_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()
    assert cnnutils.output_length(np.int64(10), 3, 2, 1, 1, True) == 6  # numpy ints are ints


@pytest.mark.parametrize(
    ("call", "fn"),
    [
        (lambda: max_pool2d(X, 3000), "max_pool2d"),
        (lambda: max_pool2d_forward(X, 3000), "max_pool2d_forward"),
        (lambda: avg_pool2d(X, (3000, 1)), "avg_pool2d"),
        (lambda: max_pool2d(X, 1500, dilation=2), "max_pool2d"),
        (lambda: disk_pool2d(X, 3000), "disk_pool2d"),
    ],
)
def test_a_window_far_too_large_fails_before_any_work(call, fn):
    start = time.perf_counter()
    with pytest.raises(ValueError, match=rf"^{fn}: the window .* must fit in the padded input"):
        call()
    # 9 million taps used to be listed first (seconds, gigabytes); the check alone is microseconds
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: MaxPool2d(0), ValueError, r"^MaxPool2d: kernel_size must be >= 1, got 0$"),
        (lambda: MaxPool2d(2, padding=2), ValueError, r"^MaxPool2d: padding must be at most half"),
        (lambda: MaxPool2d(2, ceil_mode="yes"), TypeError, r"^MaxPool2d: ceil_mode must be a bool"),
        (lambda: MaxPool2d(2.0), TypeError, r"^MaxPool2d: kernel_size must be an int or a pair"),
        (lambda: LocalResponseNorm(0), ValueError, r"^LocalResponseNorm: size must be >= 1, got 0"),
        (lambda: LocalResponseNorm(5, mode="x"), ValueError, r"^LocalResponseNorm: mode must be"),
        (lambda: LocallyConnected2d(3, 4, 3, 8, bias=1), TypeError,
         r"^LocallyConnected2d: bias must be a bool, got 1$"),
    ],
)  # fmt: skip
def test_layers_check_at_construction(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: gradient_magnitude_orientation(torch.rand(5, 5), padding="wrap"), ValueError,
         r"^gradient_magnitude_orientation: padding must be one of"),
        (lambda: gradient_magnitude_orientation(torch.ones(5, 5, dtype=torch.long)), TypeError,
         r"^gradient_magnitude_orientation: image must have a floating dtype"),
        (lambda: orientation_histogram(torch.ones(16, 16, dtype=torch.uint8)), TypeError,
         r"^orientation_histogram: image must have a floating dtype"),
        (lambda: orientation_histogram(torch.rand(16, 16), operator="prewitt"), ValueError,
         r"^orientation_histogram: operator must be one of \('sobel', 'central'\)"),
        (lambda: random_shift(torch.zeros(1, 1, 4, 4), 1.5), TypeError,
         r"^random_shift: max_shift must be an int, got 1.5"),
        (lambda: random_shift(torch.zeros(1, 1, 4, 4), 1, fill="0"), TypeError,
         r"^random_shift: fill must be a number"),
        (lambda: replace_head(nn.Sequential(nn.Conv2d(1, 1, 1)), 3), ValueError,
         r"^replace_head: Sequential has no nn.Linear layer"),
    ],
)  # fmt: skip
def test_messages_name_the_function_called_not_a_helper(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_filter2d_circular_padding_with_a_kernel_larger_than_the_image():
    image = torch.rand(4, 5)
    with pytest.raises(ValueError, match=r"^filter2d: circular padding wraps around once at most"):
        filter2d(image, torch.ones(11, 11), padding="circular")
    assert filter2d(image, torch.ones(9, 9), padding="circular").shape == (4, 5)  # it fits
    assert filter2d(image, torch.ones(11, 11), padding="zeros").shape == (4, 5)


@pytest.mark.parametrize(
    ("y_true", "y_pred", "error", "match"),
    [
        (torch.tensor([0.0, 1.0]), torch.tensor([0, 1]), TypeError,
         r"^confusion_matrix: y_true must hold integer labels, got torch.float32 \(for scores or "
         r"probabilities, take .argmax\(dim=1\) first\)"),
        (torch.tensor([0, 1]), np.array([0.5, 1.0]), TypeError,
         r"^confusion_matrix: y_pred must hold integer labels, got torch.float64"),
        (torch.tensor([0, 1]), "01", TypeError,
         r"^confusion_matrix: y_pred must be a tensor, array or list of integer labels, got str"),
        (torch.tensor([True, False]), torch.tensor([0, 1]), TypeError, r"integer labels"),
    ],
)  # fmt: skip
def test_confusion_matrix_wants_integer_labels(y_true, y_pred, error, match):
    with pytest.raises(error, match=match):
        confusion_matrix(y_true, y_pred, 2)


def _np(value):
    """``value`` with every int replaced by a numpy int64 (in tuples too)."""
    if isinstance(value, tuple):
        return tuple(_np(v) for v in value)
    return np.int64(value) if type(value) is int else value


W = torch.rand(4, 1, 3, 3)
DS = ImageDataset(torch.rand(6, 1, 4, 4), torch.tensor([0, 1, 2, 0, 1, 2]), "abc")
# name -> (function, args, kwargs): every int in args and kwargs is also tried as np.int64
NUMPY_INTS = {
    "conv2d": (cnnutils.conv2d, (X, W, None, (2, 1), 1, 1, 1), {}),
    "max_pool2d": (max_pool2d, (X, 3, 2, 1, (1, 2)), {}),
    "avg_pool2d": (avg_pool2d, (X, 3, 2, 1), {"divisor_override": 4}),
    "adaptive_avg_pool2d": (cnnutils.adaptive_avg_pool2d, (X, (3, 2)), {}),
    "local_response_norm": (cnnutils.local_response_norm, (torch.rand(1, 5, 2, 2), 3), {}),
    "disk_pool2d": (disk_pool2d, (X, 2), {"stride": 2, "padding": 1}),
    "shift": (cnnutils.shift, (X, 1, -2), {}),
    "box_kernel": (cnnutils.box_kernel, ((3, 2),), {}),
    "gaussian_kernel": (cnnutils.gaussian_kernel, (1.0, 5), {}),
    "orientation_histogram": (orientation_histogram, (torch.rand(16, 16),), {"cell_size": 4}),
    "pool_output_size": (pool_output_size, (10, 3, 2, 1, 1), {}),
    "conv_output_size": (cnnutils.conv_output_size, (10, 3, 2, 1, 1), {}),
    "window_taps": (cnnutils.window_taps, (7, 3, 2, 1), {}),
    "random_crop": (cnnutils.random_crop, (torch.rand(2, 1, 4, 4), 3), {"padding": 1}),
    "random_flip": (cnnutils.random_flip, (torch.rand(2, 1, 4, 4),), {"dim": -2}),
    "make_shapes": (cnnutils.make_shapes, (3,), {"size": 8, "seed": 1}),
    "confusion_matrix": (confusion_matrix, (torch.tensor([0, 1]), torch.tensor([1, 1]), 2), {}),
    "stratified_split": (cnnutils.stratified_split, (DS, 1), {}),
    "MaxPool2d": (lambda *a: MaxPool2d(*a)(X), (3, 2, 1), {}),
    "LocalResponseNorm": (lambda *a: LocalResponseNorm(*a)(X), (3,), {}),
    "LocallyConnected2d": (lambda *a: LocallyConnected2d(*a).weight.shape, (1, 2, 3, 8), {}),
}


def _same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return torch.equal(a, b)
    if isinstance(a, ImageDataset):
        return torch.equal(a.x, b.x) and torch.equal(a.y, b.y) and a.classes == b.classes
    if isinstance(a, tuple | list) and a and not isinstance(a[0], int | list):
        return all(_same(u, v) for u, v in zip(a, b, strict=True))
    return a == b


@pytest.mark.parametrize("name", sorted(NUMPY_INTS))
def test_numpy_integers_are_ints(name):
    fn, args, kwargs = NUMPY_INTS[name]
    torch.manual_seed(0)
    want = fn(*args, **kwargs)
    torch.manual_seed(0)
    got = fn(*_np(args), **{k: _np(v) for k, v in kwargs.items()})
    assert _same(got, want)


def test_dataset_methods_take_numpy_integers():
    assert [len(y) for _, y in DS.batches(np.int64(4))] == [4, 2]
    assert DS.subset(np.array([2, 0])).y.tolist() == [2, 0]
    net = cnnutils.lenet5()
    replace_head(net, np.int64(3))
    assert net(torch.zeros(1, 1, 32, 32)).shape == (1, 3)
