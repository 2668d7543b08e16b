"""The timing loop the benchmarks share (run them as scripts: this folder is on sys.path)."""

from __future__ import annotations

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
