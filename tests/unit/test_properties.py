"""Properties of the ops, checked on random cases (Hypothesis) against ``torch.nn.functional``.

Random geometries (kernel, stride, padding, dilation, ceil mode, groups, sizes down to a batch of
0), float32 and float64, and inputs that are contiguous, channels-last or otherwise strided: our
ops give torch's results. And malformed arguments (wrong types, bools, floats, negative or zero
sizes, unknown options) raise only TypeError or ValueError, with a message that starts with the
public function's name, while NumPy integers work as ints.

The cases are drawn from a fixed seed (``derandomize=True``), so a run is reproducible. The
inputs are finite: NaN and infinities have their own tests next to each op. torch's side always
gets a contiguous copy, because ``F.conv2d`` of torch 2.14 crashes the process on some
channels-last inputs (a segmentation fault, e.g. ``(2, 3, 6, 1)`` with a 1×1 kernel, stride 3,
padding 2).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import cnnutils
from cnnutils import (
    LocalResponseNorm,
    MaxPool2d,
    adaptive_avg_pool2d,
    avg_pool2d,
    conv2d,
    local_response_norm,
    max_pool2d,
)

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
DTYPES = st.sampled_from([torch.float32, torch.float64])
LAYOUTS = st.sampled_from(["contiguous", "channels_last", "strided"])


@st.composite
def tensors(draw, shape, dtype, ties=True):
    """A finite tensor of ``shape`` in a random memory layout; small integers make ties."""
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    if ties and draw(st.booleans()):
        x = torch.randint(-3, 4, shape, generator=g).to(dtype)
    else:
        x = torch.randn(shape, generator=g, dtype=dtype)
    layout = draw(LAYOUTS)
    if layout == "channels_last" and x.dim() == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    elif layout == "strided":  # every other column of a wider tensor: not contiguous
        wide = torch.zeros(*shape[:-1], 2 * shape[-1], dtype=dtype)
        wide[..., ::2] = x
        x = wide[..., ::2]
    return x


def int_or_pair(draw, values: st.SearchStrategy[int]) -> tuple[object, tuple[int, int]]:
    """An int or a pair (int or tuple form, drawn), and its pair."""
    a, b = draw(values), draw(values)
    if draw(st.booleans()):
        return a, (a, a)
    return (a, b), (a, b)


def close(ours, theirs, dtype) -> None:
    tol = {"rtol": 1e-10, "atol": 1e-10} if dtype == torch.float64 else {"rtol": 1e-4, "atol": 1e-4}
    torch.testing.assert_close(ours, theirs, **tol)


# --- differential properties ----------------------------------------------------------------------


@st.composite
def pool_cases(draw, dilation=True):
    kernel, k = int_or_pair(draw, st.integers(1, 4))
    stride = draw(
        st.one_of(st.none(), st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3)))
    )
    padding, p = int_or_pair(draw, st.integers(0, 2))
    p = (min(p[0], k[0] // 2), min(p[1], k[1] // 2))
    padding = p if isinstance(padding, tuple) else min(p)
    p = (padding, padding) if isinstance(padding, int) else padding
    dil, d = int_or_pair(draw, st.integers(1, 3)) if dilation else (1, (1, 1))
    span = [dd * (kk - 1) + 1 for dd, kk in zip(d, k, strict=True)]
    h = draw(st.integers(max(1, span[0] - 2 * p[0]), max(1, span[0] - 2 * p[0]) + 6))
    w = draw(st.integers(max(1, span[1] - 2 * p[1]), max(1, span[1] - 2 * p[1]) + 6))
    shape = (draw(st.integers(0, 2)), draw(st.integers(1, 3)), h, w)
    if draw(st.booleans()):
        shape = shape[1:]  # one image (C, H, W)
    x = draw(tensors(shape, draw(DTYPES)))
    return x, kernel, stride, padding, dil, draw(st.booleans())


@SETTINGS
@given(pool_cases())
def test_max_pool2d_is_torchs_values_and_indices(case):
    x, kernel, stride, padding, dilation, ceil_mode = case
    args = (kernel, stride, padding, dilation, ceil_mode)
    out, indices = max_pool2d(x, *args, return_indices=True)
    ref, ref_indices = F.max_pool2d(x.contiguous(), *args, return_indices=True)
    assert torch.equal(out, ref)
    # A window that lies wholly in the padding has the maximum -inf; which index torch gives it
    # (one past the input) is a case of its own, tested with max pooling's -inf windows.
    real = ref > -torch.inf
    assert torch.equal(indices[real], ref_indices[real])
    layer = MaxPool2d(kernel, stride, padding, dilation, False, ceil_mode)
    assert torch.equal(layer(x), ref)


@SETTINGS
@given(pool_cases(dilation=False), st.booleans(), st.one_of(st.none(), st.integers(1, 9)))
def test_avg_pool2d_is_torchs(case, count_include_pad, divisor_override):
    x, kernel, stride, padding, _, ceil_mode = case
    args = (kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
    close(avg_pool2d(x, *args), F.avg_pool2d(x.contiguous(), *args), x.dtype)


@SETTINGS
@given(st.data())
def test_adaptive_avg_pool2d_is_torchs(data):
    h, w = data.draw(st.integers(1, 12)), data.draw(st.integers(1, 12))
    x = data.draw(tensors((data.draw(st.integers(0, 2)), 2, h, w), data.draw(DTYPES)))
    size = data.draw(
        st.one_of(
            st.integers(1, 8),
            st.tuples(
                st.one_of(st.none(), st.integers(1, 8)), st.one_of(st.none(), st.integers(1, 8))
            ),
        )
    )
    close(adaptive_avg_pool2d(x, size), F.adaptive_avg_pool2d(x.contiguous(), size), x.dtype)


@st.composite
def conv_cases(draw):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    dilation, d = int_or_pair(draw, st.integers(1, 3))
    mode = draw(st.sampled_from(["int", "pair", "same", "valid"]))
    if mode == "same":
        stride, padding, p = 1, "same", (0, 0)
    else:
        stride, _ = int_or_pair(draw, st.integers(1, 3))
        padding, p = int_or_pair(draw, st.integers(0, 2)) if mode != "valid" else ("valid", (0, 0))
    span = [dd * (kk - 1) + 1 for dd, kk in zip(d, kernel, strict=True)]
    h = draw(st.integers(max(1, span[0] - 2 * p[0]), max(1, span[0] - 2 * p[0]) + 5))
    w = draw(st.integers(max(1, span[1] - 2 * p[1]), max(1, span[1] - 2 * p[1]) + 5))
    dtype = draw(DTYPES)
    x = draw(tensors((draw(st.integers(0, 2)), c_in, h, w), dtype, ties=False))
    weight = draw(tensors((c_out, c_in // groups, *kernel), dtype, ties=False))
    bias = draw(st.one_of(st.none(), tensors((c_out,), dtype, ties=False)))
    return x, weight, bias, stride, padding, dilation, groups


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch's note on its own copy
@pytest.mark.parametrize("method", ["naive", "unfold", "fft"])
@SETTINGS
@given(case=conv_cases())
def test_conv2d_is_torchs(method, case):
    x, weight, bias, *args = case
    ours = conv2d(x, weight, bias, *args, method=method)
    close(ours, F.conv2d(x.contiguous(), weight.contiguous(), bias, *args), x.dtype)


@SETTINGS
@given(st.data())
def test_local_response_norm_is_torchs(data):
    shape = (data.draw(st.integers(0, 2)), data.draw(st.integers(1, 9)))
    shape += tuple(data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=2)))
    x = data.draw(tensors(shape, data.draw(DTYPES), ties=False))
    size = data.draw(st.integers(1, 8))
    alpha, beta, k = (
        data.draw(st.floats(lo, hi)) for lo, hi in ((1e-4, 2.0), (0.1, 1.0), (0.5, 2.0))
    )
    ref = F.local_response_norm(x.contiguous(), size, alpha, beta, k)
    close(local_response_norm(x, size, alpha, beta, k), ref, x.dtype)
    close(LocalResponseNorm(size, alpha, beta, k)(x), ref, x.dtype)
    if size % 2:  # the paper's α is torch's α / n, the same window for odd n
        paper = local_response_norm(x, size, alpha / size, beta, k, convention="paper")
        close(paper, ref, x.dtype)


# --- the error contract ---------------------------------------------------------------------------

X = torch.rand(2, 3, 8, 8)
W = torch.rand(4, 3, 3, 3)
# name -> (call taking keyword arguments, valid keyword arguments)
OPS = {
    "conv2d": (lambda **a: conv2d(**a), {"x": X, "weight": W, "bias": None, "stride": 1,
               "padding": 1, "dilation": 1, "groups": 1, "method": "unfold"}),
    "max_pool2d": (lambda **a: max_pool2d(**a), {"x": X, "kernel_size": 2, "stride": 2,
                   "padding": 1, "dilation": 1, "ceil_mode": False, "return_indices": False}),
    "avg_pool2d": (lambda **a: avg_pool2d(**a), {"x": X, "kernel_size": 3, "stride": 1,
                   "padding": 1, "ceil_mode": False, "count_include_pad": True,
                   "divisor_override": 4}),
    "adaptive_avg_pool2d": (lambda **a: adaptive_avg_pool2d(**a), {"x": X, "output_size": 3}),
    "local_response_norm": (lambda **a: local_response_norm(**a), {"x": X, "size": 3,
                            "alpha": 1e-3, "beta": 0.75, "k": 1.0, "mode": "inter",
                            "convention": "torch"}),
    "MaxPool2d": (lambda **a: MaxPool2d(**a), {"kernel_size": 2, "stride": 1, "padding": 1,
                  "dilation": 1, "return_indices": False, "ceil_mode": True}),
    "LocalResponseNorm": (lambda **a: LocalResponseNorm(**a), {"size": 3, "alpha": 1e-3,
                          "beta": 0.5, "k": 2.0, "mode": "intra", "convention": "paper"}),
    "disk_pool2d": (lambda **a: cnnutils.disk_pool2d(**a), {"x": X, "radius": 1, "stride": 1,
                    "padding": 1, "mode": "avg"}),
    "pool_output_size": (lambda **a: cnnutils.pool_output_size(**a), {"size": 8,
                         "kernel_size": 3, "stride": 2, "padding": 1, "dilation": 1,
                         "ceil_mode": True}),
}  # fmt: skip
# Values that no argument of the ops above accepts ("x" and "weight" are tensors, sizes ints or
# pairs, flags bools, options strings, α β k numbers).
BAD = [None, "3", 2.5, True, -1, 0, [1, 2, 3], (1,), object(), torch.zeros(3), float("nan"),
       np.float64(2.5), "no-such-option"]  # fmt: skip
# The values above that some arguments do accept: (name, value) pairs left out of the sweep.
# A list, not a set: ("alpha", 2.5) and ("alpha", np.float64(2.5)) are equal tuples.
ACCEPTED = [
    ("bias", None), ("stride", None), ("divisor_override", None), ("padding", 0),
    ("alpha", 0), ("k", 0), ("beta", 0), ("alpha", -1), ("beta", -1), ("k", -1),
    ("alpha", 2.5), ("beta", 2.5), ("k", 2.5), ("alpha", np.float64(2.5)),
    ("beta", np.float64(2.5)), ("k", np.float64(2.5)), ("divisor_override", -1),
    ("ceil_mode", True), ("count_include_pad", True), ("return_indices", True),
]  # fmt: skip


def _accepted(name: str, value: object) -> bool:
    return any(
        name == n and type(value) is type(v) and (value is v or value == v) for n, v in ACCEPTED
    )


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(st.sampled_from(sorted(OPS)), st.data())
def test_malformed_arguments_raise_type_or_value_errors_naming_the_function(fn, data):
    call, valid = OPS[fn]
    name = data.draw(st.sampled_from(sorted(valid)))
    bad = data.draw(st.sampled_from(BAD))
    assume(not _accepted(name, bad))
    try:
        call(**{**valid, name: bad})
    except (TypeError, ValueError) as error:  # any other exception fails the test
        assert str(error).startswith(f"{fn}: "), (name, bad, str(error))
    else:
        raise AssertionError(f"{fn} accepted {name}={bad!r}")


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(st.sampled_from(sorted(OPS)), st.data())
def test_numpy_integers_work_as_ints(fn, data):
    call, valid = OPS[fn]
    ints = sorted(n for n, v in valid.items() if type(v) is int)
    name = data.draw(st.sampled_from(ints))
    want, got = call(**valid), call(**{**valid, name: np.int64(valid[name])})
    if isinstance(want, torch.Tensor):
        assert torch.equal(got, want)
    elif isinstance(want, torch.nn.Module):
        assert repr(got) == repr(want)
    else:
        assert got == want
