"""The report of a simulation run: pass^1 … pass^k, handoff rate, tool denials, turns, latency p50/p95,
tokens and cost per task, per-task rows, and the threshold check that fails CI on a regression."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean
from typing import Any

from copilot.errors import CopilotError, ErrorCode
from copilot.simulation.metrics import Prices, Usage, pass_k, percentile
from copilot.simulation.run import TrialResult
from copilot.simulation.tasks import Thresholds


@dataclass(frozen=True)
class TaskRow:
    task_id: str
    passed: int
    trials: int
    store_matches: int
    handoffs: int
    denials: float
    turns: float
    tokens: float
    cost: float
    failures: tuple[str, ...]
    """Distinct reasons of the failed trials."""


@dataclass(frozen=True)
class Report:
    summary: dict[str, float]
    tasks: tuple[TaskRow, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary, "tasks": [row.__dict__ for row in self.tasks]}


def _row(task_id: str, results: Sequence[TrialResult], prices: Prices) -> TaskRow:
    usages = [r.transcript.usage for r in results]
    reasons = dict.fromkeys(reason for r in results for reason in r.grade.reasons)
    return TaskRow(
        task_id=task_id,
        passed=sum(r.grade.passed for r in results),
        trials=len(results),
        store_matches=sum(r.grade.store_matches for r in results),
        handoffs=sum(r.transcript.handed_off for r in results),
        denials=fmean(r.transcript.count("tool.denied") for r in results),
        turns=fmean(r.transcript.customer_turns for r in results),
        tokens=fmean(u.total for u in usages),
        cost=fmean(prices.cost(u) for u in usages),
        failures=tuple(reasons),
    )


def build_report(results: Sequence[TrialResult], prices: Prices | None = None) -> Report:
    prices = prices or Prices()
    if not results:
        raise CopilotError(ErrorCode.BAD_REQUEST, "No trials ran: the task set is empty.")
    by_task: dict[str, list[TrialResult]] = defaultdict(list)
    for result in results:
        by_task[result.task_id].append(result)
    rows = tuple(_row(task_id, trials, prices) for task_id, trials in by_task.items())
    latencies = [ms for r in results for ms in r.transcript.latencies_ms]
    copilot_usage = sum((r.transcript.usage for r in results), Usage())
    summary: dict[str, float] = {
        f"pass^{k}": value
        for k, value in pass_k({t: [r.grade.passed for r in rs] for t, rs in by_task.items()}).items()
    }
    summary |= {  # the keys of METRICS
        "tasks": len(by_task),
        "trials": len(results),
        "handoff_rate": fmean(r.transcript.handed_off for r in results),
        "tool_denials": fmean(r.transcript.count("tool.denied") for r in results),
        "turns": fmean(r.transcript.customer_turns for r in results),
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
        "tokens_per_task": copilot_usage.total / len(results),
        "cost_per_task": prices.cost(copilot_usage) / len(results),
        "user_tokens_per_task": fmean(r.transcript.user_usage.total for r in results),
    }
    return Report(summary, rows)


METRICS = (
    "tasks", "trials", "handoff_rate", "tool_denials", "turns", "latency_p50_ms", "latency_p95_ms",
    "tokens_per_task", "cost_per_task", "user_tokens_per_task",
)  # fmt: skip
"""Summary metrics besides pass^1 … pass^K."""


def check_metrics(thresholds: Thresholds, trials: int) -> None:
    """Refuse (before anything runs) a threshold on a metric the report will not have."""
    known = [f"pass^{k}" for k in range(1, trials + 1)] + list(METRICS)
    for metric in [*thresholds.minimum, *thresholds.maximum]:
        if metric not in known:
            raise CopilotError(
                ErrorCode.BAD_REQUEST,
                f"Unknown threshold metric {metric!r} with {trials} trial(s); use one of: {', '.join(known)}.",
            )


def violations(report: Report, thresholds: Thresholds) -> list[str]:
    """Each threshold the report misses, as a sentence."""
    found = []
    for bound, limits in (("minimum", thresholds.minimum), ("maximum", thresholds.maximum)):
        for metric, limit in limits.items():
            value = report.summary[metric]
            if (bound == "minimum" and value < limit) or (bound == "maximum" and value > limit):
                found.append(f"{metric} = {value:.3f}, {bound} {limit:g}")
    return found
