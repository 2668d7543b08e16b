"""Results over several seeds: run, summarise, compare with a margin, save and load.

One training run is one draw: another seed gives another initialisation, another order of the
images and other augmentations, and a different accuracy. A comparison between two methods is
worth stating only when it holds for every seed, by a margin larger than what changes between
machines and library versions. :func:`over_seeds` runs an experiment once per seed,
:func:`mean_std` summarises (:func:`~cnnutils.plot_over_seeds` draws), :func:`worst_margin`
gives the smallest per-seed lead of one method over another (the number a claim "A beats B"
must be checked against), and :func:`save_results` / :func:`load_results` keep the results
of longer experiments as JSON: the scripts under ``experiments/`` write them into this package
(``cnnutils/course/results/``), so that a chapter opened on Colab, with only the package
installed, reads the same numbers as the book.

The recipe of the AlexNet chapter's experiments lives here too, so that the chapter and
``experiments/alexnet.py`` train the same way: :data:`SMALL_ALEXNET`, :func:`shapes_data`,
:func:`small_alexnet`, :func:`train_small_alexnet` and :func:`invariance_probe`.
"""

from __future__ import annotations

import functools
import json
import math
import platform
import re
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor

from cnnutils._files import atomic_write
from cnnutils.data.datasets import ImageDataset, channel_stats
from cnnutils.data.shapes import make_shapes
from cnnutils.models.alexnet import AlexNet, alexnet
from cnnutils.training.loop import History, fit

__all__ = [
    "SMALL_ALEXNET",
    "SMALL_ALEXNET_BATCH",
    "MeanStd",
    "invariance_probe",
    "load_results",
    "mean_std",
    "over_seeds",
    "results_path",
    "save_results",
    "shapes_data",
    "small_alexnet",
    "train_small_alexnet",
    "worst_margin",
]


class MeanStd(NamedTuple):
    """Mean and (population) standard deviation of a measurement over seeds.

    ``format(m, ".1%")`` formats both numbers, e.g. ``"86.4% ± 1.6%"``; a width (``">16.1%"``)
    pads the pair, and a sign (``"+.1f"``) applies to the mean only.
    """

    mean: float
    std: float
    n: int

    def __format__(self, spec: str) -> str:
        match = re.fullmatch(r"(?P<pad>(?:.?[<>^])?\d*)(?P<sign>[+ -]?)(?P<number>.*)", spec)
        pad, sign, number = match["pad"], match["sign"], match["number"]
        pair = f"{format(self.mean, sign + number)} ± {format(self.std, number)}"
        return format(pair, pad)


def over_seeds(run: Callable[[int], float], seeds: Sequence[int]) -> np.ndarray:
    """``run(seed)`` for every seed, as a float array in the order of ``seeds``.

    Args:
        run: one experiment; its seed must decide every random choice in it.
        seeds: the seeds, at least one.

    Returns:
        shape ``(len(seeds),)``.

    Example:
        >>> over_seeds(lambda seed: seed / 10, [0, 1, 2]).tolist()
        [0.0, 0.1, 0.2]
    """
    seeds = list(seeds)
    if not seeds:
        raise ValueError("over_seeds: need at least one seed")
    return np.array([float(run(seed)) for seed in seeds])


def mean_std(values: Sequence[float] | np.ndarray) -> MeanStd:
    """Mean, standard deviation and count of per-seed values.

    Example:
        >>> m = mean_std([0.80, 0.84, 0.88])
        >>> round(m.mean, 2), round(m.std, 3), m.n, format(m, ".1%")
        (0.84, 0.033, 3, '84.0% ± 3.3%')
        >>> f"[{m:>16.1%}] [{mean_std([-0.02, 0.0]):+.2f}]"
        '[   84.0% ± 3.3%] [-0.01 ± 0.01]'
    """
    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or len(array) == 0:
        raise ValueError(f"mean_std: need a non-empty 1-D list of values, got shape {array.shape}")
    return MeanStd(float(array.mean()), float(array.std()), len(array))


