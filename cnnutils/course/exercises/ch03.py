"""Self-checks for chapter 03, Why convolutions work."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnutils.course.exercises import exercise, expect, need, parameter_count
from cnnutils.course.exercises._references import _binomial_blur
from cnnutils.geometry import receptive_field
from cnnutils.ops.equivariance import equivariance_error
from cnnutils.ops.locally_connected import LocallyConnected2d

__all__: list[str] = []


def _sizes(kernels: list[int], strides: list[int], *, jump_after: bool = False) -> list[int]:
    """Receptive field sizes; ``jump_after`` is the mistake of scaling the jump too early."""
    size, jump, sizes = 1, 1, []
    for k, s in zip(kernels, strides, strict=True):
        if jump_after:
            jump *= s
        size += (k - 1) * jump
        if not jump_after:
            jump *= s
        sizes.append(size)
    return sizes


def _layers_needed(stride: int, target: int = 32) -> int:
    n = 1
    while receptive_field([(3, stride)] * n)[-1].size < target:
        n += 1
    return n


@exercise(
    "03.1",
    names=("field_sizes", "n_stride1", "n_stride2"),
    functions=("field_sizes",),
)
def _receptive_fields(ns: Mapping[str, Any]) -> str:
    field_sizes = need(ns, "field_sizes")
    rng = np.random.default_rng(0)
    cases = [([3, 3, 3], [1, 1, 1]), ([3, 3, 3], [2, 2, 2]), ([5, 3, 3], [1, 2, 1])]
    for _ in range(30):
        n = int(rng.integers(1, 7))
        cases.append((rng.integers(1, 8, n).tolist(), rng.integers(1, 4, n).tolist()))
    for kernels, strides in cases:
        want = [f.size for f in receptive_field(list(zip(kernels, strides, strict=True)))]
        got = field_sizes(kernels, strides)
        try:
            got = [int(v) for v in got]
        except (TypeError, ValueError):
            got = repr(got)
        hint = ""
        if got == _sizes(kernels, [1] * len(kernels)):
            hint = " (the jump must grow: multiply it by each layer's stride)"
        elif got == _sizes(kernels, strides, jump_after=True):
            hint = " (a layer's growth uses the jump of its input, before its own stride)"
        elif isinstance(got, list) and len(got) == len(want) and got == [w - 1 for w in want]:
            hint = " (start from a field of 1 pixel, the input pixel itself)"
        expect(
            got == want,
            f"field_sizes({kernels}, {strides}) = {got}, expected one size per layer, "
            f"{want}{hint}.",
        )
    n_stride1, n_stride2 = need(ns, "n_stride1", "n_stride2")
    for name, value, stride in (("n_stride1", n_stride1, 1), ("n_stride2", n_stride2, 2)):
        want = _layers_needed(stride)
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0:
            size = receptive_field([(3, stride)] * int(value))[-1].size
            detail = f"{value} layers see {size} × {size} pixels"
        else:
            detail = f"{name} should be a positive number of layers, got {value!r}"
        expect(
            value == want,
            f"{name}: {detail}; find the smallest number of 3 × 3 stride-{stride} layers "
            "whose field is at least 32.",
        )
    return f"32 × 32 needs {_layers_needed(1)} layers at stride 1, {_layers_needed(2)} at stride 2."


@exercise("03.2", names=("blurred", "blur_errors"), functions=("blurred",))
def _blur_before_subsampling(ns: Mapping[str, Any]) -> str:
    blurred, blur_errors = need(ns, "blurred", "blur_errors")
    make_conv, image = need(ns, "make_conv", "image")
    shifts = range(9)
    with torch.random.fork_rng(devices=[]):  # make_conv reseeds the global generator
        dense_map = make_conv("circular")
        plain = make_conv("circular", stride=2)
    with torch.no_grad():
        _check_blurred(blurred, image, dense_map)
    errors = _check_blur_errors(blurred, blur_errors, image, shifts)
    plain_odd = max(equivariance_error(plain, image, 0, d, stride=2) for d in shifts[1::2])
    return f"even shifts exact; odd: {errors[1::2].max():.3f} instead of {plain_odd:.3f}."


def _blur_reference(
    dense_map: nn.Module, x: torch.Tensor, padding: str = "circular"
) -> torch.Tensor:
    """The stride-1 maps, padded by 1 (circularly or with zeros), blurred at stride 2."""
    y = F.pad(dense_map(x), (1, 1, 1, 1), mode="circular" if padding == "circular" else "constant")
    return F.conv2d(y, _binomial_blur(8, x), stride=2, groups=8)


def _check_blurred(blurred: Any, image: torch.Tensor, dense_map: nn.Module) -> None:
    got, want = blurred(image), _blur_reference(dense_map, image)
    expect(
        isinstance(got, torch.Tensor),
        f"blurred(image) should return a tensor, got {type(got).__name__}.",
    )
    got = got.detach()
    if got.shape != want.shape:
        hint = ""
        if got.shape[-1] == image.shape[-1]:
            hint = " Apply the blur with stride 2."
        elif got.shape[-1] == want.shape[-1] - 1:
            hint = " Pad the maps circularly by 1 before the blur."
        expect(
            False,
            f"blurred(image) has shape {tuple(got.shape)}, expected {tuple(want.shape)}." + hint,
        )
    subsampled = dense_map(image)[..., ::2, ::2]
    expect(
        not torch.allclose(got, subsampled),
        "blurred only subsamples the stride-1 maps: blur them with the binomial kernel, "
        "at stride 2, instead.",
    )
    expect(
        not torch.allclose(got, _blur_reference(dense_map, image, padding="zeros")),
        "blurred pads with zeros; use circular padding (F.pad(..., mode='circular')), or "
        "the borders break equivariance.",
    )
    error = (got - want).abs().max().item()
    expect(
        error < 1e-6 * want.abs().max().item(),
        f"blurred(image) differs from the reference by up to {error:.2g}: stride-1 "
        "layer make_conv('circular'), circular padding of 1, then the normalised "
        "binomial blur (1/16)[1, 2, 1]ᵀ[1, 2, 1] on each map with stride 2 and groups=8.",
    )


def _check_blur_errors(
    blurred: Any, blur_errors: Any, image: torch.Tensor, shifts: range
) -> np.ndarray:
    errors = np.asarray(blur_errors, dtype=float).ravel()
    expect(
        errors.shape == (len(shifts),),
        f"blur_errors should hold one error per shift 0–8, 9 numbers, got {errors.size}.",
    )
    want_errors = np.array([equivariance_error(blurred, image, 0, d, stride=2) for d in shifts])
    stride_1 = np.array([equivariance_error(blurred, image, 0, d) for d in shifts])
    hint = " (pass stride=2: the output grid is twice as coarse)"
    expect(
        np.allclose(errors, want_errors, rtol=1e-6, atol=1e-9),
        f"blur_errors[:3] is {np.round(errors[:3], 3).tolist()}, expected "
        f"{np.round(want_errors[:3], 3).tolist()} from equivariance_error(blurred, image, 0, d, "
        f"stride=2){hint if np.allclose(errors, stride_1) else ''}.",
    )
    return errors


@exercise(
    "03.3",
    names=("untied_parameters", "n_untied"),
    functions=("untied_parameters",),
)
def _untying(ns: Mapping[str, Any]) -> str:
    untied_parameters = need(ns, "untied_parameters")
    for c_in, c_out, k, size, stride, padding in [
        (3, 96, 11, 224, 4, 2),
        (3, 16, 5, 32, 1, 2),
        (8, 4, 3, 9, 2, 0),
    ]:
        layer = LocallyConnected2d(
            c_in, c_out, k, input_size=size, stride=stride, padding=padding, device="meta"
        )
        want = parameter_count(layer)
        got = untied_parameters(c_in, c_out, k, size, stride, padding)
        side = (size + 2 * padding - k) // stride + 1
        hint = ""
        if got == want - side * side * c_out:
            hint = " (each position has its own bias too)"
        elif got == want - side * side * c_out + c_out:
            hint = " (the biases are not shared either: one per position and filter)"
        elif got == want // side**2:
            hint = " (that is the convolution's count: multiply by the output positions)"
        elif padding and got == parameter_count(
            LocallyConnected2d(c_in, c_out, k, input_size=size, stride=stride, device="meta")
        ):
            hint = " (the padding adds output positions)"
        expect(
            got == want,
            f"untied_parameters({c_in}, {c_out}, {k}, {size}, {stride}, {padding}) = {got!r}, "
            f"expected {want:,}{hint}.",
        )
    n_untied = need(ns, "n_untied")
    want = parameter_count(
        LocallyConnected2d(3, 96, 11, input_size=224, stride=4, padding=2, device="meta")
    )
    expect(
        n_untied == want,
        f"n_untied is {n_untied!r}, expected untied_parameters(3, 96, 11, 224, 4, 2).",
    )
    conv = parameter_count(nn.Conv2d(3, 96, 11, stride=4, padding=2, device="meta"))
    return f"{want:,} parameters, {want // conv:,}× the convolution's."
