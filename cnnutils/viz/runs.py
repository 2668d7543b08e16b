"""Several runs of each variant (one per seed): curves of their mean and spread over seeds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from cnnutils.training.loop import History

__all__ = ["plot_over_seeds", "plot_runs"]

_METRICS = {
    "val_accuracy": "held-out accuracy",
    "val_loss": "held-out loss",
    "train_accuracy": "training accuracy",
    "train_loss": "training loss",
}
_MARKERS = "osv^DP*X"


def plot_over_seeds(
    curves: Mapping[str, Sequence[Sequence[float]] | np.ndarray],
    x: Sequence[float] | None = None,
    *,
    xlabel: str = "epoch",
    ylabel: str = "validation accuracy",
    each_seed: bool = False,
    ax: Any = None,
    dpi: float = 90,
) -> Figure:
    """Each curve's mean over seeds as a line, with a band of ± one standard deviation (the
    population one, as :func:`~cnnutils.mean_std` prints), and optionally each seed's curve.

    Args:
        curves: ``{label: values}``, values of shape ``(seeds, points)``.
        x: the horizontal positions of the points; ``None`` means 1, 2, ... (epochs).
        xlabel: the horizontal axis' label.
        ylabel: the vertical axis' label.
        each_seed: also draw every seed's curve as a thin line.
        ax: draw into this matplotlib axes instead of a new figure.
        dpi: the new figure's resolution.

    Returns:
        the figure (a new one is not registered with ``pyplot``); the legend reads
        ``label (n seeds)``.

    Raises:
        TypeError: ``curves`` is not a non-empty mapping.
        ValueError: values not of shape ``(seeds, points)``, or ``x`` of another length.

    Example:
        >>> fig = plot_over_seeds({"a": [[0.5, 0.7], [0.6, 0.8]]})
        >>> [line.get_label() for line in fig.axes[0].get_lines()]
        ['a (2 seeds)']
    """
    fn = "plot_over_seeds"
    if not isinstance(curves, Mapping) or not curves:
        raise TypeError(f"{fn}: curves must be a non-empty {{label: values}}, got {curves!r}")
    if ax is None:
        fig = Figure(figsize=(6.5, 3.2), dpi=dpi, layout="constrained")
        ax = fig.subplots()
    else:
        fig = ax.figure
    for i, (label, values) in enumerate(curves.items()):
        values = np.asarray(values, dtype=float)
        if values.ndim != 2 or values.size == 0:
            raise ValueError(f"{fn}: {label!r} must have shape (seeds, points), got {values.shape}")
        xs = np.arange(1, values.shape[1] + 1) if x is None else np.asarray(x, dtype=float)
        if xs.shape != values.shape[1:]:
            raise ValueError(f"{fn}: {label!r} has {values.shape[1]} points but x has {len(xs)}")
        mean, std = values.mean(0), values.std(0)
        colour = f"C{i % 10}"
        if each_seed:
            for run in values:
                ax.plot(xs, run, color=colour, lw=0.6, alpha=0.5, label="_seed")
        marker = _MARKERS[i % len(_MARKERS)]
        label = f"{label} ({len(values)} seed{'s' * (len(values) != 1)})"
        ax.plot(xs, mean, color=colour, marker=marker, ms=4, lw=2, label=label)
        ax.fill_between(xs, mean - std, mean + std, color=colour, alpha=0.2, lw=0)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def plot_runs(
    runs: Mapping[str, Sequence[History]],
    *,
    metric: str = "val_accuracy",
    dpi: float = 90,
) -> Figure:
    """:func:`plot_over_seeds` for the histories that :func:`~cnnutils.fit` returns: one
    curve per variant over its runs (seeds), each run drawn too.

    Args:
        runs: ``{label: [history of each seed]}``; the runs of a label have the same epochs.
        metric: a per-epoch field of :class:`~cnnutils.History`: ``"val_accuracy"``,
            ``"val_loss"``, ``"train_accuracy"`` or ``"train_loss"``.
        dpi: resolution.

    Returns:
        a :class:`~matplotlib.figure.Figure` with one axes (not registered with ``pyplot``).

    Raises:
        TypeError: ``runs`` is not a non-empty mapping of non-empty lists of histories.
        ValueError: an unknown ``metric``, or runs of one label with different epochs.

    Example:
        >>> a = History([1.0, 0.5], [0.5, 0.8], [0.9, 0.6], [0.6, 0.7], [1, 2], [0.1, 0.1])
        >>> b = History([1.0, 0.4], [0.5, 0.9], [0.9, 0.5], [0.7, 0.9], [1, 2], [0.1, 0.1])
        >>> fig = plot_runs({"net": [a, b]})
        >>> fig.axes[0].get_legend().get_texts()[0].get_text()
        'net (2 seeds)'
    """
    fn = "plot_runs"
    if not isinstance(runs, Mapping) or not runs:
        raise TypeError(f"{fn}: runs must be a non-empty {{label: [History, ...]}}")
    if metric not in _METRICS:
        raise ValueError(f"{fn}: metric must be one of {sorted(_METRICS)}, got {metric!r}")
    curves = {}
    for label, histories in runs.items():
        if not histories or not all(isinstance(h, History) for h in histories):
            raise TypeError(f"{fn}: runs[{label!r}] must be a non-empty list of History")
        if len({h.epochs for h in histories}) != 1:
            raise ValueError(f"{fn}: the runs of {label!r} have different numbers of epochs")
        curves[label] = [getattr(h, metric) for h in histories]
    ylabel = _METRICS[metric] + " (mean ± std)"
    return plot_over_seeds(curves, ylabel=ylabel, each_seed=True, dpi=dpi)
