"""What the timing benchmarks share: the median wall time of a call."""

from __future__ import annotations

import statistics
import time


def median_seconds(fn, repeats: int, warm_up: bool = True) -> float:
    """Median seconds of ``repeats`` calls of fn(), after one untimed call unless warm_up is False."""
    if warm_up:
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
