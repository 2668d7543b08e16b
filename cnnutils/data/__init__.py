"""Data: in-memory image datasets, synthetic shapes and batched augmentations, all offline by
default.
"""

from cnnutils.data.augment import (
    pca_colour_basis,
    pca_colour_jitter,
    random_crop,
    random_flip,
    random_shift,
)
from cnnutils.data.datasets import (
    DataSplit,
    ImageDataset,
    channel_stats,
    load_cifar10,
    load_digits,
    load_fashion_mnist,
    load_mnist,
    stratified_split,
)
from cnnutils.data.shapes import SHAPES, make_shapes

__all__ = [
    "SHAPES",
    "DataSplit",
    "ImageDataset",
    "channel_stats",
    "load_cifar10",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "make_shapes",
    "pca_colour_basis",
    "pca_colour_jitter",
    "random_crop",
    "random_flip",
    "random_shift",
    "stratified_split",
]
