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

Conventions that differ, and bite. The arguments and defaults are PyTorch's (the op contract
of :mod:`cnnutils.ops`); the paper's formula is one keyword away, ``convention="paper"``:

* **PyTorch divides α by the window size.** ``torch.nn.LocalResponseNorm`` computes
  ``b = a / (k + α/n · Σ a²)^β``, and so does ours by default. With ``convention="paper"``,
  ``α`` multiplies the sum as it stands: the paper's ``α = 1e-4`` is
  ``local_response_norm(x, 5, 1e-4, 0.75, 2.0, convention="paper")``, which equals
  ``nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)``. In the within-channel mode the
  PyTorch-like convention divides α by the ``n²`` taps of the window, as Caffe does.
* **Even sizes.** The formula's window, ``i - n/2 … i + n/2`` with ``n/2`` rounded down, holds
  ``2 (n // 2) + 1`` channels: ``n`` for odd ``n``, ``n + 1`` for even ``n`` (so ``size=4``
  sums the same 5 channels as ``size=5``); that is ``convention="paper"``. PyTorch's window
  holds exactly ``n`` channels, ``n // 2`` before and ``(n - 1) // 2`` after, our default; for
  even ``n`` the two differ.
* **k.** PyTorch's default is ``k = 1``, the paper's ``k = 2``: pass it.

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

import torch.nn.functional as F
from torch import Tensor, nn

from cnnutils._checks import _choice, _int, _number, _tensor

__all__ = ["LocalResponseNorm", "local_response_norm"]

MODES = ("inter", "intra")
CONVENTIONS = ("torch", "paper")


def _check_args(
    size: object, alpha: object, beta: object, k: object, mode: object, convention: object, fn: str
) -> None:
    """The hyperparameters (also checked at a layer's construction); ``fn`` names the caller."""
    _int(size, "size", fn, minimum=1)
    for name, value in (("alpha", alpha), ("beta", beta), ("k", k)):
        _number(value, name, fn)
    _choice(mode, "mode", fn, MODES)
    _choice(convention, "convention", fn, CONVENTIONS)


def _check_x(x: object, mode: str, fn: str) -> None:
    if mode == "inter":
        _tensor(x, "x", fn, floating=True)
        if x.dim() < 3:
            raise ValueError(
                f"{fn}: mode 'inter' needs x of shape (N, C, ...) with at least 3 dimensions, "
                f"got {tuple(x.shape)}"
            )
    else:
        _tensor(x, "x", fn, dims=4, layout="(N, C, H, W) for mode 'intra'", floating=True)


def local_response_norm(
    x: Tensor,
    size: int,
    alpha: float = 1e-4,
    beta: float = 0.75,
    k: float = 1.0,
    *,
    mode: str = "inter",
    convention: str = "torch",
) -> Tensor:
    """Local response normalisation, PyTorch's by default, the AlexNet paper's on request.

    ``b = a / (k + α' Σ a²)^β`` over a window of neighbours, with ``α' = α / n``
    (``convention="torch"``, what ``F.local_response_norm`` computes; ``α / n²`` in the
    ``"intra"`` mode) or ``α' = α`` (``convention="paper"``, the formula as the AlexNet paper
    and the slides write it).

    Args:
        x: activations, shape ``(N, C, ...)`` for ``mode="inter"`` (any number of trailing
            dimensions), ``(N, C, H, W)`` for ``mode="intra"``.
        size: ``n``, the window. ``"torch"``: ``n`` channels (or ``n × n`` pixels),
            ``n // 2`` before and ``(n - 1) // 2`` after. ``"paper"``: ``n // 2`` on each side
            (``n`` channels for odd ``n``, ``n + 1`` for even ``n``). Clipped at the borders.
        alpha: ``α``; divided by the window's ``n`` (``n²`` taps in ``"intra"``) unless
            ``convention="paper"``.
        beta: ``β``, the exponent.
        k: the additive constant (the paper's is 2).
        mode: ``"inter"`` (sum over neighbouring channels at the same position, the paper's) or
            ``"intra"`` (sum over a spatial neighbourhood in the same channel).
        convention: ``"torch"`` or ``"paper"``, as above.

    Returns:
        ``b``, the shape of ``x``.

    Example:
        >>> import torch
        >>> x = torch.ones(1, 3, 1, 1)
        >>> b = local_response_norm(x, 3, alpha=1.0, beta=1.0, k=0.0, convention="paper")
        >>> b.flatten().tolist()
        [0.5, 0.3333333432674408, 0.5]
        >>> torch.allclose(local_response_norm(x, 3), F.local_response_norm(x, 3))
        True
    """
    fn = "local_response_norm"
    _check_args(size, alpha, beta, k, mode, convention, fn)
    _check_x(x, mode, fn)
    if convention == "paper":
        before = after = size // 2
        scale = alpha
    else:
        before, after = size // 2, (size - 1) // 2
        scale = alpha / (size if mode == "inter" else size * size)
    squares = x * x
    if mode == "inter" and before == after:
        sums = _channel_window_sum(squares, before)  # (N, C, ...)
    elif mode == "inter":
        sums = _shifted_channel_sum(squares, before, after)  # (N, C, ...)
    else:
        width = before + after + 1
        # zero padding = clipping, since the window sums; avg * area = sum
        padded = F.pad(squares, (before, after, before, after))
        sums = F.avg_pool2d(padded, width, stride=1) * float(width * width)  # (N, C, H, W)
    return x * (k + scale * sums).pow(-beta)


def _shifted_channel_sum(squares: Tensor, before: int, after: int) -> Tensor:
    """``s[:, i] = Σ squares[:, j]`` for ``j`` in ``[i - before, i + after]`` ∩ ``[0, C)``: one
    shifted slice of the zero-padded channels per tap (for the asymmetric windows)."""
    c = squares.shape[1]
    flat = squares.reshape(*squares.shape[:2], squares.shape[2:].numel())  # (N, C, L)
    padded = F.pad(flat, (0, 0, before, after))  # (N, C + before + after, L)
    sums = padded[:, :c].clone()
    for offset in range(1, before + after + 1):
        sums += padded[:, offset : offset + c]
    return sums.reshape(squares.shape)


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

    The arguments and defaults are ``nn.LocalResponseNorm``'s, checked here, at construction;
    the AlexNet paper's layer is ``LocalResponseNorm(5, 1e-4, 0.75, 2.0, convention="paper")``
    (PyTorch's equivalent: ``nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)``).

    Shape:
        ``(N, C, ...)`` (``(N, C, H, W)`` for ``mode="intra"``) -> the same shape.

    Example:
        >>> import torch
        >>> LocalResponseNorm(5, 1e-4, 0.75, 2.0, convention="paper")
        LocalResponseNorm(5, alpha=0.0001, beta=0.75, k=2.0, mode='inter', convention='paper')
        >>> LocalResponseNorm(5)(torch.zeros(2, 96, 55, 55)).shape
        torch.Size([2, 96, 55, 55])
    """

    def __init__(
        self,
        size: int,
        alpha: float = 1e-4,
        beta: float = 0.75,
        k: float = 1.0,
        *,
        mode: str = "inter",
        convention: str = "torch",
    ) -> None:
        super().__init__()
        _check_args(size, alpha, beta, k, mode, convention, "LocalResponseNorm")
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k
        self.mode, self.convention = mode, convention

    def forward(self, x: Tensor) -> Tensor:
        return local_response_norm(
            x,
            self.size,
            self.alpha,
            self.beta,
            self.k,
            mode=self.mode,
            convention=self.convention,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}, mode={self.mode!r}, "
            f"convention={self.convention!r}"
        )
