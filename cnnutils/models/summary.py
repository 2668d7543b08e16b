"""Layer-by-layer summary of a network for one image: output shapes, parameters, multiply-adds.

Runs on PyTorch's meta device, so even the full-size networks cost no memory and no arithmetic.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import TYPE_CHECKING

import torch
from torch import nn

from cnnutils._checks import _pair, _positive_int
from cnnutils.models.alexnet import alexnet  # noqa: F401  (the doctest's network)

if TYPE_CHECKING:
    from torch.utils.flop_counter import FlopCounterMode

__all__ = ["LayerSummary", "layer_summary"]


@dataclasses.dataclass(frozen=True)
class LayerSummary:
    """One leaf module of a network applied to one image.

    Attributes:
        name: qualified name, e.g. ``"features.0"``.
        kind: the module's class name, e.g. ``"Conv2d"``.
        layer: the layer's number in the paper (AlexNet's 1 to 8, for its convolution and
            linear layers), from the model's ``layer_index``; ``None`` when it has none.
        out_shape: the output of this module for one image, ``(C, H, W)`` or ``(F,)``.
        parameters: the module's own parameters.
        multiply_adds: what ``torch.utils.flop_counter.FlopCounterMode`` counts, halved (one
            multiply-add per weight per output position; biases, activations, LRN and pooling
            are not counted).
    """

    name: str
    kind: str
    layer: int | None
    out_shape: tuple[int, ...]
    parameters: int
    multiply_adds: int

    @property
    def neurons(self) -> int:
        """Output values per image, the product of ``out_shape``."""
        return int(torch.Size(self.out_shape).numel())


def layer_summary(
    model: nn.Module,
    input_size: int | tuple[int, int] | None = None,
    *,
    in_channels: int | None = None,
) -> list[LayerSummary]:
    """Output shape, parameters and multiply-adds of every leaf module, for one image.

    Works for any network that takes an image batch: forward hooks record each leaf module
    (one without children) in the order the forward pass calls it, and
    ``torch.utils.flop_counter.FlopCounterMode`` counts its arithmetic. Runs on the meta device
    (a copy of ``model`` when it is not there already): shapes and counts without memory or
    arithmetic, so the full-size networks cost nothing.

    Args:
        model: an ``nn.Module`` mapping ``(N, C, H, W)`` to anything.
        input_size: input height and width, an int or ``(H, W)``; ``None`` means the model's
            ``input_size`` attribute (the book's AlexNet and LeNet-5 have one).
        in_channels: input channels; ``None`` means those of the first ``nn.Conv2d``.

    Returns:
        one :class:`LayerSummary` per leaf-module call, in call order. Where the model has a
        ``layer_index`` (``{qualified name: layer number}``, as the book's AlexNet), rows carry
        those numbers.

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.
        ValueError: no input size or channel count can be found.

    Example:
        >>> with torch.device("meta"):
        ...     rows = layer_summary(alexnet(variant="torchvision"))
        >>> params = sum(r.parameters for r in rows)
        >>> rows[0].out_shape, params, sum(r.multiply_adds for r in rows)
        ((64, 55, 55), 61100840, 714188480)
        >>> tiny = nn.Sequential(nn.Conv2d(1, 2, 3))
        >>> [(r.name, r.out_shape) for r in layer_summary(tiny, 5)]
        [('0', (2, 3, 3))]
    """
    fn = "layer_summary"
    if not isinstance(model, nn.Module):
        raise TypeError(f"{fn}: model must be an nn.Module, got {type(model).__name__}")
    size = getattr(model, "input_size", None) if input_size is None else input_size
    if size is None:
        raise ValueError(f"{fn}: pass input_size: {type(model).__name__} has no input_size")
    height, width = _pair(size, "input_size", fn, 1)
    if in_channels is None:
        first = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
        if first is None:
            raise ValueError(f"{fn}: pass in_channels: {type(model).__name__} has no nn.Conv2d")
        in_channels = first.in_channels
    in_channels = _positive_int(in_channels, "in_channels", fn)
    on_meta = all(p.device.type == "meta" for p in model.parameters())
    meta = model if on_meta else copy.deepcopy(model).to("meta")
    layer_index = getattr(model, "layer_index", {})
    calls: list[tuple[str, nn.Module, tuple[int, ...]]] = []
    hooks = [
        module.register_forward_hook(
            lambda mod, args, out, name=name: calls.append((name, mod, tuple(out.shape[1:])))
        )
        for name, module in meta.named_modules()
        if name and not any(True for _ in module.children())
    ]
    # one image in evaluation mode: batch norm in training mode refuses a 1×1 map of one image
    modes = {module: module.training for module in meta.modules()}
    meta.eval()
    try:
        with torch.no_grad(), _flop_counter(meta) as counter:
            meta(torch.zeros(1, in_channels, height, width, device="meta"))
    finally:
        for hook in hooks:
            hook.remove()
        for module, training in modes.items():
            module.train(training)
    flops = {key: sum(ops.values()) for key, ops in counter.get_flop_counts().items()}
    root = type(meta).__name__
    return [
        LayerSummary(
            name=name,
            kind=type(module).__name__,
            layer=layer_index.get(name),
            out_shape=shape,
            parameters=sum(p.numel() for p in module.parameters()),
            multiply_adds=flops.get(f"{root}.{name}", 0) // 2,
        )
        for name, module, shape in calls
    ]


def _flop_counter(model: nn.Module) -> FlopCounterMode:
    """A FlopCounterMode that counts per module of ``model`` on every supported torch.

    Up to torch 2.3 it records per-module counts only for the modules passed to it; from 2.4
    (``torch.utils.module_tracker``) it tracks every module itself and warns when given them.
    """
    # imported here: it imports triton where installed, a fifth of a second
    from torch.utils.flop_counter import FlopCounterMode

    try:
        import torch.utils.module_tracker  # noqa: F401
    except ImportError:
        return FlopCounterMode(model, depth=None, display=False)
    return FlopCounterMode(depth=None, display=False)
