"""Classification metrics: the confusion matrix."""

from __future__ import annotations

import torch
from torch import Tensor

from cnnutils._checks import _labels, _positive_int

__all__ = ["confusion_matrix"]


def confusion_matrix(y_true: Tensor, y_pred: Tensor, num_classes: int) -> Tensor:
    """Counts ``C[i, j]`` of images of class ``i`` predicted as class ``j``, shape
    ``(num_classes, num_classes)``, int64 (what ``sklearn.metrics.confusion_matrix`` returns).

    Args:
        y_true: the true labels, shape ``(N,)``, integers in ``[0, num_classes)`` (a tensor, a
            numpy array or a list).
        y_pred: the predicted labels, shape ``(N,)``, integers in ``[0, num_classes)``.
        num_classes: the number of classes.

    Returns:
        the counts, shape ``(num_classes, num_classes)``, on the CPU; row ``i`` sums to the
        number of images of class ``i``.

    Raises:
        TypeError: labels that are not integers (float labels, e.g. logits or probabilities
            not yet ``argmax``-ed), or a non-integer ``num_classes``.
        ValueError: shapes that differ or are not 1-D, labels out of range.

    Example:
        >>> confusion_matrix(torch.tensor([0, 1, 1]), torch.tensor([0, 0, 1]), 2).tolist()
        [[1, 0], [1, 1]]
    """
    name = "confusion_matrix"
    num_classes = _positive_int(num_classes, "num_classes", name)
    y_true, y_pred = (_labels(v, arg, name) for v, arg in ((y_true, "y_true"), (y_pred, "y_pred")))
    if y_true.shape != y_pred.shape or y_true.dim() != 1:
        raise ValueError(
            f"{name}: y_true and y_pred must be 1-D of the same length, got shapes "
            f"{tuple(y_true.shape)} and {tuple(y_pred.shape)}"
        )
    for arg, labels in (("y_true", y_true), ("y_pred", y_pred)):
        if len(labels) and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
            raise ValueError(
                f"{name}: {arg} must hold labels in [0, {num_classes}), got labels from "
                f"{int(labels.min())} to {int(labels.max())}"
            )
    flat = y_true.long() * num_classes + y_pred.long()
    return torch.bincount(flat, minlength=num_classes**2).view(num_classes, num_classes)
