"""Self-checks for chapter 01, From MLPs to convolutions."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import torch

from cnnutils.course.exercises import Unsolved, exercise, expect, need, parameter_count
from cnnutils.ops.filters import orientation_histogram, sobel_kernels

__all__: list[str] = []


@exercise(
    "01.1",
    names=("dense_params", "conv_params", "n_alexnet_conv1", "n_alexnet_dense"),
    functions=("dense_params", "conv_params"),
)
def _counting(ns: Mapping[str, Any]) -> str:
    dense_params, conv_params = need(ns, "dense_params", "conv_params")
    for h, w, c, units in [(28, 28, 1, 10), (400, 400, 3, 500), (224, 224, 3, 4096)]:
        got = dense_params(h, w, c, units)
        want = parameter_count(torch.nn.Linear(h * w * c, units, device="meta"))
        hint = " (weights only? add one bias per unit)" if got == want - units else ""
        expect(
            got == want, f"dense_params({h}, {w}, {c}, {units}) = {got!r}, expected {want}{hint}."
        )
    for c_in, c_out, k in [(1, 6, 5), (3, 96, 11), (96, 256, 5)]:
        got = conv_params(c_in, c_out, k)
        want = parameter_count(torch.nn.Conv2d(c_in, c_out, k, device="meta"))
        hint = ""
        if got == want - c_out:
            hint = " (one bias per filter is missing)"
        elif got == c_out * k * k + c_out:
            hint = " (each filter spans all input channels)"
        expect(got == want, f"conv_params({c_in}, {c_out}, {k}) = {got!r}, expected {want}{hint}.")
    conv1, dense = need(ns, "n_alexnet_conv1", "n_alexnet_dense")
    expect(conv1 == conv_params(3, 96, 11), "n_alexnet_conv1 should be conv_params(3, 96, 11).")
    expect(
        dense == dense_params(224, 224, 3, 4096),
        "n_alexnet_dense should be dense_params(224, 224, 3, 4096).",
    )
    ratio = dense / conv1
    return f"PyTorch agrees; the dense layer is {ratio:,.0f}× larger."


def _as_float64(value: Any, name: str) -> torch.Tensor:
    try:
        return torch.as_tensor(value, dtype=torch.float64).detach().cpu()
    except (TypeError, ValueError, RuntimeError) as error:
        raise Unsolved(
            f"`{name}` should be a tensor (or array) of numbers, got {type(value).__name__}."
        ) from error


def _stripe_direction(image: torch.Tensor) -> tuple[float, float]:
    """Direction (degrees in [0, 180), y down) and wavelength of a stripe image's strongest wave."""
    power = torch.fft.fft2(image - image.mean()).abs()
    row, col = divmod(int(power.argmax()), image.shape[1])
    fy = torch.fft.fftfreq(image.shape[0], dtype=torch.float64)[row].item()
    fx = torch.fft.fftfreq(image.shape[1], dtype=torch.float64)[col].item()
    return math.degrees(math.atan2(fy, fx)) % 180, 1 / math.hypot(fx, fy)


@exercise("01.2", names=("stripes_60", "best_degrees"))
def _orientation(ns: Mapping[str, Any]) -> str:
    stripes, best = need(ns, "stripes_60", "best_degrees")
    stripes = _as_float64(stripes, "stripes_60")
    expect(
        stripes.shape == (96, 96),
        f"stripes_60 should be a 96×96 image, got shape {tuple(stripes.shape)}.",
    )
    expect(stripes.std() > 0, "stripes_60 is constant: it should vary as a wave, e.g. a cosine.")
    direction, wavelength = _stripe_direction(stripes)
    expect(
        abs(direction - 120) > 5,
        f"stripes_60 varies along {direction:.0f}°, the mirror image of 60°: y points down, so "
        "use x cos θ + y sin θ with y the row index.",
    )
    expect(
        abs(direction - 60) <= 5,
        f"stripes_60 varies along {direction:.0f}°, not 60°: its intensity should depend on "
        "x cos 60° + y sin 60° only (x the column, y the row index).",
    )
    expect(
        abs(wavelength - 8) <= 1,
        f"the stripes' wavelength is about {wavelength:.1f} pixels, not 8: divide "
        "x cos θ + y sin θ by the wavelength before taking the cosine (in radians: times 2π).",
    )
    expect(
        isinstance(best, numbers.Real) and not isinstance(best, bool),
        f"best_degrees should be a number of degrees, got {type(best).__name__}.",
    )
    expect(
        not math.isclose(best % 180, 120, abs_tol=1e-6),
        f"best_degrees is {best}: y points down, so an angle measured upwards is mirrored "
        "(180° - θ).",
    )
    expect(
        math.isclose(best % 180, 60, abs_tol=1e-6),
        f"best_degrees is {best}, not 60: the stripes vary along 60°, so the filter whose "
        "x' axis points along 60° should respond most. Check the bank's angles and which "
        "axis you take the mean over.",
    )
    return "stripes along 60°, and the 60° filter responds most."


