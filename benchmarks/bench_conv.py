"""Speed of cnnutils.ops.conv against torch.nn.functional.conv2d and scipy.signal, on the CPU.

Run: ``.venv/bin/python benchmarks/bench_conv.py`` (about a minute on 2 cores);
``--threads 1`` for one thread (steadier on a machine busy with other work).

Not a test: it prints times and ratios. Every ratio compares functions timed in the same
process, interleaved round by round (A, B, C, A, B, C, ...), so that a machine busy with other
work slows all of them alike; each time is the median over rounds. Two threads, as on the
book's CI machines.
"""

from __future__ import annotations

import time

import scipy.signal
import torch
import torch.nn.functional as F
from _timing import interleaved
from _timing import start as timing_start

from cnnutils.ops.conv import conv2d

KERNEL_SIZES = (3, 5, 7, 9, 11, 15, 19, 23, 27, 31)
MAX_COLUMNS_BYTES = 2**28  # skip the unfold method where its column matrix would exceed 256 MiB


def fmt(seconds: float) -> str:
    return f"{seconds * 1e3:9.3f} ms"


def bench_unfold_vs_torch() -> None:
    print("\n## unfold vs F.conv2d: N=8, 64→64 channels, 56×56, 3×3, padding 1, float32")
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(8, 64, 56, 56, generator=gen)
    weight = torch.randn(64, 64, 3, 3, generator=gen) * 0.05
    bias = torch.randn(64, generator=gen)
    grad = torch.randn(8, 64, 56, 56, generator=gen)
    xg, wg, bg = (t.clone().requires_grad_() for t in (x, weight, bias))

    def backward(fn):
        def run():
            xg.grad = wg.grad = bg.grad = None
            fn(xg, wg, bg, padding=1).backward(grad)

        return run

    def ours(*args, **kwargs):
        return conv2d(*args, **kwargs, method="unfold")

    t = interleaved(
        {
            "fwd torch": lambda: F.conv2d(x, weight, bias, padding=1),
            "fwd unfold": lambda: ours(x, weight, bias, padding=1),
            "fwd+bwd torch": backward(F.conv2d),
            "fwd+bwd unfold": backward(ours),
        },
        rounds=9,
    )
    print("| pass | F.conv2d | unfold | unfold / F.conv2d | target |")
    print("|---|---|---|---|---|")
    for name, target in (("fwd", 2.5), ("fwd+bwd", 3.5)):
        ratio = t[f"{name} unfold"] / t[f"{name} torch"]
        verdict = "met" if ratio <= target else "NOT met"
        print(
            f"| {name} | {fmt(t[name + ' torch'])} | {fmt(t[name + ' unfold'])} | "
            f"{ratio:.2f}× | ≤ {target}× ({verdict}) |"
        )


def bench_lenet() -> None:
    print("\n## LeNet-5 C1: 1×1×32×32 → 6 maps, 5×5, float32")
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, 1, 32, 32, generator=gen)
    weight, bias = torch.randn(6, 1, 5, 5, generator=gen), torch.randn(6, generator=gen)
    t = interleaved(
        {m: lambda m=m: conv2d(x, weight, bias, method=m) for m in ("naive", "unfold", "fft")}
        | {"F.conv2d": lambda: F.conv2d(x, weight, bias)},
        rounds=5,
        block=0.1,
    )
    print("| method | time | naive / method |")
    print("|---|---|---|")
    for name, seconds in t.items():
        print(f"| {name} | {fmt(seconds)} | {t['naive'] / seconds:,.0f}× |")
    ratio = t["naive"] / t["unfold"]
    print(
        f"unfold is {ratio:,.0f}× faster than naive (target ≥ 300×: "
        f"{'met' if ratio >= 300 else 'NOT met'})"
    )


def crossover(sizes, fft_times, other_times) -> str:
    """The smallest kernel size from which the FFT stays faster, as text."""
    for i, k in enumerate(sizes):
        if all(f < o for f, o in zip(fft_times[i:], other_times[i:], strict=True)):
            return f"{k}×{k}"
    return "none in range"


def bench_fft(channels: int, size: int) -> None:
    label = "1 channel" if channels == 1 else f"{channels}→{channels} channels"
    print(f"\n## fft vs direct: {label}, {size}×{size}, 'valid', float32; k×k kernels")
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, channels, size, size, generator=gen)
    image = x[0, 0].numpy()
    columns = ["fft", "unfold", "F.conv2d"] + (["scipy"] if channels == 1 else [])
    print("| k | " + " | ".join(columns) + " | fft / F.conv2d |")
    print("|---" * (len(columns) + 2) + "|")
    results: dict[str, list[float]] = {c: [] for c in columns}
    for k in KERNEL_SIZES:
        weight = torch.randn(channels, channels, k, k, generator=gen)
        kernel = weight[0, 0].numpy()
        fns = {
            "fft": lambda w=weight: conv2d(x, w, method="fft"),
            "F.conv2d": lambda w=weight: F.conv2d(x, w),
        }
        if channels * k * k * (size - k + 1) ** 2 * 4 <= MAX_COLUMNS_BYTES:
            fns["unfold"] = lambda w=weight: conv2d(x, w, method="unfold")
        if channels == 1:
            fns["scipy"] = lambda kern=kernel: scipy.signal.correlate2d(image, kern, "valid")
        t = interleaved(fns, rounds=3, block=0.02)
        for c in columns:
            results[c].append(t.get(c, float("inf")))
        cells = [fmt(t[c]) if c in t else "(memory)" for c in columns]
        print(f"| {k} | " + " | ".join(cells) + f" | {t['fft'] / t['F.conv2d']:.2f}× |")
    for other in columns[1:]:
        where = crossover(KERNEL_SIZES, results["fft"], results[other])
        print(f"fft beats {other} from {where}")


def main() -> None:
    start = timing_start("conv", __doc__)
    bench_unfold_vs_torch()
    bench_lenet()
    bench_fft(channels=1, size=224)
    bench_fft(channels=16, size=112)
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
