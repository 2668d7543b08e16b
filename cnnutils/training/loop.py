"""A small, readable training loop for in-memory image datasets.

:func:`fit` trains a classifier for a number of epochs on an :class:`~cnnutils.data.ImageDataset`
and returns a :class:`History` (loss and accuracy per epoch, and the wall time when each epoch
ended); :func:`evaluate` measures loss and accuracy; :func:`predict` returns predicted labels
(their plots are in :mod:`cnnutils.viz.training`).

Batches are sliced from tensors that sit on the device for the whole run (no ``DataLoader``):
for a few thousand small images that is what makes a 2-core CPU fast enough. On a CUDA machine
the same call runs there (:func:`~cnnutils.runtime.get_device`), optionally with mixed precision
and ``channels_last``. On the CPU, the same model initialisation and ``seed`` give the same history,
dropout included: :func:`fit` seeds the global generators for the run and gives the caller's
state back afterwards.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
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
    ``batch_size``, and after each epoch evaluates on ``val``. The last, smaller batch is
    kept, except that a last batch of a single image joins the batch before it (batch norm
    cannot normalise one image: it would be its own mean). A ``tqdm.auto`` bar shows the
    epochs (``TQDM_DISABLE=1`` in the environment silences it, in notebooks too).

    Nothing is trained until everything has been checked: the arguments, a scheduler's
    number of steps (``total_steps`` of ``OneCycleLR``), and one forward pass and loss on a
    first batch in training mode (augmentation included; batch-norm statistics restored
    afterwards). A model, loss or augmentation that cannot train therefore fails with the
    weights as they were, not after some optimiser steps.

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
        seed: an int ``>= 0``; seeds the CPU generator that draws the order of the images and
            is passed to ``augment``, and, for the run, PyTorch's global generators (CPU and
            the CUDA device) that dropout draws from, with a seed derived from ``seed``
            (another stream than the order's). The caller's global generator states are
            restored when ``fit`` returns. The model's initialisation is the caller's: seed
            before building it.
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
        >>> history = fit(net, data, data, epochs=2, optimizer=opt, device="cpu",
        ...               progress=False)
        >>> history.epochs, len(history.val_accuracy)
        (2, 2)
    """
    name = "fit"
    _check_fit_args(model, train, val, epochs, optimizer, scheduler, scheduler_step, name)
    _positive_int(batch_size, "batch_size", name)
    _positive_int(seed, "seed", name, minimum=0)
    bounds = _batch_bounds(len(train), batch_size)
    _check_scheduler_steps(scheduler, scheduler_step, epochs, len(bounds), name)
    device = get_device() if device is None else torch.device(device)
    memory_format = torch.channels_last if channels_last else torch.preserve_format
    model.to(device=device, memory_format=memory_format)
    train_x, train_y = _to_device(train, device, memory_format)
    _check_outputs(model, train_x[:2], train.num_classes, name)
    autocast, scaler = _mixed_precision(device, amp)
    per_batch = scheduler if scheduler_step == "batch" else None
    step = _Step(model, optimizer, scaler, autocast, loss_fn, augment, per_batch)
    history = History()
    with _global_rng_seeded(seed, device):
        step.dry_run(train_x[: bounds[0][1]], train_y[: bounds[0][1]], seed, name)
        generator = torch.Generator().manual_seed(seed)
        start = time.perf_counter()
        bar = tqdm(range(epochs), desc="epochs", leave=False, disable=_quiet(progress))
        for _ in bar:
            order = torch.randperm(len(train), generator=generator).to(device)
            loss_sum, correct = step.epoch(train_x, train_y, order, bounds, generator)
            if scheduler is not None and scheduler_step == "epoch":
                scheduler.step()
            history.train_loss.append(loss_sum / len(train))
            history.train_accuracy.append(correct / len(train))
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
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
        >>> predict(net, torch.zeros(5, 1, 2, 2)).shape
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


