"""The report of a simulation run: pass^1 … pass^k, handoff rate, tool denials, turns, latency p50/p95,
tokens and cost per task (the copilot's; the NL judge's apart), per-task rows, and the threshold check that fails CI on a regression. The NL
assertions' verdicts (a judge model's) are reported on their own (nl_*), beside the store-hash pass^k."""

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
    nl_trials: int = 0
    """Trials with NL assertions to grade (0: the task has none)."""
    nl_graded: int = 0
    """Trials whose NL assertions the judge graded."""
    nl_met: int = 0
    """Graded trials that met every NL assertion."""
    nl_unmet: tuple[str, ...] = ()
    """Assertions a graded trial did not meet, or why the trials were not graded."""
    judge_tokens: float = 0.0
    """The judge model's tokens per trial (not in `tokens`, the copilot's)."""


@dataclass(frozen=True)
class Report:
    summary: dict[str, float]
    tasks: tuple[TaskRow, ...]
    nl_note: str = ""
    """One sentence on the NL assertions: graded (by whom, how many met) or why not."""

    def to_dict(self) -> dict[str, Any]:
        rows = [row.__dict__ for row in self.tasks]
        return {"summary": self.summary, "nl_assertions": self.nl_note, "tasks": rows}


def _nl_unmet(results: Sequence[TrialResult]) -> tuple[str, ...]:
    why: dict[str, None] = {}
    for result in results:
        nl = result.grade.nl
        if nl is None:
            continue
        if nl.status == "not_graded":
            why[f"not graded: {nl.reason}"] = None
        why |= {f"unmet: {v.assertion}": None for v in nl.verdicts if not v.met}
    return tuple(why)


def judge_usage(result: TrialResult) -> Usage:
    """The judge model's tokens for grading the trial's NL assertions (none without a judge call)."""
    return result.grade.nl.usage if result.grade.nl is not None else Usage()


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
        nl_trials=sum(1 for r in results if r.grade.nl),
        nl_graded=sum(1 for r in results if r.grade.nl and r.grade.nl.status == "graded"),
        nl_met=sum(1 for r in results if r.grade.nl and r.grade.nl.met),
        nl_unmet=_nl_unmet(results),
        judge_tokens=fmean(judge_usage(r).total for r in results),
    )


def build_report(
    results: Sequence[TrialResult], prices: Prices | None = None, judge_prices: Prices | None = None
) -> Report:
    """`prices`: the copilot's model; `judge_prices`: the NL-assertion judge's (its tokens and cost are
    reported apart, never in tokens_per_task / cost_per_task)."""
    prices, judge_prices = prices or Prices(), judge_prices or Prices()
    if not results:
        raise CopilotError(ErrorCode.BAD_REQUEST, "No trials ran: the task set is empty.")
    by_task: dict[str, list[TrialResult]] = defaultdict(list)
    for result in results:
        by_task[result.task_id].append(result)
    rows = tuple(_row(task_id, trials, prices) for task_id, trials in by_task.items())
    latencies = [ms for r in results for ms in r.transcript.latencies_ms]
    copilot_usage = sum((r.transcript.usage for r in results), Usage())
    judge_usage_total = sum((judge_usage(r) for r in results), Usage())
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
        "judge_tokens_per_task": judge_usage_total.total / len(results),
        "judge_cost_per_task": judge_prices.cost(judge_usage_total) / len(results),
    }
    nl_summary, note = nl_metrics(by_task)
    return Report(summary | nl_summary, rows, note)


def nl_metrics(by_task: dict[str, list[TrialResult]]) -> tuple[dict[str, float], str]:
    """nl_trials, nl_graded_trials and nl_pass^1 … (over the tasks whose every trial was graded), and the note."""
    judged = {t: rs for t, rs in by_task.items() if any(r.grade.nl is not None for r in rs)}
    if not judged:
        return {}, "NL assertions: none in these tasks."
    trials = [r for rs in judged.values() for r in rs]
    graded = [r for r in trials if r.grade.nl is not None and r.grade.nl.status == "graded"]
    metrics: dict[str, float] = {"nl_trials": len(trials), "nl_graded_trials": len(graded)}
    if not graded:
        reasons = sorted({r.grade.nl.reason for r in trials if r.grade.nl is not None})
        return metrics, (
            f"NL assertions of {len(judged)} task(s): not graded ({'; '.join(reasons)}); pass^k above is the "
            "store-hash grade only."
        )
    complete = {
        t: [r.grade.nl.met for r in rs if r.grade.nl is not None]
        for t, rs in judged.items()
        if all(r.grade.nl is not None and r.grade.nl.status == "graded" for r in rs)
    }
    if complete:
        metrics |= {f"nl_pass^{k}": value for k, value in pass_k(complete).items()}
    met = sum(r.grade.nl.met for r in graded if r.grade.nl is not None)
    note = (
        f"NL assertions of {len(judged)} task(s), graded by the judge apart from the store hash: {met} of "
        f"{len(graded)} graded trial(s) met all of them"
    )
    if len(graded) < len(trials):
        note += f"; {len(trials) - len(graded)} trial(s) not graded (see the tasks' nl_unmet)"
    return metrics, note + "."


METRICS = (
    "tasks", "trials", "handoff_rate", "tool_denials", "turns", "latency_p50_ms", "latency_p95_ms",
    "tokens_per_task", "cost_per_task", "user_tokens_per_task", "judge_tokens_per_task", "judge_cost_per_task",
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
