"""Tests of cnnutils.ops.locally_connected against F.conv2d (tied weights), a loop, and autograd."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.testing import assert_close

from cnnutils.ops.locally_connected import LocallyConnected2d, locally_connected2d


def randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


# (N, C_in, H, W), (C_out, kH, kW), stride, padding: awkward geometry.
GEOMETRIES = [
    ((2, 3, 7, 6), (4, 3, 2), (2, 1), 1),
    ((1, 2, 5, 9), (3, 1, 4), 1, (0, 2)),
    ((3, 1, 8, 8), (2, 3, 3), 3, 0),
    ((2, 4, 4, 5), (5, 4, 5), 1, (0, 0)),  # the kernel covers the whole input: one position
    ((0, 2, 6, 6), (3, 3, 3), 1, 1),  # empty batch
]


def out_size(size, kernel, stride, padding):
    stride = (stride, stride) if isinstance(stride, int) else stride
    padding = (padding, padding) if isinstance(padding, int) else padding
    return tuple(
        (n + 2 * p - k) // s + 1 for n, k, s, p in zip(size, kernel, stride, padding, strict=True)
    )


@pytest.mark.parametrize("geometry", GEOMETRIES, ids=str)
def test_tied_weights_equal_conv2d(geometry):
    (n, c_in, h, w), (c_out, kh, kw), stride, padding = geometry
    x = randn(n, c_in, h, w, seed=1)
    conv_w, conv_b = randn(c_out, c_in, kh, kw, seed=2), randn(c_out, seed=3)
    h_out, w_out = out_size((h, w), (kh, kw), stride, padding)
    tied_w = conv_w.expand(h_out, w_out, -1, -1, -1, -1)
    tied_b = conv_b.expand(h_out, w_out, -1)
    expected = F.conv2d(x, conv_w, conv_b, stride=stride, padding=padding)
    got = locally_connected2d(x, tied_w, tied_b, stride=stride, padding=padding)
    assert got.shape == expected.shape
    assert_close(got, expected)
    assert got.is_contiguous()


def test_untied_weights_equal_a_loop_over_positions():
    x = randn(2, 3, 6, 7, seed=4)
    weight, bias = randn(3, 2, 4, 3, 3, 2, seed=5), randn(3, 2, 4, seed=6)
    got = locally_connected2d(x, weight, bias, stride=(2, 3), padding=(1, 0))
    xp = F.pad(x, (0, 0, 1, 1))
    expected = torch.empty(2, 4, 3, 2, dtype=torch.float64)  # H_out = 3, W_out = 2
    for i in range(3):
        for j in range(2):
            patch = xp[:, :, 2 * i : 2 * i + 3, 3 * j : 3 * j + 2]  # (N, C_in, kH, kW)
            expected[:, :, i, j] = torch.einsum("ncab,ocab->no", patch, weight[i, j]) + bias[i, j]
    assert_close(got, expected)


def test_one_image_and_non_contiguous_input():
    x = randn(3, 9, 8, seed=7).transpose(1, 2)  # (3, 8, 9), not contiguous
    weight = randn(8, 9, 2, 3, 1, 1, seed=8)
    got = locally_connected2d(x, weight)
    assert got.shape == (2, 8, 9)
    assert_close(got, locally_connected2d(x.contiguous()[None], weight)[0])


def test_gradcheck():
    x = randn(2, 2, 5, 4, seed=9).requires_grad_()
    weight = randn(3, 2, 3, 2, 3, 3, seed=10).requires_grad_()
    bias = randn(3, 2, 3, seed=11).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda x, w, b: locally_connected2d(x, w, b, stride=(2, 1), padding=(1, 0)),
        (x, weight, bias),
    )


def test_conv_gradient_is_the_sum_of_tied_position_gradients():
    """Parameter sharing: the conv kernel's gradient sums the per-position gradients."""
    x = randn(2, 3, 6, 6, seed=12)
    conv_w = randn(4, 3, 3, 3, seed=13).requires_grad_()
    F.conv2d(x, conv_w, padding=1).square().sum().backward()
    untied = conv_w.detach().expand(6, 6, -1, -1, -1, -1).clone().requires_grad_()
    locally_connected2d(x, untied, padding=1).square().sum().backward()
    assert_close(untied.grad.sum(dim=(0, 1)), conv_w.grad)


