"""Tests of cnnutils.data.augment.random_affine: per-image random rotations, rescalings and
translations, against torch.rot90, torchvision's affine and make_shapes' own rendering."""

from __future__ import annotations

import pytest
import torch
import torchvision.transforms.v2.functional as TF

from cnnutils.data.augment import random_affine
from cnnutils.data.shapes import make_shapes


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_identity_and_quarter_turns_are_exact():
    x = torch.rand(3, 2, 8, 6, generator=gen())
    torch.testing.assert_close(random_affine(x), x, rtol=0, atol=1e-6)
    square = torch.rand(3, 2, 8, 8, generator=gen(1))
    # counter-clockwise: torch.rot90 from the first towards the second spatial axis
    turned = random_affine(square, degrees=90.0)
    torch.testing.assert_close(turned, torch.rot90(square, 1, (2, 3)), rtol=0, atol=1e-5)
    half = random_affine(square, degrees=180.0)
    torch.testing.assert_close(half, square.flip(2, 3), rtol=0, atol=1e-5)


def test_agrees_with_torchvision_affine():
    # content well inside the frame, so both fill the outside with zeros alike
    img = torch.zeros(1, 3, 16, 16)
    img[0, :, 4:10, 6:12] = torch.rand(3, 6, 6, generator=gen())
    ours = random_affine(img, degrees=30.0, scale=1.2, translate=0.25, padding_mode="zeros")
    # torchvision: angle clockwise-positive, translation in pixels with y pointing down
    theirs = TF.affine(
        img, angle=-30.0, translate=[2.0, -2.0], scale=1.2, shear=[0.0, 0.0],
        interpolation=TF.InterpolationMode.BILINEAR,
    )  # fmt: skip
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-5)


def test_rotating_a_rendered_shape_matches_rendering_it_rotated():
    flat = {
        "size": 32, "seed": 3, "scale": 0.6, "shift": 0.0,
        "colour": (1.0, 0.5, 0.2), "background": (0.1, 0.1, 0.1),
    }  # fmt: skip
    upright = make_shapes(5, rotation=0.0, **flat)  # circle, square, triangle, cross, ring
    turned = make_shapes(5, rotation=40.0, **flat)
    error = (random_affine(upright.x, degrees=40.0) - turned.x).abs().mean(dim=(1, 2, 3))
    change = (upright.x - turned.x).abs().mean(dim=(1, 2, 3))
    assert error.max() < 0.01  # bilinear resampling blurs the antialiased edge a little
    assert change[1:4].min() > 0.03 and change[[0, 4]].max() < 1e-6  # circle, ring: unchanged


def test_each_image_gets_its_own_draw_and_the_seed_fixes_them():
    x = make_shapes(8, size=16, seed=0, rotation=0.0, shift=0.0).x
    ranges = {"degrees": (0.0, 360.0), "scale": (0.8, 1.2), "translate": (-0.2, 0.2)}
    a = random_affine(x, **ranges, generator=gen(5))
    torch.testing.assert_close(a, random_affine(x, **ranges, generator=gen(5)), rtol=0, atol=0)
    square = x[1:2].expand(8, -1, -1, -1)  # eight copies of one square
    same = random_affine(square, degrees=(0.0, 360.0), generator=gen(6))
    assert (same[1:] - same[:1]).abs().flatten(1).amax(1).min() > 0.05


def test_border_padding_keeps_a_plain_background():
    background = torch.tensor([0.2, 0.3, 0.4]).view(1, 3, 1, 1)
    x = background.expand(4, 3, 12, 12).clone()
    out = random_affine(x, degrees=(0.0, 360.0), scale=(0.5, 2.0), translate=0.5, generator=gen())
    torch.testing.assert_close(out, x, rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"scale": 0.0}, ValueError, "scale must be positive"),
        ({"degrees": (10.0, 0.0)}, ValueError, "low <= high"),
        ({"degrees": (0.0, 1.0, 2.0)}, ValueError, "a number or a"),
        ({"translate": "a"}, TypeError, "translate must be a number"),
        ({"padding_mode": "reflect"}, ValueError, "padding_mode must be one of"),
        ({"generator": 3}, TypeError, "generator must be a torch.Generator"),
    ],
)
def test_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        random_affine(torch.zeros(1, 1, 4, 4), **kwargs)


def test_rejects_bad_images():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        random_affine(torch.zeros(4, 4))
    with pytest.raises(TypeError, match="floating"):
        random_affine(torch.zeros(1, 1, 4, 4, dtype=torch.int64))
