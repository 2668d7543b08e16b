import random
import sys

import numpy as np
import pytest
import torch

from cnnutils import get_device, in_colab, seed_everything


def test_seed_everything_repeats_every_generator():
    def draw():
        g = seed_everything(123)
        legacy = np.random.rand()  # noqa: NPY002 - seed_everything seeds the global generator
        return (random.random(), legacy, torch.rand(1).item(), torch.rand(1, generator=g))

    first, second = draw(), draw()
    assert first[:3] == second[:3]
    assert torch.equal(first[3], second[3])


def test_seed_everything_differs_between_seeds():
    assert not torch.equal(
        torch.rand(3, generator=seed_everything(0)), torch.rand(3, generator=seed_everything(1))
    )


def test_seed_everything_deterministic_mode_is_restorable():
    try:
        seed_everything(0, deterministic=True)
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.is_deterministic_algorithms_warn_only_enabled()
    finally:
        torch.use_deterministic_algorithms(False)


@pytest.mark.parametrize(
    ("seed", "error", "match"),
    [
        (1.5, TypeError, r"seed_everything: seed must be an int, got float"),
        (True, TypeError, r"seed must be an int, got bool"),
        (-1, ValueError, r"seed must be in \[0, 2\*\*32\), got -1"),
        (2**32, ValueError, r"got 4294967296"),
    ],
)
def test_seed_everything_rejects_bad_seeds(seed, error, match):
    with pytest.raises(error, match=match):
        seed_everything(seed)


def test_get_device_auto_matches_cuda_availability(monkeypatch):
    monkeypatch.delenv("CNNUTILS_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert get_device().type == expected


def test_get_device_honours_environment(monkeypatch):
    monkeypatch.setenv("CNNUTILS_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")


def test_get_device_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.delenv("CNNUTILS_DEVICE", raising=False)
    assert get_device() == torch.device("cpu")
    with pytest.raises(RuntimeError, match="CUDA was asked for"):
        get_device("cuda")


def test_get_device_rejects_other_devices():
    with pytest.raises(ValueError, match=r"expected 'cpu' or 'cuda', got 'meta'"):
        get_device("meta")


def test_in_colab(monkeypatch):
    assert in_colab() is False
    monkeypatch.setitem(sys.modules, "google.colab", object())
    assert in_colab() is True


def test_import_has_no_side_effects():
    """Importing cnnutils must not seed, print, set rcParams or download (STYLE.md)."""
    import subprocess

    code = (
        "import torch, matplotlib; torch.manual_seed(7); a = torch.rand(1);"
        "before = dict(matplotlib.rcParams);"
        "torch.manual_seed(7); import cnnutils; b = torch.rand(1);"
        "assert torch.equal(a, b), 'import consumed or reseeded the RNG';"
        "assert dict(matplotlib.rcParams) == before, 'import changed rcParams'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""


def test_progress_bars_are_quiet_in_tests():
    """The root conftest.py sets TQDM_DISABLE=1, which tqdm.auto honours (kernels inherit it)."""
    from tqdm.auto import tqdm

    with tqdm(range(3)) as bar:
        assert bar.disable