@dataclasses.dataclass
class _Step:
    """The optimiser step of :func:`fit`, what it needs, and its rehearsal."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    scaler: Any
    autocast: Callable[[], Any]
    loss_fn: LossFn
    augment: Augment | None
    scheduler: Any = None  # stepped after every batch when set

    def __call__(self, x: Tensor, y: Tensor, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """One step on a batch; returns the batch's summed loss and number correct."""
        if self.augment is not None:
            x = self.augment(x, generator)
        with self.autocast():
            logits = self.model(x)
            loss = self.loss_fn(logits, y)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if self.scheduler is not None:
            self.scheduler.step()
        return loss.detach().float() * len(y), (logits.detach().argmax(1) == y).sum()

    def epoch(
        self,
        x: Tensor,
        y: Tensor,
        order: Tensor,
        bounds: list[tuple[int, int]],
        generator: torch.Generator,
    ) -> tuple[float, int]:
        """One pass in training mode over the batches ``order[begin:end]``; returns the summed
        loss and the number of correct predictions."""
        self.model.train()
        loss_sum, correct = torch.zeros((), device=x.device), torch.zeros((), device=x.device)
        for begin, end in bounds:
            index = order[begin:end]
            batch_loss, batch_correct = self(x[index], y[index], generator)
            loss_sum += batch_loss
            correct += batch_correct
        return loss_sum.item(), int(correct.item())

    def dry_run(self, x: Tensor, y: Tensor, seed: int, func: str) -> None:
        """Augmentation, forward pass, loss and backward pass on one batch in training mode,
        then everything put back: buffers (batch-norm statistics), mode and gradients.

        Raises:
            RuntimeError: a step failed (the original error is chained and quoted).
            ValueError: the loss is not one number.
        """
        buffers = [buffer.detach().clone() for buffer in self.model.buffers()]
        grads = [p.grad for p in self.model.parameters()]  # set aside: backward adds in place
        was_training, loss = self.model.training, None
        try:
            for p in self.model.parameters():
                p.grad = None
            self.model.train()
            if self.augment is not None:
                x = self.augment(x, torch.Generator().manual_seed(seed))
            with self.autocast():
                loss = self.loss_fn(self.model(x), y)
            if isinstance(loss, Tensor) and loss.dim() == 0:
                loss.backward()
        except Exception as error:
            raise RuntimeError(
                f"{func}: a training step on a first batch of {len(y)} images failed, before "
                f"any weight changed: {type(error).__name__}: {error}"
            ) from error
        finally:
            self.model.train(was_training)
            with torch.no_grad():
                for buffer, value in zip(self.model.buffers(), buffers, strict=True):
                    buffer.copy_(value)
            for p, grad in zip(self.model.parameters(), grads, strict=True):
                p.grad = grad
        if not isinstance(loss, Tensor) or loss.dim() != 0:
            raise ValueError(
                f"{func}: loss_fn must return one number, the mean loss over the batch, got "
                f"{_describe(loss)}"
            )


def _batch_bounds(n: int, batch_size: int) -> list[tuple[int, int]]:
    """``(begin, end)`` of the batches of an epoch: ``batch_size`` images each, the last one
    smaller; a last batch of a single image joins the one before.

    Example:
        >>> _batch_bounds(10, 4), _batch_bounds(9, 4), _batch_bounds(1, 4)
        ([(0, 4), (4, 8), (8, 10)], [(0, 4), (4, 9)], [(0, 1)])
    """
    bounds = [(begin, min(begin + batch_size, n)) for begin in range(0, n, batch_size)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds[-2:] = [(bounds[-2][0], n)]
    return bounds


# A second stream for the global generators, apart from the order's (seeded with `seed` itself).
_GLOBAL_STREAM = 0x5EED


@contextlib.contextmanager
def _global_rng_seeded(seed: int, device: torch.device) -> Iterator[None]:
    """PyTorch's global generators (the CPU's, and ``device``'s if it is a CUDA device)
    seeded from ``seed`` inside the block, and given back their states after it."""
    cuda = []
    if device.type == "cuda":
        cuda = [device.index if device.index is not None else torch.cuda.current_device()]
    state = np.random.SeedSequence([seed, _GLOBAL_STREAM]).generate_state(1, np.uint64)
    derived = int(state[0])
    with torch.random.fork_rng(devices=cuda, device_type="cuda"):
        torch.random.default_generator.manual_seed(derived)
        for index in cuda:
            with torch.cuda.device(index):
                torch.cuda.manual_seed(derived)
        yield


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


def _check_fit_args(
    model: object,
    train: object,
    val: object,
    epochs: object,
    optimizer: object,
    scheduler: object,
    scheduler_step: object,
    func: str,
) -> None:
    _check_model(model, func)
    _check_dataset(train, func, "train")
    if val is not None:
        _check_dataset(val, func, "val")
        if val.image_shape != train.image_shape:
            raise ValueError(
                f"{func}: val images must have the shape of the train images "
                f"{train.image_shape}, got {val.image_shape}"
            )
        if val.num_classes != train.num_classes:
            raise ValueError(
                f"{func}: val must have the {train.num_classes} classes of train, got "
                f"{val.num_classes}"
            )
    _positive_int(epochs, "epochs", func)
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"{func}: optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}"
        )
    own = {id(p) for p in model.parameters()}
    if not any(id(p) in own for group in optimizer.param_groups for p in group["params"]):
        raise ValueError(
            f"{func}: the optimizer holds none of the model's parameters; build it from "
            f"model.parameters() (of this model, after any change of its layers)"
        )
    if scheduler_step not in ("batch", "epoch"):
        raise ValueError(
            f"{func}: scheduler_step must be 'batch' or 'epoch', got {scheduler_step!r}"
        )
    if scheduler is not None and getattr(scheduler, "optimizer", None) is not optimizer:
        raise ValueError(
            f"{func}: scheduler must be a learning-rate scheduler of the optimizer passed to "
            f"{func}, got {type(scheduler).__name__} of another optimizer"
        )


def _check_scheduler_steps(
    scheduler: object, scheduler_step: str, epochs: int, batches: int, func: str
) -> None:
    """A scheduler with a fixed number of steps (``OneCycleLR``'s ``total_steps``) must not
    run out in the middle of training."""
    total = getattr(scheduler, "total_steps", None)
    if not isinstance(total, int):
        return
    needed = epochs * batches if scheduler_step == "batch" else epochs
    left = total - scheduler.last_epoch
    if needed > left:
        per = f"{epochs} epochs × {batches} batches" if scheduler_step == "batch" else "epochs"
        raise ValueError(
            f"{func}: this run steps the scheduler {needed} times ({per}), but it has "
            f"{left} steps left (total_steps={total}); build it with total_steps={needed}"
        )


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
