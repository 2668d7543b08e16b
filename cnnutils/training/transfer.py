"""Transfer learning: freeze, replace the head, per-layer learning rates, probes, ImageNet weights.

Small helpers that compose: :func:`freeze` and :func:`unfreeze` switch ``requires_grad`` by
parameter-name prefix and return the names they changed; :func:`replace_head` swaps the last
linear layer for a new one with another number of classes; :func:`param_groups` gives each
trainable parameter the learning rate of its longest matching prefix, as a list of groups for any
``torch.optim`` optimiser; :func:`norm_only` trains only the normalisation layers' affine
parameters and the head (Frankle, Schwab & Morcos, 2021); :func:`extract_features` and
:func:`linear_probe` use a network as a fixed feature extractor; :func:`load_pretrained` loads
torchvision's ImageNet weights through its weights API, with a clear error when offline.

Prefixes match whole name components: ``"features"`` matches ``"features.0.weight"`` but not
``"features2.weight"``; the empty prefix ``""`` matches every parameter.

The batch-norm caveat: ``requires_grad=False`` stops the gradient, not the running statistics. A
batch-norm layer in training mode normalises with the batch's statistics and updates
``running_mean``/``running_var`` at every forward pass, frozen or not, so a "frozen" network
still drifts. ``freeze(..., bn_eval=True)`` replaces each frozen batch-norm layer by a
:class:`FrozenBatchNorm`, which always normalises with the running statistics and never updates
them, whatever ``model.train()`` says; printing the model shows it. :func:`unfreeze` puts the
batch-norm layers back. (timm and torchvision freeze batch norm the same way, with their
``FrozenBatchNorm2d``.)
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import itertools
import os
import pickle
import zipfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from cnnutils._checks import _bool, _int, _module, _number, _positive_int, _str
from cnnutils.data.datasets import ImageDataset
from cnnutils.runtime import get_device

__all__ = [
    "NORM_LAYERS",
    "FrozenBatchNorm",
    "ProbeResult",
    "WeightsUnavailableError",
    "extract_features",
    "find_head",
    "freeze",
    "linear_probe",
    "load_pretrained",
    "norm_only",
    "param_groups",
    "replace_head",
    "unfreeze",
    "weights_info",
]

#: The normalisation layers whose affine parameters :func:`norm_only` trains.
NORM_LAYERS: tuple[type[nn.Module], ...] = (
    nn.modules.batchnorm._BatchNorm,
    nn.GroupNorm,
    nn.LayerNorm,
    nn.modules.instancenorm._InstanceNorm,
)


class WeightsUnavailableError(RuntimeError):
    """Pretrained weights are neither cached nor downloadable (typically: no network), or the
    file that should hold them cannot be read (incomplete, corrupt, or other weights)."""


# ---------------------------------------------------------------------------------------------
# Freezing


def _prefixes(prefixes: str | Iterable[str], name: str) -> list[str]:
    if isinstance(prefixes, str):
        prefixes = [prefixes]
    if not isinstance(prefixes, Iterable):
        raise TypeError(
            f"{name}: prefixes must be a str or an iterable of str, got {type(prefixes).__name__}"
        )
    prefixes = list(prefixes)
    for prefix in prefixes:
        if not isinstance(prefix, str):
            raise TypeError(f"{name}: each prefix must be a str, got {type(prefix).__name__}")
    return prefixes


def _matches(name: str, prefix: str) -> bool:
    return prefix == "" or name == prefix or name.startswith(prefix + ".")


def _select(model: nn.Module, prefixes: list[str], name: str) -> list[tuple[str, nn.Parameter]]:
    params = list(model.named_parameters())
    for prefix in prefixes:
        if not any(_matches(n, prefix) for n, _ in params):
            first = ", ".join(sorted({n.split(".")[0] for n, _ in params})) or "none"
            raise ValueError(
                f"{name}: prefix {prefix!r} matches no parameter of {type(model).__name__} "
                f"(its top-level names: {first})"
            )
    return [(n, p) for n, p in params if any(_matches(n, prefix) for prefix in prefixes)]


class FrozenBatchNorm(nn.Module):
    """A batch-norm layer with fixed statistics: what :func:`freeze` puts in place of one.

    It normalises with the running mean and variance of the layer it replaces and never
    updates them, in training mode as in evaluation mode:
    ``y = (x - running_mean) / sqrt(running_var + eps) * weight + bias``, what the original
    layer computes in evaluation mode. It holds the original's own parameters and buffers (the
    same tensors), so ``state_dict`` keys, optimiser references and parameter counts do not
    change; any ``(N, C, ...)`` input works, as for ``BatchNorm1d``, ``2d`` and ``3d``.
    :meth:`thaw` gives back the original layer. The same idea as ``FrozenBatchNorm2d`` in
    torchvision (``torchvision.ops``) and timm, which build a new 4-D-only layer instead.

    Args:
        bn: the batch-norm layer to freeze; it must track running statistics.

    Example:
        >>> bn = nn.BatchNorm2d(3)
        >>> frozen = FrozenBatchNorm(bn)
        >>> frozen
        FrozenBatchNorm(3, eps=1e-05, of BatchNorm2d)
        >>> x = torch.randn(2, 3, 4, 4)
        >>> torch.equal(frozen.train()(x), bn.eval()(x)), frozen.thaw() is bn
        (True, True)
    """

    def __init__(self, bn: nn.modules.batchnorm._BatchNorm) -> None:
        super().__init__()
        fn = "FrozenBatchNorm"
        if not isinstance(bn, nn.modules.batchnorm._BatchNorm):
            raise TypeError(f"{fn}: bn must be a batch-norm layer, got {type(bn).__name__}")
        if bn.running_mean is None:
            raise ValueError(
                f"{fn}: bn must track running statistics (track_running_stats=True), got {bn!r}"
            )
        self.num_features, self.eps = bn.num_features, bn.eps
        self.__dict__["_original"] = bn  # not a submodule: its tensors are registered here
        for name, param in bn._parameters.items():  # weight and bias, None without affine
            self.register_parameter(name, param)
        for name, buffer in bn._buffers.items():
            self.register_buffer(name, buffer)

    def forward(self, x: Tensor) -> Tensor:
        return nn.functional.batch_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps
        )

    def thaw(self) -> nn.modules.batchnorm._BatchNorm:
        """The original batch-norm layer, holding this layer's current tensors (moved or cast
        with the model since it was frozen), in this layer's mode."""
        bn = self.__dict__["_original"]
        for name in list(bn._parameters):
            bn._parameters[name] = self._parameters[name]
        for name in list(bn._buffers):
            bn._buffers[name] = self._buffers[name]
        return bn.train(self.training)

    def extra_repr(self) -> str:
        kind = type(self.__dict__["_original"]).__name__
        return f"{self.num_features}, eps={self.eps}, of {kind}"