@pytest.mark.parametrize(
    "args",
    [
        (3, 8, 5, 32, 1, 2, True),
        (2, 4, (3, 2), (9, 7), (2, 1), (1, 0), False),
        (1, 1, 4, 4, 1, 0, True),
    ],
    ids=str,
)
def test_parameter_count_formula(args):
    c_in, c_out, k, size, stride, padding, bias = args
    layer = LocallyConnected2d(c_in, c_out, k, size, stride, padding, bias, device="meta")
    conv = nn.Conv2d(c_in, c_out, k, stride, padding, bias=bias, device="meta")
    kh, kw = (k, k) if isinstance(k, int) else k
    h_out, w_out = out_size(
        (size, size) if isinstance(size, int) else size, (kh, kw), stride, padding
    )
    n_params = sum(p.numel() for p in layer.parameters())
    assert layer.output_size == (h_out, w_out)
    assert n_params == h_out * w_out * c_out * (c_in * kh * kw + int(bias))
    assert n_params == h_out * w_out * sum(p.numel() for p in conv.parameters())
    assert layer.weight.shape == (h_out, w_out, c_out, c_in, kh, kw)


def test_module_from_conv2d_and_init():
    conv = nn.Conv2d(2, 3, (3, 2), stride=(1, 2), padding=1).double()
    layer = LocallyConnected2d.from_conv2d(conv, (7, 8))
    x = randn(2, 2, 7, 8, seed=14)
    assert_close(layer(x), conv(x))
    assert layer.weight.dtype == torch.float64
    assert "input_size=(7, 8)" in repr(layer)
    fresh = LocallyConnected2d(2, 3, 3, 6)
    fresh.reset_parameters(torch.Generator().manual_seed(0))
    bound = 1 / (2 * 9) ** 0.5
    assert fresh.weight.abs().max() <= bound and fresh.bias.abs().max() <= bound
    assert fresh.weight.std() > bound / 3  # not all equal: every position has its own weights
    with pytest.raises(ValueError, match=r"dilation 1 and groups 1"):
        LocallyConnected2d.from_conv2d(nn.Conv2d(2, 2, 3, dilation=2), 8)
    with pytest.raises(ValueError, match=r"zero padding"):
        LocallyConnected2d.from_conv2d(nn.Conv2d(2, 2, 3, padding=1, padding_mode="circular"), 8)
    with pytest.raises(TypeError, match=r"must be an nn.Conv2d"):
        LocallyConnected2d.from_conv2d(nn.Linear(2, 2), 8)


def test_errors():
    x, w = randn(1, 2, 5, 5), randn(3, 3, 4, 2, 3, 3)
    with pytest.raises(TypeError, match=r"locally_connected2d: x must be a torch.Tensor"):
        locally_connected2d(x.numpy(), w)
    with pytest.raises(TypeError, match=r"bias must be a torch.Tensor or None"):
        locally_connected2d(x, w, bias=[0.0])
    with pytest.raises(ValueError, match=r"x must be 4-D .* got shape \(5, 5\)"):
        locally_connected2d(x[0, 0], w)
    with pytest.raises(ValueError, match=r"weight must be 6-D \(H_out, W_out, C_out"):
        locally_connected2d(x, w[0])
    with pytest.raises(TypeError, match=r"floating-point dtype"):
        locally_connected2d(x.long(), w)
    with pytest.raises(ValueError, match=r"weight must have x's dtype"):
        locally_connected2d(x, w.float())
    with pytest.raises(ValueError, match=r"weight.shape\[3\] must be x's C_in = 2"):
        locally_connected2d(x, randn(3, 3, 4, 1, 3, 3))
    with pytest.raises(ValueError, match=r"must be \(H_out, W_out\) = \(5, 5\) .* got \(3, 3\)"):
        locally_connected2d(x, w, padding=1)
    with pytest.raises(ValueError, match=r"locally_connected2d: the window \(6, 3\) .* must fit"):
        locally_connected2d(x, randn(1, 1, 4, 2, 6, 3))
    with pytest.raises(ValueError, match=r"bias must have shape \(H_out, W_out, C_out\)"):
        locally_connected2d(x, w, randn(4))
    with pytest.raises(TypeError, match=r"stride must be an int or a pair"):
        locally_connected2d(x, w, stride=1.5)
    with pytest.raises(ValueError, match=r"padding must be >= 0"):
        locally_connected2d(x, w, padding=-1)
    with pytest.raises(ValueError, match=r"LocallyConnected2d: out_channels must be >= 1"):
        LocallyConnected2d(2, 0, 3, 8)
    with pytest.raises(TypeError, match=r"LocallyConnected2d: in_channels must be an int"):
        LocallyConnected2d(2.0, 3, 3, 8)
    with pytest.raises(ValueError, match=r"LocallyConnected2d: the window \(5, 5\) .* must fit"):
        LocallyConnected2d(2, 3, 5, 3)
    layer = LocallyConnected2d(2, 3, 3, 8)
    with pytest.raises(ValueError, match=r"\(H_out, W_out\) = \(4, 4\)"):
        layer(randn(1, 2, 6, 6).float())
