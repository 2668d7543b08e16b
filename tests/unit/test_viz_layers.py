"""The concept pictures of the layer chapters: what they write and draw is what PyTorch computes."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnutils.viz.layers import (
    draw_bottleneck,
    draw_conv_volume,
    draw_max_pool_backward,
    overlap_backward_animation,
    shift_curves_figure,
    show_feature_maps,
)

pytestmark = pytest.mark.filterwarnings("ignore:Animation was deleted without rendering")


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def _macs(module: nn.Module, in_shape: tuple[int, int, int]) -> int:
    with FlopCounterMode(display=False) as counter:
        module(torch.zeros(1, *in_shape))
    return counter.get_total_flops() // 2


@pytest.mark.parametrize(
    ("in_shape", "out_channels", "k", "stride", "padding"),
    [
        ((3, 32, 32), 6, 5, 1, 0),
        ((3, 32, 32), 1, 5, 1, 0),
        ((8, 6, 6), 3, 1, 1, 0),
        ((2, 9, 7), 4, 3, 2, 1),
    ],
)
def test_conv_volume_labels_are_the_layers_shapes(in_shape, out_channels, k, stride, padding):
    before = plt.get_fignums()
    fig = draw_conv_volume(
        in_shape, out_channels, k, position=(0, 0), stride=stride, padding=padding
    )
    assert isinstance(fig, Figure) and plt.get_fignums() == before  # not left with pyplot
    out = nn.Conv2d(in_shape[0], out_channels, k, stride=stride, padding=padding)(
        torch.zeros(1, *in_shape)
    )
    c, h, w = in_shape
    _, c_out, h_out, w_out = out.shape
    texts = _texts(fig)
    assert f"input {h}×{w}×{c}" in texts
    assert f"output {h_out}×{w_out}×{c_out}" in texts
    assert any(t.startswith(f"{out_channels} filter") and f"{k}×{k}×{c}" in t for t in texts)


def test_conv_volume_draws_one_column_cell_per_filter():
    few = draw_conv_volume((3, 32, 32), 1, 5)
    many = draw_conv_volume((3, 32, 32), 6, 5)
    # Each filter adds one filter box and one column cell (three faces each) and one slab.
    assert len(many.axes[0].patches) - len(few.axes[0].patches) == 5 * 3 * 3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"position": (28, 0)}, "outside the 28×28 output"),
        ({"out_channels": 8}, "at most 16 input channels and 7 filters"),
        ({"kernel_size": 0}, "kernel_size must be a positive int"),
        ({"kernel_size": 40}, "kernel"),
    ],
)
def test_conv_volume_rejects_bad_arguments(kwargs, match):
    args = {"in_shape": (3, 32, 32), "out_channels": 6, "kernel_size": 5} | kwargs
    with pytest.raises(ValueError, match=match):
        draw_conv_volume(**args)


def test_bottleneck_counts_are_pytorchs():
    fig = draw_bottleneck((192, 28, 28), 16, 32, 5)
    texts = "\n".join(_texts(fig))
    direct = _macs(nn.Conv2d(192, 32, 5, padding=2), (192, 28, 28))
    reduce = _macs(nn.Conv2d(192, 16, 1), (192, 28, 28))
    spatial = _macs(nn.Conv2d(16, 32, 5, padding=2), (16, 28, 28))
    assert (direct, reduce, spatial) == (120_422_400, 2_408_448, 10_035_200)
    for count in (direct, reduce, spatial, reduce + spatial):
        assert f"{count:,}" in texts
    assert f"{direct / (reduce + spatial):.2f}× fewer" in texts
    assert "28×28×192" in texts and "28×28×16" in texts and "28×28×32" in texts


def test_bottleneck_without_padding_shrinks_the_output():
    texts = "\n".join(_texts(draw_bottleneck((192, 28, 28), 16, 32, 5, padding=0)))
    assert "24×24×32" in texts
    assert f"{_macs(nn.Conv2d(192, 32, 5), (192, 28, 28)):,}" in texts


def test_show_feature_maps_labels_every_panel():
    fig = show_feature_maps(
        [torch.rand(4, 5), np.eye(3)], ["a", "b"], colorbar_label=["x", "y"], symmetric=True
    )
    images, bars = fig.axes[:2], fig.axes[2:]
    assert [ax.get_title() for ax in images] == ["a", "b"]
    assert all(ax.get_xlabel() == "column" and ax.get_ylabel() == "row" for ax in images)
    assert [ax.get_ylabel() for ax in bars] == ["x", "y"]
    low, high = images[1].images[0].get_clim()
    assert low == -high == -1.0
    written = show_feature_maps([np.array([[1.0, 2.5]])], ["w"], colorbar_label="v", annotate=True)
    assert [t.get_text() for t in written.axes[0].texts] == ["1", "2.5"]
    mask = show_feature_maps([np.eye(3)], ["m"], colorbar_label="tap", colorbar_ticks=[0, 1])
    assert list(mask.axes[1].get_yticks()) == [0, 1]
    assert all(float(t).is_integer() for t in mask.axes[0].get_xticks())
    with pytest.raises(ValueError, match="2 matrices need as many titles"):
        show_feature_maps([np.eye(2), np.eye(2)], ["a"], colorbar_label="v")
    with pytest.raises(ValueError, match="2-D and non-empty"):
        show_feature_maps([np.zeros(3)], ["a"], colorbar_label="v")


def test_max_pool_backward_figure_shows_autograds_gradient():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(6, 6, generator=gen, dtype=torch.float64)
    grad_out = torch.randn(3, 3, generator=gen, dtype=torch.float64)
    fig = draw_max_pool_backward(x, grad_out, 2)
    leaf = x[None, None].clone().requires_grad_()
    F.max_pool2d(leaf, 2).backward(grad_out[None, None])
    shown = fig.axes[2].images[0].get_array()  # dL/dx, under the input
    np.testing.assert_array_equal(np.asarray(shown), leaf.grad[0, 0].numpy())
    np.testing.assert_array_equal(
        np.asarray(fig.axes[1].images[0].get_array()), F.max_pool2d(x[None, None], 2)[0, 0]
    )
    with pytest.raises(ValueError, match=r"grad_out must have the output's shape \(3, 3\)"):
        draw_max_pool_backward(x, torch.zeros(2, 2), 2)


def test_overlap_animation_ends_on_autograds_gradient():
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(7, 7, generator=gen, dtype=torch.float64)
    x[2, 2] = 2.0  # wins the four windows that contain it
    anim = overlap_backward_animation(x, 3, 2)
    frames = list(anim.new_frame_seq())
    assert len(frames) == 9
    anim._func(frames[-1])  # draw the last frame
    leaf = x.clone().requires_grad_()
    F.max_pool2d(leaf[None, None], 3, stride=2).sum().backward()
    shown = np.asarray(anim._fig.axes[1].images[0].get_array())
    np.testing.assert_array_equal(shown, leaf.grad.numpy())
    assert shown[2, 2] == 4


def test_shift_curves_figure():
    fig = shift_curves_figure(
        [0, 1, 2],
        {"a": [0, 0.1, 0.2], "b": [0, 0.2, 0.1]},
        ylabel="y",
        title="t",
        styles=["k-", "C0-o"],
    )
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == ["a", "b"]
    assert ax.get_ylabel() == "y" and ax.get_legend() is not None
    with pytest.raises(ValueError, match="2 curves need as many styles"):
        shift_curves_figure([0], {"a": [0], "b": [0]}, ylabel="y", title="t", styles=["k-"])
