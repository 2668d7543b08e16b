"""Layer-by-layer summary of a network for one image: output shapes, parameters, multiply-adds.

Runs on PyTorch's meta device, so even the full-size networks cost no memory and no arithmetic.
"""

from __future__ import annotations

import copy
import dataclasses

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnutils.models.alexnet import AlexNet, alexnet  # noqa: F401  (alexnet: doctest)

__all__ = ["LayerSummary", "layer_summary"]


@dataclasses.dataclass(frozen=True)
class LayerSummary:
    """One leaf module of an :class:`AlexNet` applied to one image.

    Attributes:
        name: qualified name, e.g. ``"features.0"`` (``"flatten"`` for the reshape).
        kind: the module's class name, e.g. ``"Conv2d"``.
        layer: the paper's layer number (1 to 8) for convolutions and linear layers, else
            ``None``.
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


def layer_summary(model: AlexNet, input_size: int | None = None) -> list[LayerSummary]:
    """Output shape, parameters and multiply-adds of every layer, for one image.

    Runs on the meta device (a copy of ``model`` when it is not there already): shapes and
    counts without memory or arithmetic, so the full-size networks cost nothing.

    Args:
        model: an :class:`AlexNet`.
        input_size: input height and width; ``None`` means ``model.input_size``.

    Returns:
        one :class:`LayerSummary` per leaf module, in order (``features``, ``avgpool``, the
        flatten, ``classifier``).

    Example:
        >>> with torch.device("meta"):
        ...     rows = layer_summary(alexnet(variant="torchvision"))
        >>> rows[0].out_shape, sum(r.parameters for r in rows), sum(r.multiply_adds for r in rows)
        ((64, 55, 55), 61100840, 714188480)
    """
    if not isinstance(model, AlexNet):
        raise TypeError(f"layer_summary: model must be an AlexNet, got {type(model).__name__}")
    size = model.input_size if input_size is None else input_size
    on_meta = all(p.device.type == "meta" for p in model.parameters())
    meta = model if on_meta else copy.deepcopy(model).to("meta")
    in_channels = next(m for m in meta.features if isinstance(m, nn.Conv2d)).in_channels
    x = torch.zeros(1, in_channels, size, size, device="meta")
    leaves = [(f"features.{i}", m) for i, m in enumerate(meta.features)]
    leaves += [("avgpool", meta.avgpool), ("flatten", nn.Flatten())]
    leaves += [(f"classifier.{i}", m) for i, m in enumerate(meta.classifier)]
    rows = []
    with torch.no_grad():
        for name, module in leaves:
            with FlopCounterMode(display=False) as counter:
                x = module(x)
            rows.append(
                LayerSummary(
                    name=name,
                    kind=type(module).__name__,
                    layer=model.layer_index.get(name),
                    out_shape=tuple(x.shape[1:]),
                    parameters=sum(p.numel() for p in module.parameters()),
                    multiply_adds=counter.get_total_flops() // 2,
                )
            )
    return rows
