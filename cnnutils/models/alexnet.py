"""AlexNet (Krizhevsky, Sutskever & Hinton, 2012) in its two common versions, with options.

There are two main "AlexNets", and they are different networks:

``variant="original"``: the network of the 2012 paper (Figure 2), for 227×227 inputs
(sizes are ``channels@height×width``; the two GPUs' halves together)::

    input 3@227×227
    1  conv 11×11 stride 4, 96 maps, ReLU, LRN, max pool 3×3/2   -> 96@55×55 -> 96@27×27
    2  conv 5×5 pad 2, 256 maps, groups 2, ReLU, LRN, max pool    -> 256@27×27 -> 256@13×13
    3  conv 3×3 pad 1, 384 maps (across the towers), ReLU         -> 384@13×13
    4  conv 3×3 pad 1, 384 maps, groups 2, ReLU                   -> 384@13×13
    5  conv 3×3 pad 1, 256 maps, groups 2, ReLU, max pool         -> 256@13×13 -> 256@6×6
    6  fully connected 9,216 -> 4,096, ReLU, dropout 0.5
    7  fully connected 4,096 -> 4,096, ReLU, dropout 0.5
    8  fully connected 4,096 -> 1,000

60,965,224 parameters. The paper trained it split over two GPUs, each holding half the maps
of every layer; the halves ("towers") exchange data only at layer 3 and at the fully connected
layers. Within one device that split is a grouped convolution (``groups=2``): each half of the
filters sees only its own half of the input maps. Local response normalisation
(:mod:`cnnutils.lrn`, ``k=2, n=5, α=1e-4, β=0.75``) follows layers 1 and 2; max pooling
overlaps (3×3 windows, stride 2).

**224 or 227?** The paper says 224×224 inputs, but with an 11×11 kernel, stride 4 and no
padding, ``(224 - 11) / 4 + 1 = 54.25`` is not a whole number, while 227 gives exactly 55, the
paper's first-layer size. 227 is what the paper's arithmetic needs (Caffe's reference AlexNet
uses 227); torchvision keeps 224 and pads the first layer by 2 instead:
``(224 + 4 - 11) // 4 + 1 = 55``.

``variant="torchvision"``: the layout of ``torchvision.models.alexnet``, parameter for
parameter (the "one weird trick" network of Krizhevsky, 2014): 64-192-384-256-256 filters, no
LRN, no groups, first layer padded by 2, and an adaptive average pooling to 6×6 before the
classifier, with dropout *before* layers 6 and 7. 61,100,840 parameters; torchvision's ImageNet
weights load into it unchanged (``load_state_dict(..., strict=True)``).

Options for experiments (:func:`alexnet`'s arguments, the fields of :class:`AlexNetConfig`):
the activation (ReLU or tanh), LRN on or off (and inter- or intra-channel), overlapping (3×3/2)
or non-overlapping (2×2/2) pooling, the dropout rate, the grouped convolutions, removing layers
3, 4, 5, 6 or 7, and a width multiplier with a smaller first layer and input size, so that the
network trains on small images on a CPU.
What we do not reproduce: the paper's initialisation (weights from N(0, 0.01²), biases of 1 in
layers 2, 4, 5, 6 and 7), its learning-rate schedule, and test-time averaging over ten crops.

:func:`cnnutils.models.summary.layer_summary` lists every layer's output shape, parameters and
multiply-adds; :func:`cnnutils.training.parallel.split_grouped_conv` and
:class:`~cnnutils.training.parallel.GroupsOnDevices` turn a grouped convolution back into its
towers, one per device.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import partial

from torch import Tensor, nn

from cnnutils._checks import _bool, _choice, _is_int, _number, _positive_int
from cnnutils.geometry import conv_output_size
from cnnutils.models._options import _fill_variant
from cnnutils.ops.lrn import LocalResponseNorm

__all__ = [
    "AlexNet",
    "AlexNetConfig",
    "alexnet",
]

#: Each variant's choice for the options that are ``None`` in an :class:`AlexNetConfig`.
VARIANTS = {
    "original": {"lrn": True, "groups": True, "input_size": 227, "stem": (11, 4, 0)},
    "torchvision": {"lrn": False, "groups": False, "input_size": 224, "stem": (11, 4, 2)},
}
CHANNELS = {"original": (96, 256, 384, 384, 256), "torchvision": (64, 192, 384, 256, 256)}
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}
REMOVABLE = (3, 4, 5, 6, 7)
GEOMETRY = {2: (5, 1, 2), 3: (3, 1, 1), 4: (3, 1, 1), 5: (3, 1, 1)}  # (kernel, stride, pad)
GROUPED = (2, 4, 5)  # the layers whose two towers do not communicate in the paper
POOLED = (1, 2, 5)  # the layers followed by max pooling (which stays when the layer is removed)
FC_UNITS = 4096


@dataclass(frozen=True)
class AlexNetConfig:
    """Every choice that makes one AlexNet: the keyword arguments of :func:`alexnet`.

    The fields and their defaults are :func:`alexnet`'s arguments, documented there; ``None``
    means the variant's choice. ``AlexNet(AlexNetConfig(**options))`` is
    ``alexnet(**options)``. The network checks its config when it is built and keeps it, every
    choice filled in, as ``net.config``.

    Example:
        >>> import torch
        >>> with torch.device("meta"):
        ...     net = AlexNet(AlexNetConfig(variant="torchvision", num_classes=10))
        >>> net.config.stem, net.config.lrn, net.classifier[-1].out_features
        ((11, 4, 2), False, 10)
    """

    variant: str = "original"
    num_classes: int = 1000
    in_channels: int = 3
    activation: str = "relu"
    lrn: bool | None = None
    lrn_mode: str = "inter"
    overlapping_pooling: bool = True
    dropout: float = 0.5
    groups: bool | None = None
    remove: Sequence[int] = ()
    width: float = 1.0
    input_size: int | None = None
    stem: tuple[int, int, int] | None = None


class AlexNet(nn.Module):
    """AlexNet: ``features`` (layers 1 to 5), ``avgpool`` and ``classifier`` (layers 6 to 8).

    Build it with :func:`alexnet`, which documents the options, or from an
    :class:`AlexNetConfig`; ``AlexNet()`` is the paper's network.

    Args:
        config: the options; ``None`` means ``AlexNetConfig()``.

    Attributes:
        config: the options, with the variant's choices filled in.
        input_size: the input height and width the network was built for.
        layer_index: maps the qualified name of each convolution and linear layer (e.g.
            ``"features.0"``) to its number in the paper (1 to 8).

    Shape:
        ``(N, in_channels, input_size, input_size) -> (N, num_classes)`` logits (the
        torchvision variant accepts other sizes, through its adaptive pooling).
    """

    def __init__(self, config: AlexNetConfig | None = None) -> None:
        super().__init__()
        config = _checked(AlexNetConfig() if config is None else config, "AlexNet")
        torchvision = config.variant == "torchvision"
        self.features, features_index, c5 = _make_features(config)
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6)) if torchvision else nn.Identity()
        self.flatten = nn.Flatten()  # no parameters: a module so that summaries list it
        size = 6 if torchvision else _feature_size(config, "AlexNet")
        self.classifier, classifier_index = _make_classifier(config, c5 * size * size)
        self.config = config
        self.input_size = config.input_size
        self.layer_index = {**features_index, **classifier_index}

    def forward(self, x: Tensor) -> Tensor:
        fixed = isinstance(self.avgpool, nn.Identity)
        if x.dim() != 4 or (fixed and x.shape[-2:] != (self.input_size, self.input_size)):
            size = self.input_size
            raise ValueError(
                f"AlexNet: expected input of shape (N, C, {size}, {size}), got "
                f"{tuple(x.shape)}; this network has no adaptive pooling, so its classifier "
                f"fixes the input size (the paper's network needs 227: "
                f"(227 - 11) / 4 + 1 = 55, while 224 gives 54.25)"
            )
        x = self.avgpool(self.features(x))  # (N, C5, s, s)
        return self.classifier(self.flatten(x))  # (N, C5 s s) -> (N, num_classes)


def alexnet(
    *,
    variant: str = "original",
    num_classes: int = 1000,
    in_channels: int = 3,
    activation: str = "relu",
    lrn: bool | None = None,
    lrn_mode: str = "inter",
    overlapping_pooling: bool = True,
    dropout: float = 0.5,
    groups: bool | None = None,
    remove: Sequence[int] = (),
    width: float = 1.0,
    input_size: int | None = None,
    stem: tuple[int, int, int] | None = None,
) -> AlexNet:
    """Build AlexNet: the 2012 paper's network or torchvision's layout, with options.

    With the defaults, ``variant="original"`` is the paper's network for 227×227 images
    (60,965,224 parameters) and ``variant="torchvision"`` is ``torchvision.models.alexnet``
    layer for layer (61,100,840 parameters; its state dict loads with ``strict=True``).
    Any option changed from its default makes a network of its own.

    Args:
        variant: ``"original"`` (96-256-384-384-256 filters, two towers as grouped convolutions,
            LRN, no padding in layer 1, 227×227) or ``"torchvision"`` (64-192-384-256-256, no
            groups, no LRN, layer 1 padded by 2, adaptive average pooling to 6×6, 224×224).
        num_classes: outputs of layer 8.
        in_channels: input channels.
        activation: ``"relu"`` (the paper's) or ``"tanh"``, after every layer but the last.
        lrn: local response normalisation (``k=2, n=5, α=1e-4, β=0.75``) after the activation
            of layers 1 and 2; ``None`` means the variant's choice.
        lrn_mode: ``"inter"`` (across channels, the paper's) or ``"intra"`` (a spatial 5×5
            neighbourhood within each channel), see :func:`cnnutils.lrn.local_response_norm`.
        overlapping_pooling: max pooling over 3×3 windows with stride 2 (the paper's) instead
            of 2×2 windows with stride 2.
        dropout: dropout rate in layers 6 and 7 (0 turns it off).
        groups: split layers 2, 4 and 5 into two towers (``groups=2``); ``None`` means the
            variant's choice.
        remove: paper layer numbers to leave out, any of 3, 4, 5 (convolutions; the next layer
            takes the previous one's maps, and the pooling after layer 5 stays) and 6, 7
            (fully connected).
        width: multiplies every layer's number of maps and of hidden units (rounded to an even
            number), e.g. ``1/8`` for a network that trains on a CPU in seconds.
        input_size: input height and width; ``None`` means 227 (original) or 224 (torchvision).
        stem: layer 1's ``(kernel, stride, padding)``; ``None`` means ``(11, 4, 0)`` (original)
            or ``(11, 4, 2)`` (torchvision). For 32×32 images ``(3, 1, 1)`` keeps three
            poolings' worth of resolution: 32 → 15 → 7 → 3.

    Returns:
        the network; ``net.config`` holds these options with the variant's choices filled in.

    Raises:
        TypeError: an option of the wrong type (a float for an int, a string for a bool).
        ValueError: an unknown variant, activation or LRN mode, a value out of range, or an
            input too small for the network.

    Example:
        >>> import torch
        >>> with torch.device("meta"):  # no memory, no time
        ...     net = alexnet()
        >>> sum(p.numel() for p in net.parameters())
        60965224
        >>> small = alexnet(num_classes=5, width=1 / 8, input_size=32, stem=(3, 1, 1))
        >>> small(torch.zeros(2, 3, 32, 32)).shape
        torch.Size([2, 5])
    """
    options = AlexNetConfig(**locals())  # the arguments, one field each
    return AlexNet(_checked(options, "alexnet"))


# ---------------------------------------------------------------------------------------------
# Checking the options


def _checked(config: object, fn: str) -> AlexNetConfig:
    """``config`` with the variant's choices filled in; TypeError or ValueError naming ``fn``."""
    config = _fill_variant(config, AlexNetConfig, fn, VARIANTS)
    _choice(config.activation, "activation", fn, ACTIVATIONS)
    _choice(config.lrn_mode, "lrn_mode", fn, ("inter", "intra"))
    for name in ("lrn", "overlapping_pooling", "groups"):
        _bool(getattr(config, name), name, fn)
    if not 0 <= _number(config.dropout, "dropout", fn) < 1:
        raise ValueError(f"{fn}: dropout must be a number in [0, 1), got {config.dropout!r}")
    if not _number(config.width, "width", fn) > 0:
        raise ValueError(f"{fn}: width must be a positive number, got {config.width!r}")
    config = replace(
        config,
        remove=_removed_layers(config.remove, fn),
        input_size=_positive_int(config.input_size, "input_size", fn),
        stem=_stem(config.stem, fn),
    )
    _feature_size(config, fn)  # the input must be large enough for every layer
    return config


def _removed_layers(remove: object, fn: str) -> tuple[int, ...]:
    if isinstance(remove, (str, bytes)) or not isinstance(remove, Iterable):
        raise TypeError(f"{fn}: remove must be a sequence of layer numbers, got {remove!r}")
    remove = tuple(remove)
    if not all(map(_is_int, remove)):
        raise TypeError(f"{fn}: remove must hold layer numbers (ints), got {list(remove)}")
    if any(layer not in REMOVABLE for layer in remove):
        raise ValueError(
            f"{fn}: remove may hold layers {list(REMOVABLE)} (layers 1, 2 and 8 carry the "
            f"input, the first poolings and the output), got {list(remove)}"
        )
    return tuple(int(layer) for layer in remove)


def _stem(stem: object, fn: str) -> tuple[int, int, int]:
    """Layer 1's ``(kernel, stride, padding)``: ints ``>= 1``, ``>= 1`` and ``>= 0``."""
    if not (isinstance(stem, (tuple, list)) and len(stem) == 3 and all(map(_is_int, stem))):
        raise TypeError(
            f"{fn}: stem must be a tuple (kernel, stride, padding) of three ints, got {stem!r}"
        )
    kernel, stride, padding = stem
    return (
        _positive_int(kernel, "stem's kernel", fn),
        _positive_int(stride, "stem's stride", fn),
        _positive_int(padding, "stem's padding", fn, minimum=0),
    )


def _geometry(config: AlexNetConfig, number: int) -> tuple[int, int, int]:
    """``(kernel, stride, padding)`` of convolution layer ``number`` (1 to 5)."""
    return config.stem if number == 1 else GEOMETRY[number]


def _feature_size(config: AlexNetConfig, fn: str) -> int:
    """Height (and width) of the maps after layer 5's pooling; ValueError if they vanish."""
    pool_kernel = 3 if config.overlapping_pooling else 2
    size = config.input_size
    try:
        for number in range(1, 6):
            if number not in config.remove:
                size = conv_output_size(size, *_geometry(config, number))
            if number in POOLED:
                size = conv_output_size(size, pool_kernel, 2)
    except ValueError as error:
        raise ValueError(
            f"{fn}: input_size {config.input_size} is too small for this network (stem "
            f"{config.stem}): {error}"
        ) from None
    return size


# ---------------------------------------------------------------------------------------------
# Building the layers


def _even(value: float) -> int:
    """The nearest even integer >= 2 (channel counts must split into two towers)."""
    return max(2, 2 * round(value / 2))


def _activation(config: AlexNetConfig) -> Callable[[], nn.Module]:
    if config.activation == "relu" and config.variant == "torchvision":
        return partial(nn.ReLU, inplace=True)  # as torchvision writes it (same results)
    return ACTIVATIONS[config.activation]


def _make_features(config: AlexNetConfig) -> tuple[nn.Sequential, dict[str, int], int]:
    """Layers 1 to 5 with their poolings, their ``layer_index`` entries and layer 5's maps."""
    act = _activation(config)
    pool_kernel = 3 if config.overlapping_pooling else 2
    layers: list[nn.Module] = []
    index: dict[str, int] = {}
    c_in = config.in_channels
    for number, c_out in enumerate(CHANNELS[config.variant], start=1):
        if number not in config.remove:
            c_out = _even(c_out * config.width)
            k, s, p = _geometry(config, number)
            g = 2 if config.groups and number in GROUPED else 1
            index[f"features.{len(layers)}"] = number
            layers += [nn.Conv2d(c_in, c_out, k, stride=s, padding=p, groups=g), act()]
            c_in = c_out
            if config.lrn and number in (1, 2):
                norm = LocalResponseNorm(
                    5, 1e-4, 0.75, 2.0, mode=config.lrn_mode, convention="paper"
                )
                layers.append(norm)
        if number in POOLED:
            layers.append(nn.MaxPool2d(pool_kernel, stride=2))
    return nn.Sequential(*layers), index, c_in


def _make_classifier(config: AlexNetConfig, fc_in: int) -> tuple[nn.Sequential, dict[str, int]]:
    """Layers 6 to 8 on ``fc_in`` flattened features, and their ``layer_index`` entries."""
    act = _activation(config)
    hidden = _even(FC_UNITS * config.width)
    head: list[nn.Module] = []
    index: dict[str, int] = {}
    for number in (6, 7):
        if number in config.remove:
            continue
        linear = nn.Linear(fc_in, hidden)
        if config.variant == "torchvision":  # torchvision: dropout before the layer
            head += [nn.Dropout(config.dropout), linear, act()]
        else:  # the paper (as in Caffe's reference model): dropout on the layer's outputs
            head += [linear, act(), nn.Dropout(config.dropout)]
        index[f"classifier.{head.index(linear)}"] = number
        fc_in = hidden
    index[f"classifier.{len(head)}"] = 8
    head.append(nn.Linear(fc_in, config.num_classes))
    return nn.Sequential(*head), index
