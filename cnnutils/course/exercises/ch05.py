"""Self-checks for chapter 05, Pooling."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F

from cnnutils.course.exercises import Unsolved, exercise, expect, need
from cnnutils.course.exercises._references import _binomial_blur

__all__: list[str] = []


def _tensor(value: Any, call: str) -> torch.Tensor:
    """The reader's result as a CPU float64 tensor, or a hint that says what came back."""
    if value is None:
        raise Unsolved(f"{call} returned None: return the result tensor.")
    if not isinstance(value, torch.Tensor):
        raise Unsolved(
            f"{call} returned a value of type {type(value).__name__}, expected a torch.Tensor."
        )
    return value.detach().cpu().double()


def _number(value: Any, name: str) -> float:
    """The reader's value as a float (a 0-d tensor is fine), or a hint naming its type."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Unsolved(f"`{name}` should be a number, got {type(value).__name__}.")
    if not math.isfinite(value):
        raise Unsolved(f"`{name}` is {value}, expected a finite number.")
    return float(value)


def _random(*shape: int) -> torch.Tensor:
    """A seeded Gaussian test input in float64 (no ties, the same on every machine)."""
    return torch.randn(*shape, generator=torch.Generator().manual_seed(5), dtype=torch.float64)


@exercise("05.1", names=("max_pool_loops",), functions=("max_pool_loops",))
def _pooling_with_loops(ns: Mapping[str, Any]) -> str:
    max_pool_loops = need(ns, "max_pool_loops")
    x = _random(2, 3, 13, 10)
    for k, s in [(2, 2), (3, 2), (3, 1), (4, 3)]:
        call = f"max_pool_loops(x, {k}, {s}) on a (2, 3, 13, 10) input"
        got = _tensor(max_pool_loops(x.clone(), k, s), call)
        want = F.max_pool2d(x, k, s)
        if got.shape != want.shape:
            h, w = x.shape[-2:]
            hint = ""
            if got.shape[-2:] == F.max_pool2d(x, k, s, ceil_mode=True).shape[-2:]:
                hint = " (rounded up? an incomplete last window is dropped: floor)"
            elif got.shape[-2:] == ((h - k) // s, (w - k) // s):
                hint = " (one window short per axis: (H - k) // s + 1 windows fit)"
            elif got.shape[-2:] == (h // s, w // s):
                hint = " (H // s counts strides, not windows: (H - k) // s + 1)"
            elif got.shape[:2] != want.shape[:2]:
                hint = " (keep the batch and channel axes: pool each map separately)"
            raise Unsolved(
                f"{call} has shape {tuple(got.shape)}, expected {tuple(want.shape)}{hint}."
            )
        if not torch.equal(got, want):
            hint = "compare each window x[..., i*s : i*s + k, j*s : j*s + k] with its output"
            if torch.allclose(got, F.avg_pool2d(x, k, s)):
                hint = "that is the average of each window: take its maximum"
            elif torch.allclose(got, -F.max_pool2d(-x, k, s)):
                hint = "that is the minimum of each window: take its maximum"
            wrong = (got != want).double().mean().item()
            raise Unsolved(f"{call}: {wrong:.0%} of the outputs differ from F.max_pool2d; {hint}.")
    return "max_pool_loops matches F.max_pool2d for 2×2/2, 3×3/2, 3×3/1 and 4×4/3 windows."


@exercise("05.2", names=("avg_pool_backward",), functions=("avg_pool_backward",))
def _average_backward(ns: Mapping[str, Any]) -> str:
    avg_pool_backward = need(ns, "avg_pool_backward")
    x = _random(2, 3, 12, 8)
    for k in (2, 4):
        leaf = x.clone().requires_grad_()
        y = F.avg_pool2d(leaf, k)
        grad_out = _random(*y.shape) + 0.5
        y.backward(grad_out)
        want = leaf.grad
        call = f"avg_pool_backward(grad_out, {k}) for a (2, 3, 12, 8) input"
        got = _tensor(avg_pool_backward(grad_out.clone(), k), call)
        expect(
            got.shape == want.shape,
            f"{call} has shape {tuple(got.shape)}, expected the input's {tuple(want.shape)} "
            f"(each output gradient spreads over a {k}×{k} window).",
        )
        if torch.allclose(got, want):
            continue
        hint = "every input of a window gets the same share of the window's gradient"
        if torch.allclose(got, want * k * k):
            hint = f"{k * k}× too large: divide each window's gradient by k² = {k * k}"
        elif torch.allclose(got, want * k):
            hint = f"{k}× too large: divide by k² = {k * k}, not by k"
        elif (got != 0).double().mean().item() <= 1 / k**2 + 1e-9:
            hint = "only one input per window got a gradient: that is max pooling's rule"
        raise Unsolved(f"{call} differs from autograd through F.avg_pool2d; {hint}.")
    return "every input of a window gets 1/k² of its gradient, as autograd says."


def _fraction_with_gradient(x: torch.Tensor, k: int) -> float:
    leaf = x.clone().requires_grad_()
    F.max_pool2d(leaf, k, stride=2).sum().backward()
    return (leaf.grad != 0).double().mean().item()


@exercise("05.3", names=("frac_2x2", "frac_3x3"))
def _who_gets_a_gradient(ns: Mapping[str, Any]) -> str:
    frac_2x2 = _number(need(ns, "frac_2x2"), "frac_2x2")
    frac_3x3 = _number(need(ns, "frac_3x3"), "frac_3x3")
    inputs = 8 * 16 * 56 * 56
    x = _random(8, 16, 56, 56)
    want_2x2, want_3x3 = _fraction_with_gradient(x, 2), _fraction_with_gradient(x, 3)
    for name, got in (("frac_2x2", frac_2x2), ("frac_3x3", frac_3x3)):
        expect(
            0 <= got <= 1,
            f"`{name}` is {got:g}: a fraction lies in [0, 1] (divide the count by the "
            f"{inputs:,} inputs).",
        )
    if not math.isclose(frac_2x2, want_2x2, abs_tol=1e-9):
        hint = "2×2 windows at stride 2 tile the map, and each window has one winner"
        if math.isclose(frac_2x2, 1 - want_2x2, abs_tol=1e-9):
            hint = "you counted the inputs whose gradient is zero"
        raise Unsolved(f"frac_2x2 is {frac_2x2:.4f}, expected exactly {want_2x2:g}: {hint}.")
    windows = 27 * 27 / 56**2
    if not math.isclose(frac_3x3, want_3x3, abs_tol=0.01):
        hint = "use 3×3 windows at stride 2, a gradient of 1 per output, and count inputs != 0"
        if math.isclose(frac_3x3, windows, abs_tol=0.005):
            hint = (
                "that is windows per input (729 / 3136): an input that wins two or four "
                "overlapping windows counts once"
            )
        elif math.isclose(frac_3x3, 1 - want_3x3, abs_tol=0.01):
            hint = "you counted the inputs whose gradient is zero"
        elif math.isclose(frac_3x3, 18 * 18 / 56**2, abs_tol=0.005):
            hint = "that is stride 3; the exercise's 3×3 windows overlap at stride 2"
        raise Unsolved(f"frac_3x3 is {frac_3x3:.4f}, expected about {want_3x3:.3f}: {hint}.")
    return (
        f"2×2: {frac_2x2:.0%} of the inputs get a gradient, 3×3 at stride 2: {frac_3x3:.1%} "
        f"(one winner per window would allow {windows:.1%})."
    )


def _blur_pool(x: torch.Tensor) -> torch.Tensor:
    """Reference: dense 2×2 max (stride 1), then the binomial blur per channel at stride 2."""
    c = x.shape[1]
    dense = F.max_pool2d(x, 2, stride=1)
    return F.conv2d(dense, _binomial_blur(c, x), stride=2, groups=c)


def _aligned_change(y0: torch.Tensor, y1: torch.Tensor, d: int, stride: int) -> float:
    """The chapter's error after the best whole-cell shift (median over the crops)."""
    errors = []
    for cells in {math.floor(d / stride), math.ceil(d / stride)}:
        width = y0.shape[-1] - cells
        a, b = y1[..., :width], y0[..., cells : cells + width]
        ratio = (a - b).flatten(1).norm(dim=1) / b.flatten(1).norm(dim=1)
        errors.append(ratio.median().item())
    return min(errors)


