"""LeNet-5 (LeCun et al., 1998), with the paper's choices and the modern ones as options.

The network of the paper, for a 32×32 input (sizes are ``channels@height×width``)::

    input 1@32×32
    C1  convolution 5×5, 6 maps          -> 6@28×28     156 parameters
    S2  subsampling 2×2                  -> 6@14×14      12
    C3  convolution 5×5, 16 maps         -> 16@10×10  1,516 (partial table) / 2,416 (full)
    S4  subsampling 2×2                  -> 16@5×5       32
    C5  convolution 5×5, 120 maps        -> 120@1×1  48,120
    F6  fully connected, 84 units        -> 84       10,164
    output, 10 classes                   -> 10          850 (here; see below)

What ``variant="classic"`` keeps from the paper: the scaled tanh ``1.7159 tanh(2x/3)``
(:class:`ScaledTanh`); subsampling layers that add the four inputs of a 2×2 window, multiply by
a trainable coefficient, add a trainable bias and squash (:class:`Subsampling`); the partial
connection table between S2 and C3 (:data:`C3_TABLE`, implemented without masked weights by
:class:`C3Connections`). With these, C1 to F6 hold the paper's 60,000 trainable parameters.

What it simplifies: the paper's output layer is a set of Euclidean radial basis function (RBF)
units with fixed, hand-designed ±1 prototypes (7×12 bitmaps of the characters), trained with
a maximum-a-posteriori criterion; here it is a trainable linear layer (84 × 10 + 10 = 850
parameters) followed by the usual softmax cross-entropy loss. The paper also initialises weights
uniformly in ``±2.4 / fan_in`` and trains with a stochastic diagonal Levenberg–Marquardt method;
we keep PyTorch's default initialisation and any ``torch.optim`` optimiser.

``variant="modern"`` uses what later networks settled on: ReLU, 2×2 max pooling and a fully
connected C3; ``batch_norm=True`` adds batch normalisation after each convolution and F6.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from cnnutils._checks import _bool, _choice
from cnnutils.models._options import _fill_variant

__all__ = [
    "C3_TABLE",
    "C3Connections",
    "LeNet5",
    "LeNet5Config",
    "ScaledTanh",
    "Subsampling",
    "lenet5",
]

#: Table I of LeCun et al. (1998), the S2 maps that each of C3's 16 maps reads.
#: ``C3_TABLE[j]`` lists the S2 maps (of 6) that feed C3 map ``j``. Maps 0-5 see 3 contiguous S2
#: maps, 6-11 see 4 contiguous ones, 12-14 see 4 non-contiguous ones and map 15 sees all 6
#: (indices wrap around: map 4 sees 4, 5 and 0).
C3_TABLE: tuple[tuple[int, ...], ...] = (
    *((j % 6, (j + 1) % 6, (j + 2) % 6) for j in range(6)),
    *((j % 6, (j + 1) % 6, (j + 2) % 6, (j + 3) % 6) for j in range(6)),
    (0, 1, 3, 4),
    (1, 2, 4, 5),
    (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)

ACTIVATIONS = ("scaled_tanh", "tanh", "relu")
POOLINGS = ("subsample", "avg", "max")
VARIANTS = {
    "classic": {"activation": "scaled_tanh", "pooling": "subsample", "c3_table": True},
    "modern": {"activation": "relu", "pooling": "max", "c3_table": False},
}


class ScaledTanh(nn.Module):
    """The paper's squashing function ``f(a) = A tanh(S a)`` with ``A = 1.7159``, ``S = 2/3``.

    The constants make ``f(±1) = ±1`` and put the maximum of the second derivative at ``a = 1``
    (LeCun et al., 1998, appendix A). Any shape in, the same shape out.

    Example:
        >>> ScaledTanh()(torch.tensor([-1.0, 0.0, 1.0]))
        tensor([-1.0000,  0.0000,  1.0000])
    """

    amplitude = 1.7159
    slope = 2.0 / 3.0

    def forward(self, x: Tensor) -> Tensor:
        return self.amplitude * torch.tanh(self.slope * x)


class Subsampling(nn.Module):
    """The paper's S2/S4 layer: each unit adds its 2×2 window, times a coefficient, plus a bias.

    One trainable coefficient and one bias per channel (2 parameters per map). The coefficient
    starts at 1/4, so that the layer begins as 2×2 average pooling. The squashing function that
    follows is a separate layer.

    Args:
        channels: number of feature maps ``C``.

    Shape:
        ``(N, C, H, W) -> (N, C, H // 2, W // 2)``.

    Example:
        >>> Subsampling(6)(torch.ones(1, 6, 28, 28)).shape
        torch.Size([1, 6, 14, 14])
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.full((channels,), 0.25))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: Tensor) -> Tensor:
        window_sum = 4.0 * F.avg_pool2d(x, 2)  # (N, C, H/2, W/2)
        return window_sum * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


