"""Tests of cnnutils.geometry against nn.Conv2d, FlopCounterMode, F.unfold and autograd, and of
the volume animation of cnnutils.viz.animation."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F
from matplotlib.colors import same_color
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnutils.geometry import ConvCost, conv2d_cost, untouched_indices, window_taps
from cnnutils.viz.animation import (
    _INPUT_COLOR,
    _TAP_COLOR,
    volume_conv_animation,
    volume_conv_frame,
)

# (C_in, H, W), C_out, kernel, stride, padding, dilation, groups, bias: awkward geometry.
COST_CASES = [
    ((3, 32, 32), 6, 5, 1, 0, 1, 1, True),
    ((192, 28, 28), 32, 5, 1, 2, 1, 1, False),
    ((3, 224, 224), 96, 11, 4, 2, 1, 1, True),
    ((4, 9, 7), 6, (3, 2), (2, 1), (1, 0), (1, 2), 2, True),
    ((8, 10, 10), 8, 3, 1, 1, 1, 8, False),  # depthwise
    ((8, 10, 10), 16, 3, 2, 0, 3, 4, True),
    ((5, 6, 13), 7, (1, 5), 1, (0, 2), (1, 3), 1, True),
    ((16, 5, 5), 4, 1, 1, 0, 1, 1, True),  # 1×1
]


def torch_cost(in_shape, c_out, k, s, p, d, g, bias) -> tuple[tuple, int, int]:
    """Output shape, parameters and multiply-adds as PyTorch reports them (meta device)."""
    conv = nn.Conv2d(
        in_shape[0], c_out, k, stride=s, padding=p, dilation=d, groups=g, bias=bias, device="meta"
    )
    x = torch.empty(1, *in_shape, device="meta")
    with FlopCounterMode(display=False) as counter:
        out = conv(x)
    n_params = sum(t.numel() for t in conv.parameters())
    return tuple(out.shape[1:]), n_params, counter.get_total_flops() // 2


@pytest.mark.parametrize("case", COST_CASES, ids=str)
def test_conv2d_cost_matches_torch(case):
    in_shape, c_out, k, s, p, d, g, bias = case
    cost = conv2d_cost(in_shape, c_out, k, stride=s, padding=p, dilation=d, groups=g, bias=bias)
    out_shape, n_params, macs = torch_cost(*case)
    assert cost.out_shape == out_shape
    assert cost.parameters == n_params
    assert cost.multiply_adds == macs
    assert cost.flops == 2 * macs
    conv = nn.Conv2d(in_shape[0], c_out, k, groups=g, device="meta")
    assert cost.weight_shape == tuple(conv.weight.shape)


def test_conv2d_cost_grid_matches_torch():
    """Many settings: every one agrees with nn.Conv2d and FlopCounterMode."""
    n = 0
    for size, k, s, p, d, g in itertools.product(
        (5, 8, 11), (1, 2, 3, 5), (1, 2, 3), (0, 1, 2), (1, 2), (1, 2)
    ):
        if d * (k - 1) + 1 > size + 2 * p:
            continue
        case = ((4, size, size + 1), 6, k, s, p, d, g, bool(s % 2))
        cost = conv2d_cost(case[0], 6, k, stride=s, padding=p, dilation=d, groups=g, bias=case[-1])
        assert (cost.out_shape, cost.parameters, cost.multiply_adds) == torch_cost(*case), case
        n += 1
    assert n > 300


def test_conv2d_cost_groups_divide_costs():
    full = conv2d_cost((64, 16, 16), 128, 3, padding=1, bias=False)
    for g in (2, 4, 64):
        grouped = conv2d_cost((64, 16, 16), 128, 3, padding=1, groups=g, bias=False)
        assert grouped.parameters * g == full.parameters
        assert grouped.multiply_adds * g == full.multiply_adds


def test_conv2d_cost_is_frozen():
    cost = conv2d_cost((1, 4, 4), 1, 3)
    assert isinstance(cost, ConvCost)
    with pytest.raises(AttributeError):
        cost.parameters = 0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"in_shape": (3, 32)}, TypeError, r"conv2d_cost: in_shape must be a tuple \(C_in, H, W\)"),
        ({"in_shape": (3, 32, 0)}, ValueError, r"conv2d_cost: in_shape\[2\] must be >= 1"),
        ({"out_channels": 2.0}, TypeError, "conv2d_cost: out_channels must be an int"),
        ({"groups": 2}, ValueError, "conv2d_cost: groups must divide C_in and out_channels"),
        ({"stride": 0}, ValueError, "conv2d_cost: stride must be >= 1"),
        ({"padding": -1}, ValueError, "conv2d_cost: padding must be >= 0"),
        (
            {"kernel_size": (3, 3, 3)},
            TypeError,
            "conv2d_cost: kernel_size must be an int or a pair",
        ),
        ({"kernel_size": 9}, ValueError, r"conv2d_cost: the window .* must fit"),
        ({"dilation": 5}, ValueError, r"conv2d_cost: the window .* must fit"),
        ({"bias": 1}, TypeError, "conv2d_cost: bias must be a bool"),
    ],
)
def test_conv2d_cost_errors(kwargs, error, match):
    args = {"in_shape": (3, 8, 8), "out_channels": 4, "kernel_size": 3, **kwargs}
    in_shape, c_out, k = args.pop("in_shape"), args.pop("out_channels"), args.pop("kernel_size")
    with pytest.raises(error, match=match):
        conv2d_cost(in_shape, c_out, k, **args)


# --- window_taps and untouched_indices --------------------------------------------------------

AXIS_CASES = [
    (size, k, s, p, d)
    for size, k, s, p, d in itertools.product(
        range(1, 12), (1, 2, 3, 4), (1, 2, 3), (0, 1, 2), (1, 2, 3)
    )
    if d * (k - 1) + 1 <= size + 2 * p
]


def test_window_taps_match_unfold():
    """F.unfold of an image holding index + 1 (0 in the padding) lists the same taps."""
    for size, k, s, p, d in AXIS_CASES:
        index = torch.arange(1, size + 1, dtype=torch.float64).view(1, 1, 1, size)
        cols = F.unfold(index, (1, k), dilation=(1, d), padding=(0, p), stride=(1, s))[0]
        expected = (cols - 1).long().T.tolist()  # (L, k): -1 marks a padding tap
        taps = [[t if 0 <= t < size else -1 for t in w] for w in window_taps(size, k, s, p, d)]
        assert taps == expected, (size, k, s, p, d)


def test_untouched_indices_match_gradient_support():
    """An input the output does not depend on gets a zero gradient for any weights."""
    for size, k, s, p, d in AXIS_CASES:
        x = torch.ones(1, 1, 1, size, dtype=torch.float64, requires_grad=True)
        w = torch.ones(1, 1, 1, k, dtype=torch.float64)
        F.conv2d(x, w, stride=(1, s), padding=(0, p), dilation=(1, d)).sum().backward()
        expected = (x.grad[0, 0, 0] == 0).nonzero().flatten().tolist()
        assert untouched_indices(size, k, s, p, d) == expected, (size, k, s, p, d)


def test_untouched_examples():
    assert untouched_indices(7, 3, stride=3) == [6]
    assert untouched_indices(7, 3, stride=3, padding=1) == []
    assert untouched_indices(9, 3, stride=4) == [3, 7, 8]
    assert untouched_indices(8, 3, stride=2, dilation=2) == [1, 3, 5, 7]  # gaps never filled


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((0, 3), ValueError, "window_taps: size must be >= 1"),
        ((5, 3, 1, -1), ValueError, "window_taps: padding must be >= 0"),
        ((5, 3, True), TypeError, "window_taps: stride must be an int"),
        ((5, 7), ValueError, r"window_taps: the window .* must fit"),
    ],
)
def test_window_taps_errors(args, error, match):
    with pytest.raises(error, match=match):
        window_taps(*args)


# --- drawing --------------------------------------------------------------------------------------


def cells_by_color(fig, prefix: str, color: str) -> set[tuple[int, int, int]]:
    """(panel, row, col) of the cells with gid ``{prefix}{panel}:{row},{col}`` in ``color``."""
    found = set()
    for ax in fig.axes:
        for patch in ax.patches:
            gid = patch.get_gid()
            if gid and gid.startswith(prefix) and same_color(patch.get_facecolor(), color):
                panel, rc = gid[len(prefix) :].split(":")
                found.add((int(panel), *map(int, rc.split(","))))
    return found


DRAWING_CASES = [
    # C_in, H, W, kernel, stride, padding, dilation, C_out
    (3, 5, 5, 3, 2, 1, 1, 2),
    (2, 7, 6, 3, 1, 0, 2, 1),
    (1, 7, 7, 3, 3, 0, 1, 1),
    (2, 6, 5, (2, 3), (2, 1), (1, 0), (1, 2), 3),
]


@pytest.mark.parametrize("case", DRAWING_CASES, ids=str)
def test_frames_draw_the_taps_conv2d_uses(case):
    c_in, h, w, k, s, p, d, c_out = case
    x = torch.zeros(1, c_in, h, w, dtype=torch.float64, requires_grad=True)
    weight = torch.ones(c_out, c_in, *((k, k) if isinstance(k, int) else k), dtype=torch.float64)
    out = F.conv2d(x, weight, stride=s, padding=p, dilation=d)
    h_out, w_out = out.shape[2:]
    positions = list(range(h_out * w_out))
    for position in sorted({0, len(positions) // 2, len(positions) - 1}):
        i, j = divmod(position, w_out)
        fig = volume_conv_frame(
            c_in, h, w, k, stride=s, padding=p, dilation=d, out_channels=c_out, position=position
        )
        drawn = cells_by_color(fig, "in", _TAP_COLOR)
        # Every tap in every channel, the padding ones included; the real ones are exactly the
        # inputs on which this output depends.
        kh, kw = weight.shape[2:]
        assert len(drawn) == c_in * kh * kw
        (grad,) = torch.autograd.grad(out[0, 0, i, j], x, retain_graph=True)
        support = {tuple(t) for t in (grad[0] != 0).nonzero().tolist()}
        assert {t for t in drawn if 0 <= t[1] < h and 0 <= t[2] < w} == support
        filled = sum(len(cells_by_color(fig, "out", c)) for c in ("#74c476", "#9e9ac8", "#fdae6b"))
        assert filled == c_out * (position + 1)
    # At the last frame, the cells still "not read yet" are the ones no output depends on.
    (grad,) = torch.autograd.grad(out.sum(), x)
    never = {tuple(t) for t in (grad[0] == 0).nonzero().tolist()}
    assert cells_by_color(fig, "in", _INPUT_COLOR) == never


def test_animation_has_one_frame_per_output_position():
    for c_in, h, w, k, s, p, d, c_out in DRAWING_CASES:
        anim = volume_conv_animation(
            c_in, h, w, k, stride=s, padding=p, dilation=d, out_channels=c_out
        )
        h_out, w_out = conv2d_cost(
            (c_in, h, w), c_out, k, stride=s, padding=p, dilation=d
        ).out_shape[1:]
        assert list(anim.new_frame_seq()) == list(range(h_out * w_out))
        anim._draw_was_started = True  # not rendered on purpose: no "deleted without rendering"


def test_animation_renders_to_small_html():
    anim = volume_conv_animation(3, 5, 5, 3, stride=2, padding=1, out_channels=2)
    html = anim.to_jshtml()
    assert html.count("frames[") >= 9
    assert len(html) < 300_000


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"position": 9}, r"volume_conv_frame: position must be an int in \[0, 9\)"),
        ({"in_channels": 6, "out_channels": 3}, "in_channels \\+ out_channels must be <= 8"),
        ({"kernel_size": 8}, r"volume_conv_frame: the window .* must fit"),
        ({"height": 0}, "volume_conv_frame: height must be >= 1"),
    ],
)
def test_frame_errors(kwargs, match):
    args = {"in_channels": 3, "height": 5, "width": 5, "kernel_size": 3, "stride": 2, "padding": 1}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        volume_conv_frame(
            args.pop("in_channels"),
            args.pop("height"),
            args.pop("width"),
            args.pop("kernel_size"),
            **args,
        )
