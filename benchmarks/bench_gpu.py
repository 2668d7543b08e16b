"""GPU benchmarks in one script: the device's ceiling, convolutions, and AlexNet training.

    python benchmarks/bench_gpu.py [--json PATH] [--budget-s 270] [--sections ...]
    python benchmarks/bench_gpu.py --smoke [--json PATH]     # every code path, on the CPU

Sections, in order (``--sections`` picks some):

``matmul``
    bf16 matrix products (8192³) as the device's practical ceiling, and fp16, TF32 and fp32
    for the other precisions; a large device-to-device copy for the memory bandwidth. The
    nominal dense peaks come from :data:`PEAKS` (vendors' datasheets, keyed by device name);
    for a device not in the table the measured ceiling stands in.
``conv``
    ``F.conv2d`` forward throughput on AlexNet's five convolutions (batch 128, shapes read off
    ``cnnutils.models.alexnet``) and on four 3×3 ResNet-style layers (batch 64), in fp32 with
    TF32 off, TF32, TF32 + channels_last, bf16, bf16 + channels_last.
``unfold``
    ``cnnutils.conv2d(method="unfold")`` against cuDNN (``F.conv2d``), forward and forward +
    backward, on the CPU benchmark's shape (N=8, 64→64, 56×56, 3×3) and a larger one (N=32, 128→128,
    56×56), in fp32 (TF32 off on both sides), TF32 (on both) and bf16. Target: ≤ 4× slower.
``alexnet``
    full-size AlexNet (``cnnutils.models.alexnet``) training steps (forward, cross-entropy,
    backward, SGD with momentum) on synthetic data made on the device: fp32, TF32, bf16
    autocast, bf16 autocast + channels_last (batch 128 and 512), the same compiled with
    ``torch.compile`` (in a child process with a time limit: a slow or failing compile costs
    at most that), and torchvision's layout. Reported as images/s and as multiply-adds/s over
    the device's peak. Multiply-adds per image: ``torch.utils.flop_counter`` on the forward
    pass; a training step is counted as 3× the forward (forward, gradient of the inputs,
    gradient of the weights). Target: ≥ 25% of the bf16 peak.

Timing: CUDA events around blocks of calls (``time.perf_counter`` on the CPU), after warm-up
calls (which also let cuDNN's autotuner pick its algorithms), median over the blocks. The whole
run keeps to ``--budget-s`` seconds: each section starts no measurement once its share of the
budget is spent (:data:`UNTIL`: matmul up to 12%, conv 40%, unfold 55%, the eager AlexNet rows
70%, torch.compile the rest), and what it skipped is listed.

``--smoke`` runs every code path with tiny shapes and one or two iterations, on the CPU unless
``--device cuda`` is given, in a few seconds: timings from it mean nothing. Without CUDA and
without ``--smoke`` the script exits at once with status 2. It exits with status 1 when a
section raised (the rest still runs; the error is printed and written to the JSON).
This script prints and writes numbers; it asserts nothing about speed (benchmarks are not tests).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import math
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from a checkout without cnnutils installed
    sys.path.insert(0, str(ROOT))

from cnnutils.models.alexnet import alexnet  # noqa: E402  (after the path set-up above)
from cnnutils.ops.conv import conv2d as cnn_conv2d  # noqa: E402

SECTIONS = ("matmul", "conv", "unfold", "alexnet")
CHILD_MARK = "BENCH_GPU_CHILD_RESULT "

# Dense (no 2:4 sparsity) peak TFLOP/s by precision; 1 multiply-add = 2 FLOPs. The datasheets
# print tensor-core rates "with sparsity": those are halved here. Matched in order against
# torch.cuda.get_device_name(); variants not listed (H100 NVL, H200 NVL, GH200, ...) fall back
# to the measured ceiling.
PEAKS: tuple[tuple[str, str, dict[str, float], str], ...] = (
    (
        r"H100.*PCIe",
        "H100 PCIe",
        {"bf16": 756.5, "fp16": 756.5, "tf32": 378.0, "fp32": 51.0},
        "NVIDIA H100 Tensor Core GPU datasheet (2023), PCIe column, sparse rates halved",
    ),
    (
        r"H100 (80GB HBM3|SXM)",
        "H100 SXM5",
        {"bf16": 989.5, "fp16": 989.5, "tf32": 494.5, "fp32": 67.0},
        "NVIDIA H100 Tensor Core GPU datasheet (2023), SXM column, sparse rates halved",
    ),
    (
        r"^NVIDIA H200$|H200 SXM",
        "H200 SXM",
        {"bf16": 989.5, "fp16": 989.5, "tf32": 494.5, "fp32": 67.0},
        "NVIDIA H200 Tensor Core GPU datasheet (2024), SXM column, sparse rates halved",
    ),
    (
        r"\bA100\b",
        "A100",
        {"bf16": 312.0, "fp16": 312.0, "tf32": 156.0, "fp32": 19.5},
        "NVIDIA A100 Tensor Core GPU datasheet (2021), dense rates (SXM and PCIe alike)",
    ),
    (
        r"\bL4\b",
        "L4",
        {"bf16": 121.0, "fp16": 121.0, "tf32": 60.0, "fp32": 30.3},
        "NVIDIA L4 Tensor Core GPU datasheet (2023), sparse rates halved",
    ),
    (
        r"\bT4\b",
        "T4",
        {"fp16": 65.0, "fp32": 8.1},
        "NVIDIA T4 datasheet (2019): fp16 tensor cores, no bf16 or TF32",
    ),
)


def peak_for(device_name: str) -> dict | None:
    """The :data:`PEAKS` entry for a device name, as a dict, or ``None`` if unknown."""
    for pattern, label, tflops, source in PEAKS:
        if re.search(pattern, device_name):
            return {"label": label, "tflops": dict(tflops), "source": source}
    return None


# ------------------------------------------------------------------------------------------
# Configuration


@dataclass(frozen=True)
class Config:
    """Sizes and repetitions; :func:`config` gives the full run's and the smoke run's."""

    smoke: bool
    matmul_n: int
    copy_mib: int
    conv_batch: int
    conv3x3_batch: int
    conv3x3: tuple[tuple[int, int], ...]  # (channels, size)
    alexnet_kwargs: dict
    unfold_shapes: tuple[tuple[str, int, int, int, int], ...]  # (label, N, C, K, size)
    train_batches: tuple[int, int]  # (batch of every row, the larger batch)
    train_steps: int
    warmup: int
    reps: int
    block_s: float  # target seconds per timed block of calls
    max_s: float  # cap on the timed part of one measurement
    compile_backend: str
    compile_timeout_s: float


def config(smoke: bool) -> Config:
    if smoke:
        return Config(
            smoke=True,
            matmul_n=64,
            copy_mib=1,
            conv_batch=2,
            conv3x3_batch=2,
            conv3x3=((8, 10),),
            alexnet_kwargs={"width": 1 / 16, "input_size": 67, "num_classes": 10},
            unfold_shapes=(("cpu-bench (tiny)", 1, 4, 4, 10), ("larger (tiny)", 2, 8, 8, 12)),
            train_batches=(2, 4),
            train_steps=1,
            warmup=1,
            reps=2,
            block_s=0.0,
            max_s=0.05,
            compile_backend="eager",
            compile_timeout_s=60.0,
        )
    return Config(
        smoke=False,
        matmul_n=8192,
        copy_mib=2048,
        conv_batch=128,
        conv3x3_batch=64,
        conv3x3=((64, 56), (128, 28), (256, 14), (512, 7)),
        alexnet_kwargs={},
        unfold_shapes=(("cpu-bench", 8, 64, 64, 56), ("larger", 32, 128, 128, 56)),
        train_batches=(128, 512),
        train_steps=20,
        warmup=5,
        reps=7,
        block_s=0.025,
        max_s=0.5,
        compile_backend="inductor",
        compile_timeout_s=180.0,
    )


class Budget:
    """Seconds left of the run's budget."""

    def __init__(self, seconds: float) -> None:
        self.start = time.perf_counter()
        self.seconds = seconds

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def left(self, until: float = 1.0) -> float:
        """Seconds until ``until`` (a fraction) of the budget is spent."""
        return self.seconds * until - self.elapsed()


