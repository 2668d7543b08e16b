"""Tests of cnnutils.ops.lrn: PyTorch's α/n convention by default, the paper's formula on request,
modes, gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnutils.ops.lrn import LocalResponseNorm, local_response_norm


def reference(x, size, alpha, beta, k, mode, convention="paper"):
    """The formula, one output at a time, with explicit clipped windows: the slide's
    (``"paper"``: ``size // 2`` on each side, α as it stands) or PyTorch's (``"torch"``:
    ``size // 2`` before, ``(size - 1) // 2`` after, α divided by the window's taps)."""
    before = size // 2
    after = before if convention == "paper" else (size - 1) // 2
    if convention == "torch":
        alpha = alpha / (size if mode == "inter" else size * size)
    out = torch.empty_like(x)
    _, c, h, w = x.shape
    for i in range(c):
        if mode == "inter":
            lo, hi = max(0, i - before), min(c - 1, i + after)
            s = (x[:, lo : hi + 1] ** 2).sum(1)  # (N, H, W)
            out[:, i] = x[:, i] / (k + alpha * s) ** beta
        else:
            for y in range(h):
                for z in range(w):
                    y0, y1 = max(0, y - before), min(h - 1, y + after)
                    z0, z1 = max(0, z - before), min(w - 1, z + after)
                    s = (x[:, i, y0 : y1 + 1, z0 : z1 + 1] ** 2).sum((-2, -1))  # (N,)
                    out[:, i, y, z] = x[:, i, y, z] / (k + alpha * s) ** beta
    return out


def data(*shape, scale=3.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(*shape, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("convention", ["torch", "paper"])
@pytest.mark.parametrize("mode", ["inter", "intra"])
@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 6, 9])
def test_matches_the_formula(mode, size, convention):
    x = data(2, 7, 5, 6)  # fewer channels than some windows: clipping matters
    out = local_response_norm(
        x, size, alpha=0.1, beta=0.75, k=2.0, mode=mode, convention=convention
    )
    torch.testing.assert_close(out, reference(x, size, 0.1, 0.75, 2.0, mode, convention))


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 6, 7, 11])
def test_equals_torch_with_its_arguments_and_defaults(size):
    x = data(3, 16, 7, 5)
    torch.testing.assert_close(local_response_norm(x, size), F.local_response_norm(x, size))
    ours = local_response_norm(x, size, 0.02, 0.6, 2.0)
    torch.testing.assert_close(ours, nn.LocalResponseNorm(size, 0.02, 0.6, 2.0)(x))
    torch.testing.assert_close(LocalResponseNorm(size, 0.02, 0.6, 2.0)(x), ours)


@pytest.mark.parametrize("size", [1, 3, 5, 7, 11])
def test_paper_equals_torch_with_alpha_times_size_for_odd_sizes(size):
    x = data(3, 16, 7, 5)
    ours = local_response_norm(x, size, alpha=0.02, beta=0.75, k=2.0, convention="paper")
    theirs = nn.LocalResponseNorm(size, alpha=0.02 * size, beta=0.75, k=2.0)(x)
    torch.testing.assert_close(ours, theirs)


def test_paper_constants_equal_torch_5e4():
    x = data(2, 96, 9, 9, scale=30.0).float()
    ours = LocalResponseNorm(5, 1e-4, 0.75, 2.0, convention="paper")(x)  # the paper's layer
    theirs = nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)(x)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)
    assert (ours - x / 2**0.75).abs().max() > 1e-2  # the normalisation did something


@pytest.mark.parametrize("size", [2, 4, 6])
def test_paper_even_sizes_differ_from_torch_and_equal_the_next_odd_size(size):
    x = data(2, 9, 4, 4)
    ours = local_response_norm(x, size, alpha=0.1, k=2.0, convention="paper")
    odd = local_response_norm(x, size + 1, alpha=0.1, k=2.0, convention="paper")
    torch.testing.assert_close(ours, odd)
    theirs_odd = F.local_response_norm(x, size + 1, alpha=0.1 * (size + 1), k=2.0)
    torch.testing.assert_close(ours, theirs_odd)
    theirs = F.local_response_norm(x, size, alpha=0.1 * size, k=2.0)  # a window of `size`
    assert not torch.allclose(ours, theirs)


def test_inter_accepts_any_trailing_shape_like_torch():
    x = data(2, 8, 11)  # (N, C, L)
    torch.testing.assert_close(local_response_norm(x, 3, 0.3), F.local_response_norm(x, 3, 0.3))
    x5 = data(2, 8, 3, 2, 2)  # (N, C, D, H, W)
    torch.testing.assert_close(
        local_response_norm(x5, 4, alpha=0.5, k=2.0), F.local_response_norm(x5, 4, 0.5, k=2.0)
    )


def test_non_contiguous_and_empty_batches():
    x = data(2, 6, 5, 8).transpose(-1, -2)  # (2, 6, 8, 5), not contiguous
    for mode in ("inter", "intra"):
        for convention in ("torch", "paper"):
            torch.testing.assert_close(
                local_response_norm(x, 4, alpha=0.1, k=2.0, mode=mode, convention=convention),
                reference(x.contiguous(), 4, 0.1, 0.75, 2.0, mode, convention),
            )
        assert local_response_norm(data(0, 6, 4, 4), 5, mode=mode).shape == (0, 6, 4, 4)


