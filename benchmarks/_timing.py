"""The timing loop the benchmarks share (run them as scripts: this folder is on sys.path)."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable


def interleaved(
    fns: dict[str, Callable[[], object]], rounds: int = 7, block: float = 0.04
) -> dict[str, float]:
    """Median seconds per call of each function, timed in interleaved rounds (A, B, A, B, ...).

    Interleaving makes a burst of other work on the machine slow every contender alike, so the
    ratios between them stay meaningful. Each function is warmed up once, then called often
    enough per round to fill about ``block`` seconds.
    """
    numbers = {}
    for name, fn in fns.items():
        fn()
        start = time.perf_counter()
        fn()
        numbers[name] = max(1, int(block / max(time.perf_counter() - start, 1e-7)))
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(numbers[name]):
                fn()
            times[name].append((time.perf_counter() - start) / numbers[name])
    return {name: statistics.median(ts) for name, ts in times.items()}


def start(
    name: str, doc: str, parser: argparse.ArgumentParser | None = None
) -> tuple[float, argparse.Namespace]:
    """Parse ``--threads`` (and ``parser``'s own options), set torch's thread count, print the
    versions and the machine's facts (``_machine.describe``: CPU, caches, BLAS, threads, load).

    Returns the ``time.perf_counter()`` at the start, for the script's total, and the options.
    """
    import os

    import _machine
    import numpy as np
    import scipy
    import torch

    parser = parser or argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"# {name} benchmark: torch {torch.__version__}, numpy {np.__version__}, "
        f"scipy {scipy.__version__}, {torch.get_num_threads()} threads, "
        f"{os.cpu_count()} CPUs"
    )
    print(_machine.describe())
    return time.perf_counter(), args
