"""Locally connected layers: a convolution's sparse connectivity without its weight sharing.

A locally connected (or "untied") layer looks at the input through the same small windows as a
convolution, but every output position has its *own* filters. It keeps the convolution's sparse
interactions and drops its parameter sharing, so it is no longer equivariant to translation and
has ``H_out · W_out`` times as many weights. That suits inputs whose regions have different
statistics, such as aligned face crops: DeepFace (Taigman et al., 2014) used three such layers.

Weight layout, per output position: ``weight[i, j]`` is an ordinary conv weight
``(C_out, C_in, kH, kW)`` used only at output position ``(i, j)``, and ``bias[i, j]`` its
``(C_out,)`` bias. So ``weight`` has shape ``(H_out, W_out, C_out, C_in, kH, kW)`` and ``bias``
``(H_out, W_out, C_out)``; tying every position to one conv kernel
(``conv.weight.expand(H_out, W_out, -1, -1, -1, -1)``) gives back ``F.conv2d``.
Conventions as in :mod:`cnnutils.ops.conv`: cross-correlation, padding per side.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from cnnutils._checks import _bool, _check_tensors, _int, _pair
from cnnutils.geometry import check_fits, conv_output_size

__all__ = ["LocallyConnected2d", "locally_connected2d"]


def _check_args(
    x: object, weight: object, bias: object, stride: object, padding: object
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """Check every argument of :func:`locally_connected2d`; return stride, padding, out size."""
    fn = "locally_connected2d"
    _check_tensors(x, weight, bias, fn, "(H_out, W_out, C_out, C_in, kH, kW)")
    stride = _pair(stride, "stride", fn, 1)
    padding = _pair(padding, "padding", fn, 0)
    h_w, w_w, c_out, _, kh, kw = weight.shape
    if weight.shape[3] != x.shape[1]:
        raise ValueError(
            f"{fn}: weight.shape[3] must be x's C_in = {x.shape[1]}, "
            f"got weight of shape {tuple(weight.shape)}"
        )
    size = tuple(x.shape[2:])
    if min(kh, kw) < 1:
        raise ValueError(f"{fn}: the kernel must be at least 1×1, got {(kh, kw)}")
    check_fits(fn, size, (kh, kw), padding)
    out_size = conv_output_size(size, (kh, kw), stride, padding)
    if (h_w, w_w) != out_size:
        raise ValueError(
            f"{fn}: weight has one filter bank per output position, so weight.shape[:2] must "
            f"be (H_out, W_out) = {out_size} for an input {size} with kernel {(kh, kw)}, "
            f"stride {stride}, padding {padding}; got {(h_w, w_w)}"
        )
    if bias is not None and tuple(bias.shape) != (h_w, w_w, c_out):
        raise ValueError(
            f"{fn}: bias must have shape (H_out, W_out, C_out) = {(h_w, w_w, c_out)}, "
            f"got {tuple(bias.shape)}"
        )
    return stride, padding, out_size


def locally_connected2d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
) -> Tensor:
    """2-D locally connected layer: a cross-correlation whose filters differ at every position.

    ``out[n, o, i, j] = bias[i, j, o] + sum_{c, a, b} x_pad[n, c, s i + a, s j + b] *
    weight[i, j, o, c, a, b]``: the windows of ``F.conv2d`` (same stride and zero padding per
    side), but with the filters indexed by the output position ``(i, j)`` too. Computed by
    unfolding the windows (a view, no copy) and one ``einsum``.

    Args:
        x: input, shape ``(N, C_in, H, W)``, or ``(C_in, H, W)`` for one image (then the output
            has no batch axis either); a floating dtype.
        weight: one filter bank per output position, shape ``(H_out, W_out, C_out, C_in, kH,
            kW)``; ``weight[i, j]`` is a conv weight used only at output position ``(i, j)``.
            Same dtype and device as ``x``.
        bias: ``None`` or one bias per position and output channel, shape
            ``(H_out, W_out, C_out)``.
        stride: step between windows, int or ``(sH, sW)``, ``>= 1``.
        padding: zeros added per side, int or ``(pH, pW)``, ``>= 0``.

    Returns:
        shape ``(N, C_out, H_out, W_out)`` with ``H_out = (H + 2 pH - kH) // sH + 1`` (likewise
        ``W_out``), which must match ``weight.shape[:2]``.

    Raises:
        TypeError: a non-tensor, a non-floating input, or a non-integer stride or padding.
        ValueError: wrong ranks, channels or shapes (the weight must have been made for this
            input size), a kernel that does not fit, or mismatched dtypes or devices.

    Example:
        >>> x, w = torch.randn(2, 3, 6, 5), torch.randn(3, 4, 8, 3, 3, 2)
        >>> locally_connected2d(x, w, stride=(2, 1), padding=(1, 0)).shape
        torch.Size([2, 8, 3, 4])
        >>> conv_w = torch.randn(8, 3, 3, 2)  # the same filters everywhere: a convolution
        >>> tied = conv_w.expand(3, 4, -1, -1, -1, -1)
        >>> y = torch.nn.functional.conv2d(x, conv_w, stride=(2, 1), padding=(1, 0))
        >>> torch.allclose(locally_connected2d(x, tied, stride=(2, 1), padding=(1, 0)), y,
        ...                atol=1e-4)
        True
    """
    if isinstance(x, Tensor) and x.dim() == 3:  # one image
        return locally_connected2d(x[None], weight, bias, stride=stride, padding=padding)[0]
    (sh, sw), (ph, pw), _ = _check_args(x, weight, bias, stride, padding)
    kh, kw = weight.shape[4:]
    xp = nn.functional.pad(x, (pw, pw, ph, ph)) if ph or pw else x  # (N, C_in, Hp, Wp)
    patches = xp.unfold(2, kh, sh).unfold(3, kw, sw)  # (N, C_in, H_out, W_out, kH, kW), a view
    out = torch.einsum("ncijab,ijocab->noij", patches, weight)  # (N, C_out, H_out, W_out)
    if bias is not None:
        out = out + bias.permute(2, 0, 1)  # (C_out, H_out, W_out), broadcast over N
    return out.contiguous()


class LocallyConnected2d(nn.Module):
    """A locally connected layer as a module. See :func:`locally_connected2d`.

    Unlike ``nn.Conv2d`` it is made for one input size, because it has one filter bank per
    output position: ``H_out · W_out · C_out · (C_in · kH · kW + 1)`` parameters with a bias,
    ``H_out · W_out`` times those of the convolution with the same windows. Initialised as
    ``nn.Conv2d`` is by default: uniform in ``±1 / sqrt(C_in · kH · kW)``.

    Args:
        in_channels: ``C_in``.
        out_channels: ``C_out``.
        kernel_size: ``k`` or ``(kH, kW)``.
        input_size: the input's ``H`` or ``(H, W)``.
        stride: int or pair, ``>= 1``.
        padding: zeros per side, int or pair, ``>= 0``.
        bias: whether to add a bias per position and output channel.
        device: where to create the parameters (``"meta"`` counts them without memory).
        dtype: their dtype.

    Attributes:
        weight: shape ``(H_out, W_out, C_out, C_in, kH, kW)``.
        bias: shape ``(H_out, W_out, C_out)``, or ``None``.
        output_size: ``(H_out, W_out)``.

    Example:
        >>> layer = LocallyConnected2d(3, 8, 5, input_size=32, padding=2)
        >>> layer.weight.shape, layer(torch.randn(2, 3, 32, 32)).shape
        (torch.Size([32, 32, 8, 3, 5, 5]), torch.Size([2, 8, 32, 32]))
        >>> sum(p.numel() for p in layer.parameters()) == 32 * 32 * 8 * (3 * 5 * 5 + 1)
        True
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        input_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        bias: bool = True,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        fn = "LocallyConnected2d"
        self.in_channels = _int(in_channels, "in_channels", fn, minimum=1)
        self.out_channels = _int(out_channels, "out_channels", fn, minimum=1)
        bias = _bool(bias, "bias", fn)
        self.kernel_size = _pair(kernel_size, "kernel_size", fn, 1)
        self.input_size = _pair(input_size, "input_size", fn, 1)
        self.stride = _pair(stride, "stride", fn, 1)
        self.padding = _pair(padding, "padding", fn, 0)
        check_fits(fn, self.input_size, self.kernel_size, self.padding)
        self.output_size = conv_output_size(
            self.input_size, self.kernel_size, self.stride, self.padding
        )
        factory = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(
            torch.empty(
                *self.output_size,
                self.out_channels,
                self.in_channels,
                *self.kernel_size,
                **factory,
            )
        )
        if bias:
            self.bias = nn.Parameter(torch.empty(*self.output_size, self.out_channels, **factory))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Uniform in ``±1 / sqrt(fan_in)``, ``fan_in = C_in · kH · kW``, as ``nn.Conv2d``.

        Args:
            generator: draws the weights; ``None`` uses PyTorch's global generator.
        """
        bound = 1 / math.sqrt(self.in_channels * self.kernel_size[0] * self.kernel_size[1])
        nn.init.uniform_(self.weight, -bound, bound, generator=generator)
        if self.bias is not None:
            nn.init.uniform_(self.bias, -bound, bound, generator=generator)

    @classmethod
    def from_conv2d(cls, conv: nn.Conv2d, input_size: int | tuple[int, int]) -> LocallyConnected2d:
        """A locally connected layer whose filters at every position are copies of ``conv``'s.

        It computes exactly what ``conv`` computes on inputs of ``input_size``, with
        ``H_out · W_out`` independent copies of the weights (which training would untie).
        Only zero padding given as ints or pairs, no dilation, no groups.

        Args:
            conv: the convolution to copy.
            input_size: ``H`` or ``(H, W)``, the input size the new layer is made for.

        Returns:
            a layer on ``conv``'s device and dtype, with ``weight[i, j] = conv.weight`` and
            ``bias[i, j] = conv.bias`` at every output position ``(i, j)``.

        Example:
            >>> conv = nn.Conv2d(2, 4, 3, padding=1)
            >>> untied = LocallyConnected2d.from_conv2d(conv, input_size=(5, 6))
            >>> x = torch.randn(1, 2, 5, 6)
            >>> torch.allclose(untied(x), conv(x), atol=1e-6)
            True
        """
        fn = "LocallyConnected2d.from_conv2d"
        if not isinstance(conv, nn.Conv2d):
            raise TypeError(f"{fn}: conv must be an nn.Conv2d, got {type(conv).__name__}")
        if isinstance(conv.padding, str) or conv.padding_mode != "zeros":
            raise ValueError(
                f"{fn}: conv must use zero padding given as ints, got padding={conv.padding!r}, "
                f"padding_mode={conv.padding_mode!r}"
            )
        if conv.dilation != (1, 1) or conv.groups != 1:
            raise ValueError(
                f"{fn}: conv must have dilation 1 and groups 1, got dilation={conv.dilation}, "
                f"groups={conv.groups}"
            )
        layer = cls(
            conv.in_channels,
            conv.out_channels,
            conv.kernel_size,
            input_size,
            stride=conv.stride,
            padding=conv.padding,
            bias=conv.bias is not None,
            device=conv.weight.device,
            dtype=conv.weight.dtype,
        )
        h_out, w_out = layer.output_size
        with torch.no_grad():
            layer.weight.copy_(conv.weight.expand(h_out, w_out, -1, -1, -1, -1))
            if conv.bias is not None:
                layer.bias.copy_(conv.bias.expand(h_out, w_out, -1))
        return layer

    def forward(self, x: Tensor) -> Tensor:
        """``(N, C_in, H, W)`` → ``(N, C_out, H_out, W_out)``, for the ``input_size`` given."""
        return locally_connected2d(
            x, self.weight, self.bias, stride=self.stride, padding=self.padding
        )

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"input_size={self.input_size}, stride={self.stride}, padding={self.padding}, "
            f"bias={self.bias is not None}"
        )
