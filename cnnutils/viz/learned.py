"""What a trained network learned: the image patches that excite a map most, and images made to.

:func:`top_patches` runs a stack of layers over a set of images, finds for one map (channel) the
images where it fires most, and crops from each the receptive field of its strongest unit,
the way Zeiler & Fergus show the top activations of a unit beside its deconvolution.
:func:`maximise_activation` starts from a plain grey image and follows the gradient of a map's
mean activation (or a class score) with respect to the pixels, with a small L2 penalty that
keeps the image from growing without bound: the simplest activation maximisation of the Distill
article "Feature Visualization" (Olah et al., 2017).

Both only read the model: its weights and training mode are as they were afterwards.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from cnnutils._checks import _positive_int
from cnnutils.geometry import ReceptiveField, receptive_field

__all__ = ["ActivationMaximum", "TopPatches", "maximise_activation", "top_patches"]


@dataclasses.dataclass(frozen=True)
class TopPatches:
    """The ``k`` images that excite one map most, what :func:`top_patches` returns.

    Attributes:
        patches: the receptive field of the strongest unit in each, ``(k, C, r, r)``, strongest
            first (``r`` the receptive field's side; outside the image, ``fill``).
        values: that unit's activation, ``(k,)``, descending.
        image_index: which of the images, ``(k,)``.
        position: the unit's ``(row, column)`` in the map, ``(k, 2)``.
        top_left: the patch's top-left corner in the image (may be negative), ``(k, 2)``.
    """

    patches: Tensor
    values: Tensor
    image_index: Tensor
    position: Tensor
    top_left: Tensor


@dataclasses.dataclass(frozen=True)
class ActivationMaximum:
    """Images grown by gradient ascent, what :func:`maximise_activation` returns.

    Attributes:
        images: one image per target, ``(K, C, H, W)``.
        start: each target's activation at the grey start image, ``(K,)``.
        final: each target's activation at the returned image, ``(K,)``.
    """

    images: Tensor
    start: Tensor
    final: Tensor


@contextlib.contextmanager
def _evaluating(model: nn.Module) -> Iterator[None]:
    """``model`` in evaluation mode inside the block, its own modes restored afterwards."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, mode in modes:
            module.training = mode


def _square(value: int | tuple[int, int], name: str, fn: str) -> int:
    if isinstance(value, tuple):
        if value[0] != value[1]:
            raise ValueError(f"{fn}: needs a square receptive field, {name} is {value}")
        value = value[0]
    return value


def _device(model: nn.Module) -> torch.device:
    return next((p.device for p in model.parameters()), torch.device("cpu"))


def top_patches(
    layers: nn.Module,
    images: Tensor,
    channel: int,
    k: int = 8,
    *,
    field: ReceptiveField | None = None,
    fill: float | None = None,
    batch_size: int = 1000,
) -> TopPatches:
    """The input patches that make map ``channel`` of ``layers`` fire most, one per image.

    For every image, the map's largest value and where it is; the ``k`` images with the
    largest maxima; from each, the square of input pixels that unit sees (its receptive field).

    Args:
        layers: maps ``(N, C, H, W)`` to ``(N, C', H', W')``, e.g. the first layers of a
            network's ``features``; evaluated in evaluation mode, without gradients.
        images: ``(N, C, H, W)``, on any device (batches go to the device of ``layers``).
        channel: the map, ``0 <= channel < C'``.
        k: how many images, at most ``N``.
        field: the receptive field of the units of ``layers``; ``None`` computes it with
            :func:`cnnutils.receptive_field` (``layers`` must then be a sequence of layers it
            knows).
        fill: the value outside the image, where a receptive field reaches into the padding;
            ``None`` means the images' smallest value (the background of a digit).
        batch_size: images per forward pass.

    Returns:
        a :class:`TopPatches`; ``patches`` are ``(k, C, r, r)`` on the CPU.

    Raises:
        ValueError: ``images`` is not 4-D, ``channel`` is out of range, ``k`` is not in
            ``1..N``, or the receptive field is not square.

    Example:
        >>> conv = nn.Conv2d(1, 1, 3, bias=False)
        >>> _ = nn.init.constant_(conv.weight, 1.0)
        >>> x = torch.zeros(4, 1, 8, 8)
        >>> x[2, 0, 4:7, 1:4] = 1.0  # a bright 3×3 square in image 2
        >>> top = top_patches(nn.Sequential(conv), x, 0, k=1)
        >>> top.image_index.tolist(), top.position[0].tolist(), top.patches[0].sum().item()
        ([2], [4, 1], 9.0)
    """
    fn = "top_patches"
    if not isinstance(images, Tensor) or images.ndim != 4:
        raise ValueError(f"{fn}: images must be a (N, C, H, W) tensor")
    k = _positive_int(k, "k", fn)
    if k > len(images):
        raise ValueError(f"{fn}: k = {k} is more than the {len(images)} images")
    batch_size = _positive_int(batch_size, "batch_size", fn)
    field = receptive_field(layers)[-1] if field is None else field
    size = _square(field.size, "size", fn)
    jump = _square(field.jump, "jump", fn)
    start = _square(field.start, "start", fn)
    device = _device(layers)
    maxima, where = [], []
    with _evaluating(layers), torch.no_grad():
        for batch in images.split(batch_size):
            out = layers(batch.to(device))
            if not 0 <= channel < out.shape[1]:
                raise ValueError(f"{fn}: channel {channel} is not in 0..{out.shape[1] - 1}")
            value, index = out[:, channel].flatten(1).max(dim=1)  # (B,), (B,)
            maxima.append(value.cpu())
            where.append(torch.stack([index // out.shape[-1], index % out.shape[-1]], 1).cpu())
    values, image_index = torch.cat(maxima).topk(k)
    position = torch.cat(where)[image_index]  # (k, 2) rows and columns in the map
    top_left = (start - (size - 1) / 2 + position * jump).round().long()  # (k, 2)
    fill = float(images.min()) if fill is None else fill
    padded = F.pad(images[image_index].cpu(), (size,) * 4, value=fill)  # room for any crop
    patches = torch.stack(
        [
            padded[i, :, r + size : r + 2 * size, c + size : c + 2 * size]
            for i, (r, c) in enumerate(top_left.tolist())
        ]
    )
    return TopPatches(patches, values, image_index, position, top_left)


def _objective(out: Tensor, targets: Tensor) -> Tensor:
    """Each image's target activation: a class score, or the mean of a map."""
    picked = out[torch.arange(len(targets)), targets]  # (K,) or (K, H, W)
    return picked.flatten(1).mean(1) if picked.ndim > 1 else picked


def maximise_activation(
    model: nn.Module,
    targets: Sequence[int],
    input_shape: tuple[int, int, int],
    *,
    steps: int = 200,
    lr: float = 0.05,
    l2: float = 1e-2,
    start: float = 0.0,
    bounds: tuple[float, float] | None = None,
) -> ActivationMaximum:
    """Images that maximise a class score or a map's mean activation, by gradient ascent.

    Each target gets its own image, starting from the grey image ``start`` everywhere. Adam
    steps ``lr`` follow the gradient of ``activation - l2 * mean((x - start)²)``; with
    ``bounds`` every step is clipped to the range of real pixels.

    Args:
        model: maps ``(K, C, H, W)`` to class scores ``(K, classes)`` or maps
            ``(K, C', H', W')``; evaluated in evaluation mode, its weights untouched.
        targets: one class or map index per image.
        input_shape: ``(C, H, W)`` of one image.
        steps: gradient steps.
        lr: Adam's step size, in pixel units.
        l2: weight of the penalty on the squared distance from ``start``, per pixel.
        start: the grey value every image starts from (``0`` is the mean pixel of
            standardised data).
        bounds: ``(low, high)`` pixel range to clip to, or ``None``.

    Returns:
        an :class:`ActivationMaximum` on the CPU.

    Raises:
        ValueError: no targets, ``steps`` not positive, or a bad ``input_shape``.

    Example:
        >>> net = nn.Conv2d(1, 2, 3)
        >>> result = maximise_activation(net, [0, 1], (1, 6, 6), steps=20)
        >>> result.images.shape, bool((result.final > result.start).all())
        (torch.Size([2, 1, 6, 6]), True)
    """
    fn = "maximise_activation"
    targets = torch.as_tensor(list(targets), dtype=torch.long)
    if targets.ndim != 1 or len(targets) == 0:
        raise ValueError(f"{fn}: targets must be a non-empty list of ints")
    steps = _positive_int(steps, "steps", fn)
    if len(input_shape) != 3:
        raise ValueError(f"{fn}: input_shape must be (C, H, W), got {input_shape!r}")
    shape = (len(targets), *(_positive_int(s, "input_shape", fn) for s in input_shape))
    device = _device(model)
    targets = targets.to(device)
    x = torch.full(shape, float(start), device=device, requires_grad=True)
    optimizer = torch.optim.Adam([x], lr=lr)
    with _evaluating(model):
        with torch.no_grad():
            first = _objective(model(x), targets)
        for _ in range(steps):
            gain = _objective(model(x), targets)
            penalty = l2 * (x - start).pow(2).flatten(1).mean(1)
            (grad,) = torch.autograd.grad(-(gain - penalty).sum(), x)
            x.grad = grad
            optimizer.step()
            if bounds is not None:
                with torch.no_grad():
                    x.clamp_(*bounds)
        with torch.no_grad():
            last = _objective(model(x), targets)
    return ActivationMaximum(x.detach().cpu(), first.cpu(), last.cpu())