# Each section stops starting measurements once this fraction of the budget is spent, so a slow
# section cannot starve the later ones; time a section leaves unused passes to the next ones.
# torch.compile, last, gets whatever is left.
UNTIL = {"matmul": 0.12, "conv": 0.4, "unfold": 0.55, "alexnet": 0.7}


# ------------------------------------------------------------------------------------------
# Timing


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_block(fn: Callable[[], object], calls: int, device: torch.device) -> float:
    """Seconds for ``calls`` back-to-back calls: CUDA events on a GPU, the host clock else."""
    if device.type == "cuda":
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(calls):
            fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / 1e3
    begin = time.perf_counter()
    for _ in range(calls):
        fn()
    return time.perf_counter() - begin


def measure(
    fn: Callable[[], object], device: torch.device, cfg: Config, *, warmup: int | None = None
) -> dict:
    """Median seconds per call of ``fn`` over timed blocks, after warm-up calls.

    The block size is set from one timed call so that a block lasts about ``cfg.block_s``
    (many short calls per event pair, so launch gaps and timer resolution do not dominate),
    and the number of blocks is cut so that the timed part stays under ``cfg.max_s``.
    """
    for _ in range(cfg.warmup if warmup is None else warmup):
        fn()
    sync(device)
    one = max(time_block(fn, 1, device), 1e-7)
    calls = max(1, min(1000, math.ceil(cfg.block_s / one)))
    reps = max(2 if not cfg.smoke else 1, min(cfg.reps, int(cfg.max_s / (one * calls))))
    times = [time_block(fn, calls, device) / calls for _ in range(reps)]
    median = statistics.median(times)
    return {
        "median_s": median,
        "min_s": min(times),
        "max_s": max(times),
        "blocks": reps,
        "calls_per_block": calls,
    }