def _bn_modules(model: nn.Module, prefixes: list[str]) -> list[str]:
    """Names of the batch-norm layers under ``prefixes`` whose parameters are all frozen."""
    return [
        n
        for n, m in model.named_modules()
        if isinstance(m, nn.modules.batchnorm._BatchNorm)
        and m.track_running_stats
        and any(_matches(n, prefix) or prefix.startswith(n + ".") for prefix in prefixes)
        and not any(p.requires_grad for p in m.parameters())
    ]


def _swap(model: nn.Module, name: str, new: nn.Module) -> None:
    """Put ``new`` in place of the submodule called ``name``."""
    parent, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent), child, new)


def freeze(
    model: nn.Module, prefixes: str | Iterable[str] = "", *, bn_eval: bool = False
) -> list[str]:
    """Stop training the parameters whose names start with one of ``prefixes``.

    Args:
        model: any module; changed in place.
        prefixes: name prefixes (whole components, ``""`` for all), e.g. ``"features"``.
        bn_eval: also freeze the statistics of the batch-norm layers that are now entirely
            frozen (and lie under a prefix): each is replaced by a :class:`FrozenBatchNorm`,
            which normalises with, and stops updating, its running statistics, even after
            ``model.train()``. Without it, a frozen batch-norm layer in training mode still
            changes its running statistics.

    Returns:
        the names of the parameters that were trainable and are now frozen, in model order.

    Raises:
        TypeError: a model that is not a module, prefixes that are not strings, a non-bool
            ``bn_eval``.
        ValueError: a prefix matches no parameter.

    Example:
        >>> net = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2), nn.Linear(2, 1))
        >>> freeze(net, ["0", "1"], bn_eval=True)
        ['0.weight', '0.bias', '1.weight', '1.bias']
        >>> net[1]
        FrozenBatchNorm(2, eps=1e-05, of BatchNorm1d)
        >>> net.train()[1](torch.randn(4, 2)).shape, int(net[1].num_batches_tracked)
        (torch.Size([4, 2]), 0)
    """
    name = "freeze"
    _module(model, "model", name)
    prefixes = _prefixes(prefixes, name)
    bn_eval = _bool(bn_eval, "bn_eval", name)
    changed = []
    for n, p in _select(model, prefixes, name):
        if p.requires_grad:
            p.requires_grad_(False)
            changed.append(n)
    if bn_eval:
        names = _bn_modules(model, prefixes)
        if names == [""]:
            raise ValueError(
                f"{name}: bn_eval=True replaces batch-norm layers inside a model, and the model "
                "is one: wrap it, e.g. nn.Sequential(bn)"
            )
        for n in names:
            _swap(model, n, FrozenBatchNorm(model.get_submodule(n)))
    return changed