def worst_margin(
    a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray, *, paired: bool = True
) -> float:
    """The smallest lead of ``a`` over ``b``: positive when ``a`` is ahead on every seed.

    Args:
        a: per-seed values of one method.
        b: per-seed values of the other, in the same order of seeds.
        paired: the runs share their seeds (same data draw, same initialisation where the
            methods allow it): compare seed by seed, ``min(a_i - b_i)``. Otherwise compare the
            worst of ``a`` with the best of ``b``, ``min(a) - max(b)``.

    Returns:
        the margin; a claim "``a`` beats ``b`` by more than ``m``" holds on these runs when the
        margin exceeds ``m``.

    Example:
        >>> a, b = [0.9, 0.8], [0.7, 0.75]  # two seeds
        >>> round(worst_margin(a, b), 2), round(worst_margin(a, b, paired=False), 2)
        (0.05, 0.05)
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim != 1 or b.ndim != 1 or len(a) == 0 or len(b) == 0:
        raise ValueError("worst_margin: a and b must be non-empty 1-D lists of values")
    if paired:
        if a.shape != b.shape:
            raise ValueError(
                f"worst_margin: paired values need the same seeds, got {len(a)} and {len(b)}"
            )
        return float((a - b).min())
    return float(a.min() - b.max())


def results_path(name: str) -> Path:
    """Where the results ``name`` live in the package: ``cnnutils/course/results/<name>.json``."""
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"results_path: name must be a plain file stem, got {name!r}")
    return Path(str(resources.files("cnnutils.course") / "results" / f"{name}.json"))


def save_results(path: str | Path, results: Mapping[str, Any], **settings: Any) -> dict:
    """Write ``results`` as JSON, with the settings that produced them and the versions used.

    Args:
        path: the JSON file to write (its folder must exist).
        results: JSON-serialisable values (lists, dicts, numbers, strings); NumPy arrays and
            numbers are converted.
        **settings: what the reader needs to know to reproduce them (seeds, epochs, ...).

    Returns:
        the dictionary written: ``{"settings": ..., "versions": ..., "results": ...}``.
    """
    document = {
        "settings": _plain(settings),
        "versions": {
            "torch": torch.__version__.split("+")[0],
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "results": _plain(results),
    }
    with atomic_write(path, "w") as f:  # a run stopped mid-write leaves the old file whole
        f.write(json.dumps(document, indent=1, sort_keys=False) + "\n")
    return document


def load_results(name_or_path: str | Path) -> dict:
    """Read results written by :func:`save_results`: a results name, or a path to a JSON file.

    Example:
        >>> sorted(load_results("alexnet"))
        ['results', 'settings', 'versions']
    """
    path = Path(name_or_path)
    if path.suffix != ".json":
        path = results_path(str(name_or_path))
    if not path.is_file():
        raise FileNotFoundError(
            f"load_results: no results at {path}; the scripts in experiments/ write them "
            "(make execute runs them)"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def _plain(value: Any) -> Any:
    """NumPy arrays and scalars to lists and Python numbers, recursively."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float):
        return round(value, 6)
    return value


# ---------------------------------------------------------------------------------------------
# The AlexNet chapter's small network on synthetic shapes

#: The small AlexNet of the AlexNet chapter: the paper's eight layers with an eighth of the maps
#: and units (12-32-48-48-32 maps, 512 hidden units) and a 5×5, stride-2 first layer padded by
#: 1. On 32×32 inputs its maps are 15 → 7 → 3 → 1 pixels across the three poolings: odd sizes,
#: like the paper's 55 → 27 → 13 → 6, on which 3×3/2 and 2×2/2 pooling give the same sizes.
SMALL_ALEXNET = {"num_classes": 5, "width": 1 / 8, "input_size": 32, "stem": (5, 2, 1)}
#: The batch size of :func:`train_small_alexnet`'s recipe.
SMALL_ALEXNET_BATCH = 32
SHAPES_NOISE = 0.05


@functools.cache
def _shapes_stats() -> tuple[Tensor, Tensor]:
    """Per-channel mean and standard deviation of the standard training images."""
    return channel_stats(make_shapes(1200, size=32, seed=0, noise=SHAPES_NOISE).x)


def shapes_data(n: int, *, seed: int, **factors: Any) -> ImageDataset:
    """``n`` synthetic shapes (32×32, noise 0.05), standardised for the small AlexNet.

    Every set is standardised with the per-channel mean and standard deviation of the standard
    training set, ``make_shapes(1200, seed=0)``, so that networks trained on one set can be
    probed on another.

    Args:
        n: number of images (classes cycle: circle, square, triangle, cross, ring).
        seed: :func:`~cnnutils.data.make_shapes`'s seed; 0 is the training set, 1 the
            validation set of the chapter.
        **factors: fixed values or ranges of ``scale``, ``shift`` and ``rotation``.

    Example:
        >>> shapes_data(10, seed=1, rotation=0.0).x.shape
        torch.Size([10, 3, 32, 32])
    """
    mean, std = _shapes_stats()
    data = make_shapes(n, size=32, seed=seed, noise=SHAPES_NOISE, **factors)
    return data.map(lambda x: (x - mean) / std)