@exercise("01.3", names=("stripes_kernel", "stripe_losses"))
def _what_data_teach(ns: Mapping[str, Any]) -> str:
    kernel, losses = need(ns, "stripes_kernel", "stripe_losses")
    kernel = torch.as_tensor(kernel, dtype=torch.float64).detach().cpu()
    expect(
        kernel.shape == (3, 3), f"stripes_kernel should be 3×3, got shape {tuple(kernel.shape)}."
    )
    losses = [float(v) for v in losses]
    expect(len(losses) > 1, "stripe_losses should be the list of losses fit_filter returned.")
    expect(
        losses[-1] < 1e-3 * losses[0],
        f"the loss fell only from {losses[0]:.3g} to {losses[-1]:.3g}; train on the striped "
        "image with its own Sobel-x response as the target.",
    )
    sobel_x = sobel_kernels()[0].double()
    expect(
        torch.allclose(kernel.sum(dim=0), sobel_x.sum(dim=0), atol=0.05),
        f"the column sums are {kernel.sum(dim=0).tolist()}, expected Sobel's (-4, 0, 4) "
        "(is the image constant down each column?).",
    )
    expect(
        (kernel - sobel_x).abs().max() > 0.2,
        "the kernel is Sobel's: that happens only if the image varies down the columns too.",
    )
    return "a perfect fit, with a kernel that is not Sobel's."


@exercise("01.4", names=("brighter", "dimmer"))
def _invariance(ns: Mapping[str, Any]) -> str:
    brighter, dimmer = need(ns, "brighter", "dimmer")
    brighter = _as_float64(brighter, "brighter")
    dimmer = _as_float64(dimmer, "dimmer")
    photo = _as_float64(need(ns, "astronaut"), "astronaut")
    original = orientation_histogram(photo, cell_size=16, bins=9)
    for name, hist in (("brighter", brighter), ("dimmer", dimmer)):
        expect(
            hist.shape == original.shape,
            f"{name} should have the shape of the cell histograms, {tuple(original.shape)}, got "
            f"{tuple(hist.shape)}: use orientation_histogram(..., cell_size=16, bins=9).",
        )
    total = original.sum()

    def change(hist: torch.Tensor, reference: torch.Tensor) -> float:
        return ((hist - reference).abs().sum() / total).item()  # share of all votes moved

    expect(
        change(brighter, original) < 1e-4,
        f"brighter differs from the original histograms by {change(brighter, original):.1%} of "
        "the votes: it should be the histograms of astronaut + 0.2, and a constant offset "
        "cancels in every gradient.",
    )
    scale = (dimmer.sum() / total).item()
    expect(
        change(dimmer, original) > 1e-4,
        "dimmer equals the original histograms: did you multiply the photo by 0.5 before "
        "computing them?",
    )
    expect(
        change(dimmer, 0.5 * original) < 1e-4,
        f"dimmer holds {scale:.2f} times the original votes, expected 0.50: it should be the "
        "histograms of 0.5 * astronaut, where every gradient is halved.",
    )
    return "+0.2 changes no vote; × 0.5 halves every vote."
