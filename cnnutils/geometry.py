"""Geometry of convolution and pooling layers: the one home of every size formula.

Every function of the package that needs an output size, a "does the kernel fit" check, a
receptive field, a cost or the input positions a window reads calls this module, and the
in-browser explorer's JavaScript is tested against it. Conventions, as in PyTorch:

* **NCHW**: channels first; one image here is ``(C, H, W)``.
* **Padding is per side**: ``padding=1`` adds a row of zeros on top *and* one below.
* **Dilation 1 means no gaps** (CS231n and some papers call that dilation 0). A kernel of size
  ``k`` with dilation ``d`` spans ``k_eff = d (k - 1) + 1`` pixels.
* **The output size** per axis is ``(size + 2p - d (k - 1) - 1) / s + 1``, rounded down (or up
  with pooling's ``ceil_mode``): :func:`output_length`, :func:`conv_output_size`,
  :func:`pool_output_size`.
* **Multiply-adds** count one per weight per output position, biases not counted: what
  ``torch.utils.flop_counter.FlopCounterMode`` reports, divided by 2 (it counts a multiply-add
  as two FLOPs).

:func:`conv2d_cost` counts parameters and multiply-adds; :func:`window_taps` and
:func:`untouched_indices` say which input rows (or columns) each output position reads and which
none reads; :func:`receptive_field` follows a stack of layers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from torch import nn

from cnnutils._checks import _bool, _is_int, _pair, _positive_int

__all__ = [
    "ConvCost",
    "ReceptiveField",
    "check_fits",
    "conv2d_cost",
    "conv_output_size",
    "output_length",
    "pool_output_size",
    "receptive_field",
    "untouched_indices",
    "window_taps",
]


def conv_output_size(
    size: int | tuple[int, int],
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
) -> int | tuple[int, int]:
    """Output size of a convolution or pooling layer along one or two axes.

    ``(size + 2 padding - dilation (kernel_size - 1) - 1) // stride + 1``: padding is per
    side, dilation 1 means no gaps (PyTorch's conventions), and the floor drops the positions
    where the last stride would run past the input, as ``nn.Conv2d`` does.

    Args:
        size: input height/width, an int or an ``(H, W)`` pair.
        kernel_size: an int or a ``(kH, kW)`` pair, ``>= 1``.
        stride: an int or a pair, ``>= 1``.
        padding: zeros per side, an int or a pair, ``>= 0``.
        dilation: an int or a pair, ``>= 1``.

    Returns:
        An int when every argument is an int, else an ``(H_out, W_out)`` tuple.

    Raises:
        TypeError: an argument that is not an int or a pair of ints (bools are not ints).
        ValueError: an argument out of range, or an output smaller than 1.

    Example:
        >>> conv_output_size(224, 11, stride=4, padding=2)  # AlexNet's first layer
        55
        >>> conv_output_size((32, 28), (5, 3), stride=(2, 1))
        (14, 26)
    """
    fn = "conv_output_size"
    args = {
        "size": size,
        "kernel_size": kernel_size,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
    }
    minimum = {"size": 1, "kernel_size": 1, "stride": 1, "padding": 0, "dilation": 1}
    pairs = {name: _pair(value, name, fn, minimum[name]) for name, value in args.items()}
    out = tuple(
        _output_length(n, k, s, p, d, False) for n, k, s, p, d in zip(*pairs.values(), strict=True)
    )
    if min(out) < 1:
        raise ValueError(
            f"{fn}: the output would be empty: size {size}, kernel_size {kernel_size}, stride "
            f"{stride}, padding {padding}, dilation {dilation} give {out}"
        )
    return out[0] if all(_is_int(v) for v in args.values()) else out


class ReceptiveField(NamedTuple):
    """Geometry of one layer's output units in the coordinates of the network's input.

    Each field is a number when height and width agree, else an ``(h, w)`` pair.

    Attributes:
        size: side of the input region that one output unit sees (its extent, gaps of
            dilated kernels included).
        jump: distance in input pixels between two neighbouring output units (the product
            of the strides so far).
        start: input coordinate of the centre of the first output unit's region, pixel ``i``
            being at ``i``; negative or fractional when the region reaches into the padding
            or has even size.
    """

    size: int | tuple[int, int]
    jump: int | tuple[int, int]
    start: float | tuple[float, float]


# Layers that do not move or mix pixels: they leave the receptive field as it is.
_POINTWISE = (
    nn.Identity,
    nn.ReLU,
    nn.LeakyReLU,
    nn.GELU,
    nn.Tanh,
    nn.Sigmoid,
    nn.BatchNorm2d,
    nn.Dropout,
    nn.Dropout2d,
    nn.LocalResponseNorm,
)


_SPEC_KEYS = ("kernel_size", "stride", "padding", "dilation")


def _layer_spec(layer: Any, index: int) -> dict[str, object]:
    """``kernel_size``, ``stride``, ``padding`` and ``dilation`` of one layer, as given."""
    fn = "receptive_field"
    if isinstance(layer, nn.Conv2d):
        spec = {k: getattr(layer, k) for k in _SPEC_KEYS}
        if layer.padding == "valid":
            spec["padding"] = 0
        elif layer.padding == "same":  # only the top/left padding moves the start
            spec["padding"] = tuple(
                d * (k - 1) // 2 for d, k in zip(layer.dilation, layer.kernel_size, strict=True)
            )
        return spec
    if isinstance(layer, nn.MaxPool2d):
        return {k: getattr(layer, k) for k in _SPEC_KEYS}
    if isinstance(layer, nn.AvgPool2d):
        return {
            "kernel_size": layer.kernel_size,
            "stride": layer.stride,
            "padding": layer.padding,
            "dilation": 1,
        }
    if isinstance(layer, _POINTWISE):
        return {"kernel_size": 1, "stride": 1, "padding": 0, "dilation": 1}
    if isinstance(layer, Mapping):
        unknown = set(layer) - set(_SPEC_KEYS)
        if "kernel_size" not in layer or unknown:
            raise ValueError(
                f"{fn}: layers[{index}] must have the key 'kernel_size' and optionally "
                f"{_SPEC_KEYS[1:]}, got keys {sorted(layer)}"
            )
        return {"stride": 1, "padding": 0, "dilation": 1, **layer}
    if isinstance(layer, (tuple, list)) and 1 <= len(layer) <= 4:
        return {
            "stride": 1,
            "padding": 0,
            "dilation": 1,
            **dict(zip(_SPEC_KEYS, layer, strict=False)),
        }
    raise TypeError(
        f"{fn}: layers[{index}] must be an nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, a pointwise "
        f"module, a dict or a tuple (kernel_size, stride, padding, dilation), got {layer!r}"
    )


def receptive_field(layers: Iterable[Any]) -> list[ReceptiveField]:
    """Receptive field, jump and start of every layer's output, through a stack of layers.

    The standard recurrence per axis, from ``r = 1``, ``j = 1``, ``start = 0`` (the input
    pixels themselves), with ``k_eff = d (k - 1) + 1``:
    ``r_out = r_in + (k_eff - 1) j_in``, ``j_out = j_in s``,
    ``start_out = start_in + ((k_eff - 1) / 2 - p) j_in``.

    Args:
        layers: in order, each an ``nn.Conv2d``, ``nn.MaxPool2d``, ``nn.AvgPool2d``, a pointwise
            module (activations, ``BatchNorm2d``, dropout, LRN: they change nothing), a dict
            with ``kernel_size`` and optionally ``stride``, ``padding``, ``dilation``, or a
            tuple ``(kernel_size[, stride[, padding[, dilation]]])``; ints or pairs. An
            ``nn.Sequential`` is iterated. Padding is per side (for ``padding="same"``, the
            top/left part PyTorch adds); dilation 1 means no gaps.

    Returns:
        One :class:`ReceptiveField` per layer; ``result[-1].size`` is the receptive field of
        the last layer's units.

    Raises:
        TypeError: a layer of another kind, or a non-integer hyperparameter.
        ValueError: a malformed spec or an out-of-range hyperparameter.

    Example:
        >>> [f.size for f in receptive_field([(3,), (3,)])]  # two 3×3 convolutions
        [3, 5]
        >>> receptive_field([nn.Conv2d(1, 6, 3), nn.MaxPool2d(2), nn.Conv2d(6, 16, 3)])[-1]
        ReceptiveField(size=8, jump=2, start=3.5)
    """
    fn = "receptive_field"
    if isinstance(layers, (nn.Module, str)) and not isinstance(layers, nn.Sequential):
        layers = [layers]
    if not isinstance(layers, Iterable):
        raise TypeError(f"{fn}: layers must be an iterable of layers, got {layers!r}")
    size, jump, start = [1, 1], [1, 1], [0.0, 0.0]
    fields = []
    for index, layer in enumerate(layers):
        spec = _layer_spec(layer, index)
        name = f"layers[{index}].{{}}"
        kernel = _pair(spec["kernel_size"], name.format("kernel_size"), fn, 1)
        stride = _pair(spec["stride"], name.format("stride"), fn, 1)
        padding = _pair(spec["padding"], name.format("padding"), fn, 0)
        dilation = _pair(spec["dilation"], name.format("dilation"), fn, 1)
        for axis in range(2):
            k_eff = dilation[axis] * (kernel[axis] - 1) + 1
            start[axis] += ((k_eff - 1) / 2 - padding[axis]) * jump[axis]
            size[axis] += (k_eff - 1) * jump[axis]
            jump[axis] *= stride[axis]
        fields.append(ReceptiveField(*(_collapse(v) for v in (size, jump, start))))
    return fields


def _collapse(pair: Sequence[int | float]) -> int | float | tuple:
    """One number when both axes agree, else a tuple."""
    return pair[0] if pair[0] == pair[1] else tuple(pair)


def pool_output_size(
    size: int,
    kernel_size: int,
    stride: int,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """Output length of a pooling layer along one axis, PyTorch's rule.

    ``(size + 2 padding - dilation (kernel_size - 1) - 1) / stride + 1``, rounded down, or up
    with ``ceil_mode``; in ceil mode a last window that would start beyond the input and its
    left padding is dropped.

    Args:
        size: input length.
        kernel_size: window length (before dilation).
        stride: step between windows.
        padding: padding per side.
        dilation: spacing of the taps; 1 means none.
        ceil_mode: round up instead of down.

    Returns:
        the number of windows, ``>= 0`` (0 when the window does not fit).

    Example:
        >>> pool_output_size(55, 3, 2), pool_output_size(5, 2, 2, ceil_mode=True)
        (27, 3)
        >>> pool_output_size(5, 2, 2, padding=1, ceil_mode=True)  # a 4th would start at 6
        3
    """
    args = _axis_args(size, kernel_size, stride, padding, dilation, "pool_output_size")
    return _output_length(*args, _bool(ceil_mode, "ceil_mode", "pool_output_size"))


def output_length(
    size: int,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """Number of window positions along one axis: the formula every size in the package uses.

    ``(size + 2 padding - dilation (kernel_size - 1) - 1) / stride + 1``, rounded down, or up
    with ``ceil_mode`` (PyTorch's pooling rule: in ceil mode a last window that would start
    beyond the input and its left padding is dropped).

    Returns:
        the number of windows, ``>= 0`` (0 when the window does not fit).

    Raises:
        TypeError: a non-integer size or hyperparameter, or a non-bool ``ceil_mode``.
        ValueError: an out-of-range one (sizes, stride and dilation ``>= 1``, padding ``>= 0``).

    Example:
        >>> output_length(224, 11, 4, 2), output_length(6, 3, 2, ceil_mode=True)
        (55, 3)
    """
    fn = "output_length"
    args = _axis_args(size, kernel_size, stride, padding, dilation, fn)
    return _output_length(*args, _bool(ceil_mode, "ceil_mode", fn))


def _output_length(
    size: int, kernel_size: int, stride: int, padding: int, dilation: int, ceil_mode: bool
) -> int:
    """:func:`output_length` without the checks, for callers that made them."""
    span = dilation * (kernel_size - 1) + 1
    room = size + 2 * padding - span
    if room < 0:
        return 0
    out = (-(-room // stride) if ceil_mode else room // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


@dataclass(frozen=True)
class ConvCost:
    """Shapes, parameters and arithmetic of one ``nn.Conv2d`` applied to one image.

    Attributes:
        in_shape: the input volume ``(C_in, H, W)``.
        out_shape: the output volume ``(C_out, H_out, W_out)``.
        weight_shape: ``(C_out, C_in // groups, kH, kW)``, as ``nn.Conv2d.weight``.
        parameters: weights plus biases, as ``sum(p.numel() for p in conv.parameters())``.
        multiply_adds: ``C_out H_out W_out (C_in // groups) kH kW``, one per weight per output
            position; the bias additions are not counted (``FlopCounterMode`` does not count
            them either).
    """

    in_shape: tuple[int, int, int]
    out_shape: tuple[int, int, int]
    weight_shape: tuple[int, int, int, int]
    parameters: int
    multiply_adds: int

    @property
    def flops(self) -> int:
        """Twice ``multiply_adds``, what ``torch.utils.flop_counter`` counts for one image."""
        return 2 * self.multiply_adds


def check_fits(
    fn: str,
    size: tuple[int, int],
    kernel: tuple[int, int],
    padding: tuple[int, ...],
    dilation: tuple[int, int] = (1, 1),
) -> tuple[int, int]:
    """Raise a ``ValueError`` naming ``fn`` when the dilated kernel exceeds the padded input.

    Args:
        fn: the public function the user called, named in the message.
        size: the input ``(H, W)``.
        kernel: ``(kH, kW)``.
        padding: per side, ``(pH, pW)``, or ``(top, bottom, left, right)``.
        dilation: ``(dH, dW)``.

    Returns:
        the window's extent ``dilation (kernel - 1) + 1`` per axis.

    Example:
        >>> check_fits("conv2d", (5, 5), (3, 3), (0, 0), (2, 2))
        (5, 5)
    """
    if len(padding) == 2:
        padding = (padding[0], padding[0], padding[1], padding[1])
    span = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel, strict=True))
    padded = (size[0] + padding[0] + padding[1], size[1] + padding[2] + padding[3])
    if span[0] > padded[0] or span[1] > padded[1]:
        raise ValueError(
            f"{fn}: the window {span} (the effective kernel dilation·(k - 1) + 1 of kernel "
            f"{tuple(kernel)}, dilation {tuple(dilation)}) must fit in the padded input "
            f"{padded} (input {tuple(size)})"
        )
    return span


def conv2d_cost(
    in_shape: tuple[int, int, int],
    out_channels: int,
    kernel_size: int | tuple[int, int],
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
    bias: bool = True,
) -> ConvCost:
    """Output shape, parameter count and multiply-adds of ``nn.Conv2d`` on one image.

    With ``g = groups``: weights ``C_out (C_in / g) kH kW`` (each filter spans the ``C_in / g``
    channels of its group), plus ``C_out`` biases; multiply-adds ``H_out W_out`` times the
    number of weights. Groups divide both counts by ``g``; a depthwise convolution
    (``g = C_in``) has filters one channel deep.

    Args:
        in_shape: the input volume ``(C_in, H, W)`` (one image, no batch axis).
        out_channels: ``C_out``, the number of filters.
        kernel_size: ``k`` or ``(kH, kW)``.
        stride: an int or a pair, ``>= 1``.
        padding: zeros **per side**, an int or a pair, ``>= 0``.
        dilation: an int or a pair, ``>= 1``; 1 means no gaps.
        groups: divides ``C_in`` and ``C_out``.
        bias: whether the layer has biases.

    Returns:
        A :class:`ConvCost`; ``out_shape`` uses :func:`conv_output_size`,
        ``(H + 2p - d (k - 1) - 1) // s + 1`` per axis.

    Raises:
        TypeError: a non-integer size or hyperparameter, or a non-bool ``bias``.
        ValueError: out-of-range values, ``groups`` not dividing the channels, or a kernel
            that does not fit in the padded input.

    Example:
        >>> cost = conv2d_cost((3, 32, 32), 6, 5)  # the slide's six 5×5 filters on CIFAR-10
        >>> cost.out_shape, cost.weight_shape, cost.parameters, cost.multiply_adds
        ((6, 28, 28), (6, 3, 5, 5), 456, 352800)
    """
    fn = "conv2d_cost"
    if not (isinstance(in_shape, (tuple, list)) and len(in_shape) == 3):
        raise TypeError(f"{fn}: in_shape must be a tuple (C_in, H, W), got {in_shape!r}")
    c_in, h, w = (_positive_int(v, f"in_shape[{i}]", fn) for i, v in enumerate(in_shape))
    c_out = _positive_int(out_channels, "out_channels", fn)
    groups = _positive_int(groups, "groups", fn)
    if not isinstance(bias, bool):
        raise TypeError(f"{fn}: bias must be a bool, got {bias!r}")
    if c_in % groups or c_out % groups:
        raise ValueError(
            f"{fn}: groups must divide C_in and out_channels, got groups={groups}, "
            f"C_in={c_in}, out_channels={c_out}"
        )
    kernel, stride_, padding_, dilation_ = _window_args(
        fn, (h, w), kernel_size, stride, padding, dilation
    )
    h_out, w_out = conv_output_size((h, w), kernel, stride_, padding_, dilation_)

    weight_shape = (c_out, c_in // groups, kernel[0], kernel[1])
    n_weights = math.prod(weight_shape)
    return ConvCost(
        in_shape=(c_in, h, w),
        out_shape=(c_out, h_out, w_out),
        weight_shape=weight_shape,
        parameters=n_weights + (c_out if bias else 0),
        multiply_adds=n_weights * h_out * w_out,
    )


def _window_args(
    fn: str,
    size: tuple[int, int],
    kernel_size: object,
    stride: object,
    padding: object,
    dilation: object,
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int]]:
    """A 2-D window's ``(kernel, stride, padding, dilation)``, each checked and made a pair,
    after :func:`check_fits` says that the window fits in the padded input of ``size``."""
    kernel = _pair(kernel_size, "kernel_size", fn, 1)
    stride = _pair(stride, "stride", fn, 1)
    padding = _pair(padding, "padding", fn, 0)
    dilation = _pair(dilation, "dilation", fn, 1)
    check_fits(fn, size, kernel, padding, dilation)
    return kernel, stride, padding, dilation


def _axis_args(
    size: object, kernel_size: object, stride: object, padding: object, dilation: object, fn: str
) -> tuple[int, int, int, int, int]:
    """The geometry of one axis, checked (several arguments at once: values first, then fn)."""
    size = _positive_int(size, "size", fn)
    kernel_size = _positive_int(kernel_size, "kernel_size", fn)
    stride = _positive_int(stride, "stride", fn)
    padding = _positive_int(padding, "padding", fn, minimum=0)
    dilation = _positive_int(dilation, "dilation", fn)
    return size, kernel_size, stride, padding, dilation


def window_taps(
    size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> list[list[int]]:
    """The input indices each output position reads, along one axis.

    Output position ``i`` reads input indices ``s i - p + d a`` for ``a = 0, ..., k - 1``.
    Indices ``< 0`` or ``>= size`` fall in the zero padding. Rows and columns are independent:
    output ``(i, j)`` reads the rows ``window_taps(H, ...)[i]`` times the columns
    ``window_taps(W, ...)[j]``, in every input channel of its group.

    Args:
        size: input length along the axis (unpadded).
        kernel_size: ``k``, ``>= 1``.
        stride: ``s``, ``>= 1``.
        padding: zeros per side, ``p >= 0``.
        dilation: ``d >= 1``; 1 means no gaps.

    Returns:
        One list of ``k`` input indices per output position, ``conv_output_size(...)`` lists.

    Raises:
        TypeError: a non-integer argument.
        ValueError: an out-of-range argument or a kernel that does not fit.

    Example:
        >>> window_taps(5, 3, stride=2, padding=1)
        [[-1, 0, 1], [1, 2, 3], [3, 4, 5]]
        >>> window_taps(7, 3, dilation=2)
        [[0, 2, 4], [1, 3, 5], [2, 4, 6]]
    """
    return _window_taps(size, kernel_size, stride, padding, dilation, "window_taps")


def _window_taps(
    size: object, kernel_size: object, stride: object, padding: object, dilation: object, fn: str
) -> list[list[int]]:
    """:func:`window_taps`, its errors naming ``fn``, the public function the user called."""
    size, k, s, p, d = _axis_args(size, kernel_size, stride, padding, dilation, fn)
    check_fits(fn, (size, size), (k, k), (p, p), (d, d))
    n_out = _output_length(size, k, s, p, d, False)
    return [[s * i - p + d * a for a in range(k)] for i in range(n_out)]


def untouched_indices(
    size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> list[int]:
    """Input indices along one axis that no output position reads.

    They exist when the last window stops short of the end, ``(size + 2p - k_eff) % s`` rows
    left over at the bottom (minus any padding there), and, with dilation, in the gaps between
    taps when the stride does not fill them in. A filter cannot react to what it never reads.

    Args:
        size: input length along the axis (unpadded).
        kernel_size: ``k``, ``>= 1``.
        stride: ``s``, ``>= 1``.
        padding: zeros per side, ``p >= 0``.
        dilation: ``d >= 1``; 1 means no gaps.

    Returns:
        The sorted indices in ``range(size)`` that :func:`window_taps` never lists.

    Example:
        >>> # windows at rows 0-2 and 3-5; row 6 is left out
        >>> untouched_indices(7, 3, stride=3)
        [6]
        >>> untouched_indices(7, 3, stride=2)
        []
    """
    taps = _window_taps(size, kernel_size, stride, padding, dilation, "untouched_indices")
    read = {t for window in taps for t in window}
    return [i for i in range(size) if i not in read]


# --- drawing ------------------------------------------------------------------------------------