def unfreeze(model: nn.Module, prefixes: str | Iterable[str] = "") -> list[str]:
    """Train again the parameters whose names start with one of ``prefixes``.

    The :class:`FrozenBatchNorm` layers that :func:`freeze` put under the prefixes become the
    original batch-norm layers again, in the mode of ``model`` now.

    Args:
        model: any module.
        prefixes: one prefix or several; the empty prefix ``""`` matches every parameter.

    Returns:
        the names of the parameters that were frozen and are now trainable, in model order.

    Raises:
        ValueError: a prefix matches no parameter.

    Example:
        >>> net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
        >>> freeze(net), unfreeze(net, "1")
        (['0.weight', '0.bias', '1.weight', '1.bias'], ['1.weight', '1.bias'])
    """
    name = "unfreeze"
    _module(model, "model", name)
    prefixes = _prefixes(prefixes, name)
    selected = _select(model, prefixes, name)
    frozen = [
        n
        for n, m in model.named_modules()
        if isinstance(m, FrozenBatchNorm)
        and any(_matches(n, prefix) or prefix.startswith(n + ".") for prefix in prefixes)
    ]
    for n in frozen:
        _swap(model, n, model.get_submodule(n).train(model.training).thaw())
    changed = []
    for n, p in selected:
        if not p.requires_grad:
            p.requires_grad_(True)
            changed.append(n)
    return changed


