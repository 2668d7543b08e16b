"""Self-checks for chapter 02, The convolution operation."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import scipy.signal
import torch
import torch.nn.functional as F

from cnnutils.course.exercises import Unsolved, exercise, expect, need
from cnnutils.ops.filters import filter2d, gaussian_kernel
from cnnutils.viz.photos import load_photo

__all__: list[str] = []


def _tensor(value: Any, what: str) -> torch.Tensor:
    """``value`` as a float64 CPU tensor, or :class:`Unsolved` saying what it should be."""
    if not isinstance(value, torch.Tensor):
        raise Unsolved(f"{what} should be a torch.Tensor, got {type(value).__name__}.")
    return value.detach().to("cpu", torch.float64)


def _close(a: torch.Tensor, b: torch.Tensor, atol: float = 1e-6) -> bool:
    return a.shape == b.shape and torch.allclose(a, b, rtol=0, atol=atol)


@exercise(
    "02.1",
    names=("blur_separable", "taps_per_pixel"),
    functions=("blur_separable", "taps_per_pixel"),
)
def _separable(ns: Mapping[str, Any]) -> str:
    blur_separable, taps_per_pixel = need(ns, "blur_separable", "taps_per_pixel")
    image = load_photo("coffee", size=96)
    for sigma in (0.8, 2.0, 3.5):
        kernel = gaussian_kernel(sigma, dtype=torch.float64)
        k = kernel.shape[0]
        got = _tensor(blur_separable(image, sigma), f"blur_separable(image, {sigma})")
        want = filter2d(image, kernel)
        expect(
            got.shape == want.shape,
            f"blur_separable(image, {sigma}) has shape {tuple(got.shape)}, expected the "
            f"image's {tuple(want.shape)}: filter2d keeps the size, so use it for both passes.",
        )
        row = gaussian_kernel(sigma, size=(1, k), dtype=torch.float64)
        one_pass = [filter2d(image, row), filter2d(image, row.T)]
        expect(
            not any(_close(got, p) for p in one_pass),
            f"blur_separable(image, {sigma}) blurs along one axis only: filter the result of "
            "the first pass with the transposed (k × 1) kernel.",
        )
        error = (got - want).abs().max().item()
        expect(
            error < 1e-6,
            f"blur_separable(image, {sigma}) differs from the 2-D Gaussian blur by up to "
            f"{error:.2g}: the 1-D kernel should be gaussian_kernel(sigma, size=(1, k)) with "
            f"k = {k}, the 2-D kernel's size.",
        )
    for sigma in (0.8, 2.0, 3.5):
        k = gaussian_kernel(sigma).shape[0]
        got = taps_per_pixel(sigma)
        expect(
            isinstance(got, (tuple, list)) and len(got) == 2,
            f"taps_per_pixel({sigma}) should return a pair (2-D, two passes), got {got!r}.",
        )
        want = (k * k, 2 * k)
        hint = ""
        if tuple(got) == (k * k, k):
            hint = " (there are two passes of k taps each)"
        elif tuple(got) == want[::-1]:
            hint = " (the 2-D kernel's count comes first)"
        expect(
            tuple(got) == want,
            f"taps_per_pixel({sigma}) = {tuple(got)!r}, expected {want} for a {k} × {k} "
            f"kernel{hint}.",
        )
    k = gaussian_kernel(2.0).shape[0]
    return f"two passes = one 2-D blur; σ = 2: {k * k} → {2 * k} taps."


@exercise("02.2", names=("two_blurs", "one_blur", "blur_gap"))
def _blurring_twice(ns: Mapping[str, Any]) -> str:
    two_blurs, one_blur, blur_gap = need(ns, "two_blurs", "one_blur", "blur_gap")
    two_blurs = _tensor(two_blurs, "two_blurs")
    one_blur = _tensor(one_blur, "one_blur")
    photo = load_photo("astronaut", size=128)

    def blur(image: torch.Tensor, sigma: float) -> torch.Tensor:
        return filter2d(image, gaussian_kernel(sigma, dtype=torch.float64))

    want_one = blur(photo, math.sqrt(5))
    expect(
        one_blur.shape == want_one.shape,
        f"one_blur has shape {tuple(one_blur.shape)}, expected {tuple(want_one.shape)}: blur "
        'load_photo("astronaut", size=128) with filter2d.',
    )
    expect(
        not _close(one_blur, blur(photo, 3.0)),
        "one_blur uses σ = 1 + 2 = 3: standard deviations add in squares, σ = √(1² + 2²) = √5.",
    )
    expect(
        _close(one_blur, want_one),
        "one_blur is not the astronaut blurred once with gaussian_kernel(math.sqrt(5)).",
    )
    want_two = blur(blur(photo, 1.0), 2.0)
    expect(
        _close(two_blurs, want_two),
        "two_blurs is not the astronaut blurred with σ = 1 and then the result with σ = 2 "
        "(filter2d twice).",
    )
    if isinstance(blur_gap, torch.Tensor) and blur_gap.numel() == 1:
        blur_gap = blur_gap.item()
    expect(
        isinstance(blur_gap, numbers.Real) and not isinstance(blur_gap, bool),
        f"blur_gap should be a number, got {type(blur_gap).__name__}.",
    )
    gap = (two_blurs - one_blur).abs().max().item()
    expect(
        math.isclose(blur_gap, gap, rel_tol=1e-6),
        f"blur_gap is {blur_gap:.3g}, but the largest absolute difference between two_blurs "
        f"and one_blur is {gap:.3g}.",
    )
    expect(1e-6 < gap < 1e-4, f"blur_gap is {gap:.3g}, expected of the order of 1e-5.")
    return "one blur with σ = √5 = two blurs, to within 1e-4."


@exercise("02.3", names=("to_true_convolution",), functions=("to_true_convolution",))
def _conventions(ns: Mapping[str, Any]) -> str:
    to_true_convolution = need(ns, "to_true_convolution")
    generator = torch.Generator().manual_seed(2)
    x = torch.randn(3, 11, 9, generator=generator, dtype=torch.float64)
    weight = torch.randn(2, 3, 4, 3, generator=generator, dtype=torch.float64)
    original = weight.clone()
    got = _tensor(to_true_convolution(weight), "to_true_convolution(weight)")
    expect(
        torch.equal(weight, original),
        "to_true_convolution changed its argument in place; return a new tensor.",
    )
    expect(
        got.shape == weight.shape,
        f"to_true_convolution(weight) has shape {tuple(got.shape)}, expected the weight's "
        f"{tuple(weight.shape)}.",
    )
    wrong = {
        (): "the weights are unchanged, but true convolution flips the kernel: rotate each "
        "kernel by 180°.",
        (-1,): "only the last axis is flipped: rotating by 180° flips both spatial axes.",
        (-2,): "only the height axis is flipped: rotating by 180° flips both spatial axes.",
        (0, 1, 2, 3): "flip only the two spatial axes: the channel axes index filters and a "
        "sum over input channels, which have no direction.",
        (1, 2, 3): "flip only the two spatial axes: the input channels are summed, and a sum "
        "has no direction.",
    }
    for dims, hint in wrong.items():
        expect(not torch.equal(got, weight.flip(dims) if dims else weight), hint)
    expected = F.conv2d(x[None], weight)[0]
    for o in range(weight.shape[0]):
        by_convolution = sum(
            scipy.signal.convolve2d(x[c].numpy(), got[o, c].numpy(), mode="valid")
            for c in range(weight.shape[1])
        )
        error = abs(torch.from_numpy(by_convolution) - expected[o]).max().item()
        expect(
            error < 1e-10,
            f"with your weights, true convolution differs from PyTorch's conv2d by up to "
            f"{error:.2g} in output channel {o}.",
        )
    return "true convolution with flipped kernels = conv2d."
