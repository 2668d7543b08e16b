"""Plots of training: learning curves and the confusion matrix. Each returns a ``Figure``."""

from __future__ import annotations

import math

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor

from cnnutils.training.loop import History

__all__ = ["plot_confusion_matrix", "plot_history"]


def plot_history(
    histories: History | dict[str, History], *, x: str = "epoch", dpi: float = 90
) -> Figure:
    """Learning curves: loss (left) and accuracy (right) per epoch, training dashed, validation
    solid; several runs in different colours.

    Args:
        histories: one history, or ``{label: history}``.
        x: ``"epoch"`` or ``"time"`` (wall-clock seconds) on the horizontal axis.
        dpi: resolution.

    Example:
        >>> h = History([1.0, 0.5], [0.5, 0.8], [0.9, 0.6], [0.6, 0.7], [1, 2], [0.1, 0.1])
        >>> fig = plot_history(h)
        >>> [ax.get_ylabel() for ax in fig.axes]
        ['loss', 'accuracy']
    """
    if isinstance(histories, History):
        histories = {"": histories}
    if not histories or not all(isinstance(h, History) for h in histories.values()):
        raise TypeError("plot_history: histories must be a History or a non-empty dict of them")
    if x not in ("epoch", "time"):
        raise ValueError(f"plot_history: x must be 'epoch' or 'time', got {x!r}")
    fig = Figure(figsize=(9, 3.2), dpi=dpi, layout="constrained")
    loss_ax, acc_ax = fig.subplots(1, 2)
    for i, (label, h) in enumerate(histories.items()):
        colour = f"C{i}"
        xs = np.arange(1, h.epochs + 1) if x == "epoch" else np.asarray(h.time)
        prefix = f"{label} " if label else ""
        for ax, train, val in (
            (loss_ax, h.train_loss, h.val_loss),
            (acc_ax, h.train_accuracy, h.val_accuracy),
        ):
            ax.plot(xs, train, "--", color=colour, label=f"{prefix}train")
            if not all(math.isnan(v) for v in val):
                ax.plot(xs, val, "-", color=colour, label=f"{prefix}validation")
    loss_ax.set_ylabel("loss")
    acc_ax.set_ylabel("accuracy")
    for ax in (loss_ax, acc_ax):
        ax.set_xlabel("epoch" if x == "epoch" else "wall time (s)")
        ax.grid(alpha=0.3)
    loss_ax.set_yscale("log")
    acc_ax.legend(fontsize="small")
    return fig


def plot_confusion_matrix(
    matrix: Tensor, classes: tuple[str, ...] | list[str], *, dpi: float = 90, size: float = 4.0
) -> Figure:
    """The confusion matrix as an image with its counts written in the cells (rows: true
    class, columns: predicted class).

    Args:
        matrix: the counts, shape ``(K, K)``, as :func:`confusion_matrix` returns them.
        classes: the ``K`` class names, in label order.
        dpi: resolution of the figure.
        size: width and height of the figure, in inches.

    Returns:
        the figure; the colour of a cell follows ``log(1 + count)``, so small counts show.

    Example:
        >>> fig = plot_confusion_matrix(torch.tensor([[3, 1], [0, 4]]), ["a", "b"])
        >>> fig.axes[0].get_xlabel(), len(fig.axes[0].texts)
        ('predicted', 4)
    """
    matrix = torch.as_tensor(matrix).cpu()
    if matrix.dim() != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] != len(classes):
        raise ValueError(
            f"plot_confusion_matrix: matrix must be square with one row per class "
            f"({len(classes)}), got shape {tuple(matrix.shape)}"
        )
    fig = Figure(figsize=(size, size), dpi=dpi, layout="constrained")
    ax = fig.subplots()
    counts = matrix.numpy()
    ax.imshow(np.log1p(counts), cmap="Blues")
    threshold = np.log1p(counts).max() / 2
    for (i, j), count in np.ndenumerate(counts):
        colour = "white" if np.log1p(count) > threshold else ("black" if count else "0.7")
        ax.text(j, i, str(count), ha="center", va="center", color=colour, fontsize=8)
    ticks = np.arange(len(classes))
    ax.set_xticks(ticks, list(classes))
    ax.set_yticks(ticks, list(classes))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    return fig