@exercise("05.4", names=("blur_pool", "blur_error"), functions=("blur_pool",))
def _blur_before_subsampling(ns: Mapping[str, Any]) -> str:
    _check_blur_pool(need(ns, "blur_pool"))
    blur_error = _number(need(ns, "blur_error"), "blur_error")
    reps = ns.get("reps")
    expect(
        isinstance(reps, list) and len(reps) > 1,
        "`blur_error` needs the chapter's `reps` (the shifted photo crops' features): run the "
        "cells of the section on shifts first.",
    )
    features0, features1 = (reps[d]["conv, no pooling"].detach().cpu() for d in (0, 1))
    want_error = _aligned_change(_blur_pool(features0), _blur_pool(features1), 1, 2)
    max_error = _aligned_change(F.max_pool2d(features0, 2), F.max_pool2d(features1, 2), 1, 2)
    if not math.isclose(blur_error, want_error, rel_tol=1e-3):
        hint = "use aligned_change on the 1-pixel shift (d = 1) with stride 2"
        if math.isclose(blur_error, max_error, rel_tol=1e-3):
            hint = "that is plain 2×2 max pooling's error: apply blur_pool to the features"
        elif blur_error < 1e-6:
            hint = "a shift by 2 pixels is matched exactly: take the 1-pixel shift"
        raise Unsolved(f"blur_error is {blur_error:.3f}, expected {want_error:.3f}: {hint}.")
    return (
        f"after a 1-pixel shift the error is {blur_error:.2f} with blur pooling, "
        f"{max_error:.2f} with 2×2 max pooling."
    )