def norm_only(model: nn.Module, *, head: str | None = None, bn_eval: bool = False) -> list[str]:
    """Train only the normalisation layers' affine parameters (and the head); freeze the rest.

    Frankle, Schwab & Morcos (2021) train only the batch-norm scale and shift of a randomly
    initialised network and reach surprising accuracy; in transfer learning the same idea adapts
    a pretrained network with very few parameters.

    Args:
        model: any module with at least one affine normalisation layer (:data:`NORM_LAYERS`).
        head: the name of the output layer to train too (``""`` for none); ``None`` means
            :func:`find_head`.
        bn_eval: passed to :func:`freeze` (it concerns batch-norm layers whose parameters are all
            frozen, so not the ones trained here, and those without affine parameters).

    Returns:
        the names of the trainable parameters, in model order.

    Example:
        >>> net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten())
        >>> net.append(nn.Linear(2, 3))  # doctest: +ELLIPSIS
        Sequential(...)
        >>> norm_only(net)
        ['1.weight', '1.bias', '3.weight', '3.bias']
    """
    name = "norm_only"
    _module(model, "model", name)
    norms = [
        n
        for n, m in model.named_modules()
        if isinstance(m, (*NORM_LAYERS, FrozenBatchNorm))
        and any(True for _ in m.parameters(recurse=False))
    ]
    if not norms:
        raise ValueError(
            f"{name}: {type(model).__name__} has no normalisation layer with affine parameters "
            "(build it with batch normalisation, e.g. lenet5(variant='modern', batch_norm=True))"
        )
    if head is None:
        head = _find_head(model, name)
    elif not isinstance(head, str):
        raise TypeError(f"{name}: head must be a str or None, got {type(head).__name__}")
    bn_eval = _bool(bn_eval, "bn_eval", name)
    freeze(model, "", bn_eval=bn_eval)
    unfreeze(model, norms + ([head] if head else []))
    return [n for n, p in model.named_parameters() if p.requires_grad]


# ---------------------------------------------------------------------------------------------
# Heads and learning rates


def find_head(model: nn.Module) -> str:
    """The qualified name of the output layer: the last ``nn.Linear`` registered in the model.

    That is ``classifier.N`` for :func:`~cnnutils.models.lenet5.lenet5` and
    :func:`~cnnutils.models.alexnet.alexnet`, ``fc`` for torchvision's ResNets, ``classifier.6``
    for its AlexNet and VGGs, ``heads.head`` for ViT.

    Args:
        model: any module.

    Returns:
        the name, as in ``model.named_modules()``.

    Raises:
        ValueError: the model has no linear layer.

    Example:
        >>> find_head(nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)))
        '2'
    """
    return _find_head(model, "find_head")


def _find_head(model: nn.Module, fn: str) -> str:
    """:func:`find_head`, its errors naming ``fn``, the public function the user called."""
    _module(model, "model", fn)
    linear = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not linear:
        raise ValueError(f"{fn}: {type(model).__name__} has no nn.Linear layer to use as the head")
    return linear[-1]


def replace_head(model: nn.Module, num_classes: int, *, head: str | None = None) -> str:
    """Replace the output layer by a new, freshly initialised one with ``num_classes`` outputs.

    The new layer has the old one's input features, bias choice, device and dtype, and is
    trainable even if the old one was frozen.

    Args:
        model: changed in place.
        num_classes: outputs of the new layer.
        head: the qualified name of the layer to replace; ``None`` means :func:`find_head`.

    Returns:
        the qualified name of the new layer.

    Example:
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(4, 10))
        >>> replace_head(net, 3), net(torch.zeros(2, 4)).shape
        ('1', torch.Size([2, 3]))
    """
    name = "replace_head"
    _module(model, "model", name)
    num_classes = _positive_int(num_classes, "num_classes", name)
    head = _find_head(model, name) if head is None else _str(head, "head", name)
    try:
        old = model.get_submodule(head)
    except AttributeError:
        raise ValueError(f"{name}: {type(model).__name__} has no layer named {head!r}") from None
    if not isinstance(old, nn.Linear):
        raise TypeError(f"{name}: layer {head!r} must be an nn.Linear, got {type(old).__name__}")
    new = nn.Linear(
        old.in_features,
        num_classes,
        bias=old.bias is not None,
        device=old.weight.device,
        dtype=old.weight.dtype,
    )
    parent_name, _, child = head.rpartition(".")
    setattr(model.get_submodule(parent_name), child, new)
    return head


