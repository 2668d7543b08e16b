"""A small, readable training loop for in-memory image datasets.

:func:`fit` trains a classifier for a number of epochs on an :class:`~cnnutils.data.ImageDataset`
and returns a :class:`History` (loss and accuracy per epoch, and the wall time when each epoch
ended); :func:`evaluate` measures loss and accuracy; :func:`predict` returns predicted labels
(their plots are in :mod:`cnnutils.viz.training`).

Batches are sliced from tensors that sit on the device for the whole run (no ``DataLoader``):
for a few thousand small images that is what makes a 2-core CPU fast enough. On a CUDA machine
the same call runs there (:func:`~cnnutils.runtime.get_device`), optionally with mixed precision
and ``channels_last``. On the CPU, the same model initialisation and ``seed`` give the same history.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from cnnutils._checks import _positive_int
from cnnutils.data.datasets import ImageDataset
from cnnutils.runtime import get_device

__all__ = [
    "Evaluation",
    "History",
    "evaluate",
    "fit",
    "predict",
]

Augment = Callable[[Tensor, torch.Generator], Tensor]
LossFn = Callable[[Tensor, Tensor], Tensor]


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """Mean loss and accuracy over a dataset, what :func:`evaluate` returns.

    Attributes:
        loss: the mean of the loss over all images.
        accuracy: the fraction of images classified correctly, in ``[0, 1]``.
    """

    loss: float
    accuracy: float


@dataclasses.dataclass
class History:
    """What :func:`fit` measured, one entry per epoch.

    Attributes:
        train_loss: the mean loss over the epoch's training batches (with augmentation, in
            training mode, while the weights change).
        train_accuracy: the accuracy over the same batches, a fraction in ``[0, 1]``.
        val_loss: the loss on the validation set after the epoch (``nan`` without one).
        val_accuracy: the accuracy on the validation set after the epoch (``nan`` without one).
        time: wall-clock seconds from the start of :func:`fit` to the end of the epoch, its
            evaluation included.
        lr: the first parameter group's learning rate at the end of the epoch.
    """

    train_loss: list[float] = dataclasses.field(default_factory=list)
    train_accuracy: list[float] = dataclasses.field(default_factory=list)
    val_loss: list[float] = dataclasses.field(default_factory=list)
    val_accuracy: list[float] = dataclasses.field(default_factory=list)
    time: list[float] = dataclasses.field(default_factory=list)
    lr: list[float] = dataclasses.field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def time_to(self, accuracy: float) -> float:
        """Seconds until the validation accuracy first reached ``accuracy`` (at the end of an
        epoch), or ``inf`` if it never did.

        Args:
            accuracy: the target validation accuracy, a fraction in ``[0, 1]``.

        Returns:
            the entry of ``time`` for the first epoch that reached it, or ``inf``.

        Example:
            >>> History(val_accuracy=[0.9, 0.97, 0.98], time=[1.0, 2.0, 3.0]).time_to(0.97)
            2.0
        """
        for acc, seconds in zip(self.val_accuracy, self.time, strict=True):
            if acc >= accuracy:
                return seconds
        return math.inf


def fit(
    model: nn.Module,
    train: ImageDataset,
    val: ImageDataset | None = None,
    *,
    epochs: int,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    scheduler_step: str = "batch",
    batch_size: int = 64,
    loss_fn: LossFn = F.cross_entropy,
    augment: Augment | None = None,
    seed: int = 0,
    device: torch.device | str | None = None,
    amp: bool = False,
    channels_last: bool = False,
    progress: bool = True,
) -> History:
    """Train ``model`` on ``train`` with mini-batch gradient descent; evaluate on ``val``.

    Each epoch visits the training images once in a random order, in batches of
    ``batch_size`` (the last, smaller batch is kept), and after each epoch evaluates on
    ``val``. A ``tqdm.auto`` bar shows the epochs (``TQDM_DISABLE=1`` in the environment
    silences it, in notebooks too).

    Args:
        model: a classifier mapping ``(N, C, H, W)`` to ``(N, num_classes)`` logits; it is moved
            to ``device`` and trained in place.
        train: training images and labels; ``train.num_classes`` must match the model's output.
        val: validation images (same image shape), or ``None``.
        epochs: number of passes over ``train``.
        optimizer: any ``torch.optim`` optimizer over the model's parameters.
        scheduler: a learning-rate scheduler, stepped after every batch
            (``scheduler_step="batch"``, e.g. ``OneCycleLR``) or every epoch (``"epoch"``).
        scheduler_step: ``"batch"`` or ``"epoch"``.
        batch_size: training images per step.
        loss_fn: ``loss_fn(logits, labels)``, mean over the batch.
        augment: ``augment(x, generator)`` applied to every training batch (e.g. a
            :func:`cnnutils.data.random_shift`), with ``x`` on the device.
        seed: seeds the CPU generator that draws the order of the images and is passed to
            ``augment``. The model's initialisation is the caller's: seed before building it.
        device: where to train; ``None`` means :func:`~cnnutils.runtime.get_device`.
        amp: mixed precision (``torch.autocast``: float16 with gradient scaling on CUDA,
            bfloat16 on the CPU).
        channels_last: use the ``channels_last`` memory format (faster convolutions on
            recent GPUs).
        progress: show the progress bar.

    Returns:
        the :class:`History`.

    Example:
        >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
        <torch._C.Generator object at ...>
        >>> data = ImageDataset(torch.rand(32, 1, 4, 4), torch.arange(32) % 2, ("a", "b"))
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
        >>> opt = torch.optim.SGD(net.parameters(), lr=0.1)
        >>> history = fit(net, data, data, epochs=2, optimizer=opt, device="cpu", progress=False)
        >>> history.epochs, len(history.val_accuracy)
        (2, 2)
    """
    name = "fit"
    _check_model(model, name)
    _check_dataset(train, name, "train")
    if val is not None:
        _check_dataset(val, name, "val")
        if val.image_shape != train.image_shape:
            raise ValueError(
                f"{name}: val images must have the shape of the train images "
                f"{train.image_shape}, got {val.image_shape}"
            )
        if val.num_classes != train.num_classes:
            raise ValueError(
                f"{name}: val must have the {train.num_classes} classes of train, got "
                f"{val.num_classes}"
            )
    _positive_int(epochs, "epochs", name)
    _positive_int(batch_size, "batch_size", name)
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"{name}: optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}"
        )
    if scheduler_step not in ("batch", "epoch"):
        raise ValueError(
            f"{name}: scheduler_step must be 'batch' or 'epoch', got {scheduler_step!r}"
        )

    device = get_device() if device is None else torch.device(device)
    memory_format = torch.channels_last if channels_last else torch.preserve_format
    model.to(device=device, memory_format=memory_format)
    train_x, train_y = _to_device(train, device, memory_format)
    _check_outputs(model, train_x[:2], train.num_classes, name)
    autocast, scaler = _mixed_precision(device, amp)
    generator = torch.Generator().manual_seed(seed)
    history = History()
    start = time.perf_counter()
    bar = tqdm(range(epochs), desc="epochs", leave=False, disable=_quiet(progress))
    for _ in bar:
        model.train()
        loss_sum, correct = torch.zeros((), device=device), torch.zeros((), device=device)
        order = torch.randperm(len(train), generator=generator).to(device)
        for begin in range(0, len(train), batch_size):
            index = order[begin : begin + batch_size]
            x, y = train_x[index], train_y[index]
            if augment is not None:
                x = augment(x, generator)
            with autocast():
                logits = model(x)
                loss = loss_fn(logits, y)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            if scheduler is not None and scheduler_step == "batch":
                scheduler.step()
            loss_sum += loss.detach().float() * len(y)
            correct += (logits.detach().argmax(1) == y).sum()
        if scheduler is not None and scheduler_step == "epoch":
            scheduler.step()
        history.train_loss.append(loss_sum.item() / len(train))
        history.train_accuracy.append(correct.item() / len(train))
        result = (
            evaluate(model, val, device=device, loss_fn=loss_fn, amp=amp)
            if val is not None
            else Evaluation(math.nan, math.nan)
        )
        history.val_loss.append(result.loss)
        history.val_accuracy.append(result.accuracy)
        history.lr.append(optimizer.param_groups[0]["lr"])
        history.time.append(time.perf_counter() - start)
        bar.set_postfix(loss=f"{history.train_loss[-1]:.3f}", val_acc=f"{result.accuracy:.3f}")
    bar.close()
    return history


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: ImageDataset,
    *,
    batch_size: int = 1000,
    device: torch.device | str | None = None,
    loss_fn: LossFn = F.cross_entropy,
    amp: bool = False,
) -> Evaluation:
    """Mean loss and accuracy of ``model`` on ``data``, in evaluation mode, without gradients.

    The model is left in evaluation mode, on ``device``.

    Args:
        model: a classifier mapping ``(N, C, H, W)`` to ``(N, num_classes)`` logits; it is
            moved to ``device``.
        data: the images and labels to measure on.
        batch_size: images per forward pass.
        device: where to compute; ``None`` means :func:`~cnnutils.runtime.get_device`.
        loss_fn: ``loss_fn(logits, labels)``, a mean over the batch.
        amp: mixed precision (``torch.autocast``), as in :func:`fit`.

    Returns:
        an :class:`Evaluation`, the mean loss and the accuracy over all of ``data``.

    Example:
        >>> data = ImageDataset(torch.zeros(4, 1, 2, 2), torch.tensor([0, 0, 1, 0]), "ab")
        >>> class Zero(nn.Module):
        ...     def forward(self, x):  # always predicts class 0 (logits 1, 0)
        ...         return torch.tensor([1.0, 0.0]).expand(len(x), 2)
        >>> evaluate(Zero(), data, device="cpu").accuracy
        0.75
    """
    name = "evaluate"
    _check_model(model, name)
    _check_dataset(data, name, "data")
    _positive_int(batch_size, "batch_size", name)
    device = get_device() if device is None else torch.device(device)
    model.to(device).eval()
    autocast, _ = _mixed_precision(device, amp)
    loss_sum, correct = torch.zeros((), device=device), torch.zeros((), device=device)
    for x, y in data.to(device).batches(batch_size):
        with autocast():
            logits = model(x)
            loss_sum += loss_fn(logits, y).float() * len(y)
        correct += (logits.argmax(1) == y).sum()
    return Evaluation(loss_sum.item() / len(data), correct.item() / len(data))


@torch.no_grad()
def predict(
    model: nn.Module,
    x: Tensor,
    *,
    batch_size: int = 1000,
    device: torch.device | str | None = None,
) -> Tensor:
    """Predicted class of each image, in evaluation mode: shape ``(N, C, H, W) -> (N,)``, int64,
    on the CPU.

    Args:
        model: a classifier mapping ``(N, C, H, W)`` to ``(N, num_classes)`` logits; it is
            moved to ``device``.
        x: images, shape ``(N, C, H, W)``, on any device.
        batch_size: images per forward pass.
        device: where to compute; ``None`` means :func:`~cnnutils.runtime.get_device`.

    Returns:
        shape ``(N,)``, the index of the largest logit of each image.

    Example:
        >>> predict(nn.Sequential(nn.Flatten(), nn.Linear(4, 3)), torch.zeros(5, 1, 2, 2)).shape
        torch.Size([5])
    """
    name = "predict"
    _check_model(model, name)
    if not isinstance(x, Tensor) or x.dim() != 4:
        raise ValueError(f"{name}: x must be a tensor of shape (N, C, H, W), got {_describe(x)}")
    _positive_int(batch_size, "batch_size", name)
    device = get_device() if device is None else torch.device(device)
    model.to(device).eval()
    parts = [
        model(x[i : i + batch_size].to(device)).argmax(1).cpu()
        for i in range(0, len(x), batch_size)
    ]
    return torch.cat(parts) if parts else torch.zeros(0, dtype=torch.int64)


# ---------------------------------------------------------------------------------------------
# Plots


# ---------------------------------------------------------------------------------------------
# Helpers


class _NoScaler:
    """Stands in for ``torch.amp.GradScaler`` when no scaling is needed."""

    def scale(self, loss: Tensor) -> Tensor:
        return loss

    def step(self, optimizer: torch.optim.Optimizer) -> None:
        optimizer.step()

    def update(self) -> None:
        pass


def _mixed_precision(device: torch.device, amp: bool):
    if not amp:
        return (lambda: torch.autocast(device.type, enabled=False)), _NoScaler()
    if device.type == "cuda":
        scaler = torch.amp.GradScaler("cuda")
        return (lambda: torch.autocast("cuda", dtype=torch.float16)), scaler
    return (lambda: torch.autocast(device.type, dtype=torch.bfloat16)), _NoScaler()


def _to_device(data: ImageDataset, device: torch.device, memory_format) -> tuple[Tensor, Tensor]:
    x = data.x.to(device)
    if memory_format is torch.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    return x, data.y.to(device)


def _quiet(progress: bool) -> bool:
    """Whether to hide the bar: on request, or when ``TQDM_DISABLE`` is set. tqdm reads that
    variable itself, but its notebook bar (what ``tqdm.auto`` picks in Jupyter) ignores it."""
    flag = os.environ.get("TQDM_DISABLE", "").strip().lower()
    return not progress or flag not in ("", "0", "false", "no")


def _check_model(model: object, func: str) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"{func}: model must be a torch.nn.Module, got {type(model).__name__}")


def _check_dataset(data: object, func: str, arg: str) -> None:
    if not isinstance(data, ImageDataset):
        raise TypeError(
            f"{func}: {arg} must be a cnnutils.data.ImageDataset, got {type(data).__name__}"
        )
    if len(data) == 0:
        raise ValueError(
            f"{func}: {arg} is empty ({data.name or 'no name'}): need at least 1 image"
        )


def _check_outputs(model: nn.Module, x: Tensor, num_classes: int, func: str) -> None:
    """One forward pass in evaluation mode (no state changes) to check the output shape."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(x)
    finally:
        model.train(was_training)
    if out.dim() != 2 or out.shape[1] != num_classes:
        raise ValueError(
            f"{func}: the model must output (N, {num_classes}) logits for the "
            f"{num_classes} classes of train, got shape {tuple(out.shape)}"
        )


def _describe(x: object) -> str:
    return f"shape {tuple(x.shape)}" if isinstance(x, Tensor) else type(x).__name__
