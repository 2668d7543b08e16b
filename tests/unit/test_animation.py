"""Tests of cnnutils.viz.animation: frame counts, the values drawn, errors; headless."""

from __future__ import annotations

import gc
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from matplotlib.animation import FuncAnimation

from cnnutils.ops.conv import conv2d
from cnnutils.viz.animation import animation_html, sliding_window_animation

# Animations that are only inspected, never rendered, make matplotlib warn when collected.
pytestmark = pytest.mark.filterwarnings("ignore:Animation was deleted without rendering")


@pytest.fixture(autouse=True, scope="module")
def _collect_animations():
    """Once, after the module's tests (a collection costs a tenth of a second), and not at
    interpreter exit, where no filter would apply."""
    yield
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Animation was deleted without rendering")
        gc.collect()


def small_image(h: int = 5, w: int = 6) -> torch.Tensor:
    return (torch.arange(h * w, dtype=torch.float64).reshape(h, w) * 7) % 5


KERNEL = torch.tensor([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0]], dtype=torch.float64)


def drawn_output(anim: FuncAnimation, frame: int) -> np.ma.MaskedArray:
    anim._draw_frame(frame)
    return anim._fig.axes[2].images[0].get_array()


@pytest.mark.parametrize(
    "geometry",
    [
        {},
        {"stride": 2},
        {"padding": 1},
        {"stride": (2, 1), "padding": (1, 2), "dilation": (1, 2)},
    ],
)
def test_one_frame_per_output_position_and_the_output_is_conv2d(geometry):
    image = small_image()
    anim = sliding_window_animation(image, KERNEL, **geometry)
    expected = conv2d(image[None, None], KERNEL[None, None], **geometry)[0, 0]
    assert expected.shape == F.conv2d(image[None, None], KERNEL[None, None], **geometry).shape[2:]
    n = expected.numel()
    assert len(list(anim.new_frame_seq())) == n
    last = drawn_output(anim, n - 1)
    assert not np.ma.is_masked(last)
    np.testing.assert_allclose(last.data, expected.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        last.data, F.conv2d(image[None, None], KERNEL[None, None], **geometry)[0, 0].numpy()
    )


def test_frames_fill_the_output_in_row_major_order_whatever_came_before():
    anim = sliding_window_animation(small_image(4, 4), torch.ones(2, 2))  # output 3×3
    anim._draw_frame(8)
    shown = drawn_output(anim, 4)  # seeking back hides the later cells again
    assert (~np.ma.getmaskarray(shown)).ravel().tolist() == [True] * 5 + [False] * 4


def test_window_taps_and_title_follow_the_frame():
    anim = sliding_window_animation(small_image(), KERNEL, stride=2, padding=1, dilation=(1, 2))
    anim._draw_frame(4)  # output is 3×2 here: frame 4 is out[2, 0]
    fig = anim._fig
    corners = sorted(tuple(p.get_xy()) for p in fig.axes[0].patches)
    # taps at rows 4, 5 and columns 0, 2, 4 of the padded input (cell centres at integers)
    assert corners == sorted((c - 0.5, r - 0.5) for r in (4, 5) for c in (0, 2, 4))
    assert fig._suptitle.get_text().startswith("out[2, 0] = ")


def test_numbers_are_written_for_small_inputs_only():
    small = sliding_window_animation(small_image(), KERNEL)
    texts = [t.get_text() for t in small._fig.axes[1].texts]
    assert texts == ["1", "0", "-1", "2", "0", "-2"]
    big = sliding_window_animation(torch.rand(14, 14), torch.ones(3, 3), stride=4)
    assert not big._fig.axes[0].texts
    quiet = sliding_window_animation(small_image(), KERNEL, annotate=False)._fig.axes[0].texts
    assert not quiet


def test_plays_as_javascript_html_without_pyplot():
    before = plt.get_fignums()
    anim = sliding_window_animation(np.arange(9.0).reshape(3, 3), np.ones((2, 2)))
    html = anim.to_jshtml()
    assert html.count("data:image/png;base64") == 4  # one PNG per frame
    assert plt.get_fignums() == before
    np.testing.assert_allclose(
        anim._fig.axes[2].images[0].get_array().data, [[8.0, 12.0], [20.0, 24.0]]
    )


@pytest.mark.parametrize(
    ("image", "kernel", "kwargs", "error", "match"),
    [
        ([[1.0]], torch.ones(1, 1), {}, TypeError, r"sliding_window_animation: image must be a"),
        (torch.ones(3, 3), "k", {}, TypeError, r"kernel must be a torch.Tensor or a numpy array"),
        (torch.ones(2, 3, 3), torch.ones(2, 2), {}, ValueError, r"image must be 2-D and non"),
        (torch.ones(3, 3), torch.ones(0, 2), {}, ValueError, r"kernel must be 2-D and non-empty"),
        (
            torch.full((3, 3), float("nan")),
            torch.ones(2, 2),
            {},
            ValueError,
            r"image must be finite",
        ),
        (
            np.array([["a"]]),
            torch.ones(1, 1),
            {},
            TypeError,
            r"image must hold numbers, got dtype <U1",
        ),
        (torch.ones(3, 3), torch.ones(2, 2), {"stride": 0}, ValueError, r"stride must be >= 1"),
        (torch.ones(3, 3), torch.ones(2, 2), {"padding": -1}, ValueError, r"padding must be >= 0"),
        (
            torch.ones(3, 3),
            torch.ones(2, 2),
            {"dilation": 1.5},
            TypeError,
            r"dilation must be an int or a pair of ints, got 1.5",
        ),
        (torch.ones(3, 3), torch.ones(2, 2), {"stride": True}, TypeError, r"stride must be an"),
        (
            torch.ones(3, 3),
            torch.ones(2, 2),
            {"dilation": 3},
            ValueError,
            r"the window \(4, 4\) .* must fit in the padded input \(3, 3\)",
        ),
        (
            torch.ones(30, 30),
            torch.ones(3, 3),
            {},
            ValueError,
            r"784 output positions would make 784 frames, more than max_frames=200",
        ),
        (torch.ones(3, 3), torch.ones(2, 2), {"interval": 0}, ValueError, r"interval must be >= 1"),
        (torch.ones(3, 3), torch.ones(2, 2), {"interval": 0.5}, TypeError, r"interval must be an"),
    ],
)
def test_errors(image, kernel, kwargs, error, match):
    with pytest.raises(error, match=match):
        sliding_window_animation(image, kernel, **kwargs)


def test_animation_html_is_self_contained():
    anim = sliding_window_animation(torch.arange(12.0).reshape(3, 4), torch.ones(2, 2))
    raw = anim.to_jshtml()
    assert "https://" in raw  # matplotlib's player links Font Awesome from a CDN ...
    html = animation_html(anim)
    assert "https://" not in html and "http://" not in html  # ... ours does not
    assert html.count("data:image/png") == 6  # one frame per output position, 2 x 3
    for icon in ("fa-minus", "fa-pause", "fa-step-forward", "fa-fast-backward", "fa-plus"):
        assert f"i.fa.{icon}::before" in html, icon


def test_animation_html_rejects_other_objects():
    with pytest.raises(TypeError, match="animation_html: animation must be a matplotlib"):
        animation_html("<html>")