def param_groups(
    model: nn.Module, lrs: Mapping[str, float], *, default_lr: float | None = None
) -> list[dict[str, Any]]:
    """Parameter groups giving each trainable parameter the learning rate of its prefix.

    Every trainable parameter lands in exactly one group: that of its longest matching prefix,
    or the default group (learning rate ``default_lr``, or the optimiser's own ``lr`` when
    ``None``). Frozen parameters are left out; empty groups are dropped. Each group also has a
    ``"prefix"`` key (``None`` for the default group), which ``torch.optim`` keeps.

    Args:
        model: any module.
        lrs: ``{prefix: learning rate}``, e.g. ``{"features": 1e-3, "classifier": 1e-2}``.
        default_lr: the learning rate of the parameters no prefix matches.

    Returns:
        a list of ``{"params": [...], "lr": ..., "prefix": ...}`` dicts for ``torch.optim``.

    Raises:
        ValueError: a prefix matches no parameter, or a learning rate is negative.

    Example:
        >>> net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
        >>> groups = param_groups(net, {"1": 0.01}, default_lr=0.001)
        >>> [(g["prefix"], g["lr"], len(g["params"])) for g in groups]
        [('1', 0.01, 2), (None, 0.001, 2)]
        >>> torch.optim.SGD(groups, lr=0.1).param_groups[0]["lr"]
        0.01
    """
    name = "param_groups"
    _module(model, "model", name)
    if not isinstance(lrs, Mapping):
        raise TypeError(f"{name}: lrs must be a mapping {{prefix: lr}}, got {type(lrs).__name__}")
    for prefix, lr in [*lrs.items(), *([(None, default_lr)] if default_lr is not None else [])]:
        _number(lr, f"the lr of {prefix!r}", name, minimum=0.0)
    _select(model, _prefixes(list(lrs), name), name)  # every prefix matches something
    buckets: dict[str | None, list[nn.Parameter]] = {prefix: [] for prefix in lrs}
    buckets[None] = []
    for n, p in model.named_parameters():
        if not p.requires_grad:
            continue
        matching = [prefix for prefix in lrs if _matches(n, prefix)]
        buckets[max(matching, key=len) if matching else None].append(p)
    groups = []
    for prefix, params in buckets.items():
        if not params:
            continue
        group: dict[str, Any] = {"params": params, "prefix": prefix}
        lr = lrs[prefix] if prefix is not None else default_lr
        if lr is not None:
            group["lr"] = float(lr)
        groups.append(group)
    if not groups:
        raise ValueError(f"{name}: {type(model).__name__} has no trainable parameter")
    return groups


# ---------------------------------------------------------------------------------------------
# Fixed features and linear probes


def _hook_extractor(model: nn.Module, layer: str):
    module = model.get_submodule(layer)
    store: dict[str, Tensor] = {}

    def hook(_module: nn.Module, _args: Any, output: Tensor) -> None:
        store["out"] = output

    def run(x: Tensor) -> Tensor:
        handle = module.register_forward_hook(hook)
        try:
            model(x)
        finally:
            handle.remove()
        return store.pop("out")

    return run


