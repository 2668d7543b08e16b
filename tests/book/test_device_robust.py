"""Device rules for the chapters, checked without a GPU.

Static part: tools/devicelint.py (its rules are described there and tested in
tests/unit/test_devicelint.py) must find no violation in any chapter.

Runtime part: the cnnutils functions the chapters call are run on tensors on the ``meta``
device and must return tensors on that device with the shapes the CPU gives. A function that
creates a tensor on the CPU and mixes it with its input (the bug that breaks on CUDA) raises
there, so this catches on a CPU what would fail on a GPU.

Run ``python tools/devicelint.py`` for the list of static violations.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

from devicelint import NOTEBOOKS, all_violations, cell_python  # noqa: E402


def test_notebooks_follow_the_device_rules():
    violations = all_violations()
    assert not violations, "device rules broken (run tools/devicelint.py):\n" + "\n".join(
        map(str, violations)
    )


# ------------------------------------------------------------------------------------------
# Runtime: cnnutils on the meta device (a tensor created on the CPU inside a function and
# mixed with the input raises there, as it would on CUDA)


def _meta_and_cpu(fn: Callable[[torch.device], object]) -> tuple[object, object]:
    return fn(torch.device("meta")), fn(torch.device("cpu"))


def _tensors(value: object) -> Iterator[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _tensors(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _tensors(v)
    elif hasattr(value, "__dataclass_fields__"):
        for name in value.__dataclass_fields__:
            yield from _tensors(getattr(value, name))


def _recipes() -> dict[str, Callable[[torch.device], object]]:
    """One call per cnnutils function the chapters use on tensors, on a given device."""
    import torch.nn.functional as F

    import cnnutils
    from cnnutils.models.lenet5 import C3Connections, ScaledTanh
    from cnnutils.ops import conv, filters, pooling
    from cnnutils.ops.locally_connected import LocallyConnected2d
    from cnnutils.training.parallel import split_grouped_conv

    def x(d: torch.device, *shape: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(0)
        return torch.randn(*shape, generator=g, dtype=torch.float64).to(d)

    def module_on(d: torch.device, build: Callable[[], nn.Module], *shape: int) -> torch.Tensor:
        torch.manual_seed(0)
        return build().double().to(d)(x(d, *shape))

    recipes: dict[str, Callable[[torch.device], object]] = {
        **{
            f"conv2d[{m}]": lambda d, m=m: conv.conv2d(
                x(d, 2, 4, 9, 8), x(d, 6, 2, 3, 3), x(d, 6), padding=1, groups=2, method=m
            )
            for m in ("naive", "unfold", "fft")
        },
        "convolve2d": lambda d: conv.convolve2d(x(d, 9, 8), x(d, 3, 2), mode="same"),
        "correlate2d": lambda d: conv.correlate2d(x(d, 9, 8), x(d, 3, 2), mode="valid"),
        "filter2d": lambda d: filters.filter2d(
            x(d, 1, 12, 12), filters.sobel_kernels(dtype=torch.float64, device=d)[0]
        ),
        **{
            f"{name}(device=)": lambda d, name=name, kw=kw: getattr(filters, name)(**kw, device=d)
            for name, kw in (
                ("box_kernel", {"size": 3}),
                ("gaussian_kernel", {"sigma": 1.0}),
                ("laplacian_kernel", {}),
                ("sharpen_kernel", {}),
                ("sobel_kernels", {}),
                ("gabor_kernel", {"sigma": 2.0, "theta": 0.5, "lambd": 4.0}),
            )
        },
        "shift": lambda d: cnnutils.ops.equivariance.shift(x(d, 1, 1, 6, 6), 1, 2, mode="zeros"),
        "local_response_norm": lambda d: cnnutils.local_response_norm(x(d, 2, 8, 5, 5), 5),
        "local_response_norm[intra]": lambda d: cnnutils.local_response_norm(
            x(d, 2, 8, 5, 5), 4, mode="intra"
        ),
        "local_response_norm[paper]": lambda d: cnnutils.local_response_norm(
            x(d, 2, 8, 5, 5), 4, 1e-4, 0.75, 2.0, convention="paper"
        ),
        "LocallyConnected2d": lambda d: module_on(
            d, lambda: LocallyConnected2d(2, 3, 3, input_size=6), 2, 2, 6, 6
        ),
        "max_pool2d": lambda d: pooling.max_pool2d(x(d, 2, 3, 7, 6), 3, 2, padding=1),
        "MaxPool2d": lambda d: module_on(d, lambda: pooling.MaxPool2d(2), 2, 3, 8, 8),
        "avg_pool2d": lambda d: pooling.avg_pool2d(x(d, 2, 3, 7, 6), 3, 2, padding=1),
        "adaptive_avg_pool2d": lambda d: pooling.adaptive_avg_pool2d(x(d, 2, 3, 7, 6), (3, 2)),
        "global_avg_pool2d": lambda d: pooling.global_avg_pool2d(x(d, 2, 3, 7, 6)),
        "global_max_pool2d": lambda d: pooling.global_max_pool2d(x(d, 2, 3, 7, 6)),
        "disk_pool2d": lambda d: pooling.disk_pool2d(x(d, 1, 2, 9, 9), 2, padding=2),
        "lenet5": lambda d: module_on(d, lambda: cnnutils.lenet5(), 2, 1, 32, 32),
        "lenet5[modern]": lambda d: module_on(
            d, lambda: cnnutils.lenet5(variant="modern"), 2, 1, 32, 32
        ),
        "C3Connections": lambda d: module_on(d, C3Connections, 2, 6, 14, 14),
        "ScaledTanh": lambda d: module_on(d, ScaledTanh, 2, 3),
        "alexnet[small]": lambda d: module_on(
            d,
            lambda: cnnutils.alexnet(num_classes=5, width=1 / 8, input_size=32, stem=(3, 1, 1)),
            2,
            3,
            32,
            32,
        ),
        "split_grouped_conv": lambda d: [
            t(part)
            for t, part in zip(
                split_grouped_conv(nn.Conv2d(4, 6, 3, groups=2).double().to(d)),
                x(d, 1, 4, 5, 5).chunk(2, dim=1),
                strict=True,
            )
        ],
        "channel_stats": lambda d: cnnutils.channel_stats(x(d, 4, 3, 5, 5)),
        "F.conv2d (reference)": lambda d: F.conv2d(x(d, 1, 2, 5, 5), x(d, 3, 2, 3, 3)),
    }
    return recipes


RECIPES = _recipes()
# Used by the chapters on tensors but data-dependent (Python numbers, random indices, training
# loops): the meta device has no values. Their own tests cover them on the CPU; on CUDA, the
# GPU run of the notebooks does.
NOT_ON_META = {
    "equivariance_error", "invariance_error", "orientation_histogram", "random_crop",
    "random_flip", "random_shift", "pca_colour_jitter", "confusion_matrix", "fit", "evaluate",
    "predict", "extract_features", "linear_probe", "train_steps", "GroupsOnDevices",
    "disk_footprint", "max_pool2d_forward", "max_pool2d_backward",
    "pca_colour_basis", "top_patches", "train_small_alexnet",
}  # fmt: skip


# Make CPU data or draw figures from tensors (and move them to the CPU themselves).
HOST_ONLY = {
    "ImageDataset", "demo_problem", "load_photo", "plot_confusion_matrix",
    "sliding_window_animation", "show_images", "show_orientation_histograms", "animation_html",
    "draw_max_pool_backward", "overlap_backward_animation", "show_feature_maps", "show_matrices",
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_cnnutils_on_the_meta_device(name):
    on_meta, on_cpu = _meta_and_cpu(RECIPES[name])
    meta_tensors, cpu_tensors = list(_tensors(on_meta)), list(_tensors(on_cpu))
    assert meta_tensors, f"{name}: no tensor in the result"
    assert all(t.device.type == "meta" for t in meta_tensors), f"{name}: left the meta device"
    assert [t.shape for t in meta_tensors] == [t.shape for t in cpu_tensors]
    assert [t.dtype for t in meta_tensors] == [t.dtype for t in cpu_tensors]


def _cnnutils_names_in_notebooks() -> dict[str, str]:
    """``{name: module}`` for every name the chapters import from cnnutils."""
    used = {}
    for path in NOTEBOOKS:
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            try:
                tree = ast.parse(cell_python("".join(cell["source"])))
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cnnutils"):
                    used.update({a.name: node.module for a in node.names})
    return used


def _takes_or_makes_tensors(obj: object) -> bool:

    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return False
    annotations = [str(p.annotation) for p in sig.parameters.values()]
    return any(re.search(r"\bTensor\b", a) for a in [*annotations, str(sig.return_annotation)])


def test_every_tensor_function_the_chapters_use_is_covered():
    """A chapter that starts using another cnnutils tensor function gets a recipe above."""
    import importlib

    covered = {key.split("[")[0].split("(")[0] for key in RECIPES} | NOT_ON_META | HOST_ONLY
    missing = []
    for name, module in sorted(_cnnutils_names_in_notebooks().items()):
        obj = getattr(importlib.import_module(module), name, None)
        if callable(obj) and _takes_or_makes_tensors(obj) and name not in covered:
            missing.append(f"{module}.{name}")
    assert not missing, f"add a meta-device recipe (or a NOT_ON_META entry) for {missing}"


def test_random_helpers_keep_the_input_device():
    """Augmentations draw from a CPU generator and move only the draws (CPU round trip)."""
    import cnnutils

    g = torch.Generator().manual_seed(0)
    images = torch.rand(4, 3, 8, 8, generator=g, dtype=torch.float64)
    for fn, kwargs in (
        (cnnutils.random_crop, {"size": 6, "padding": 1}),
        (cnnutils.random_flip, {}),
        (cnnutils.random_shift, {"max_shift": 2}),
    ):
        out_a = fn(images, **kwargs, generator=torch.Generator().manual_seed(1))
        out_b = fn(images.clone(), **kwargs, generator=torch.Generator().manual_seed(1))
        assert out_a.device == images.device and torch.equal(out_a, out_b), fn.__name__
