"""Speed of cnnutils.ops.conv against torch.nn.functional.conv2d and scipy.signal, on the CPU.

Run: ``.venv/bin/python benchmarks/bench_conv.py`` (about a minute on 2 cores);
``--threads 1`` for one thread; ``--only unfold --busy 0,1 --runs 3`` for the unfold ratios
alone, three times on the machine as it is and three times with one busy process beside them
(``make bench-conv``).

Not a test: it prints times and ratios. Every ratio compares functions timed in the same
process, interleaved round by round (A, B, C, A, B, C, ...), so that a machine busy with other
work slows all of them alike; each time is the median over rounds. Two threads, as on the
book's CI machines. The machine's facts (CPU, caches, BLAS, threads) head the output, and the
load average stands beside each ratio of the unfold table.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import time

import _machine
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


@contextlib.contextmanager
def busy_processes(count: int):
    """Run ``count`` processes that spin on the CPU (one core each) for the ``with`` block."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        if spinners:
            time.sleep(1.0)  # let them start spinning
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


UNFOLD_TARGETS = {"fwd": 2.5, "fwd+bwd": 3.5}


def bench_unfold_vs_torch(busy_counts: list[int], runs: int) -> None:
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

    fns = {
        "fwd torch": lambda: F.conv2d(x, weight, bias, padding=1),
        "fwd unfold": lambda: ours(x, weight, bias, padding=1),
        "fwd+bwd torch": backward(F.conv2d),
        "fwd+bwd unfold": backward(ours),
    }
    print(
        f"Targets: fwd ≤ {UNFOLD_TARGETS['fwd']}×, fwd+bwd ≤ {UNFOLD_TARGETS['fwd+bwd']}× "
        f"F.conv2d; {torch.get_num_threads()} threads; 9 interleaved rounds per run, medians; "
        "'busy': processes spinning beside the benchmark; load: 1- and 5-minute averages "
        "before the run"
    )
    print(
        "| busy | run | load | F.conv2d fwd | unfold fwd | ratio "
        "| F.conv2d fwd+bwd | unfold fwd+bwd | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    missed = {name: 0 for name in UNFOLD_TARGETS}
    for busy in busy_counts:
        with busy_processes(busy):
            for run in range(1, runs + 1):
                load = _machine.load().removeprefix("load ")
                t = interleaved(fns, rounds=9)
                cells = []
                for name, target in UNFOLD_TARGETS.items():
                    ratio = t[f"{name} unfold"] / t[f"{name} torch"]
                    missed[name] += ratio > target
                    mark = "" if ratio <= target else " (NOT met)"
                    cells.append(
                        f"{fmt(t[name + ' torch'])} | {fmt(t[name + ' unfold'])} | "
                        f"{ratio:.2f}×{mark}"
                    )
                print(f"| {busy} | {run} | {load} | " + " | ".join(cells) + " |", flush=True)
    total = len(busy_counts) * runs
    for name, target in UNFOLD_TARGETS.items():
        verdict = "met" if not missed[name] else f"NOT met in {missed[name]}"
        print(f"{name} ≤ {target}×: {verdict} of {total} runs")


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", choices=["unfold", "lenet", "fft"], help="run one section (default: all)"
    )
    parser.add_argument(
        "--busy",
        default="0",
        help="comma-separated numbers of busy processes to run the unfold comparison beside "
        "(default 0; '0,1': the machine as it is, then with one spinning process)",
    )
    parser.add_argument(
        "--runs", type=int, default=1, help="runs of the unfold comparison per busy count"
    )
    start, args = timing_start("conv", __doc__, parser)
    busy_counts = [int(b) for b in args.busy.split(",")]
    if args.only in (None, "unfold"):
        bench_unfold_vs_torch(busy_counts, args.runs)
    if args.only in (None, "lenet"):
        bench_lenet()
    if args.only in (None, "fft"):
        bench_fft(channels=1, size=224)
        bench_fft(channels=16, size=112)
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