def extract_features(
    model: nn.Module,
    data: ImageDataset | Tensor,
    layer: str,
    *,
    batch_size: int = 500,
    device: torch.device | str | None = None,
) -> Tensor:
    """The activations of ``layer`` for every image, flattened, in evaluation mode, no gradient.

    Uses torchvision's ``create_feature_extractor`` (``layer`` is a node name such as
    ``"features.7"`` or ``"avgpool"``; see ``get_graph_node_names``). Models whose ``forward``
    cannot be traced symbolically (:class:`~cnnutils.models.lenet5.LeNet5` and
    :class:`~cnnutils.models.alexnet.AlexNet` check the input shape in Python) fall back to a
    forward hook on the module named ``layer``. The model's training/evaluation mode is restored
    afterwards; it stays on ``device``.

    Args:
        model: the network.
        data: an :class:`~cnnutils.data.ImageDataset` or a tensor of images ``(N, C, H, W)``.
        layer: the node (or module) whose output to return.
        batch_size: images per forward pass.
        device: where to compute; ``None`` means :func:`~cnnutils.runtime.get_device`.

    Returns:
        a float32 CPU tensor of shape ``(N, D)``, ``D`` the layer's output size per image.

    Example:
        >>> net = nn.Sequential(
        ...     nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(16, 2)
        ... )
        >>> extract_features(net, torch.zeros(5, 1, 4, 4), "1", device="cpu").shape
        torch.Size([5, 16])
    """
    from torch.fx.proxy import TraceError
    from torchvision.models.feature_extraction import create_feature_extractor

    name = "extract_features"
    _module(model, "model", name)
    x = data.x if isinstance(data, ImageDataset) else data
    if not isinstance(x, Tensor):
        raise TypeError(
            f"{name}: data must be an ImageDataset or an (N, C, H, W) tensor, got "
            f"{type(data).__name__}"
        )
    if x.dim() != 4:
        raise ValueError(f"{name}: data must be (N, C, H, W) images, got shape {tuple(x.shape)}")
    if len(x) == 0:
        raise ValueError(
            f"{name}: data must hold at least one image (the feature size comes from the "
            f"layer's output), got shape {tuple(x.shape)}"
        )
    _str(layer, "layer", name)
    batch_size = _positive_int(batch_size, "batch_size", name)
    device = get_device() if device is None else torch.device(device)
    was_training = model.training
    model.to(device)
    try:
        extractor = create_feature_extractor(model, return_nodes={layer: "out"})
        extractor.eval()

        def run(batch: Tensor) -> Tensor:
            return extractor(batch)["out"]

    except TraceError:
        names = {n for n, _ in model.named_modules() if n}
        if layer not in names:
            raise ValueError(
                f"{name}: {type(model).__name__} has no layer named {layer!r}"
            ) from None
        run = _hook_extractor(model, layer)
    except ValueError as error:
        raise ValueError(f"{name}: {type(model).__name__}: {error}") from None
    model.eval()
    try:
        with torch.no_grad():
            outputs = [
                run(x[i : i + batch_size].to(device)).flatten(1).float().cpu()
                for i in range(0, len(x), batch_size)
            ]
    finally:
        model.train(was_training)
    return torch.cat(outputs)


@dataclasses.dataclass(frozen=True)
class ProbeResult:
    """What :func:`linear_probe` returns.

    Attributes:
        accuracy: the accuracy on the test features, a fraction in ``[0, 1]``.
        estimator: the fitted scikit-learn pipeline, standardisation then logistic regression.
    """

    accuracy: float
    estimator: Any


def _as_numpy(values: Any, name: str, arg: str, dims: int) -> np.ndarray:
    array = values.detach().cpu().numpy() if isinstance(values, Tensor) else np.asarray(values)
    if array.ndim != dims:
        raise ValueError(f"{name}: {arg} must have {dims} dimension(s), got shape {array.shape}")
    return array


