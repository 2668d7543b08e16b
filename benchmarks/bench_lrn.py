"""cnnutils.ops.lrn against torch.nn.LocalResponseNorm on AlexNet's first LRN input (8×96×55×55).

    python benchmarks/bench_lrn.py [--threads 2 1] [--runs 3] [--rounds 15]

Both compute the paper's normalisation (k=2, n=5, α=1e-4, β=0.75; PyTorch with alpha=5e-4,
because it divides α by n). They are timed in interleaved rounds (ours, torch, ours, torch, …),
forward alone and forward + backward, and each time is the median over the rounds; the ratio
ours / torch is printed for each run. Target: ratio <= 1 (no slower than PyTorch).
The intra-channel mode, which PyTorch does not have, is timed alone for reference.
This script prints; it asserts nothing (benchmarks are not tests).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch
from torch import nn

from cnnutils.ops.lrn import LocalResponseNorm

SHAPE = (8, 96, 55, 55)


def median_times(functions, x, rounds: int, backward: bool) -> list[float]:
    times = [[] for _ in functions]
    for _ in range(rounds):
        for i, fn in enumerate(functions):
            inp = x.detach().requires_grad_(backward)
            start = time.perf_counter()
            out = fn(inp)
            if backward:
                out.sum().backward()
            times[i].append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[2, 1])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    x = torch.randn(SHAPE, generator=torch.Generator().manual_seed(0))
    ours = LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0, convention="paper")
    theirs = nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)
    intra = LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0, mode="intra", convention="paper")
    torch.testing.assert_close(ours(x), theirs(x))
    print(
        f"LRN on {SHAPE}, float32; torch {torch.__version__}, "
        f"{platform.processor() or platform.machine()}; median of {args.rounds} rounds"
    )
    print(
        f"{'threads':>7} {'run':>3} {'torch fwd':>10} {'ours fwd':>10} {'ratio':>6} "
        f"{'torch f+b':>10} {'ours f+b':>10} {'ratio':>6} {'intra fwd':>10}"
    )
    for threads in args.threads:
        torch.set_num_threads(threads)
        median_times([ours, theirs, intra], x, 3, backward=True)  # warm up
        for run in range(1, args.runs + 1):
            t_ours, t_theirs, t_intra = median_times([ours, theirs, intra], x, args.rounds, False)
            b_ours, b_theirs = median_times([ours, theirs], x, args.rounds, True)
            print(
                f"{threads:>7} {run:>3} {t_theirs * 1e3:>8.1f}ms {t_ours * 1e3:>8.1f}ms "
                f"{t_ours / t_theirs:>5.2f}× {b_theirs * 1e3:>8.1f}ms {b_ours * 1e3:>8.1f}ms "
                f"{b_ours / b_theirs:>5.2f}× {t_intra * 1e3:>8.1f}ms",
                flush=True,
            )


if __name__ == "__main__":
    main()
