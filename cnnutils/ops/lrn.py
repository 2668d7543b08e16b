r"""Local response normalisation (LRN), as in AlexNet (Krizhevsky et al., 2012, section 3.3).

Each activation is divided by a power of the summed squares of its neighbours:

.. math::

    b^i_{x,y} = a^i_{x,y} \Big/ \Big(k + \alpha \sum_{j=\max(0,\, i - n/2)}
    ^{\min(N - 1,\, i + n/2)} \big(a^j_{x,y}\big)^2\Big)^{\beta}

with ``N`` channels, the window ``n`` (``size``), and the paper's constants ``k = 2``,
``n = 5``, ``α = 1e-4``, ``β = 0.75``. ``n/2`` is rounded down, and the sum is clipped at the
first and last channel (no wrap-around). That is **inter-channel** LRN (``mode="inter"``):
neighbouring *maps* at the same position compete. **Intra-channel** LRN (``mode="intra"``) is
the same normalisation over a spatial ``n × n`` neighbourhood (clipped at the image border)
within each channel.

Conventions that differ, and bite:

* **PyTorch divides α by the window size.** ``torch.nn.LocalResponseNorm`` computes
  ``b = a / (k + α/n · Σ a²)^β``. Ours, with ``alpha=α``, equals PyTorch's with
  ``alpha=α·size`` (for odd sizes, see the next point): the paper's ``α = 1e-4`` is
  ``nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)``. Caffe's within-channel mode
  divides α by ``n²``; ours does not.
* **Even sizes.** The formula's window, ``i - n/2 … i + n/2`` with ``n/2`` rounded down, holds
  ``2 (n // 2) + 1`` channels: ``n`` for odd ``n``, ``n + 1`` for even ``n`` (so ``size=4``
  sums the same 5 channels as ``size=5``). PyTorch's window holds exactly ``n`` channels,
  ``n // 2`` before and ``(n - 1) // 2`` after; for even ``n`` the two differ.

:func:`local_response_norm` is the function; :class:`LocalResponseNorm` is a thin module around
it. The inter-channel sum adds shifted slices of the zero-padded squares along the channel
axis, doubling the summed span at each step (at most ``2 log₂(n + 1)`` additions). It only ever
adds non-negative numbers, so it is as accurate as a direct sum, and an ``inf`` or NaN reaches
only the windows that contain it, as in PyTorch (a difference of cumulative sums would be one
pass, but it subtracts large running totals, which loses small neighbours in float32 and
spreads a non-finite value to every later channel). It is faster on a CPU than PyTorch's
``avg_pool3d`` (``benchmarks/bench_lrn.py``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["LocalResponseNorm", "local_response_norm"]

MODES = ("inter", "intra")


def _check_args(x: object, size: object, alpha: object, beta: object, k: object, mode: object):
    fn = "local_response_norm"
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}: x must be a tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{fn}: x must be a floating-point tensor, got {x.dtype}")
    if isinstance(size, bool) or not isinstance(size, int):
        raise TypeError(f"{fn}: size must be an int, got {size!r}")
    if size < 1:
        raise ValueError(f"{fn}: size must be >= 1, got {size}")
    for arg, value in (("alpha", alpha), ("beta", beta), ("k", k)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"{fn}: {arg} must be a number, got {value!r}")
    if mode not in MODES:
        raise ValueError(f"{fn}: mode must be one of {list(MODES)}, got {mode!r}")
    if mode == "inter" and x.dim() < 3:
        raise ValueError(
            f"{fn}: mode 'inter' needs x of shape (N, C, ...) with at least 3 dimensions, "
            f"got {tuple(x.shape)}"
        )
    if mode == "intra" and x.dim() != 4:
        raise ValueError(f"{fn}: mode 'intra' needs x of shape (N, C, H, W), got {tuple(x.shape)}")


def local_response_norm(
    x: Tensor,
    size: int = 5,
    alpha: float = 1e-4,
    beta: float = 0.75,
    k: float = 2.0,
    mode: str = "inter",
) -> Tensor:
    """Local response normalisation with the AlexNet paper's formula (α not divided by ``size``).

    Args:
        x: activations, shape ``(N, C, ...)`` for ``mode="inter"`` (any number of trailing
            dimensions), ``(N, C, H, W)`` for ``mode="intra"``.
        size: ``n``: the window spans ``n // 2`` neighbours on each side (``n`` channels or
            ``n × n`` pixels for odd ``n``; ``n + 1`` for even ``n``), clipped at the borders.
        alpha: ``α``, multiplies the sum of squares as it stands (PyTorch's
            ``nn.LocalResponseNorm`` divides its ``alpha`` by ``size``: ours with ``alpha=α``
            is PyTorch's with ``alpha=α·size``, for odd ``size``).
        beta: ``β``, the exponent.
        k: the additive constant.
        mode: ``"inter"`` (sum over neighbouring channels at the same position, the paper's) or
            ``"intra"`` (sum over a spatial neighbourhood in the same channel).

    Returns:
        ``b``, the shape of ``x``, with ``b = a / (k + α Σ a²)^β``.

    Example:
        >>> x = torch.ones(1, 3, 1, 1)
        >>> local_response_norm(x, size=3, alpha=1.0, beta=1.0, k=0.0).flatten().tolist()
        [0.5, 0.3333333432674408, 0.5]
    """
    _check_args(x, size, alpha, beta, k, mode)
    half = size // 2
    squares = x * x
    if mode == "inter":
        sums = _channel_window_sum(squares, half)  # (N, C, ...)
    else:
        width = 2 * half + 1
        # zero padding = clipping, since the window sums; avg * area = sum
        sums = F.avg_pool2d(squares, width, stride=1, padding=half, count_include_pad=True) * float(
            width * width
        )  # (N, C, H, W)
    return x * (k + alpha * sums).pow(-beta)


def _channel_window_sum(squares: Tensor, half: int) -> Tensor:
    """``s[:, i] = Σ squares[:, j]`` for ``j`` in ``[i - half, i + half]`` ∩ ``[0, C)``.

    A sum of shifted slices of the zero-padded input (the zeros do the clipping): ``run`` holds
    the sums of ``span`` consecutive channels, and ``span`` doubles at each step; the window of
    ``width = 2 half + 1`` channels is the sum of the runs that make up ``width`` in binary.
    Only non-negative numbers are added, nothing is subtracted.
    """
    if half == 0:
        return squares
    n, c = squares.shape[:2]
    half = min(half, c - 1)  # a wider window sees no more channels
    width = 2 * half + 1
    flat = squares.reshape(n, c, squares.shape[2:].numel())  # (N, C, L)
    run = F.pad(flat, (0, 0, half, half))  # (N, C + 2 half, L)
    span, done, total = 1, 0, None  # run[:, m] = Σ padded[:, m : m + span]
    while True:
        if width & 1:  # add the next `span` channels of each window: total covers `done`
            part = run[:, done : done + c]  # (N, C, L)
            total = part if total is None else total + part
            done += span
        width >>= 1
        if not width:
            return total.reshape(squares.shape)
        run = run[:, :-span] + run[:, span:]  # (N, C + 2 half + 1 - 2 span, L)
        span *= 2


class LocalResponseNorm(nn.Module):
    """Local response normalisation as a layer. See :func:`local_response_norm`.

    The defaults are the AlexNet paper's: ``k = 2``, ``n = 5``, ``α = 1e-4``, ``β = 0.75``
    (PyTorch's equivalent is ``nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)``).

    Shape:
        ``(N, C, ...)`` (``(N, C, H, W)`` for ``mode="intra"``) -> the same shape.

    Example:
        >>> LocalResponseNorm()(torch.zeros(2, 96, 55, 55)).shape
        torch.Size([2, 96, 55, 55])
    """

    def __init__(
        self,
        size: int = 5,
        alpha: float = 1e-4,
        beta: float = 0.75,
        k: float = 2.0,
        mode: str = "inter",
    ) -> None:
        super().__init__()
        _check_args(torch.zeros(1, 1, 1, 1), size, alpha, beta, k, mode)
        self.size, self.alpha, self.beta, self.k, self.mode = size, alpha, beta, k, mode

    def forward(self, x: Tensor) -> Tensor:
        return local_response_norm(x, self.size, self.alpha, self.beta, self.k, self.mode)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}, mode={self.mode!r}"
