"""Self-checks for chapter 04, Convolution layers on volumes."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnutils.course.exercises import Unsolved, exercise, expect, need, whole_number
from cnnutils.geometry import conv_output_size, untouched_indices, window_taps

__all__: list[str] = []


def _int_list(value: Any, what: str) -> list[int]:
    if value is None or isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise Unsolved(f"{what} should be a list of ints, got {value!r}.")
    items = list(value)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in items):
        raise Unsolved(f"{what} should be a list of ints, got {items!r}.")
    return items


def _macs(module: nn.Module, in_shape: tuple[int, ...]) -> int:
    """Multiply-adds of ``module`` on one image: PyTorch's FLOP count, on the meta device, / 2."""
    with FlopCounterMode(display=False) as counter:
        module.to("meta")(torch.empty(1, *in_shape, device="meta"))
    return counter.get_total_flops() // 2


def _params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@exercise("04.1", names=("out_224", "never_read_224", "smallest_exact", "out_exact"))
def _alexnet_width(ns: Mapping[str, Any]) -> str:
    out_224 = whole_number(need(ns, "out_224"), "out_224")
    want = conv_output_size(224, 11, stride=4)
    hint = ""
    if out_224 == want + 1:
        hint = " 55 is the output on 227 pixels; on 224 the last window does not fit. Floor it."
    elif out_224 == want - 1:
        hint = " Did you forget the + 1 (the window at position 0)?"
    expect(
        out_224 == want,
        f"out_224 is {out_224}, expected ⌊(224 - 11) / 4⌋ + 1 = {want}.{hint}",
    )
    never = _int_list(need(ns, "never_read_224"), "never_read_224")
    want_never = untouched_indices(224, 11, stride=4)
    last_window = window_taps(224, 11, stride=4)[-1]
    hint = ""
    if any(i >= 224 or i < 0 for i in never):
        hint = " Columns are numbered 0 … 223."
    elif not never:
        hint = f" The last window reads columns {last_window[0]}–{last_window[-1]}: what is after?"
    expect(
        sorted(never) == want_never,
        f"never_read_224 is {never}, expected {want_never}.{hint}",
    )
    smallest, out_exact = need(ns, "smallest_exact", "out_exact")
    smallest = whole_number(smallest, "smallest_exact")
    want_smallest = next(w for w in itertools.count(224) if (w - 11) % 4 == 0)
    expect(
        smallest == want_smallest,
        f"smallest_exact is {smallest}, expected the first width ≥ 224 where (width - 11) is "
        f"a multiple of 4: (224 - 11) % 4 = {(224 - 11) % 4}, so add {want_smallest - 224}.",
    )
    out_exact = whole_number(out_exact, "out_exact")
    want_exact = conv_output_size(want_smallest, 11, stride=4)
    expect(
        out_exact == want_exact,
        f"out_exact is {out_exact}, expected (227 - 11) / 4 + 1 = {want_exact}.",
    )
    return f"{want} columns on 224 ({want_never[0]} unread); {want_smallest} gives {want_exact}."


@exercise(
    "04.2",
    names=("direct_3x3", "bottleneck_3x3", "params_3x3_direct", "params_3x3_bottleneck"),
)
def _inception_3x3(ns: Mapping[str, Any]) -> str:
    direct = whole_number(need(ns, "direct_3x3"), "direct_3x3")
    shape = (192, 28, 28)
    reduce = nn.Conv2d(192, 96, 1, device="meta")
    spatial = nn.Conv2d(96, 128, 3, padding=1, device="meta")
    want_direct = _macs(nn.Conv2d(192, 128, 3, padding=1, device="meta"), shape)
    want_reduce, want_spatial = _macs(reduce, shape), _macs(spatial, (96, 28, 28))
    hint = ""
    if direct == 2 * want_direct:
        hint = " That is FLOPs: count one multiply-add per weight per output position."
    elif direct == _macs(nn.Conv2d(192, 128, 3, device="meta"), shape):
        hint = " With padding 1 the output stays 28 × 28."
    expect(direct == want_direct, f"direct_3x3 is {direct:,}, expected {want_direct:,}.{hint}")
    bottleneck = whole_number(need(ns, "bottleneck_3x3"), "bottleneck_3x3")
    hint = ""
    if bottleneck == want_spatial:
        hint = " Add the 1 × 1 reduction's multiply-adds: both layers cost."
    elif bottleneck == _macs(nn.Conv2d(192, 128, 3, padding=1, device="meta"), shape) + want_reduce:
        hint = " The 3 × 3 layer sees the 96 reduced channels, not 192."
    expect(
        bottleneck == want_reduce + want_spatial,
        f"bottleneck_3x3 is {bottleneck:,}, expected {want_reduce:,} (1 × 1) + "
        f"{want_spatial:,} (3 × 3) = {want_reduce + want_spatial:,}.{hint}",
    )
    p_direct, p_bottleneck = need(ns, "params_3x3_direct", "params_3x3_bottleneck")
    p_direct = whole_number(p_direct, "params_3x3_direct")
    p_bottleneck = whole_number(p_bottleneck, "params_3x3_bottleneck")
    want_p = _params(nn.Conv2d(192, 128, 3, device="meta"))
    want_pb = _params(reduce) + _params(spatial)
    expect(
        p_direct == want_p,
        f"params_3x3_direct is {p_direct:,}, expected {want_p:,}"
        + (" (with the 128 biases)." if p_direct == want_p - 128 else "."),
    )
    expect(
        p_bottleneck == want_pb,
        f"params_3x3_bottleneck is {p_bottleneck:,}, expected {want_pb:,}"
        + (" (both layers have biases)." if p_bottleneck < want_pb else "."),
    )
    macs_ratio, params_ratio = want_direct / (want_reduce + want_spatial), want_p / want_pb
    return f"{macs_ratio:.2f}× fewer multiply-adds, {params_ratio:.2f}× fewer parameters."


