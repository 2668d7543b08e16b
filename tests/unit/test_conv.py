"""Tests of cnnutils.ops.conv against torch.nn.functional.conv2d and scipy.signal, in float64."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.signal
import torch
import torch.nn.functional as F
from torch import nn
from torch.testing import assert_close

from cnnutils.geometry import ReceptiveField, conv_output_size, receptive_field
from cnnutils.ops import conv as conv_module
from cnnutils.ops.conv import conv2d, convolve2d, correlate2d

METHODS = ["naive", "unfold", "fft"]


def randn(*shape: int, seed: int = 0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


# --- conv2d against F.conv2d --------------------------------------------------------------------

# (x shape, weight shape, keyword arguments, bias?): awkward geometry, small enough for "naive".
GEOMETRIES = {
    "3x2 kernel, stride (2, 1), pad 1": (
        (2, 3, 7, 6),
        (4, 3, 3, 2),
        {"stride": (2, 1), "padding": 1},
        True,
    ),
    "1x5 kernel, dilation (1, 3), pad (0, 2)": (
        (2, 2, 5, 16),
        (3, 2, 1, 5),
        {"dilation": (1, 3), "padding": (0, 2)},
        False,
    ),
    "dilation (2, 1), stride 2": (
        (1, 2, 9, 8),
        (2, 2, 3, 3),
        {"dilation": (2, 1), "stride": 2},
        True,
    ),
    "groups 2": ((2, 4, 6, 5), (6, 2, 3, 3), {"groups": 2, "padding": 1}, True),
    "depthwise, multiplier 2": (
        (2, 3, 6, 7),
        (6, 1, 3, 3),
        {"groups": 3, "stride": (1, 2), "padding": (1, 0)},
        True,
    ),
    "depthwise, 1 per channel": ((1, 4, 5, 5), (4, 1, 2, 3), {"groups": 4}, False),
    "padding 'valid'": ((2, 2, 6, 5), (3, 2, 3, 2), {"padding": "valid"}, True),
    "padding 'same', odd kernel, dilation 2": (
        (2, 2, 7, 6),
        (3, 2, 3, 3),
        {"padding": "same", "dilation": 2},
        True,
    ),
    "padding 'same', even kernel 2x4": ((1, 2, 6, 7), (2, 2, 2, 4), {"padding": "same"}, False),
    "padding 'same', even kernel, dilation (1, 2)": (
        (1, 2, 6, 7),
        (2, 2, 4, 2),
        {"padding": "same", "dilation": (1, 2), "stride": (1, 1)},
        True,
    ),
    "padding larger than kernel": ((1, 1, 4, 5), (2, 1, 2, 2), {"padding": (3, 1)}, True),
    "stride larger than kernel": ((1, 2, 9, 9), (2, 2, 2, 2), {"stride": (3, 4)}, False),
    "1x1 kernel, stride 2": ((2, 3, 5, 6), (5, 3, 1, 1), {"stride": 2}, True),
    "kernel as large as the input": ((2, 3, 5, 4), (2, 3, 5, 4), {}, True),
    "batch of 0": ((0, 3, 5, 5), (2, 3, 3, 3), {"padding": 1}, True),
}


# torch warns that 'same' padding with an even kernel copies the input; we test exactly that
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case", GEOMETRIES.values(), ids=GEOMETRIES.keys())
def test_conv2d_matches_torch(case, method):
    x_shape, w_shape, kwargs, with_bias = case
    x, weight = randn(*x_shape, seed=1), randn(*w_shape, seed=2)
    bias = randn(w_shape[0], seed=3) if with_bias else None
    ours = conv2d(x, weight, bias, **kwargs, method=method)
    expected = F.conv2d(x, weight, bias, **kwargs)
    assert ours.shape == expected.shape
    assert ours.dtype == torch.float64 and ours.is_contiguous()
    assert_close(ours, expected)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")
@pytest.mark.parametrize("case", GEOMETRIES.values(), ids=GEOMETRIES.keys())
@pytest.mark.parametrize("scratch", [False, True], ids=["fresh columns", "kept buffer"])
def test_unfold_paths_match_torch(case, scratch, monkeypatch):
    """unfold runs one way for inference and through its own backward pass when an input needs
    a gradient, with fresh column matrices (small ones) or in the kept scratch buffer (large
    ones, here all): every combination equals F.conv2d, and so do the gradients."""
    if scratch:
        monkeypatch.setattr("cnnutils.ops.conv._SCRATCH_MIN_BYTES", 0)
    x_shape, w_shape, kwargs, with_bias = case
    x, weight = randn(*x_shape, seed=1), randn(*w_shape, seed=2)
    bias = randn(w_shape[0], seed=3) if with_bias else None
    expected = F.conv2d(x, weight, bias, **kwargs)
    assert_close(conv2d(x, weight, bias, **kwargs, method="unfold"), expected)
    grad_out = randn(*expected.shape, seed=4)
    grads = []
    for fn in (lambda *a: conv2d(*a, **kwargs, method="unfold"), lambda *a: F.conv2d(*a, **kwargs)):
        leaves = [t.clone().requires_grad_() for t in (x, weight, bias) if t is not None]
        out = fn(*leaves) if with_bias else fn(*leaves, None)
        assert out.is_contiguous()
        out.backward(grad_out)
        grads.append([out.detach()] + [t.grad for t in leaves])
    for ours, theirs in zip(*grads, strict=True):
        assert_close(ours, theirs)


@pytest.mark.parametrize("method", METHODS)
def test_conv2d_non_contiguous_input(method):
    base = randn(2, 9, 3, 8, seed=4)  # (N, W, C, H) in memory
    x = base.permute(0, 2, 3, 1)[:, :, 1:, ::2]  # (2, 3, 7, 5), strided and offset
    weight = randn(8, 6, 3, 2, seed=5)[::2, ::2].transpose(2, 3).transpose(2, 3)  # (4, 3, 3, 2)
    assert not x.is_contiguous() and not weight.is_contiguous()
    kwargs = {"stride": (2, 1), "padding": (1, 0)}
    assert_close(conv2d(x, weight, **kwargs, method=method), F.conv2d(x, weight, **kwargs))


@pytest.mark.parametrize("method", METHODS)
def test_conv2d_unbatched_input(method):
    x, weight, bias = randn(3, 6, 5), randn(4, 3, 3, 3, seed=1), randn(4, seed=2)
    ours = conv2d(x, weight, bias, padding=1, method=method)
    assert_close(ours, F.conv2d(x, weight, bias, padding=1))


@pytest.mark.parametrize("method", METHODS)
def test_conv2d_float32(method):
    x = randn(2, 4, 12, 11, seed=1, dtype=torch.float32)
    weight = randn(6, 2, 5, 3, seed=2, dtype=torch.float32)
    bias = randn(6, seed=3, dtype=torch.float32)
    kwargs = {"stride": (2, 1), "padding": 2, "dilation": (1, 2), "groups": 2}
    ours = conv2d(x, weight, bias, **kwargs, method=method)
    assert ours.dtype == torch.float32
    assert_close(ours, F.conv2d(x, weight, bias, **kwargs), rtol=1e-5, atol=1e-5)


def test_conv2d_default_method_is_unfold_and_kernel_is_not_flipped():
    x = torch.zeros(1, 1, 3, 3, dtype=torch.float64)
    x[0, 0, 0, 0] = 1.0  # an impulse in the top-left corner
    weight = torch.arange(4.0, dtype=torch.float64).view(1, 1, 2, 2)
    out = conv2d(x, weight, padding=1)
    # cross-correlation: the output around an impulse shows the kernel flipped
    assert_close(out[0, 0, :2, :2], weight[0, 0].flip(0, 1))
    assert_close(out, conv2d(x, weight, padding=1, method="unfold"))


# --- gradients --------------------------------------------------------------------------------

GRAD_CASES = {
    "stride (2, 1), pad 1, bias": ((1, 2, 5, 4), (3, 2, 3, 2), {"stride": (2, 1), "padding": 1}),
    "dilation (2, 1), groups 2": ((1, 2, 5, 3), (2, 1, 2, 2), {"dilation": (2, 1), "groups": 2}),
    "same, even kernel": ((1, 2, 3, 4), (2, 2, 2, 3), {"padding": "same"}),
}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case", GRAD_CASES.values(), ids=GRAD_CASES.keys())
def test_conv2d_gradcheck(case, method):
    x_shape, w_shape, kwargs = case
    x = randn(*x_shape, seed=1).requires_grad_()
    weight = randn(*w_shape, seed=2).requires_grad_()
    bias = randn(w_shape[0], seed=3).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda x, w, b: conv2d(x, w, b, **kwargs, method=method), (x, weight, bias)
    )


def test_unfold_second_derivatives():
    """unfold's written-out backward pass is made of differentiable operations: gradgradcheck."""
    kwargs = {"stride": (2, 1), "padding": (1, 2), "dilation": (1, 2), "groups": 2}
    inputs = (randn(2, 4, 7, 6, seed=1), randn(6, 2, 3, 2, seed=2), randn(6, seed=3))
    inputs = tuple(t.requires_grad_() for t in inputs)
    assert torch.autograd.gradgradcheck(
        lambda x, w, b: conv2d(x, w, b, **kwargs, method="unfold"), inputs, fast_mode=True
    )


