"""Timing samples → mean / p50 / p95 (milliseconds). Warm-up iterations are run but never recorded."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Stats:
    name: str
    n: int
    mean_ms: float
    p50_ms: float
    p95_ms: float

    def to_dict(self) -> dict[str, float | int | str]:
        return {
            "name": self.name,
            "n": self.n,
            "mean_ms": self.mean_ms,
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
        }


def percentile(sorted_ms: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, min(len(sorted_ms), round(q / 100 * len(sorted_ms) + 0.5)))
    return sorted_ms[rank - 1]


def summarize(name: str, samples_ms: list[float]) -> Stats:
    if not samples_ms:
        raise ValueError(f"{name}: no samples")
    ordered = sorted(samples_ms)
    return Stats(
        name, len(ordered), statistics.fmean(ordered), percentile(ordered, 50), percentile(ordered, 95)
    )


def time_sync(fn: Callable[[int], object], iterations: int, warmup: int) -> list[float]:
    """Call fn(i) warmup + iterations times; return the timed samples in ms."""
    samples: list[float] = []
    for i in range(warmup + iterations):
        start = time.perf_counter_ns()
        fn(i)
        elapsed = (time.perf_counter_ns() - start) / 1e6
        if i >= warmup:
            samples.append(elapsed)
    return samples


async def time_async(fn: Callable[[int], Awaitable[object]], i: int) -> float:
    """One timed await in ms."""
    start = time.perf_counter_ns()
    await fn(i)
    return (time.perf_counter_ns() - start) / 1e6