def _check_blur_pool(blur_pool: Any) -> None:
    x = _random(2, 3, 12, 10)
    c, call = x.shape[1], "blur_pool(x) on a (2, 3, 12, 10) input"
    got, want = _tensor(blur_pool(x.clone()), call), _blur_pool(x)
    blur, dense = _binomial_blur(c, x), F.max_pool2d(x, 2, stride=1)
    if got.shape != want.shape:
        hint = "2×2 max at stride 1 keeps H - 1 rows; the 3×3 blur at stride 2, no padding"
        if got.shape == F.conv2d(dense, blur, stride=2, padding=1, groups=c).shape:
            hint = "the blur has no padding"
        elif got.shape[-2:] == F.max_pool2d(x, 2).shape[-2:]:
            hint = "the dense max has stride 1; the blur does the subsampling (stride 2)"
        raise Unsolved(
            f"{call} has shape {tuple(got.shape)}, expected {tuple(want.shape)}: {hint}."
        )
    if not torch.allclose(got, want, rtol=1e-5, atol=1e-6):
        hint = "dense 2×2 max (stride 1), then the binomial blur on each channel at stride 2"
        mixed = F.conv2d(dense, blur.expand(c, c, 3, 3), stride=2)
        no_max = F.conv2d(x, blur, stride=2, groups=c)
        if torch.allclose(got, 16 * want, rtol=1e-5, atol=1e-6):
            hint = "16× too large: the binomial filter is divided by 16, so that it sums to 1"
        elif torch.allclose(got, mixed, rtol=1e-5, atol=1e-6):
            hint = "the blur mixes the channels: blur each one separately (groups=C)"
        elif no_max.shape == got.shape and torch.allclose(got, no_max, rtol=1e-5, atol=1e-6):
            hint = "the dense 2×2 max (stride 1) comes before the blur"
        raise Unsolved(f"{call} differs from the reference; {hint}.")