@pytest.mark.parametrize("method", ["unfold", "fft"])
def test_conv2d_gradients_match_torch(method):
    kwargs = {"stride": (2, 1), "padding": (1, 2), "dilation": (1, 2), "groups": 2}
    inputs = [randn(3, 4, 11, 10, seed=1), randn(6, 2, 3, 3, seed=2), randn(6, seed=3)]
    grad_out = None
    grads = []
    for fn in (lambda *a: conv2d(*a, **kwargs, method=method), lambda *a: F.conv2d(*a, **kwargs)):
        leaves = [t.clone().requires_grad_() for t in inputs]
        out = fn(*leaves)
        grad_out = randn(*out.shape, seed=4) if grad_out is None else grad_out
        out.backward(grad_out)
        grads.append([t.grad for t in leaves])
    for ours, expected in zip(*grads, strict=True):
        assert_close(ours, expected)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize("method", METHODS)
def test_conv2d_non_finite_input_reaches_only_its_windows_as_torch(method, value):
    """A spectrum mixes every pixel into every output: the FFT must not spread an inf or NaN
    (or turn an all -inf plane into NaN); it matches F.conv2d, output for output."""
    kwargs = {"stride": (2, 1), "padding": 1, "groups": 2}
    x, weight, bias = randn(2, 4, 9, 8, seed=1), randn(6, 2, 3, 3, seed=2), randn(6, seed=3)
    x[0, 1, 4, 3] = value
    x[1, 2:] = -float("inf")  # the whole second group of one sample
    weight[3:, :, 1, 1] = weight[3:, :, 1, 1].abs()  # so that some of those outputs are -inf
    weight[3:, :, [0, 0, 2, 2], [0, 2, 0, 2]] = 0.0  # and the others NaN (inf · 0)
    ours, expected = (
        conv2d(x, weight, bias, **kwargs, method=method),
        F.conv2d(x, weight, bias, **kwargs),
    )
    assert_close(ours, expected, equal_nan=True)
    assert ours.isfinite().sum() > ours.numel() // 2
    x_nan = randn(1, 1, 20, 20, seed=4)
    x_nan[0, 0, 5, 5] = float("nan")
    kernel = randn(1, 1, 9, 9, seed=5)  # an FFT-sized kernel for correlate2d too
    assert_close(conv2d(x_nan, kernel, method=method), F.conv2d(x_nan, kernel), equal_nan=True)
    assert correlate2d(x_nan[0, 0], kernel[0, 0]).isnan().sum() == 81


