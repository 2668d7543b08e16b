"""Speed of cnnutils.ops.pooling against torch.nn.functional and scipy.ndimage, on the CPU.

Run: ``.venv/bin/python benchmarks/bench_pooling.py`` (about 20 s on 2 cores);
``--threads 1`` for one thread (steadier on a machine busy with other work).

Not a test: it prints times and ratios. Every ratio compares functions timed in the same
process, interleaved round by round (A, B, C, A, B, C, ...), so that a machine busy with other
work slows all of them alike; each time is the median over rounds.
"""

from __future__ import annotations

import time

import numpy as np
import scipy
import scipy.ndimage
import torch
import torch.nn.functional as F
from _timing import interleaved
from _timing import start as timing_start

from cnnutils.ops.pooling import (
    avg_pool2d,
    disk_footprint,
    disk_pool2d,
    max_pool2d,
    max_pool2d_backward,
    max_pool2d_forward,
)


def fmt(seconds: float) -> str:
    return f"{seconds * 1e3:8.2f} ms"


def bench_alexnet_max_pool() -> None:
    print("\n## max pooling 3×3, stride 2, on AlexNet's conv1 output: 8×96×55×55, float32")
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(8, 96, 55, 55, generator=gen)
    grad = torch.randn(8, 96, 27, 27, generator=gen)
    xg = x.clone().requires_grad_()
    _, cache = max_pool2d_forward(x, 3, stride=2)

    def fwd_bwd(fn):
        def run():
            xg.grad = None
            fn(xg, 3, stride=2).backward(grad)

        return run

    t = interleaved(
        {
            "fwd torch": lambda: F.max_pool2d(x, 3, stride=2),
            "fwd ours": lambda: max_pool2d(x, 3, stride=2),
            "switches torch": lambda: F.max_pool2d(x, 3, stride=2, return_indices=True),
            "switches ours": lambda: max_pool2d_forward(x, 3, stride=2),
            "bwd ours": lambda: max_pool2d_backward(grad, cache),
            "fwd+bwd torch": fwd_bwd(F.max_pool2d),
            "fwd+bwd ours": fwd_bwd(max_pool2d),
        },
        rounds=9,
        block=0.05,
    )
    print("| pass | F.max_pool2d | cnnutils | cnnutils / torch |")
    print("|---|---|---|---|")
    rows = (
        ("forward (values only, no grad)", "fwd"),
        ("forward with switches (indices)", "switches"),
        ("forward + backward (autograd)", "fwd+bwd"),
    )
    for label, key in rows:
        ratio = t[f"{key} ours"] / t[f"{key} torch"]
        print(f"| {label} | {fmt(t[key + ' torch'])} | {fmt(t[key + ' ours'])} | {ratio:.2f}× |")
    print(f"| backward alone (scatter_add of the switches) | | {fmt(t['bwd ours'])} | |")
    ratio = t["fwd ours"] / t["fwd torch"]
    print(f"target: forward no slower than F.max_pool2d: {'met' if ratio <= 1 else 'NOT met'}")


def bench_other_pools() -> None:
    print("\n## other pools on 8×64×56×56, float32 (forward, no grad)")
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(8, 64, 56, 56, generator=gen)
    t = interleaved(
        {
            "max 2×2 torch": lambda: F.max_pool2d(x, 2),
            "max 2×2 ours": lambda: max_pool2d(x, 2),
            "avg 3×3 s2 p1 torch": lambda: F.avg_pool2d(x, 3, 2, 1),
            "avg 3×3 s2 p1 ours": lambda: avg_pool2d(x, 3, 2, 1),
        },
        rounds=7,
        block=0.05,
    )
    print("| pool | torch | cnnutils | ratio |")
    print("|---|---|---|---|")
    for name in ("max 2×2", "avg 3×3 s2 p1"):
        ours, theirs = t[f"{name} ours"], t[f"{name} torch"]
        print(f"| {name} | {fmt(theirs)} | {fmt(ours)} | {ours / theirs:.2f}× |")


def bench_disk() -> None:
    print("\n## disk max pooling, radius 3 (37 taps), stride 1, one 224×224 channel, float32")
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, 1, 224, 224, generator=gen)
    image, footprint = x[0, 0].numpy(), disk_footprint(3).numpy()
    t = interleaved(
        {
            "disk_pool2d": lambda: disk_pool2d(x, 3, padding=3),
            "scipy maximum_filter": lambda: scipy.ndimage.maximum_filter(
                image, footprint=footprint, mode="constant", cval=-np.inf
            ),
        },
        rounds=5,
        block=0.05,
    )
    ratio = t["disk_pool2d"] / t["scipy maximum_filter"]
    print(f"disk_pool2d {fmt(t['disk_pool2d'])}, scipy {fmt(t['scipy maximum_filter'])}, "
          f"ratio {ratio:.2f}×")  # fmt: skip


def main() -> None:
    start, _ = timing_start("pooling", __doc__)
    bench_alexnet_max_pool()
    bench_other_pools()
    bench_disk()
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
