"""Self-checks for chapter 06, LeNet-5."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch

from cnnutils.course.exercises import Unsolved, exercise, expect, need, whole_number
from cnnutils.geometry import conv_output_size
from cnnutils.models.lenet5 import C3_TABLE, C3Connections, ScaledTanh, lenet5

__all__: list[str] = []


@exercise("06.1", names=("c3_parameters",))
def _counting_c3(ns: Mapping[str, Any]) -> str:
    got = whole_number(need(ns, "c3_parameters"), "c3_parameters")
    want = sum(p.numel() for p in C3Connections().parameters())
    connections = sum(len(column) for column in C3_TABLE)
    maps, kernel = len(C3_TABLE), 5 * 5
    mistakes = {
        connections * kernel: "the 16 biases are missing, one per C3 map",
        connections * (kernel + 1): "one bias per C3 map, not one per connection",
        6 * maps * kernel + maps: "that is a full C3: only the pairs in C3_TABLE are connected",
        connections + maps: "each connection is a 5×5 kernel, 25 weights",
        connections: "that is the number of connected (C3 map, S2 map) pairs",
        want * 10 * 10: "that counts connections, the parameters used at all 10×10 positions",
    }
    hint = mistakes.get(got, "count the (C3 map, S2 map) pairs in C3_TABLE")
    expect(got == want, f"c3_parameters is {got:,}, expected {want:,}: {hint}.")
    return (
        f"C3 has {want:,} parameters: {connections} kernels of 5×5 and {maps} biases "
        f"(a full C3 would have {6 * maps * kernel + maps:,})."
    )


@exercise("06.2", names=("c5_size",))
def _c5_is_a_convolution(ns: Mapping[str, Any]) -> str:
    value = need(ns, "c5_size")
    if isinstance(value, (tuple, list, torch.Size)) and len(value) == 2 and value[0] == value[1]:
        value = value[0]
    got = whole_number(value, "c5_size")
    with torch.no_grad():
        want = lenet5(variant="classic").features(torch.zeros(1, 1, 44, 44)).shape[-1]
    if got != want:
        layers = {"C1": (5, 1), "S2": (2, 2), "C3": (5, 1), "S4": (2, 2), "C5": (5, 1)}
        size, after = 44, {}
        for stage, (kernel, stride) in layers.items():
            size = conv_output_size(size, kernel, stride=stride)
            after.setdefault(size, stage)
        hint = (
            "chain conv_output_size through C1 (k=5), S2 (k=2, s=2), C3, S4 and C5, and compare "
            "with classic.features(torch.zeros(1, 1, 44, 44)).shape"
        )
        if got in after:
            hint = f"that is the size after {after[got]}; go on to C5"
        elif got == 1:
            hint = "that is C5's size on a 32×32 input; the exercise's input is 44×44"
        raise Unsolved(f"c5_size is {got}, expected {want}: {hint}.")
    return (
        f"on a 44×44 input C5's maps are {want}×{want}: {want * want} windows of 32×32, "
        "4 pixels apart."
    )


@exercise("06.3", names=("a_max",))
def _scaled_tanh(ns: Mapping[str, Any]) -> str:
    value = need(ns, "a_max")
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    expect(
        isinstance(value, (int, float)) and not isinstance(value, bool),
        f"`a_max` should be a number, got {type(value).__name__}.",
    )
    amplitude, slope = ScaledTanh.amplitude, ScaledTanh.slope
    # |f''| = 2 A S² |tanh u| (1 - tanh² u) with u = S a peaks where tanh² u = 1/3.
    u_peak = math.atanh(1 / math.sqrt(3))
    want = u_peak / slope
    if not math.isclose(value, want, abs_tol=1e-3):
        hint = "differentiate twice with autograd and take the argmax of |f''|"
        if abs(value) < 1e-3:
            hint = (
                "f'' is 0 at a = 0 and negative for a > 0, so the argmax of f'' (like "
                "that of f') is 0: take the argmax of |f''|"
            )
        elif math.isclose(value, u_peak, abs_tol=1e-3):
            hint = "that is where plain tanh bends most; f scales its input: a = u / S"
        elif math.isclose(value, -want, abs_tol=1e-3):
            hint = "the exercise asks for the positive a"
        elif value == 1:
            hint = "the paper says near 1; find the exact peak on the grid, it lies a bit below"
        elif value >= 2.9:
            hint = "that is the end of the grid, where f itself is largest: differentiate twice"
        raise Unsolved(f"a_max is {value:.4f}, expected {want:.3f}: {hint}.")
    f_one = amplitude * math.tanh(slope)
    return f"f(1) = {f_one:.4f} and |f''| peaks at a = {value:.3f}, close to the targets ±1."