def test_conv2d_fft_keeps_finite_inputs_on_the_fft(monkeypatch):
    """Only a non-finite result goes back through unfold."""
    calls = []
    real = conv_module._conv2d_unfold
    monkeypatch.setattr(conv_module, "_conv2d_unfold", lambda *a: calls.append(1) or real(*a))
    x, weight = randn(1, 2, 12, 12, seed=1), randn(3, 2, 5, 5, seed=2)
    assert_close(conv2d(x, weight, method="fft"), F.conv2d(x, weight))
    assert calls == []
    x[0, 0, 0, 0] = float("inf")
    assert_close(conv2d(x, weight, method="fft"), F.conv2d(x, weight), equal_nan=True)
    assert calls == [1]
    meta = conv2d(x.to("meta"), weight.to("meta"), method="fft")  # shapes only, nothing to read
    assert meta.shape == (1, 3, 8, 8) and calls == [1]


# Scratch per sample below: padded input 4 · 11 · 10 plus columns 4 · 3 · 3 taps × 5 · 8 outputs
# = 1,880 float64 entries, 15,040 bytes.
@pytest.mark.parametrize("block_bytes", [1, 2 * 15_040 + 5], ids=["1 sample", "2 samples"])
@pytest.mark.parametrize("scratch_min_bytes", [0, 2**62], ids=["kept buffer", "fresh columns"])
def test_unfold_in_blocks_of_samples_matches_torch(monkeypatch, block_bytes, scratch_min_bytes):
    """Large batches go through in blocks of samples (7 = 2+2+2+1): same values, same grads."""
    monkeypatch.setattr("cnnutils.ops.conv._column_block_bytes", lambda: block_bytes)
    monkeypatch.setattr("cnnutils.ops.conv._SCRATCH_MIN_BYTES", scratch_min_bytes)
    kwargs = {"stride": (2, 1), "padding": 1, "groups": 2}
    inputs = (randn(7, 4, 9, 8, seed=1), randn(6, 2, 3, 3, seed=2), randn(6, seed=3))
    grad_out = randn(7, 6, 5, 8, seed=4)
    results = []
    for fn in (lambda *a: conv2d(*a, **kwargs), lambda *a: F.conv2d(*a, **kwargs)):
        leaves = [t.clone().requires_grad_() for t in inputs]
        out = fn(*leaves)
        out.backward(grad_out)
        results.append([out.detach()] + [t.grad for t in leaves])
    for ours, expected in zip(*results, strict=True):
        assert_close(ours, expected)
    # gradcheck's fast mode: a few random directions (each GEMM is a parallel region, and on a
    # busy machine each of those waits for a descheduled thread)
    x, weight = inputs[0][:3].clone().requires_grad_(), inputs[1].clone().requires_grad_()
    assert torch.autograd.gradcheck(
        lambda x, w: conv2d(x, w, inputs[2], **kwargs), (x, weight), fast_mode=True
    )