@contextlib.contextmanager
def tf32(enabled: bool) -> Iterator[None]:
    """TF32 for cuDNN convolutions and cuBLAS matrix products, restored on exit.

    The legacy flags only: PyTorch refuses to read them once the newer ``fp32_precision``
    API has been used in the same process, so this script never uses that one.
    """
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = enabled
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def low_precision(device: torch.device) -> torch.dtype:
    """bf16 where the device has bf16 arithmetic, else fp16 (a T4, for example)."""
    if device.type != "cuda":
        return torch.bfloat16
    try:
        native = torch.cuda.is_bf16_supported(including_emulation=False)
    except TypeError:  # older PyTorch
        native = torch.cuda.is_bf16_supported()
    return torch.bfloat16 if native else torch.float16


DTYPE_NAMES = {torch.bfloat16: "bf16", torch.float16: "fp16", torch.float32: "fp32"}


def random(shape: tuple[int, ...], device: torch.device, dtype=torch.float32, seed: int = 0):
    """Normal random numbers made on the device itself (a seeded generator of that device)."""
    generator = torch.Generator(device=device).manual_seed(seed)
    return torch.randn(shape, device=device, dtype=dtype, generator=generator)


def tflops(multiply_adds: float, seconds: float) -> float:
    return 2 * multiply_adds / seconds / 1e12