def linear_probe(
    train_features: Tensor | np.ndarray,
    train_y: Tensor | np.ndarray,
    test_features: Tensor | np.ndarray,
    test_y: Tensor | np.ndarray,
    *,
    C: float = 1.0,
    max_iter: int = 2000,
) -> ProbeResult:
    """Fit a logistic regression on fixed features, report its test accuracy.

    The features are standardised (mean 0, variance 1 per feature, from the training set) and
    classified by scikit-learn's ``LogisticRegression`` (L2 penalty of strength ``1 / C``).

    Args:
        train_features: ``(N, D)``.
        train_y: ``(N,)`` integer labels.
        test_features: ``(M, D)``.
        test_y: ``(M,)``.
        C: inverse regularisation strength.
        max_iter: iterations of the solver.

    Example:
        >>> f = torch.tensor([[0.0], [1.0], [2.0], [3.0]])
        >>> y = torch.tensor([0, 0, 1, 1])
        >>> linear_probe(f, y, f, y).accuracy
        1.0
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    name = "linear_probe"
    C = _number(C, "C", name, positive=True)
    max_iter = _int(max_iter, "max_iter", name, minimum=1)
    xtr = _as_numpy(train_features, name, "train_features", 2)
    ytr = _as_numpy(train_y, name, "train_y", 1)
    xte = _as_numpy(test_features, name, "test_features", 2)
    yte = _as_numpy(test_y, name, "test_y", 1)
    if len(xtr) != len(ytr) or len(xte) != len(yte):
        raise ValueError(
            f"{name}: features and labels must have the same length, got {len(xtr)} and "
            f"{len(ytr)} (train), {len(xte)} and {len(yte)} (test)"
        )
    if xtr.shape[1] != xte.shape[1]:
        raise ValueError(
            f"{name}: train and test features must have the same width, got {xtr.shape[1]} and "
            f"{xte.shape[1]}"
        )
    if len(np.unique(ytr)) < 2:
        raise ValueError(f"{name}: train_y must hold at least 2 classes")
    estimator = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=max_iter))
    estimator.fit(xtr, ytr)
    accuracy = float((estimator.predict(xte) == yte).mean())
    return ProbeResult(accuracy, estimator)


# ---------------------------------------------------------------------------------------------
# torchvision's pretrained weights


def _weights_enum(name: str, fn: str):
    import torchvision

    _str(name, "name", fn)
    models = torchvision.models.list_models(module=torchvision.models)
    if name not in models:
        raise ValueError(
            f"{fn}: unknown model name {name!r}; torchvision's classifiers include "
            f"{', '.join(m for m in models if m in ('alexnet', 'resnet18', 'vgg11'))}, ..."
        )
    return torchvision.models.get_model_weights(name)


def weights_info(name: str = "alexnet") -> list[dict[str, Any]]:
    """Metadata of torchvision's pretrained weights for model ``name``; downloads nothing.

    Args:
        name: a torchvision classification model, e.g. ``"alexnet"`` or ``"resnet18"``.

    Returns:
        one dict per weights entry, with keys ``weights`` (e.g. ``"IMAGENET1K_V1"``),
        ``num_params``, ``acc@1`` and ``acc@5`` (ImageNet-1K validation, %), ``file_size_mb``
        (as torchvision reports it), ``file`` (the checkpoint's file name) and ``min_size``.

    Example:
        >>> info = weights_info("alexnet")[0]
        >>> info["weights"], info["num_params"], info["acc@1"], info["file"]
        ('IMAGENET1K_V1', 61100840, 56.522, 'alexnet-owt-7be5be79.pth')
    """
    rows = []
    for weights in _weights_enum(name, "weights_info"):
        meta = weights.meta
        metrics = meta.get("_metrics", {}).get("ImageNet-1K", {})
        rows.append(
            {
                "weights": weights.name,
                "num_params": meta.get("num_params"),
                "acc@1": metrics.get("acc@1"),
                "acc@5": metrics.get("acc@5"),
                "file_size_mb": meta.get("_file_size"),
                "file": os.path.basename(weights.url),
                "min_size": meta.get("min_size"),
            }
        )
    return rows


def load_pretrained(
    name: str = "alexnet",
    *,
    weights: str = "DEFAULT",
    path: str | os.PathLike[str] | None = None,
    progress: bool = False,
) -> nn.Module:
    """A torchvision classifier with its pretrained (ImageNet) weights, in evaluation mode.

    Goes through torchvision's weights API (e.g. ``AlexNet_Weights.IMAGENET1K_V1``): the
    checkpoint is read from torch.hub's cache, ``$TORCH_HOME/hub/checkpoints/<file>``, and
    downloaded there when missing. Offline, put the file there (or anywhere, and pass ``path``).

    Args:
        name: a torchvision classification model, e.g. ``"alexnet"``, ``"resnet18"``.
        weights: the weights entry, e.g. ``"IMAGENET1K_V1"``, or ``"DEFAULT"``.
        path: a local state-dict file to load instead of the cache or the download.
        progress: show torch.hub's download message and progress bar.

    Returns:
        the model with the weights loaded (``model.eval()``); its preprocessing is
        ``torchvision.models.get_model_weights(name)[weights].transforms()``.

    Raises:
        ValueError: unknown model or weights name.
        WeightsUnavailableError: the file is not cached and cannot be downloaded, or the
            file (cached or ``path``) cannot be read or does not hold this model's weights;
            the message names the file and what to do.
    """
    import torchvision

    fn = "load_pretrained"
    enum = _weights_enum(name, fn)
    _str(weights, "weights", fn)
    progress = _bool(progress, "progress", fn)
    try:
        entry = enum[weights]
    except KeyError:
        raise ValueError(
            f"{fn}: {name} has no weights {weights!r}; choose one of "
            f"{['DEFAULT', *(w.name for w in enum)]}"
        ) from None
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{fn}: no weights file at {path}")
        source, fix = path, f"replace it with a good copy of {entry.url}"
        with _unreadable(fn, source, fix):
            state = torch.load(path, map_location="cpu", weights_only=True)
    else:
        source = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(entry.url)
        fix = (
            f"delete it and call {fn}({name!r}) again on a machine with a network to download "
            f"it anew, or copy {entry.url} there, or pass path=..."
        )
        quiet = contextlib.ExitStack()
        if not progress:  # torch.hub prints "Downloading: ..." even without a progress bar
            quiet.enter_context(contextlib.redirect_stdout(io.StringIO()))
            quiet.enter_context(contextlib.redirect_stderr(io.StringIO()))
        try:
            with quiet, _unreadable(fn, source, fix):
                state = entry.get_state_dict(progress=progress, check_hash=False)
        except OSError as error:  # URLError, ConnectionError (a blocked network), timeouts
            reason = str(getattr(error, "reason", error)).splitlines()[0]
            raise WeightsUnavailableError(
                f"{fn}: the {name} weights {entry.name} are not cached and could not be "
                f"downloaded ({reason}); offline, copy {entry.url} to {source} "
                f"or pass path=..."
            ) from None
    try:
        model = _model_with_state(torchvision.models.get_model, name, state)
    except (RuntimeError, TypeError, AttributeError) as error:  # other keys, shapes, not a dict
        raise WeightsUnavailableError(
            f"{fn}: {source} does not hold the {name} {entry.name} weights "
            f"({_one_line(error)}); {fix}"
        ) from error
    return model.eval()


def _model_with_state(build: Callable[..., nn.Module], name: str, state: Any) -> nn.Module:
    """``build(name)`` holding the tensors of ``state``. The network is built on the meta
    device, so that its random initialisation (61 million weights for AlexNet) is never
    computed, and takes the loaded tensors as they are; a network with tensors the file does
    not hold (non-persistent buffers) is built for real instead."""
    with torch.device("meta"):
        model = build(name, weights=None)
    model.load_state_dict(state, assign=True)
    if any(t.is_meta for t in itertools.chain(model.parameters(), model.buffers())):
        model = build(name, weights=None)
        model.load_state_dict(state)
    return model


@contextlib.contextmanager
def _unreadable(fn: str, source: Path, fix: str):
    """Turn the errors of reading a truncated or corrupt weights file into one that names the
    file and the fix (torch.load says "Ran out of input", "failed finding central directory",
    "invalid load key" ...)."""
    try:
        yield
    except (
        EOFError,
        RuntimeError,
        ValueError,
        pickle.UnpicklingError,
        zipfile.BadZipFile,
    ) as error:
        raise WeightsUnavailableError(
            f"{fn}: the weights file {source} cannot be read ({_one_line(error)}): it is "
            f"incomplete, corrupt or not a PyTorch checkpoint (an interrupted download or "
            f"copy?); {fix}"
        ) from error


def _one_line(error: BaseException, limit: int = 200) -> str:
    """``Type: message`` on one line, cut at ``limit`` characters."""
    text = " ".join(str(error).split())
    text = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