# --- convolve2d and correlate2d against scipy.signal -------------------------------------------

SIGNAL_SHAPES = [
    ((7, 8), (3, 3)),  # odd kernel
    ((7, 8), (2, 4)),  # even kernel: "same" centring differs between the two functions
    ((6, 9), (4, 5)),
    ((3, 4), (5, 6)),  # kernel larger than the image on both axes
    ((20, 21), (9, 10)),  # 90 taps: the FFT path
]


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize(("image_shape", "kernel_shape"), SIGNAL_SHAPES)
@pytest.mark.parametrize("name", ["convolve2d", "correlate2d"])
def test_signal_functions_match_scipy(name, image_shape, kernel_shape, mode):
    rng = np.random.default_rng(0)
    image, kernel = rng.standard_normal(image_shape), rng.standard_normal(kernel_shape)
    ours = {"convolve2d": convolve2d, "correlate2d": correlate2d}[name]
    expected = getattr(scipy.signal, name)(image, kernel, mode=mode)
    result = ours(image, kernel, mode=mode)
    assert isinstance(result, np.ndarray) and result.dtype == np.float64
    np.testing.assert_allclose(result, expected, rtol=1e-10, atol=1e-10)
    result_t = ours(torch.from_numpy(image), torch.from_numpy(kernel), mode=mode)
    assert isinstance(result_t, torch.Tensor)
    assert_close(result_t, torch.from_numpy(np.ascontiguousarray(expected)))