def share(value: float | None, of: float | None) -> float | None:
    return None if value is None or not of else value / of


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def free(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()


# ------------------------------------------------------------------------------------------
# Sections


def section_matmul(device: torch.device, cfg: Config, budget: Budget, result: dict) -> None:
    """Matrix-product ceilings per precision, and the device-to-device copy bandwidth."""
    n = cfg.matmul_n
    lowp = low_precision(device)
    rows = []
    print(f"\n## matmul: {n}×{n}×{n} products (random data), TFLOP/s", flush=True)
    precisions = [(DTYPE_NAMES[lowp], lowp, False)]
    if lowp is torch.bfloat16:  # fp16 too; bf16 is left out where it is only emulated
        precisions.append(("fp16", torch.float16, False))
    precisions += [("tf32", torch.float32, True), ("fp32", torch.float32, False)]
    for label, dtype, use_tf32 in precisions:
        if budget.left(UNTIL["matmul"]) < 0:
            result["skipped"].append(f"matmul {label}: out of time")
            continue
        a, b = random((n, n), device, dtype, 1), random((n, n), device, dtype, 2)
        with tf32(use_tf32):
            timing = measure(lambda a=a, b=b: a @ b, device, cfg)
        rate = tflops(n**3, timing["median_s"])
        rows.append({"precision": label, "n": n, "tflops": rate, **timing})
        print(f"{label:>5}: {rate:8.1f} TFLOP/s  ({timing['median_s'] * 1e3:.3f} ms)", flush=True)
        del a, b
        free(device)
    result["matmul"] = rows
    result["bandwidth"] = copy_bandwidth(device, cfg)
    free(device)


def copy_bandwidth(device: torch.device, cfg: Config) -> dict:
    """One large device-to-device copy; bytes read plus bytes written per second."""
    src = random((cfg.copy_mib * 2**20 // 4,), device)
    dst = torch.empty_like(src)
    timing = measure(lambda: dst.copy_(src), device, cfg)
    gbs = 2 * src.numel() * 4 / timing["median_s"] / 1e9
    print(f"copy of {cfg.copy_mib} MiB: {gbs:,.0f} GB/s (read + write)", flush=True)
    return {"bytes": src.numel() * 4, "gb_per_s_read_plus_write": gbs, **timing}


def ceilings(result: dict) -> dict[str, float]:
    """Measured TFLOP/s per precision from the matmul section."""
    return {row["precision"]: row["tflops"] for row in result.get("matmul", [])}


def nominal(result: dict, precision: str) -> tuple[float | None, str]:
    """The nominal peak for a precision and where it comes from (datasheet or measured)."""
    peak = result["peak"]
    if peak and precision in peak["tflops"]:
        return peak["tflops"][precision], "datasheet"
    measured = ceilings(result).get(precision)
    return measured, "measured matmul" if measured else "unknown"


def alexnet_conv_shapes(cfg: Config) -> list[dict]:
    """AlexNet's (original variant) five convolutions with their input shapes, from the model.

    The sizes follow from the layers' own geometry, walked in order (no forward pass: the
    meta device's first forward costs seconds of one-off set-up).
    """
    with torch.device("meta"):
        model = alexnet(**cfg.alexnet_kwargs)

    def out(size: int, kernel, stride, padding) -> int:
        k, s, p = (v[0] if isinstance(v, tuple) else v for v in (kernel, stride, padding))
        return (size + 2 * p - k) // s + 1

    shapes, channels, size = [], 3, model.input_size
    for module in model.features:
        if isinstance(module, torch.nn.Conv2d):
            new = out(size, module.kernel_size, module.stride, module.padding)
            shapes.append(
                {
                    "label": f"AlexNet conv{len(shapes) + 1}",
                    "in_shape": (cfg.conv_batch, channels, size, size),
                    "weight": tuple(module.weight.shape),
                    "stride": module.stride,
                    "padding": module.padding,
                    "groups": module.groups,
                    "out_shape": (cfg.conv_batch, module.out_channels, new, new),
                }
            )
            channels, size = module.out_channels, new
        elif isinstance(module, torch.nn.MaxPool2d):
            size = out(size, module.kernel_size, module.stride, module.padding)
    return shapes


def conv_multiply_adds(s: dict) -> int:
    n, c_out, h, w = s["out_shape"]
    _, c_in_per_group, kh, kw = s["weight"]
    return n * c_out * h * w * c_in_per_group * kh * kw


CONV_MODES = (
    # label, dtype (None: the low-precision type), TF32, channels_last, peak precision
    ("fp32", torch.float32, False, False, "fp32"),
    ("tf32", torch.float32, True, False, "tf32"),
    ("tf32+CL", torch.float32, True, True, "tf32"),
    ("lowp", None, False, False, "lowp"),
    ("lowp+CL", None, False, True, "lowp"),
)


def section_conv(device: torch.device, cfg: Config, budget: Budget, result: dict) -> None:
    """F.conv2d forward throughput per shape and mode."""
    lowp = low_precision(device)
    lowp_name = DTYPE_NAMES[lowp]
    shapes = alexnet_conv_shapes(cfg)[: 2 if cfg.smoke else None]  # smoke: conv1, grouped conv2
    for channels, size in cfg.conv3x3:
        n = cfg.conv3x3_batch
        shapes.append(
            {
                "label": f"3×3 {channels}@{size}",
                "in_shape": (n, channels, size, size),
                "weight": (channels, channels, 3, 3),
                "stride": (1, 1),
                "padding": (1, 1),
                "groups": 1,
                "out_shape": (n, channels, size, size),
            }
        )
    modes = [(m[0].replace("lowp", lowp_name), *m[1:]) for m in CONV_MODES]
    print("\n## conv: F.conv2d forward, TFLOP/s (share of the nominal peak of that precision)")
    print(f"{'shape':<28}" + "".join(f"{m[0]:>16}" for m in modes), flush=True)
    rows = []
    for s in shapes:
        macs = conv_multiply_adds(s)
        cells = []
        for label, dtype, use_tf32, channels_last, peak_name in modes:
            dtype = dtype or lowp
            peak_name = lowp_name if peak_name == "lowp" else peak_name
            if budget.left(UNTIL["conv"]) < 0:
                result["skipped"].append(f"conv {s['label']} {label}: out of time")
                cells.append(f"{'skipped':>16}")
                continue
            x = random(s["in_shape"], device, dtype, 1)
            w = random(s["weight"], device, dtype, 2) * 0.05
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
                w = w.contiguous(memory_format=torch.channels_last)
            kwargs = {"stride": s["stride"], "padding": s["padding"], "groups": s["groups"]}
            with tf32(use_tf32), torch.no_grad():
                timing = measure(lambda x=x, w=w, kw=kwargs: F.conv2d(x, w, **kw), device, cfg)
            rate = tflops(macs, timing["median_s"])
            peak, source = nominal(result, peak_name)
            rows.append(
                {
                    "shape": s["label"],
                    "in_shape": list(s["in_shape"]),
                    "weight": list(s["weight"]),
                    "stride": list(s["stride"]),
                    "padding": list(s["padding"]),
                    "groups": s["groups"],
                    "mode": label,
                    "multiply_adds": macs,
                    "tflops": rate,
                    "share_of_peak": share(rate, peak),
                    "peak_source": source,
                    **timing,
                }
            )
            cells.append(f"{rate:>8.1f} ({pct(share(rate, peak)):>5})")
            del x, w
        print(f"{s['label']:<28}" + "".join(cells), flush=True)
        free(device)
    result["conv"] = rows


def section_unfold(device: torch.device, cfg: Config, budget: Budget, result: dict) -> None:
    """cnnutils.conv2d(method="unfold") against cuDNN, forward and forward + backward."""
    lowp = low_precision(device)
    rows = []
    print("\n## unfold: cnnutils.conv2d(method='unfold') vs F.conv2d, 3×3, padding 1")
    print(
        f"{'shape':<34} {'precision':<10} {'pass':<8} {'F.conv2d':>10} {'unfold':>10} {'ratio':>7}",
        flush=True,
    )
    for label, n, c_in, c_out, size in cfg.unfold_shapes:
        shape_label = f"{label}: N={n}, {c_in}→{c_out}, {size}×{size}"
        err = None
        for precision, dtype, use_tf32 in (
            ("fp32", torch.float32, False),
            ("tf32", torch.float32, True),
            (DTYPE_NAMES[lowp], lowp, False),
        ):
            if budget.left(UNTIL["unfold"]) < 0:
                result["skipped"].append(f"unfold {shape_label} {precision}: out of time")
                continue
            x = random((n, c_in, size, size), device, dtype, 1)
            w = random((c_out, c_in, 3, 3), device, dtype, 2) * 0.05
            b = random((c_out,), device, dtype, 3)
            grad = random((n, c_out, size, size), device, dtype, 4)
            with tf32(use_tf32):
                if precision == "fp32":  # the two agree (fresh inputs, relative error)
                    with torch.no_grad():
                        ref = F.conv2d(x, w, b, padding=1)
                        ours = cnn_conv2d(x, w, b, padding=1, method="unfold")
                        err = ((ours - ref).norm() / ref.norm()).item()
                    del ref, ours
                for pass_name in ("fwd", "fwd+bwd"):
                    if budget.left(UNTIL["unfold"]) < 0:
                        result["skipped"].append(
                            f"unfold {shape_label} {precision} {pass_name}: out of time"
                        )
                        continue
                    times = {}
                    for method in ("cudnn", "unfold"):
                        fn = _conv_call(method, pass_name, x, w, b, grad)
                        times[method] = measure(fn, device, cfg)
                    ratio = times["unfold"]["median_s"] / times["cudnn"]["median_s"]
                    rows.append(
                        {
                            "shape": shape_label,
                            "n": n,
                            "c_in": c_in,
                            "c_out": c_out,
                            "size": size,
                            "precision": precision,
                            "pass": pass_name,
                            "cudnn_s": times["cudnn"]["median_s"],
                            "unfold_s": times["unfold"]["median_s"],
                            "ratio": ratio,
                            "rel_error_fp32": err,
                        }
                    )
                    print(
                        f"{shape_label:<34} {precision:<10} {pass_name:<8} "
                        f"{times['cudnn']['median_s'] * 1e3:>8.3f}ms "
                        f"{times['unfold']['median_s'] * 1e3:>8.3f}ms {ratio:>6.2f}×",
                        flush=True,
                    )
            del x, w, b, grad
            free(device)
        if err is not None:
            print(f"{'':<34} relative error of unfold vs F.conv2d (fp32): {err:.1e}")
    result["unfold"] = rows


def _conv_call(method: str, pass_name: str, x, w, b, grad) -> Callable[[], object]:
    conv = (
        (lambda x, w, b: F.conv2d(x, w, b, padding=1))
        if method == "cudnn"
        else (lambda x, w, b: cnn_conv2d(x, w, b, padding=1, method="unfold"))
    )
    if pass_name == "fwd":

        def forward() -> object:
            with torch.no_grad():
                return conv(x, w, b)

        return forward
    xg, wg, bg = (t.detach().requires_grad_() for t in (x, w, b))

    def forward_backward() -> object:
        xg.grad = wg.grad = bg.grad = None
        conv(xg, wg, bg).backward(grad)

    return forward_backward


# ---------------------------------------------------------------- AlexNet training


def forward_multiply_adds(variant: str, cfg: Config, device: torch.device) -> int:
    """Multiply-adds of one image's forward pass, counted by torch.utils.flop_counter.

    Counted on a real forward pass of one image on ``device`` (instant on a GPU).
    """
    from torch.utils.flop_counter import FlopCounterMode

    model = alexnet(variant=variant, **cfg.alexnet_kwargs).to(device)
    x = torch.zeros(1, 3, model.input_size, model.input_size, device=device)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x)
    return counter.get_total_flops() // 2


def train_row(spec: dict, device: torch.device, cfg: Config) -> dict:
    """Time training steps of one configuration; ``spec`` says which (JSON-able)."""
    precision = spec["precision"]
    lowp = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    torch.manual_seed(0)
    model = alexnet(variant=spec["variant"], **cfg.alexnet_kwargs).to(device)
    size, batch = model.input_size, spec["batch"]
    x = random((batch, 3, size, size), device)
    y = torch.randint(
        0,
        model.classifier[-1].out_features,
        (batch,),
        device=device,
        generator=torch.Generator(device=device).manual_seed(1),
    )
    if spec["channels_last"]:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    net = model
    if spec.get("compile"):
        net = torch.compile(model, backend=spec.get("backend", "inductor"))

    def step() -> None:
        with torch.autocast(device.type, dtype=lowp or torch.bfloat16, enabled=lowp is not None):
            loss = F.cross_entropy(net(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    out = {}
    with tf32(precision == "tf32"):
        if spec.get("compile"):
            begin = time.perf_counter()
            step()
            sync(device)
            out["first_step_s"] = time.perf_counter() - begin  # compilation, mostly
        for _ in range(cfg.warmup):
            step()
        sync(device)
        one = max(time_block(step, 1, device), 1e-7)
        calls = max(1, min(cfg.train_steps, math.ceil(0.05 / one) if not cfg.smoke else 1))
        reps = max(1, min(cfg.reps, math.ceil(cfg.train_steps / calls)))
        times = [time_block(step, calls, device) / calls for _ in range(reps)]
    seconds = statistics.median(times)
    out.update({"step_s": seconds, "min_s": min(times), "steps": calls * reps})
    if device.type == "cuda":
        out["max_memory_gib"] = torch.cuda.max_memory_allocated(device) / 2**30
        torch.cuda.reset_peak_memory_stats(device)
    return out


def compile_in_child(spec: dict, device: torch.device, smoke: bool, timeout: float) -> dict:
    """:func:`train_row` with ``torch.compile`` in a child process, killed after ``timeout``."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--compile-child",
        json.dumps(spec),
        "--device",
        device.type,
    ]
    if smoke:
        command.append("--smoke")
    # a session of its own, so that a timeout ends the compiler's worker processes too
    child = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        return {"skipped": f"torch.compile did not finish within {timeout:.0f} s"}
    for line in stdout.splitlines():
        if line.startswith(CHILD_MARK):
            return json.loads(line[len(CHILD_MARK) :])
    tail = (stderr or stdout).strip().splitlines()[-3:]
    return {"error": f"compile child exited {child.returncode}: " + " | ".join(tail)}


def section_alexnet(
    device: torch.device, cfg: Config, budget: Budget, result: dict, args: argparse.Namespace
) -> None:
    lowp = DTYPE_NAMES[low_precision(device)]
    small, big = cfg.train_batches
    macs = {v: forward_multiply_adds(v, cfg, device) for v in ("original", "torchvision")}
    result["alexnet_multiply_adds_per_image"] = {
        "forward": macs,
        "training_step_factor": 3,
        "note": (
            "forward counted by torch.utils.flop_counter (convolutions and linear layers; "
            "biases, activations, LRN, pooling not counted); a training step is counted as "
            "3x the forward pass (forward, input gradients, weight gradients). The counter's "
            "own backward count is not used: it counts a grouped convolution's weight "
            "gradient as if ungrouped (groups x too many)."
        ),
    }
    specs = [
        ("fp32 (TF32 off)", "original", small, "fp32", False),
        ("TF32", "original", small, "tf32", False),
        (f"{lowp} autocast", "original", small, lowp, False),
        (f"{lowp} autocast + channels_last", "original", small, lowp, True),
        (f"{lowp} autocast + channels_last", "original", big, lowp, True),
        (f"{lowp} + CL, torchvision layout", "torchvision", big, lowp, True),
    ]
    peak_lowp, _ = nominal(result, lowp)
    print(
        f"\n## alexnet: training steps (SGD, momentum 0.9), synthetic data on the device\n"
        f"forward multiply-adds per image: original {macs['original']:,}, torchvision "
        f"{macs['torchvision']:,}; a step counts 3× the forward (fwd, input grads, weight grads)"
    )
    header = (
        f"{'configuration':<46} {'variant':<12} {'batch':>5} {'ms/step':>8} {'images/s':>9} "
        f"{'TFLOP/s':>8} {'of peak':>8} {'of ' + lowp + ' peak':>12}"
    )
    print(header, flush=True)
    rows = []
    for label, variant, batch, precision, channels_last in specs:
        if budget.left(UNTIL["alexnet"]) < 0:
            result["skipped"].append(f"alexnet {label} batch {batch}: out of time")
            continue
        spec = {
            "variant": variant,
            "batch": batch,
            "precision": precision,
            "channels_last": channels_last,
        }
        rows.append(_train_result(label, spec, train_row(spec, device, cfg), macs, result))
        free(device)
        _print_train_row(rows[-1], peak_lowp)
    # torch.compile of the best eager low-precision configuration of the original network
    eager = [r for r in rows if r["precision"] == lowp and r["variant"] == "original"]
    if args.no_compile:
        result["skipped"].append("alexnet torch.compile: --no-compile")
    elif not eager:
        result["skipped"].append("alexnet torch.compile: no eager row to compare with")
    else:
        best = max(eager, key=lambda r: r["images_per_s"])
        timeout = min(cfg.compile_timeout_s, budget.left() - 10)
        if timeout < 30 and not cfg.smoke:
            result["skipped"].append("alexnet torch.compile: out of time")
        else:
            spec = {
                "variant": "original",
                "batch": best["batch"],
                "precision": lowp,
                "channels_last": best["channels_last"],
                "compile": True,
                "backend": cfg.compile_backend,
            }
            if args.compile_isolation == "subprocess":
                measured = compile_in_child(spec, device, cfg.smoke, timeout)
            else:
                measured = train_row(spec, device, cfg)
            label = f"{best['configuration']} + torch.compile"
            if "step_s" in measured:
                row = _train_result(label, spec, measured, macs, result)
                row["speedup_vs_eager"] = best["step_s"] / row["step_s"]
                saved = best["step_s"] - row["step_s"]
                row["compile_pays_after_steps"] = (
                    math.ceil(measured["first_step_s"] / saved) if saved > 0 else None
                )
                rows.append(row)
                _print_train_row(row, peak_lowp)
                pays = row["compile_pays_after_steps"]
                print(
                    f"torch.compile ({cfg.compile_backend}): first step "
                    f"{measured['first_step_s']:.1f} s, {row['speedup_vs_eager']:.2f}× the eager "
                    f"speed; "
                    + (f"pays for itself after ~{pays:,} steps" if pays else "does not pay"),
                    flush=True,
                )
            else:
                why = measured.get("skipped") or measured.get("error")
                key = "skipped" if "skipped" in measured else "errors"
                result[key].append(f"alexnet torch.compile: {why}")
                print(f"torch.compile: {why}", flush=True)
    result["alexnet"] = rows


def _train_result(label: str, spec: dict, measured: dict, macs: dict, result: dict) -> dict:
    images = spec["batch"] / measured["step_s"]
    rate = tflops(3 * macs[spec["variant"]] * images, 1.0)
    peak, source = nominal(result, spec["precision"])
    lowp_peak, _ = nominal(result, result["meta"]["lowp"])
    return {
        "configuration": label,
        **spec,
        **measured,
        "images_per_s": images,
        "tflops": rate,
        "share_of_peak": share(rate, peak),
        "peak_precision": spec["precision"],
        "peak_source": source,
        "share_of_lowp_peak": share(rate, lowp_peak),
    }


def _print_train_row(row: dict, peak_lowp: float | None) -> None:
    print(
        f"{row['configuration']:<46} {row['variant']:<12} {row['batch']:>5} "
        f"{row['step_s'] * 1e3:>8.2f} {row['images_per_s']:>9,.0f} {row['tflops']:>8.1f} "
        f"{pct(row['share_of_peak']):>8} {pct(row['share_of_lowp_peak']):>12}",
        flush=True,
    )


# ------------------------------------------------------------------------------------------
# Report


def targets(result: dict) -> dict:
    """The issue's two targets, judged from the measurements."""
    out = {}
    fwd = [r for r in result.get("unfold", []) if r["precision"] == "fp32" and r["pass"] == "fwd"]
    if fwd:
        worst = max(r["ratio"] for r in fwd)
        out["unfold_vs_cudnn"] = {
            "target": "unfold at most 4x slower than cuDNN (fp32 forward, TF32 off on both)",
            "ratios": {r["shape"]: r["ratio"] for r in fwd},
            "met": worst <= 4.0,
        }
    lowp = [r for r in result.get("alexnet", []) if r["precision"] in ("bf16", "fp16")]
    lowp = [r for r in lowp if r["variant"] == "original"]
    if lowp:
        best = max(lowp, key=lambda r: r["tflops"])
        value = best["share_of_peak"]
        out["alexnet_share_of_peak"] = {
            "target": "AlexNet training at >= 25% of the device's bf16 peak (3x forward MACs)",
            "best": best["configuration"] + f", batch {best['batch']}",
            "share": value,
            "peak_source": best["peak_source"],
            "met": value is not None and value >= 0.25,
        }
    return out


def print_summary(result: dict) -> None:
    meta, peak = result["meta"], result["peak"]
    print("\n## summary")
    print(
        f"device: {meta['device_name']} ({meta['device']}); torch {meta['torch']}, CUDA "
        f"{meta['cuda']}, cuDNN {meta['cudnn']}; run {meta['seconds']:.0f} s"
        + ("; SMOKE RUN: tiny sizes, timings mean nothing" if meta["smoke"] else "")
    )
    if peak:
        print(f"nominal peaks ({peak['label']}, {peak['source']}): {peak['tflops']} TFLOP/s")
    else:
        print("nominal peaks: device not in the table; the measured matmul ceilings stand in")
    print("measured matmul: " + ", ".join(f"{k} {v:.1f}" for k, v in ceilings(result).items()))
    for name, t in result["targets"].items():
        verdict = "MET" if t["met"] else "NOT MET"
        detail = (
            ", ".join(f"{k}: {v:.2f}×" for k, v in t["ratios"].items())
            if "ratios" in t
            else f"{t['best']}: {pct(t['share'])} ({t['peak_source']})"
        )
        print(f"target {name} [{verdict}]: {detail}")
    for line in result["skipped"]:
        print(f"skipped: {line}")
    for line in result["errors"]:
        print(f"ERROR: {line.splitlines()[0]}")


def environment(device: torch.device, smoke: bool, budget_s: float) -> dict:
    meta = {
        "smoke": smoke,
        "device": str(device),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "python": platform.python_version(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "budget_s": budget_s,
        "host_cpus": os.cpu_count(),
        "lowp": DTYPE_NAMES[low_precision(device)],
    }
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        meta.update(
            {
                "device_name": torch.cuda.get_device_name(device),
                "capability": list(torch.cuda.get_device_capability(device)),
                "multiprocessors": props.multi_processor_count,
                "memory_gib": props.total_memory / 2**30,
            }
        )
    else:
        meta["device_name"] = platform.processor() or platform.machine()
    return meta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write every number here")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, every code path")
    parser.add_argument("--device", help="default: cuda (cpu with --smoke)")
    parser.add_argument("--budget-s", type=float, default=270.0, help="time for the whole run")
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile row")
    parser.add_argument(
        "--compile-isolation",
        choices=("subprocess", "inprocess"),
        help="run the torch.compile row in a child process with a time limit (default) or "
        "here (default with --smoke)",
    )
    parser.add_argument("--compile-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    device = torch.device(args.device or ("cpu" if args.smoke else "cuda"))
    if device.type == "cuda" and not torch.cuda.is_available():
        print(
            "bench_gpu.py needs a CUDA GPU and torch.cuda.is_available() is False here; "
            "`--smoke` runs every code path on the CPU",
            file=sys.stderr,
        )
        return 2
    threads = torch.get_num_threads()
    try:
        return _run(args)
    finally:
        torch.set_num_threads(threads)  # main() may be called in a test's process


def _run(args: argparse.Namespace) -> int:
    device = torch.device(args.device or ("cpu" if args.smoke else "cuda"))
    cfg = config(args.smoke)
    if device.type == "cpu":
        torch.set_num_threads(1)  # tiny ops: one thread does not stall on a busy machine
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    if args.compile_child:  # the child of compile_in_child
        row = train_row(json.loads(args.compile_child), device, cfg)
        print(CHILD_MARK + json.dumps(row), flush=True)
        return 0
    if args.compile_isolation is None:
        args.compile_isolation = "inprocess" if args.smoke else "subprocess"

    budget = Budget(args.budget_s)
    meta = environment(device, args.smoke, args.budget_s)
    result: dict = {
        "meta": meta,
        "peak": peak_for(meta["device_name"]) if device.type == "cuda" else None,
        "errors": [],
        "skipped": [],
        "section_seconds": {},
    }
    print(
        f"# GPU benchmark on {meta['device_name']} ({device}): torch {meta['torch']}, CUDA "
        f"{meta['cuda']}, cuDNN {meta['cudnn']}, Python {meta['python']}"
        + (
            "\n# SMOKE RUN: tiny sizes, 1-2 iterations; the timings mean nothing"
            if cfg.smoke
            else ""
        ),
        flush=True,
    )
    peak = result["peak"]
    print(
        f"# nominal dense peaks: {peak['tflops']} TFLOP/s ({peak['label']}; {peak['source']})"
        if peak
        else "# nominal peaks: none for this device; the measured matmul ceilings stand in",
        flush=True,
    )
    for name in SECTIONS:
        if name not in args.sections:
            result["skipped"].append(f"{name}: not in --sections")
            continue
        began = time.perf_counter()
        try:
            if name == "matmul":
                section_matmul(device, cfg, budget, result)
            elif name == "conv":
                section_conv(device, cfg, budget, result)
            elif name == "unfold":
                section_unfold(device, cfg, budget, result)
            else:
                section_alexnet(device, cfg, budget, result, args)
        except Exception as error:  # one broken section must not lose the others
            print(traceback.format_exc(), file=sys.stderr, flush=True)
            result["errors"].append(f"{name}: {type(error).__name__}: {error}")
            result.setdefault(name, [])
            free(device)
        result["section_seconds"][name] = time.perf_counter() - began
    meta["seconds"] = budget.elapsed()
    result["targets"] = targets(result)
    print_summary(result)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1, default=str) + "\n")
        print(f"numbers written to {args.json}")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
