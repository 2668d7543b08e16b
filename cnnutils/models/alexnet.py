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

Options for experiments (:func:`alexnet`): the activation (ReLU or tanh), LRN on or off (and
inter- or intra-channel), overlapping (3×3/2) or non-overlapping (2×2/2) pooling, the dropout
rate, the grouped convolutions, removing layers 3, 4, 5, 6 or 7, and a width multiplier with a
smaller first layer and input size, so that the network trains on small images on a CPU.
What we do not reproduce: the paper's initialisation (weights from N(0, 0.01²), biases of 1 in
layers 2, 4, 5, 6 and 7), its learning-rate schedule, and test-time averaging over ten crops.

:func:`cnnutils.models.summary.layer_summary` lists every layer's output shape, parameters and
multiply-adds; :func:`cnnutils.training.parallel.split_grouped_conv` and
:class:`~cnnutils.training.parallel.GroupsOnDevices` turn a grouped convolution back into its
towers, one per device.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from cnnutils.geometry import conv_output_size
from cnnutils.ops.lrn import LocalResponseNorm

__all__ = [
    "AlexNet",
    "alexnet",
]

VARIANTS = {
    "original": {
        "channels": (96, 256, 384, 384, 256),
        "stem": (11, 4, 0),
        "input_size": 227,
        "lrn": True,
        "groups": True,
    },
    "torchvision": {
        "channels": (64, 192, 384, 256, 256),
        "stem": (11, 4, 2),
        "input_size": 224,
        "lrn": False,
        "groups": False,
    },
}
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}
REMOVABLE = (3, 4, 5, 6, 7)
GEOMETRY = {2: (5, 1, 2), 3: (3, 1, 1), 4: (3, 1, 1), 5: (3, 1, 1)}  # (kernel, stride, pad)
GROUPED = (2, 4, 5)  # the layers whose two towers do not communicate in the paper
FC_UNITS = 4096


class AlexNet(nn.Module):
    """AlexNet: ``features`` (layers 1 to 5), ``avgpool`` and ``classifier`` (layers 6 to 8).

    Build it with :func:`alexnet`, which documents the options.

    Attributes:
        input_size: the input height and width the network was built for.
        layer_index: maps the qualified name of each convolution and linear layer (e.g.
            ``"features.0"``) to its number in the paper (1 to 8).

    Shape:
        ``(N, in_channels, input_size, input_size) -> (N, num_classes)`` logits (the
        torchvision variant accepts other sizes, through its adaptive pooling).
    """

    def __init__(
        self,
        features: nn.Sequential,
        avgpool: nn.Module,
        classifier: nn.Sequential,
        *,
        input_size: int,
        layer_index: dict[str, int],
    ) -> None:
        super().__init__()
        self.features = features
        self.avgpool = avgpool
        self.flatten = nn.Flatten()  # no parameters: a module so that summaries list it
        self.classifier = classifier
        self.input_size = input_size
        self.layer_index = dict(layer_index)

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


def _even(value: float) -> int:
    """The nearest even integer >= 2 (channel counts must split into two towers)."""
    return max(2, 2 * round(value / 2))


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
        the network.

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
    name = "alexnet"
    if variant not in VARIANTS:
        raise ValueError(f"{name}: variant must be one of {sorted(VARIANTS)}, got {variant!r}")
    for arg, value in (("num_classes", num_classes), ("in_channels", in_channels)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}: {arg} must be a positive int, got {value!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"{name}: activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}"
        )
    if lrn_mode not in ("inter", "intra"):
        raise ValueError(f"{name}: lrn_mode must be 'inter' or 'intra', got {lrn_mode!r}")
    if isinstance(dropout, bool) or not isinstance(dropout, int | float) or not 0 <= dropout < 1:
        raise ValueError(f"{name}: dropout must be a number in [0, 1), got {dropout!r}")
    remove = tuple(remove)
    if any(layer not in REMOVABLE for layer in remove):
        raise ValueError(
            f"{name}: remove may hold layers {list(REMOVABLE)} (layers 1, 2 and 8 carry the "
            f"input, the first poolings and the output), got {list(remove)}"
        )
    if isinstance(width, bool) or not isinstance(width, int | float) or width <= 0:
        raise ValueError(f"{name}: width must be a positive number, got {width!r}")
    spec = VARIANTS[variant]
    lrn = spec["lrn"] if lrn is None else lrn
    groups = spec["groups"] if groups is None else groups
    input_size = spec["input_size"] if input_size is None else input_size
    if isinstance(input_size, bool) or not isinstance(input_size, int) or input_size < 1:
        raise ValueError(f"{name}: input_size must be a positive int, got {input_size!r}")
    kernel, stride, padding = spec["stem"] if stem is None else stem

    def act() -> nn.Module:
        if activation == "relu" and variant == "torchvision":
            return nn.ReLU(inplace=True)  # as torchvision writes it (same results)
        return ACTIVATIONS[activation]()

    pool_kernel = 3 if overlapping_pooling else 2
    channels = [_even(c * width) for c in spec["channels"]]
    hidden = _even(FC_UNITS * width)
    layers: list[nn.Module] = []
    layer_index: dict[str, int] = {}
    size, c_in = input_size, in_channels
    try:
        for number, c_out in enumerate(channels, start=1):
            if number not in remove:
                k, s, p = (kernel, stride, padding) if number == 1 else GEOMETRY[number]
                g = 2 if groups and number in GROUPED else 1
                layer_index[f"features.{len(layers)}"] = number
                layers += [nn.Conv2d(c_in, c_out, k, stride=s, padding=p, groups=g), act()]
                size, c_in = conv_output_size(size, k, s, p), c_out
                if lrn and number in (1, 2):
                    layers.append(
                        LocalResponseNorm(5, 1e-4, 0.75, 2.0, mode=lrn_mode, convention="paper")
                    )
            if number in (1, 2, 5):
                layers.append(nn.MaxPool2d(pool_kernel, stride=2))
                size = conv_output_size(size, pool_kernel, 2)
    except ValueError as error:
        raise ValueError(
            f"{name}: input_size {input_size} is too small for this network (stem "
            f"{(kernel, stride, padding)}): {error}"
        ) from None
    features = nn.Sequential(*layers)
    if variant == "torchvision":
        avgpool: nn.Module = nn.AdaptiveAvgPool2d((6, 6))
        size = 6
    else:
        avgpool = nn.Identity()
    fc_in = c_in * size * size
    head: list[nn.Module] = []
    for number in (6, 7):
        if number in remove:
            continue
        linear = nn.Linear(fc_in, hidden)
        if variant == "torchvision":  # torchvision: dropout before the layer
            head += [nn.Dropout(dropout), linear, act()]
        else:  # the paper (as in Caffe's reference model): dropout on the layer's outputs
            head += [linear, act(), nn.Dropout(dropout)]
        layer_index[f"classifier.{head.index(linear)}"] = number
        fc_in = hidden
    layer_index[f"classifier.{len(head)}"] = 8
    head.append(nn.Linear(fc_in, num_classes))
    return AlexNet(
        features, avgpool, nn.Sequential(*head), input_size=input_size, layer_index=layer_index
    )


# ---------------------------------------------------------------------------------------------
# Counting


# ---------------------------------------------------------------------------------------------
# Model parallelism: the towers of a grouped convolution