class C3Connections(nn.Module):
    """A convolution whose output maps see only some input maps, as a connection table says.

    LeNet-5's C3 (6 → 16 maps, 5×5 kernels) follows Table I of the paper (:data:`C3_TABLE`):
    60 of the 96 (output, input) pairs are connected, so the layer has
    ``60 × 25 + 16 = 1,516`` parameters instead of ``96 × 25 + 16 = 2,416``. The paper's reasons:
    fewer connections, and broken symmetry, so that different maps are forced to extract
    different features.

    Only the connected kernels are parameters: ``weight`` has shape ``(connections, k, k)``.
    Each forward pass scatters them into a dense ``(C_out, C_in, k, k)`` weight whose other
    kernels are zero, and runs one ordinary convolution (one call is much faster on a CPU than
    one small convolution per group of output maps). The zeros are constants, so they get no
    gradient and cannot become non-zero.

    Args:
        table: for each output map, the indices of the input maps it sees.
        in_channels: number of input maps.
        kernel_size: square kernel size.
        bias: give each output map a bias.

    Shape:
        ``(N, in_channels, H, W) -> (N, len(table), H - k + 1, W - k + 1)``.

    Example:
        >>> c3 = C3Connections()
        >>> c3(torch.zeros(2, 6, 14, 14)).shape, sum(p.numel() for p in c3.parameters())
        (torch.Size([2, 16, 10, 10]), 1516)
    """

    def __init__(
        self,
        table: tuple[tuple[int, ...], ...] = C3_TABLE,
        in_channels: int = 6,
        kernel_size: int = 5,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        for column in table:
            if (
                not column
                or len(set(column)) != len(column)
                or not all(0 <= i < in_channels for i in column)
            ):
                raise ValueError(
                    f"C3Connections: each table column must list distinct input maps in "
                    f"[0, {in_channels}), got {column}"
                )
        self.table = tuple(tuple(column) for column in table)
        self.in_channels, self.out_channels = in_channels, len(self.table)
        self.kernel_size = kernel_size
        # connection c joins output map out[c] and input map in[c]; its row in the dense weight,
        # viewed as (C_out * C_in, k, k), is out[c] * C_in + in[c]
        pairs = [(o, i) for o, column in enumerate(self.table) for i in column]
        rows = torch.tensor([o * in_channels + i for o, i in pairs])
        self.register_buffer("rows", rows, persistent=False)
        self.weight = nn.Parameter(torch.empty(len(pairs), kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.empty(self.out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform in ``±1 / sqrt(fan_in)``, with each output map's own fan-in (its number of
        input maps times ``k²``): what ``nn.Conv2d`` does by default."""
        k2 = self.kernel_size**2
        out_bound = torch.tensor([(len(column) * k2) ** -0.5 for column in self.table])
        with torch.no_grad():
            rows_out = self.rows.cpu() // self.in_channels  # output map of each connection
            self.weight.uniform_(-1.0, 1.0).mul_(out_bound[rows_out].view(-1, 1, 1))
            if self.bias is not None:
                self.bias.uniform_(-1.0, 1.0).mul_(out_bound)

    def dense_weight(self) -> Tensor:
        """The equivalent dense weight, shape ``(C_out, C_in, k, k)``, zero
        where the table has no connection:
        ``F.conv2d(x, c3.dense_weight(), c3.bias)`` is ``c3(x)``."""
        k = self.kernel_size
        rows = self.out_channels * self.in_channels
        dense = self.weight.new_zeros(rows, k, k)
        # index_copy is a scatter that autograd differentiates
        dense = dense.index_copy(0, self.rows, self.weight)
        return dense.view(self.out_channels, self.in_channels, k, k)

    def connection_mask(self) -> Tensor:
        """Boolean ``(C_out, C_in)``: ``True`` where output map ``o`` sees input map ``i``
        (the transpose of the paper's Table I)."""
        mask = torch.zeros(self.out_channels * self.in_channels, dtype=torch.bool)
        mask[self.rows.cpu()] = True
        return mask.view(self.out_channels, self.in_channels)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.dense_weight(), self.bias)  # (N, C_out, H - k + 1, W - k + 1)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"connections={len(self.weight)}, bias={self.bias is not None}"
        )


@dataclass(frozen=True)
class LeNet5Config:
    """Every choice that makes one LeNet-5: the keyword arguments of :func:`lenet5`.

    The fields and their defaults are :func:`lenet5`'s arguments, documented there; ``None``
    means the variant's choice. ``LeNet5(LeNet5Config(**options))`` is ``lenet5(**options)``.
    The network checks its config when it is built and keeps it, every choice filled in, as
    ``net.config``.

    Example:
        >>> config = LeNet5(LeNet5Config(variant="modern", pooling="avg")).config
        >>> config.activation, config.pooling, config.c3_table
        ('relu', 'avg', False)
    """

    variant: str = "classic"
    num_classes: int = 10
    in_channels: int = 1
    activation: str | None = None
    pooling: str | None = None
    c3_table: bool | None = None
    batch_norm: bool = False


class LeNet5(nn.Module):
    """LeNet-5: ``features`` (C1 to C5, convolutions and pooling) and ``classifier`` (F6, output).

    Build it with :func:`lenet5`, which documents the options, or from a
    :class:`LeNet5Config`; ``LeNet5()`` is the paper's network (with a linear output layer).

    Args:
        config: the options; ``None`` means ``LeNet5Config()``.

    Attributes:
        config: the options, with the variant's choices filled in.

    Shape:
        ``(N, in_channels, 32, 32) -> (N, num_classes)`` logits.
    """

    input_size = 32

    def __init__(self, config: LeNet5Config | None = None) -> None:
        super().__init__()
        config = _checked(LeNet5Config() if config is None else config, "LeNet5")
        bias = not config.batch_norm
        act, pool, norm = (partial(f, config) for f in (_activation, _pooling, _norm))
        # C3 is made first: the order in which layers draw their initial weights is part of
        # what a seed gives
        c3 = C3Connections(bias=bias) if config.c3_table else nn.Conv2d(6, 16, 5, bias=bias)
        self.features = nn.Sequential(
            nn.Conv2d(config.in_channels, 6, 5, bias=bias), *norm(6), act(),  # C1: 6@28×28
            *pool(6),  # S2: 6@14×14
            c3, *norm(16), act(),  # C3: 16@10×10
            *pool(16),  # S4: 16@5×5
            nn.Conv2d(16, 120, 5, bias=bias), *norm(120), act(),  # C5: 120@1×1
        )  # fmt: skip
        self.classifier = nn.Sequential(
            nn.Flatten(),  # (N, 120)
            nn.Linear(120, 84, bias=bias), *norm(84, dims=1), act(),  # F6
            nn.Linear(84, config.num_classes),  # output (the paper: fixed RBF units)
        )  # fmt: skip
        self.config = config

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[-2:] != (self.input_size, self.input_size):
            raise ValueError(
                f"LeNet5: expected input of shape (N, C, 32, 32), got {tuple(x.shape)}; "
                "pad 28×28 MNIST digits by 2 pixels on each side, as the paper does"
            )
        return self.classifier(self.features(x))  # (N, 120, 1, 1) -> (N, num_classes)


def lenet5(
    *,
    variant: str = "classic",
    num_classes: int = 10,
    in_channels: int = 1,
    activation: str | None = None,
    pooling: str | None = None,
    c3_table: bool | None = None,
    batch_norm: bool = False,
) -> LeNet5:
    """Build LeNet-5 (LeCun et al., 1998) for 32×32 inputs.

    Args:
        variant: ``"classic"`` (scaled tanh, trainable subsampling, partial C3 table) or
            ``"modern"`` (ReLU, max pooling, full C3). The three options below override the
            variant's choice one by one.
        num_classes: outputs of the last layer.
        in_channels: input channels (1 for digits, 3 for colour images).
        activation: ``"scaled_tanh"`` (``1.7159 tanh(2x/3)``), ``"tanh"`` or ``"relu"``.
        pooling: ``"subsample"`` (the paper's: window sum × trainable coefficient + trainable
            bias, followed by the activation), ``"avg"`` or ``"max"`` (2×2, stride 2, no
            parameters, not followed by an activation).
        c3_table: wire C3 with the paper's partial connection table (:data:`C3_TABLE`, 1,516
            parameters) instead of connecting every S2 map to every C3 map (2,416). Needs
            6 C1 maps, which LeNet-5 always has.
        batch_norm: add batch normalisation (Ioffe & Szegedy, 2015) after C1, C3, C5 and F6,
            before the activation; the convolutions and F6 then have no bias.

    Returns:
        the network; ``features`` maps ``(N, in_channels, 32, 32)`` to ``(N, 120, 1, 1)`` and
        ``classifier`` maps that to ``(N, num_classes)`` logits. ``net.config`` holds these
        options with the variant's choices filled in.

    Raises:
        TypeError: an option of the wrong type (a float for an int, a string for a bool).
        ValueError: an unknown variant, activation or pooling, or a count below 1.

    Example:
        >>> net = lenet5(variant="classic")
        >>> net(torch.zeros(2, 1, 32, 32)).shape, sum(p.numel() for p in net.parameters())
        (torch.Size([2, 10]), 60850)
    """
    options = LeNet5Config(**locals())  # the arguments, one field each
    return LeNet5(_checked(options, "lenet5"))


def _checked(config: object, fn: str) -> LeNet5Config:
    """``config`` with the variant's choices filled in; TypeError or ValueError naming ``fn``."""
    config = _fill_variant(config, LeNet5Config, fn, VARIANTS)
    _choice(config.activation, "activation", fn, ACTIVATIONS)
    _choice(config.pooling, "pooling", fn, POOLINGS)
    _bool(config.c3_table, "c3_table", fn)
    _bool(config.batch_norm, "batch_norm", fn)
    return config


def _activation(config: LeNet5Config) -> nn.Module:
    return {"scaled_tanh": ScaledTanh, "tanh": nn.Tanh, "relu": nn.ReLU}[config.activation]()


def _pooling(config: LeNet5Config, channels: int) -> list[nn.Module]:
    if config.pooling == "subsample":
        return [Subsampling(channels), _activation(config)]
    return [nn.AvgPool2d(2) if config.pooling == "avg" else nn.MaxPool2d(2)]


def _norm(config: LeNet5Config, channels: int, dims: int = 2) -> list[nn.Module]:
    if not config.batch_norm:
        return []
    return [nn.BatchNorm2d(channels) if dims == 2 else nn.BatchNorm1d(channels)]
