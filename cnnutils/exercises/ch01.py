"""Self-checks for chapter 01, From MLPs to convolutions."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch

from cnnutils.exercises import exercise, expect, need
from cnnutils.filters import sobel_kernels

__all__: list[str] = []


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@exercise(
    "01.1",
    names=("dense_params", "conv_params", "n_alexnet_conv1", "n_alexnet_dense"),
    functions=("dense_params", "conv_params"),
)
def _counting(ns: Mapping[str, Any]) -> str:
    dense_params, conv_params = need(ns, "dense_params", "conv_params")
    for h, w, c, units in [(28, 28, 1, 10), (400, 400, 3, 500), (224, 224, 3, 4096)]:
        got = dense_params(h, w, c, units)
        want = _count(torch.nn.Linear(h * w * c, units, device="meta"))
        hint = " (weights only? add one bias per unit)" if got == want - units else ""
        expect(
            got == want, f"dense_params({h}, {w}, {c}, {units}) = {got!r}, expected {want}{hint}."
        )
    for c_in, c_out, k in [(1, 6, 5), (3, 96, 11), (96, 256, 5)]:
        got = conv_params(c_in, c_out, k)
        want = _count(torch.nn.Conv2d(c_in, c_out, k, device="meta"))
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
    return (
        f"both agree with PyTorch; the dense layer has {ratio:,.0f}× the conv layer's parameters."
    )


@exercise("01.2", names=("best_degrees",))
def _orientation(ns: Mapping[str, Any]) -> str:
    best = need(ns, "best_degrees")
    expect(
        isinstance(best, (int, float)) and not isinstance(best, bool),
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
    return "the 60° filter responds most to stripes along 60°."


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
    return "a perfect fit on stripes, with a kernel that is not Sobel's."