def test_convolution_is_commutative_and_correlation_is_not():
    a, b = randn(5, 7, seed=1), randn(3, 4, seed=2)
    assert_close(convolve2d(a, b), convolve2d(b, a))
    assert not torch.allclose(correlate2d(a, b), correlate2d(b, a))
    assert_close(correlate2d(a, b), correlate2d(b, a).flip(0, 1))
    assert_close(convolve2d(a, b), correlate2d(a, b.flip(0, 1)))


def test_signal_functions_integer_input_gives_float64():
    image = np.arange(12).reshape(3, 4)
    result = convolve2d(image, np.ones((2, 2), dtype=np.int64), mode="valid")
    assert result.dtype == np.float64
    np.testing.assert_array_equal(result, scipy.signal.convolve2d(image, np.ones((2, 2)), "valid"))


# --- conv_output_size ---------------------------------------------------------------------------


def test_conv_output_size_matches_torch_on_a_grid():
    checked = 0
    for size, k, s, p, d in itertools.product(
        range(4, 9), range(1, 5), (1, 2, 3), (0, 1, 2), (1, 2)
    ):
        if size + 2 * p < d * (k - 1) + 1:
            with pytest.raises(ValueError, match="output would be empty"):
                conv_output_size(size, k, s, p, d)
            continue
        out = F.conv2d(
            torch.zeros(1, 1, size, size), torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d
        )
        assert conv_output_size(size, k, stride=s, padding=p, dilation=d) == out.shape[-1]
        checked += 1
    assert checked == 345  # of the 360 settings; the other 15 have an empty output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((224, 11, 4, 2), 55),  # AlexNet conv1
        ((32, 5), 28),  # LeNet C1
        ((28, 2, 2), 14),  # LeNet S2
        ((7, 3, 2), 3),  # 7 - 3 = 4 is divisible by 2
        ((8, 3, 2), 3),  # not divisible: the last column is dropped
        (((32, 28), (5, 3), (2, 1)), (14, 26)),
        ((10, (3, 1), 1, (1, 0), (2, 1)), (8, 10)),
    ],
)
def test_conv_output_size_examples(args, expected):
    result = conv_output_size(*args)
    assert result == expected and type(result) is type(expected)
    pairs = [a if isinstance(a, tuple) else (a, a) for a in args]
    names = ["stride", "padding", "dilation"]
    kwargs = dict(zip(names, pairs[2:], strict=False))
    out = F.conv2d(torch.zeros(1, 1, *pairs[0]), torch.zeros(1, 1, *pairs[1]), **kwargs)
    assert tuple(out.shape[2:]) == (expected if isinstance(expected, tuple) else (expected,) * 2)


# --- receptive_field ----------------------------------------------------------------------------


def test_receptive_field_known_examples():
    assert [f.size for f in receptive_field([(3,), (3,)])] == [3, 5]
    stack = [nn.Conv2d(1, 6, 3), nn.MaxPool2d(2), nn.Conv2d(6, 16, 3)]
    assert receptive_field(stack) == [
        ReceptiveField(size=3, jump=1, start=1.0),
        ReceptiveField(size=4, jump=2, start=1.5),
        ReceptiveField(size=8, jump=2, start=3.5),
    ]
    with_relu = receptive_field(nn.Sequential(*stack, nn.ReLU()))
    assert with_relu == [*receptive_field(stack), receptive_field(stack)[-1]]
    # the same stack as dicts and tuples
    specs = [{"kernel_size": 3}, (2, 2), {"kernel_size": (3, 3), "stride": 1, "padding": 0}]
    assert receptive_field(specs) == receptive_field(stack)
    # padding moves the start, not the size
    assert receptive_field([(3, 1, 1)]) == [ReceptiveField(3, 1, 0.0)]


def test_receptive_field_alexnet_conv1_and_non_square():
    conv1 = nn.Conv2d(3, 64, 11, stride=4, padding=2)
    assert receptive_field([conv1, nn.MaxPool2d(3, 2)])[-1] == ReceptiveField(19, 8, 7.0)
    field = receptive_field([((3, 1), (2, 1)), ((1, 5), 1, (0, 2), (1, 2))])[-1]
    assert field == ReceptiveField(size=(3, 9), jump=(2, 1), start=(1.0, 2.0))


