"""pass^k (τ-bench's unbiased estimator), percentiles and the summary of a simulation run.

pass^k of one task with n trials of which c passed is C(c, k) / C(n, k): the chance that k trials drawn
without replacement all pass. A run's pass^k is its mean over tasks, for k = 1 … n.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


def pass_hat_k(trials: int, passed: int, k: int) -> float:
    """C(passed, k) / C(trials, k); needs 1 ≤ k ≤ trials."""
    if not 1 <= k <= trials or not 0 <= passed <= trials:
        raise ValueError(f"need 1 <= k <= trials and 0 <= passed <= trials, got {k=}, {trials=}, {passed=}")
    return math.comb(passed, k) / math.comb(trials, k)


def pass_k(outcomes: Mapping[str, Sequence[bool]]) -> dict[int, float]:
    """pass^1 … pass^n over tasks (each task with the same number n of trials)."""
    counts = {len(results) for results in outcomes.values()}
    if len(counts) != 1:
        raise ValueError("every task needs the same number of trials")
    trials = counts.pop()
    return {
        k: sum(pass_hat_k(trials, sum(r), k) for r in outcomes.values()) / len(outcomes)
        for k in range(1, trials + 1)
    }


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in [0, 100]); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens)

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True, slots=True)
class Prices:
    """USD per million tokens of the copilot's model."""

    input: float = 0.0
    output: float = 0.0

    def cost(self, usage: Usage) -> float:
        return (usage.input_tokens * self.input + usage.output_tokens * self.output) / 1_000_000