def small_alexnet(seed: int = 0, **options: Any) -> AlexNet:
    """The chapter's small AlexNet (:data:`SMALL_ALEXNET`), initialised from ``seed``.

    Args:
        seed: seeds PyTorch's generator before the weights are drawn.
        **options: any option of :func:`~cnnutils.models.alexnet.alexnet`, e.g. ``lrn=False``.

    Example:
        >>> sum(p.numel() for p in small_alexnet().parameters())
        319093
    """
    torch.manual_seed(seed)
    return alexnet(**{**SMALL_ALEXNET, **options})


def train_small_alexnet(
    model: torch.nn.Module,
    train: ImageDataset,
    val: ImageDataset | None = None,
    *,
    epochs: int = 20,
    max_lr: float = 3e-3,
    augment: Callable[[Tensor, torch.Generator], Tensor] | None = None,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> History:
    """The chapter's recipe: Adam in batches of :data:`SMALL_ALEXNET_BATCH` (32), the learning
    rate on a one-cycle schedule.

    The rate rises to ``max_lr`` over the first 30% of the steps and then anneals to almost
    zero, so the last epochs change the network little and its final accuracy is a stable
    measurement rather than a snapshot of a network still on its way.

    Args:
        model: the network, trained in place.
        train: the training images.
        val: images to measure on after every epoch, or ``None``.
        epochs: passes over ``train``.
        max_lr: the peak learning rate.
        augment: ``augment(x, generator)`` on every batch.
        seed: the order of the images and the augmentations.
        device: where to train (``None``: :func:`~cnnutils.runtime.get_device`).

    Returns:
        the :class:`~cnnutils.training.loop.History`.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=max_lr)
    steps = epochs * math.ceil(len(train) / SMALL_ALEXNET_BATCH)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=steps)
    return fit(
        model, train, val, epochs=epochs, optimizer=optimizer, scheduler=scheduler,
        batch_size=SMALL_ALEXNET_BATCH, augment=augment, seed=seed, device=device, progress=False,
    )  # fmt: skip


#: The untransformed probe image: centred, upright, at scale 0.6.
PROBE_BASE = {"scale": 0.6, "shift": 0.0, "rotation": 0.0}


@torch.no_grad()
def invariance_probe(
    model: AlexNet, factor: str, values: Sequence[float], *, n: int = 50, seed: int = 7
) -> tuple[np.ndarray, np.ndarray]:
    """How the network's layer-7 features and its belief in the right class move when one
    factor of the input changes (Zeiler & Fergus, 2014, Figure 5).

    ``n`` shapes (``n / 5`` per class, random colours) are drawn centred, upright and at scale
    0.6 (:data:`PROBE_BASE`), then again with ``factor`` set to each of ``values``, everything
    else kept.

    Args:
        model: a trained small AlexNet (on the CPU).
        factor: ``"shift"`` (both directions, fraction of half the image), ``"scale"`` or
            ``"rotation"`` (degrees).
        values: the values of the factor.
        n: images per value.
        seed: the images' seed.

    Returns:
        ``(distances, probabilities)``, each shape ``(len(values),)``: the mean distance
        between the features entering layer 8 and those of the untransformed image, relative
        to the latter's norm, and the mean softmax probability of the true class.
    """
    if factor not in PROBE_BASE:
        raise ValueError(
            f"invariance_probe: factor must be one of {sorted(PROBE_BASE)}, got {factor!r}"
        )
    model = model.eval().to("cpu")

    def features(x: Tensor) -> Tensor:
        h = model.avgpool(model.features(x)).flatten(1)
        return model.classifier[:-1](h)  # (n, hidden): what enters layer 8

    reference = features(shapes_data(n, seed=seed, **PROBE_BASE).x)
    distances, probabilities = [], []
    for value in values:
        data = shapes_data(n, seed=seed, **{**PROBE_BASE, factor: float(value)})
        f = features(data.x)
        distances.append(((f - reference).norm(dim=1) / reference.norm(dim=1)).mean().item())
        p = model.classifier[-1](f).softmax(1)
        probabilities.append(p[torch.arange(n), data.y].mean().item())
    return np.array(distances), np.array(probabilities)