def test_intra_is_a_spatial_window():
    x = torch.zeros(1, 2, 5, 5, dtype=torch.float64)
    x[0, 0, 2, 2] = 10.0
    kwargs = {"alpha": 1.0, "beta": 1.0, "k": 1.0, "convention": "paper"}
    out = local_response_norm(x, 3, **kwargs, mode="intra")
    assert out[0, 0, 2, 2] == pytest.approx(10.0 / 101.0)
    inter = local_response_norm(x, 3, **kwargs, mode="inter")
    assert inter[0, 0, 2, 2] == pytest.approx(10.0 / 101.0)
    torch_like = local_response_norm(x, 3, 1.0, 1.0, 1.0, mode="intra")  # α / 9 taps
    assert torch_like[0, 0, 2, 2] == pytest.approx(10.0 / (1.0 + 100.0 / 9))
    # intra: a neighbour of the spike is zero either way; the other channel is untouched
    assert torch.equal(out[0, 1], x[0, 1])


def test_a_large_channel_does_not_swamp_its_small_neighbours_in_float32():
    """Window sums must not be differences of running totals (3000² + 0.01 - 3000² = 0 in
    float32): the small channels keep their own, float64-accurate, normalisation."""
    x = torch.tensor([3000.0, 0.1, 0.1, 0.1, 0.1]).view(1, 5, 1, 1)
    paper = {"convention": "paper"}  # α multiplies the sum as it stands
    out = local_response_norm(x, 3, alpha=1.0, beta=1.0, k=0.01, **paper).flatten()
    exact = local_response_norm(x.double(), 3, alpha=1.0, beta=1.0, k=0.01, **paper).flatten()
    torch.testing.assert_close(out[2:], torch.tensor([2.5, 2.5, 10 / 3]))
    torch.testing.assert_close(out.double(), exact, rtol=1e-6, atol=0)
    theirs = F.local_response_norm(x, 3, alpha=3.0, beta=1.0, k=0.01).flatten()
    torch.testing.assert_close(out, theirs)
    # many channels of very different sizes, against the direct float64 sum
    g = torch.Generator().manual_seed(0)
    wide = torch.randn(2, 64, 3, 3, generator=g) * 10.0 ** torch.randint(-3, 4, (2, 64, 3, 3))
    torch.testing.assert_close(
        local_response_norm(wide, 5, alpha=1.0, beta=0.75, k=1e-3, **paper).double(),
        reference(wide.double(), 5, 1.0, 0.75, 1e-3, "inter"),
        rtol=2e-6,
        atol=1e-30,
    )


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize("size", [2, 3, 5, 30])
def test_a_non_finite_value_reaches_only_the_windows_that_contain_it(value, size):
    x = data(2, 9, 3, 4)
    x[0, 3, 1, 2] = value
    x[1, 0, 0, 0] = value
    for mode in ("inter", "intra"):
        out = local_response_norm(x, size, alpha=0.1, k=2.0, mode=mode, convention="paper")
        torch.testing.assert_close(out, reference(x, size, 0.1, 0.75, 2.0, mode), equal_nan=True)
        assert out.isfinite().sum() > out.numel() // 2  # most outputs stay finite
    if size % 2:
        theirs = F.local_response_norm(x, size, alpha=0.1 * size, k=2.0)
        ours = local_response_norm(x, size, alpha=0.1, k=2.0, convention="paper")
        torch.testing.assert_close(ours, theirs, equal_nan=True)


@pytest.mark.parametrize("mode", ["inter", "intra"])
def test_gradcheck(mode):
    x = data(2, 6, 4, 3, scale=1.0).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda t: local_response_norm(t, 3, alpha=0.5, beta=0.75, k=1.0, mode=mode), (x,)
    )
    assert torch.autograd.gradgradcheck(
        lambda t: local_response_norm(t, 2, alpha=0.5, beta=0.75, k=1.0, mode=mode), (x,)
    )


def test_module_is_a_thin_wrapper():
    layer = LocalResponseNorm(3, alpha=0.1, beta=0.5, k=1.0, mode="intra", convention="paper")
    x = data(1, 4, 5, 5)
    want = local_response_norm(x, 3, 0.1, 0.5, 1.0, mode="intra", convention="paper")
    assert torch.equal(layer(x), want)
    assert "mode='intra', convention='paper'" in repr(layer)
    assert list(layer.parameters()) == []


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"x": [1.0]}, TypeError, "x must be a torch.Tensor"),
        ({"x": torch.ones(1, 2, 3, 3, dtype=torch.int64)}, TypeError, "floating-point"),
        ({"size": 2.5}, TypeError, "size must be an int"),
        ({"size": True}, TypeError, "size must be an int"),
        ({"size": 0}, ValueError, "size must be >= 1, got 0"),
        ({"alpha": "1e-4"}, TypeError, "alpha must be a number"),
        ({"k": float("nan")}, ValueError, "k must be finite"),
        ({"mode": "cross"}, ValueError, r"mode must be one of \('inter', 'intra'\)"),
        ({"mode": 1}, TypeError, r"mode must be one of \('inter', 'intra'\), got 1"),
        ({"convention": "caffe"}, ValueError, r"convention must be one of \('torch', 'paper'\)"),
        ({"x": torch.ones(2, 3)}, ValueError, "mode 'inter' needs x of shape"),
        ({"x": torch.ones(2, 3, 4), "mode": "intra"}, ValueError, "x must be 4-D .* 'intra'"),
    ],
)
def test_errors(kwargs, error, match):
    args = {"x": torch.ones(1, 2, 3, 3), "size": 3} | kwargs
    with pytest.raises(error, match=f"^local_response_norm: .*{match}"):
        local_response_norm(**args)
    if "x" not in kwargs:  # the layer checks at construction
        with pytest.raises(error, match=f"^LocalResponseNorm: .*{match}"):
            LocalResponseNorm(**{k: v for k, v in args.items() if k != "x"})


def test_numpy_integers_are_ints():
    x = data(1, 6, 2, 2)
    torch.testing.assert_close(local_response_norm(x, np.int64(3)), local_response_norm(x, 3))
