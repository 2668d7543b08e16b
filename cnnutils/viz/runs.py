"""Several runs of each variant: learning curves with their mean and spread over seeds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from cnnutils.training.loop import History

__all__ = ["plot_runs"]

_METRICS = {
    "val_accuracy": "held-out accuracy",
    "val_loss": "held-out loss",
    "train_accuracy": "training accuracy",
    "train_loss": "training loss",
}


def plot_runs(
    runs: Mapping[str, Sequence[History]],
    *,
    metric: str = "val_accuracy",
    dpi: float = 90,
) -> Figure:
    """One curve per variant: the mean over its runs (seeds) per epoch, a band of ± one
    standard deviation, and each run as a thin line.

    Args:
        runs: ``{label: [history of each seed]}``; the runs of a label have the same epochs.
        metric: a per-epoch field of :class:`~cnnutils.History`: ``"val_accuracy"``,
            ``"val_loss"``, ``"train_accuracy"`` or ``"train_loss"``.
        dpi: resolution.

    Returns:
        a :class:`~matplotlib.figure.Figure` with one axes (not registered with ``pyplot``);
        the legend reads ``label (n runs)``.

    Raises:
        TypeError: ``runs`` is not a non-empty mapping of non-empty lists of histories.
        ValueError: an unknown ``metric``, or runs of one label with different epochs.

    Example:
        >>> a = History([1.0, 0.5], [0.5, 0.8], [0.9, 0.6], [0.6, 0.7], [1, 2], [0.1, 0.1])
        >>> b = History([1.0, 0.4], [0.5, 0.9], [0.9, 0.5], [0.7, 0.9], [1, 2], [0.1, 0.1])
        >>> fig = plot_runs({"net": [a, b]})
        >>> fig.axes[0].get_legend().get_texts()[0].get_text()
        'net (2 runs)'
    """
    fn = "plot_runs"
    if not isinstance(runs, Mapping) or not runs:
        raise TypeError(f"{fn}: runs must be a non-empty {{label: [History, ...]}}")
    if metric not in _METRICS:
        raise ValueError(f"{fn}: metric must be one of {sorted(_METRICS)}, got {metric!r}")
    fig = Figure(figsize=(6.5, 3.2), dpi=dpi, layout="constrained")
    ax = fig.add_subplot()
    for i, (label, histories) in enumerate(runs.items()):
        if not histories or not all(isinstance(h, History) for h in histories):
            raise TypeError(f"{fn}: runs[{label!r}] must be a non-empty list of History")
        if len({h.epochs for h in histories}) != 1:
            raise ValueError(f"{fn}: the runs of {label!r} have different numbers of epochs")
        values = np.array([getattr(h, metric) for h in histories])  # (runs, epochs)
        epochs = np.arange(1, values.shape[1] + 1)
        mean, std = values.mean(0), values.std(0, ddof=1) if len(values) > 1 else 0 * values[0]
        colour = f"C{i}"
        for run in values:
            ax.plot(epochs, run, color=colour, lw=0.6, alpha=0.5)
        ax.fill_between(epochs, mean - std, mean + std, color=colour, alpha=0.2, lw=0)
        ax.plot(epochs, mean, color=colour, lw=2, label=f"{label} ({len(values)} runs)")
    ax.set_xlabel("epoch")
    ax.set_ylabel(_METRICS[metric] + " (mean ± std)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return fig
