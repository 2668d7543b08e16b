"""Tests of cnnutils.viz.images: figures are built headless, returned, and never shown."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from cnnutils.ops.filters import orientation_histogram
from cnnutils.viz.images import show_images, show_orientation_histograms


def test_show_images_returns_a_figure_not_registered_with_pyplot():
    before = plt.get_fignums()
    fig = show_images([torch.rand(8, 8), torch.rand(8, 8)], ["a", "b"])
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == before  # nothing for the inline backend to show a second time
    assert [ax.get_title() for ax in fig.axes] == ["a", "b"]


def test_show_images_grid_drops_empty_cells_and_sizes_the_figure():
    fig = show_images([np.zeros((4, 4))] * 5, ncols=3, size=2.0)
    assert len(fig.axes) == 5
    assert tuple(fig.get_size_inches()) == (6.0, 4.0)


@pytest.mark.parametrize(
    ("image", "shape"),
    [
        (torch.rand(3, 6, 7), (6, 7, 3)),  # (C, H, W) tensor -> channels last
        (torch.rand(1, 6, 7), (6, 7)),  # single channel squeezed
        (np.random.default_rng(0).random((6, 7, 3)), (6, 7, 3)),  # (H, W, 3) array as is
        (torch.rand(6, 7, dtype=torch.bfloat16), (6, 7)),
    ],
)
def test_show_images_layouts(image, shape):
    fig = show_images([image])
    assert fig.axes[0].images[0].get_array().shape == shape


def test_show_images_stacked_tensor_and_gradients():
    bank = torch.randn(4, 5, 5, requires_grad=True)
    assert len(show_images(bank).axes) == 4
    assert len(show_images(torch.rand(2, 3, 5, 5)).axes) == 2


def test_show_images_symmetric_colour_limits():
    image = torch.tensor([[-1.0, 0.5], [0.25, 0.0]])
    fig = show_images([image], symmetric=True)
    im = fig.axes[0].images[0]
    assert im.get_clim() == (-1.0, 1.0)
    assert im.get_cmap().name == "RdBu_r"
    assert show_images([torch.zeros(2, 2)], symmetric=True).axes[0].images[0].get_clim() == (
        -1.0,
        1.0,
    )
    assert show_images([image]).axes[0].images[0].get_cmap().name == "gray"
    spiky = torch.linspace(-1.0, 1.0, 101).reshape(1, 101)
    spiky[0, 50] = 100.0  # one outlier
    assert show_images([spiky]).axes[0].images[0].get_clim() == (-1.0, 100.0)
    low, high = show_images([spiky], robust=True).axes[0].images[0].get_clim()
    assert low == pytest.approx(-0.98) and high == pytest.approx(1.0)
    assert show_images([spiky], robust=True, symmetric=True).axes[0].images[0].get_clim()[1] < 2
    mixed = show_images([image, image], symmetric=[True, False])
    assert [ax.images[0].get_clim() for ax in mixed.axes] == [(-1.0, 1.0), (-1.0, 0.5)]


def test_show_images_shared_colour_bar_puts_every_panel_on_one_scale():
    small, large = torch.tensor([[-0.5, 0.25]]), torch.tensor([[2.0, -1.0]])
    fig = show_images([small, large], symmetric=True, colorbar_label="weight")
    *panels, bar = fig.axes
    assert [ax.images[0].get_clim() for ax in panels] == [(-2.0, 2.0)] * 2
    assert bar.get_ylabel() == "weight"
    assert bar.get_ylim() == (-2.0, 2.0)
    plain = show_images([small, large], colorbar_label="v")
    assert [ax.images[0].get_clim() for ax in plain.axes[:2]] == [(-1.0, 2.0)] * 2
    assert len(show_images([small, large]).axes) == 2  # no bar unless asked


@pytest.mark.parametrize(
    ("images", "kwargs", "error", "match"),
    [
        ("cat", {}, TypeError, r"show_images: images must be a sequence of tensors or arrays"),
        ([], {}, ValueError, r"show_images: images must not be empty"),
        ([[1.0, 2.0]], {}, TypeError, r"show_images: each image must be a torch.Tensor or"),
        ([torch.rand(5, 6, 7)], {}, ValueError, r"show_images: an image must be \(H, W\)"),
        (torch.rand(5, 6), {}, ValueError, r"show_images: a stacked tensor must have shape"),
        (np.zeros((2, 2)), {}, ValueError, r"show_images: a stacked array must have shape"),
        (
            [torch.rand(2, 2)],
            {"titles": ["a", "b"]},
            ValueError,
            r"show_images: titles must have one entry per image \(1\), got 2",
        ),
        (
            [torch.rand(2, 2)],
            {"symmetric": [True, False]},
            ValueError,
            r"show_images: symmetric must be a bool or one bool per image \(1\), got 2",
        ),
        ([torch.rand(2, 2)], {"ncols": 0}, ValueError, r"show_images: ncols must be a positive"),
        (
            [torch.rand(3, 2, 2)],
            {"colorbar_label": "v"},
            ValueError,
            r"show_images: a colour bar needs single-channel \(H, W\) images only",
        ),
        (
            [torch.rand(2, 2)] * 2,
            {"colorbar_label": "v", "symmetric": [True, False]},
            ValueError,
            r"show_images: a shared colour bar needs one symmetric setting for all",
        ),
    ],
)
def test_show_images_errors(images, kwargs, error, match):
    with pytest.raises(error, match=match):
        show_images(images, **kwargs)


def test_orientation_glyphs_follow_the_edges():
    # Vertical stripes: horizontal gradients (bin 0), so the glyphs are vertical lines.
    stripes = torch.tensor([0.0, 0.0, 1.0, 1.0]).repeat(16, 6)
    hist = orientation_histogram(stripes, cell_size=8, bins=9)
    before = plt.get_fignums()
    fig = show_orientation_histograms(hist, cell_size=8, image=stripes)
    assert plt.get_fignums() == before
    (collection,) = [c for c in fig.axes[0].collections if isinstance(c, LineCollection)]
    segments = np.asarray(collection.get_segments())  # (cells * bins, 2, 2)
    assert segments.shape == (2 * 3 * 9, 2, 2)
    drawn = segments.reshape(2, 3, 9, 2, 2)[:, :, 0]  # the bin with all the mass
    dx = drawn[..., 1, 0] - drawn[..., 0, 0]
    dy = drawn[..., 1, 1] - drawn[..., 0, 1]
    assert np.all(np.abs(dy) > 5 * np.abs(dx))  # (nearly) vertical: 10° off, the bin's centre
    empty = segments.reshape(2, 3, 9, 2, 2)[:, :, 1:]
    np.testing.assert_allclose(empty[..., 0, :], empty[..., 1, :])  # zero-length lines
    lengths = np.hypot(dx, dy)
    assert np.all(lengths <= 8 + 1e-9)  # no glyph leaves its cell
    assert fig.axes[0].get_ylim() == (15.5, -0.5)  # y points down, as in the image


def test_orientation_glyphs_errors():
    with pytest.raises(ValueError, match=r"show_orientation_histograms: hist must have shape"):
        show_orientation_histograms(torch.rand(4, 9), cell_size=8)
    with pytest.raises(ValueError, match=r"show_orientation_histograms: image must be grayscale"):
        show_orientation_histograms(torch.rand(1, 1, 9), cell_size=8, image=np.zeros((8, 8, 3)))