@exercise("04.3", names=("merged", "rank"))
def _linear_bottleneck(ns: Mapping[str, Any]) -> str:
    merged = need(ns, "merged")
    expect(
        isinstance(merged, torch.Tensor),
        f"merged should be a tensor of shape (32, 192, 5, 5), got {type(merged).__name__}.",
    )
    expect(
        tuple(merged.shape) == (32, 192, 5, 5),
        f"merged has shape {tuple(merged.shape)}, expected (32, 192, 5, 5): "
        "(out channels of w5, in channels of w1, 5, 5).",
    )
    w1, w5 = need(ns, "w1", "w5")
    w1, w5 = w1.detach().cpu().double(), w5.detach().cpu().double()
    merged = merged.detach().cpu().double()
    x = torch.randn(1, 192, 9, 9, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    two_layers = F.conv2d(F.conv2d(x, w1), w5, padding=2)
    expect(
        torch.allclose(F.conv2d(x, merged, padding=2), two_layers, rtol=1e-6, atol=1e-8),
        "one 5 × 5 convolution with `merged` does not reproduce the two layers: "
        "merged[o, c] = Σ_m w5[o, m] · w1[m, c, 0, 0].",
    )
    rank = whole_number(need(ns, "rank"), "rank")
    matrix = merged.permute(1, 0, 2, 3).reshape(192, -1)
    want = int(torch.linalg.matrix_rank(matrix))
    hint = ""
    if rank == 32:
        hint = " 32 is the number of output channels; view one row per *input* channel."
    elif rank == 192:
        hint = " A general layer could reach 192; this one goes through 16 channels."
    expect(rank == want, f"rank is {rank}, expected {want}.{hint}")
    return f"one 5 × 5 convolution, of rank {want} (not 192)."


def _never_read_cases() -> list[tuple[int, int, int, int, int]]:
    """(size, k, s, p, d): the chapter's examples first (their hints teach most), then a grid."""
    cases = [(7, 3, 3, 0, 1), (7, 3, 2, 0, 1), (9, 3, 2, 0, 2), (9, 3, 2, 1, 2), (224, 11, 4, 0, 1)]
    grid = itertools.product(range(1, 13), (1, 2, 3, 4), (1, 2, 3, 4), (0, 1, 2), (1, 2, 3))
    cases += [case for case in grid if case[4] * (case[1] - 1) + 1 <= case[0] + 2 * case[3]]
    return cases


@exercise("04.4", names=("never_read", "gaps_p0", "gaps_p1"), functions=("never_read",))
def _never_read(ns: Mapping[str, Any]) -> str:
    never_read = need(ns, "never_read")
    cases = _never_read_cases()
    for size, k, s, p, d in cases:
        call = f"never_read({size}, {k}, stride={s}, padding={p}, dilation={d})"
        got = _int_list(never_read(size, k, stride=s, padding=p, dilation=d), call)
        want = untouched_indices(size, k, s, p, d)
        if got == want:
            continue
        read = sorted({t for window in window_taps(size, k, s, p, d) for t in window})
        hint = ""
        if any(i < 0 or i >= size for i in got):
            hint = " Keep indices 0 … size - 1 only: the others are padding."
        elif not got and want and want[-1] > read[-1]:
            hint = " Did you floor? The last window must fit inside the padded input."
        elif d > 1 and got == untouched_indices(size, k, s, p, 1):
            hint = f" With dilation {d} the taps are {d} apart."
        elif got and got == [i for i in read if 0 <= i < size]:
            hint = " That is what the windows read; return what they do not."
        raise Unsolved(f"{call} = {got}, expected {want}.{hint}")
    gaps_p0, gaps_p1 = need(ns, "gaps_p0", "gaps_p1")
    want0, want1 = untouched_indices(9, 3, 2, 0, 2), untouched_indices(9, 3, 2, 1, 2)
    expect(
        _int_list(gaps_p0, "gaps_p0") == want0,
        f"gaps_p0 is {gaps_p0}, expected never_read(9, 3, stride=2, dilation=2) = {want0}.",
    )
    expect(
        _int_list(gaps_p1, "gaps_p1") == want1,
        f"gaps_p1 is {gaps_p1}, expected never_read(9, 3, stride=2, padding=1, dilation=2) = "
        f"{want1}.",
    )
    return f"agrees with untouched_indices on {len(cases):,} settings."
