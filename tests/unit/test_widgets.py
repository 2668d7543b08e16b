"""Tests of cnnutils.course.widgets: the pure render function, and the explorer built headless."""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from cnnutils.course.widgets import KERNEL_NAMES, classic_kernel, conv_explorer, render_convolution
from cnnutils.geometry import conv_output_size
from cnnutils.viz.photos import IMAGE_NAMES, load_photo


@pytest.mark.parametrize("name", IMAGE_NAMES)
def test_load_photo_is_gray_floats_with_the_longer_side_given(name):
    photo = load_photo(name, size=48)
    assert photo.dim() == 2 and max(photo.shape) == 48
    assert photo.dtype == torch.float64
    assert 0.0 <= photo.min() and photo.max() <= 1.0
    photo[0, 0] = 5.0  # a copy: the cache is not affected
    assert load_photo(name, size=48)[0, 0] <= 1.0


@pytest.mark.parametrize("name", KERNEL_NAMES)
def test_classic_kernels_are_float64_and_fresh(name):
    kernel = classic_kernel(name)
    assert kernel.dtype == torch.float64 and kernel.dim() == 2
    assert torch.equal(kernel, classic_kernel(name))  # the random one is seeded
    kernel.zero_()
    assert classic_kernel(name).abs().sum() > 0


def test_render_convolution_titles_sizes_and_output():
    before = plt.get_fignums()
    fig = render_convolution("chelsea", "box blur 5×5", stride=3, padding=2, size=60)
    assert isinstance(fig, Figure) and plt.get_fignums() == before
    photo = load_photo("chelsea", 60)
    expected_shape = conv_output_size(tuple(photo.shape), 5, 3, 2)
    assert [ax.get_title() for ax in fig.axes] == [
        "chelsea 40×60",
        "box blur 5×5",
        f"output {expected_shape[0]}×{expected_shape[1]} (stride 3, padding 2)",
    ]
    drawn = fig.axes[2].images[0].get_array()
    expected = F.conv2d(
        photo[None, None],
        torch.full((1, 1, 5, 5), 1 / 25.0, dtype=torch.float64),
        stride=3,
        padding=2,
    )
    np.testing.assert_allclose(np.asarray(drawn), expected[0, 0].numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kernel_name", KERNEL_NAMES)
def test_render_convolution_every_kernel(kernel_name):
    fig = render_convolution("camera", kernel_name, size=40)
    kernel = classic_kernel(kernel_name)
    n_labels = kernel.numel() if kernel.numel() <= 25 else 0
    assert len(fig.axes[1].texts) == n_labels
    out = np.asarray(fig.axes[2].images[0].get_array())
    assert out.shape == (41 - kernel.shape[0], 41 - kernel.shape[1])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"image_name": "lena"}, ValueError, r"render_convolution: image_name must be one of"),
        ({"kernel_name": "emboss"}, ValueError, r"render_convolution: kernel_name must be one"),
        ({"stride": 0}, ValueError, r"render_convolution: stride must be >= 1, got 0"),
        ({"padding": 1.0}, TypeError, r"render_convolution: padding must be an int, got 1.0"),
        (
            {"kernel_name": "Gaussian blur σ=2", "size": 8},
            ValueError,
            r"kernel \(17, 17\) is larger than the padded photo",
        ),
    ],
)
def test_render_convolution_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        render_convolution(**kwargs)


def test_load_photo_and_classic_kernel_errors():
    with pytest.raises(ValueError, match=r"load_photo: name must be one of"):
        load_photo("lena")
    with pytest.raises(ValueError, match=r"load_photo: size must be >= 8, got 4"):
        load_photo("camera", 4)
    with pytest.raises(TypeError, match=r"load_photo: size must be an int, got float"):
        load_photo("camera", 64.0)
    with pytest.raises(ValueError, match=r"classic_kernel: name must be one of"):
        classic_kernel("emboss")


def test_explorer_builds_headless_and_rerenders_on_change():
    calls = []

    def spy(**values):
        calls.append(values)
        return Figure()

    explorer = conv_explorer("coffee", "Sobel y", 2, 1, render=spy)
    assert isinstance(explorer, widgets.VBox)
    photo, kernel = explorer.children[0].children
    stride, padding = explorer.children[1].children
    assert isinstance(explorer.children[2], widgets.Image)
    assert calls == [{"image_name": "coffee", "kernel_name": "Sobel y", "stride": 2, "padding": 1}]
    kernel.value = "Laplacian"
    stride.value = 3
    assert calls[-2:] == [
        {"image_name": "coffee", "kernel_name": "Laplacian", "stride": 2, "padding": 1},
        {"image_name": "coffee", "kernel_name": "Laplacian", "stride": 3, "padding": 1},
    ]
    assert list(photo.options) == list(IMAGE_NAMES)
    assert (padding.min, padding.max, stride.min, stride.max) == (0, 8, 1, 4)


def test_explorer_with_the_real_renderer_shows_a_new_png_on_change():
    explorer = conv_explorer(kernel_name="identity")
    image = explorer.children[2]
    first = image.value
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    explorer.children[1].children[1].value = 2  # padding
    assert image.value[:4] == b"\x89PNG" and image.value != first


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"image_name": "lena"}, ValueError, r"conv_explorer: image_name must be one of"),
        ({"kernel_name": "emboss"}, ValueError, r"conv_explorer: kernel_name must be one of"),
        ({"stride": 5}, ValueError, r"conv_explorer: stride must be in \[1, 4\], got 5"),
        ({"padding": -1}, ValueError, r"conv_explorer: padding must be in \[0, 8\], got -1"),
        ({"stride": "2"}, TypeError, r"conv_explorer: stride must be an int, got '2'"),
        ({"render": None}, TypeError, r"conv_explorer: render must be callable, got NoneType"),
    ],
)
def test_explorer_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        conv_explorer(**kwargs)
