"""Self-checks for chapter 07, AlexNet case study."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from cnnutils._checks import _is_int
from cnnutils.course.exercises import exercise, expect, need
from cnnutils.geometry import conv_output_size
from cnnutils.models.alexnet import alexnet
from cnnutils.ops.lrn import local_response_norm

__all__: list[str] = []


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@exercise("07.1", names=("layer4_params", "layer4_ungrouped"))
def _towers(ns: Mapping[str, Any]) -> str:
    grouped_layer = nn.Conv2d(384, 384, 3, padding=1, groups=2, device="meta")
    grouped, full = _count(grouped_layer), _count(nn.Conv2d(384, 384, 3, padding=1, device="meta"))
    one_tower = _count(nn.Conv2d(192, 192, 3, padding=1, device="meta"))
    got = need(ns, "layer4_params")
    expect(_is_int(got), f"layer4_params should be an integer, got {type(got).__name__}.")
    hints = {
        grouped - 384: " (one bias per filter is missing: 384 filters, 384 biases)",
        full: " (that is the layer without towers: each filter sees only its tower's 192 maps)",
        one_tower: " (that is one tower: 192 filters of 3×3×192; count both towers)",
    }
    expect(got == grouped, f"layer4_params = {got:,}, expected {grouped:,}{hints.get(got, '')}.")
    got = need(ns, "layer4_ungrouped")
    expect(_is_int(got), f"layer4_ungrouped should be an integer, got {type(got).__name__}.")
    hints = {
        full - 384: " (one bias per filter is missing)",
        grouped: " (that is the grouped layer again: without towers each filter sees all 384 maps)",
    }
    expect(got == full, f"layer4_ungrouped = {got:,}, expected {full:,}{hints.get(got, '')}.")
    return f"{grouped:,} with the towers, {full:,} without."


def _window_sums(a: torch.Tensor, before: int, after: int) -> torch.Tensor:
    """``Σ a[j]²`` for ``j`` from ``i - before`` to ``i + after``, clipped to the vector."""
    n = len(a)
    return torch.stack(
        [(a[max(0, i - before) : min(n, i + after + 1)] ** 2).sum() for i in range(n)]
    )


def _lrn_mistake(
    got: torch.Tensor, a: torch.Tensor, n: int, alpha: float, beta: float, k: float
) -> str | None:
    """A hint naming the mistake that reproduces ``got``, or ``None``."""
    half = n // 2
    sums = _window_sums(a, half, half)
    mistakes = {
        "you divided α by n (PyTorch's convention); the slide's formula multiplies the sum by α "
        "as it stands": a / (k + alpha / n * sums) ** beta,
        "your window holds n maps, as PyTorch's does; the formula's runs from i - n//2 to "
        "i + n//2 inclusive, n + 1 maps for even n": a
        / (k + alpha * _window_sums(a, half, (n - 1) // 2)) ** beta,
        "the window stops one map short: range(lo, hi) excludes hi, so use "
        "range(max(0, i - n // 2), min(N - 1, i + n // 2) + 1)": a
        / (k + alpha * _window_sums(a, half, half - 1)) ** beta,
        "β is the exponent of the whole denominator k + α Σ a², not of the sum alone": a
        / (k + alpha * sums**beta),
        "the sum is over the squares a_j², not the activations a_j": a
        / (k + alpha * _window_sums(a.abs().sqrt(), half, half)) ** beta,
    }
    for hint, wrong in mistakes.items():
        if torch.allclose(got, wrong, rtol=1e-6, atol=1e-9):
            return hint
    return None


@exercise("07.2", names=("lrn_loop",), functions=("lrn_loop",))
def _lrn_loop(ns: Mapping[str, Any]) -> str:
    lrn_loop = need(ns, "lrn_loop")
    generator = torch.Generator().manual_seed(7)
    a = 5 * torch.randn(10, generator=generator, dtype=torch.float64)
    for alpha, beta, k in [(0.1, 0.75, 2.0), (0.5, 0.5, 1.0)]:
        for n in (3, 5, 2, 4):  # odd n first: there the window is not in question
            args = f"lrn_loop(a, n={n}, alpha={alpha}, beta={beta}, k={k})"
            got = lrn_loop(a.clone(), n, alpha, beta, k)
            expect(got is not None, f"{args} returned None: return the normalised vector b.")
            got = torch.as_tensor(got, dtype=torch.float64).detach().cpu()
            expect(
                got.shape == a.shape,
                f"{args} has shape {tuple(got.shape)}, expected {tuple(a.shape)} "
                "(one value per map).",
            )
            lrn = local_response_norm(a.view(1, 10, 1, 1), n, alpha, beta, k, convention="paper")
            want = lrn.flatten()
            if torch.allclose(got, want, rtol=1e-6, atol=1e-9):
                continue
            hint = _lrn_mistake(got, a, n, alpha, beta, k)
            expect(hint is None, f"{args} differs from the formula: {hint}.")
            worst = int((got - want).abs().argmax())
            expect(
                False,
                f"{args} differs from local_response_norm, most at map {worst}: got "
                f"{got[worst].item():.4g}, expected {want[worst].item():.4g}. Use the arguments "
                "(not the paper's constants) and clip the window at 0 and N - 1.",
            )
    return "the slide's formula, for odd and even n."


def _features_chain(size: int, features: nn.Sequential, padding: bool = True) -> list[int]:
    """Sizes through ``features`` (convolutions and poolings), up to the first empty output."""
    sizes = [size]
    for layer in features:
        if not isinstance(layer, (nn.Conv2d, nn.MaxPool2d)):
            continue
        kernel, stride, pad = (
            (layer.kernel_size[0], layer.stride[0], layer.padding[0])
            if isinstance(layer, nn.Conv2d)
            else (layer.kernel_size, layer.stride, layer.padding)
        )
        try:
            sizes.append(conv_output_size(sizes[-1], kernel, stride, pad if padding else 0))
        except ValueError:
            sizes.append(0)
            break
    return sizes


@exercise("07.3", names=("smallest",))
def _smallest_input(ns: Mapping[str, Any]) -> str:
    smallest = need(ns, "smallest")
    expect(_is_int(smallest), f"smallest should be an integer, got {type(smallest).__name__}.")
    expect(smallest >= 1, f"smallest is {smallest}; an image has at least one pixel.")
    with torch.device("meta"):
        features = alexnet(variant="torchvision").features
    fits = lambda size: _features_chain(size, features)[-1] >= 1  # noqa: E731
    want = next(s for s in range(1, 1000) if fits(s))
    chain = _features_chain(smallest, features)
    expect(
        fits(smallest),
        f"at {smallest}×{smallest} the sizes run {' → '.join(map(str, chain[:-1]))} and the "
        "next layer has no output position left: too small.",
    )
    no_padding = next(s for s in range(1, 1000) if _features_chain(s, features, False)[-1] >= 1)
    hint = (
        " (did you leave out the padding? torchvision pads layer 1 by 2 and layers 2-5 too)"
        if smallest == no_padding
        else " (search upwards from 1 and stop at the first size that fits)"
    )
    expect(smallest == want, f"{smallest} fits, but so does {smallest - 1}{hint}.")
    return f"{want}×{want}: " + " → ".join(map(str, chain)) + "."