STACKS = {
    "two 3x3 convs": [nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3)],
    "conv, avg pool 2/2, conv": [nn.Conv2d(1, 1, 3), nn.AvgPool2d(2), nn.Conv2d(1, 1, 3)],
    "strided, padded, dilated, non-square": [
        nn.Conv2d(1, 1, (5, 3), stride=2, padding=1),
        nn.AvgPool2d(3, stride=2, padding=1),
        nn.Conv2d(1, 1, 3, dilation=(2, 3), padding=2),
        nn.Conv2d(1, 1, (2, 4), stride=(1, 2)),
    ],
    "padding 'same' with even kernels": [
        nn.Conv2d(1, 1, (2, 4), padding="same"),
        nn.Conv2d(1, 1, 4, padding="same", dilation=(1, 2)),
        nn.AvgPool2d(2),
        nn.Conv2d(1, 1, 3, padding="valid"),
    ],
}


@pytest.mark.parametrize("stack", STACKS.values(), ids=STACKS.keys())
def test_receptive_field_equals_the_support_of_a_gradient(stack):
    # With all-ones weights every path adds a positive amount: the gradient of one output unit
    # is nonzero on exactly the pixels it sees (their bounding box, with dilation's gaps).
    net = nn.Sequential(*stack).double()
    for module in net:
        if isinstance(module, nn.Conv2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
    x = torch.zeros(1, 1, 61, 64, dtype=torch.float64, requires_grad=True)
    out = net(x)
    i, j = out.shape[2] // 2, out.shape[3] // 2  # a unit whose field lies inside the image
    out[0, 0, i, j].backward()
    rows, cols = torch.nonzero(x.grad[0, 0], as_tuple=True)
    field = receptive_field(stack)[-1]
    size, jump, start = ((v, v) if not isinstance(v, tuple) else v for v in field)
    for axis, index, idx in ((0, rows, i), (1, cols, j)):
        assert index.max() - index.min() + 1 == size[axis]
        assert (index.max() + index.min()) / 2 == start[axis] + idx * jump[axis]


# --- bad input ----------------------------------------------------------------------------------

X, W = torch.zeros(2, 4, 6, 6), torch.zeros(8, 4, 3, 3)

BAD_INPUTS = [
    (lambda: conv2d(X.numpy(), W), TypeError, r"conv2d: x must be a torch\.Tensor, got ndarray"),
    (lambda: conv2d(X, [1.0]), TypeError, r"conv2d: weight must be a torch\.Tensor, got list"),
    (lambda: conv2d(X, W, bias=3.0), TypeError, r"conv2d: bias must be a torch\.Tensor or None"),
    (lambda: conv2d(X[0, 0], W), ValueError, r"conv2d: x must be 4-D .* got shape \(6, 6\)"),
    (
        lambda: conv2d(X, W[0]),
        ValueError,
        r"conv2d: weight must be 4-D \(C_out, C_in // groups, kH, kW\), got shape \(4, 3, 3\)",
    ),
    (lambda: conv2d(X.long(), W.long()), TypeError, r"x must have a floating-point dtype"),
    (lambda: conv2d(X, W.double()), ValueError, r"weight must have x's dtype torch\.float32"),
    (lambda: conv2d(X, W, torch.zeros(8, dtype=torch.float64)), ValueError, r"bias must have x's"),
    (lambda: conv2d(X, W, torch.zeros(8, device="meta")), ValueError, r"device"),
    (lambda: conv2d(X, W, torch.zeros(4)), ValueError, r"bias must have shape \(8,\), got \(4,\)"),
    (lambda: conv2d(X, W, groups=3), ValueError, r"groups must divide C_in and C_out"),
    (lambda: conv2d(X, W, groups=2), ValueError, r"weight.shape\[1\] must be C_in // groups = 2"),
    (lambda: conv2d(X, W, groups=0), ValueError, r"groups must be >= 1, got 0"),
    (lambda: conv2d(X, W, groups=True), TypeError, r"groups must be an int, got True"),
    (lambda: conv2d(X, W, stride=0), ValueError, r"conv2d: stride must be >= 1, got 0"),
    (lambda: conv2d(X, W, stride=(1, 0)), ValueError, r"stride must be >= 1, got \(1, 0\)"),
    (lambda: conv2d(X, W, stride=1.0), TypeError, r"stride must be an int or a pair of ints"),
    (lambda: conv2d(X, W, stride=(1, 2, 3)), TypeError, r"stride must be an int or a pair"),
    (lambda: conv2d(X, W, padding=-1), ValueError, r"padding must be >= 0, got -1"),
    (lambda: conv2d(X, W, padding=(True, 1)), TypeError, r"padding must be an int or a pair"),
    (lambda: conv2d(X, W, padding="full"), ValueError, r"padding must be .* got 'full'"),
    (lambda: conv2d(X, W, padding="same", stride=2), ValueError, r"'same' needs stride 1"),
    (lambda: conv2d(X, W, dilation=0), ValueError, r"dilation must be >= 1, got 0"),
    (lambda: conv2d(X, W, dilation=4), ValueError, r"the window \(9, 9\) .* must fit"),
    (lambda: conv2d(X, torch.zeros(8, 4, 7, 1)), ValueError, r"must fit in the padded input"),
    (lambda: conv2d(X, W, method="winograd"), ValueError, r"method must be one of .* 'winograd'"),
    (lambda: convolve2d(np.ones(3), np.ones((2, 2))), ValueError, r"convolve2d: image must be 2-D"),
    (lambda: correlate2d([[1.0]], np.ones((2, 2))), TypeError, r"correlate2d: image must be a nu"),
    (lambda: correlate2d(np.ones((3, 3)), np.ones((2, 2)), "circular"), ValueError, r"mode must"),
    (
        lambda: convolve2d(np.ones((3, 7)), np.ones((5, 6)), "valid"),
        ValueError,
        r"convolve2d: mode 'valid' needs one input at least as large as the other",
    ),
    (lambda: convolve2d(np.ones((3, 0)), np.ones((1, 1))), ValueError, r"must not be empty"),
    (lambda: conv_output_size(5, 7), ValueError, r"conv_output_size: the output would be empty"),
    (lambda: conv_output_size(5, 3, stride=0), ValueError, r"stride must be >= 1, got 0"),
    (lambda: conv_output_size(5.0, 3), TypeError, r"size must be an int or a pair of ints"),
    (lambda: conv_output_size(5, 3, padding=False), TypeError, r"padding must be an int"),
    (lambda: receptive_field([nn.Linear(2, 2)]), TypeError, r"layers\[0\] must be an nn\.Conv2d"),
    (lambda: receptive_field([(3,), {"size": 3}]), ValueError, r"layers\[1\] must have the key"),
    (lambda: receptive_field([(3, 0)]), ValueError, r"layers\[0\]\.stride must be >= 1"),
    (lambda: receptive_field([(2.5,)]), TypeError, r"layers\[0\]\.kernel_size must be an int"),
    (lambda: receptive_field(3), TypeError, r"layers must be an iterable"),
]


@pytest.mark.parametrize(("call", "error", "message"), BAD_INPUTS, ids=[m for *_, m in BAD_INPUTS])
def test_bad_input_is_rejected_with_a_clear_message(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("method", METHODS)
def test_conv2d_checks_before_computing(method):
    # a failed check must not depend on the method (one shared validator)
    with pytest.raises(ValueError, match="effective kernel"):
        conv2d(X, torch.zeros(8, 4, 3, 3), dilation=3, method=method)


def test_signal_functions_accept_numpy_views_with_negative_strides():
    image = np.arange(30.0).reshape(5, 6)
    kernel = np.array([[1.0, 2.0], [3.0, 5.0]])
    flipped = kernel[::-1, ::-1]  # a view with negative strides, as scipy users write it
    for mode in ("full", "same", "valid"):
        np.testing.assert_allclose(
            correlate2d(image, flipped, mode=mode),
            scipy.signal.correlate2d(image, flipped, mode=mode),
        )
        np.testing.assert_allclose(
            convolve2d(image[:, ::-1], kernel, mode=mode),
            scipy.signal.convolve2d(image[:, ::-1], kernel, mode=mode),
        )
