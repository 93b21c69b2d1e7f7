"""Iteration budgets and the run that collects every benchmark into one Report."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.fanout import FanoutResult, run_fanout_bench
from bench.gateway import GatewayResultSet, run_gateway_bench
from bench.grounding import GroundingResult, run_grounding_bench
from bench.http import DatabaseUrls, HttpBudget, HttpResult, run_http_bench
from bench.system import open_demo
from bench.telemetry import TelemetryResult, run_telemetry_bench
from bench.turn import TurnResult, run_turn_bench


@dataclass(frozen=True, slots=True)
class Budget:
    turn_iterations: int
    turn_warmup: int
    sqlite_iterations: int
    sqlite_warmup: int
    decision_iterations: int
    raw_iterations: int
    distinct_requests: int
    call_iterations: int
    call_warmup: int
    http: HttpBudget
    fanout_appends: int = 200
    fanout_window: float = 3.0


DEFAULT = Budget(
    turn_iterations=150, turn_warmup=20, sqlite_iterations=80, sqlite_warmup=10,
    decision_iterations=20_000, raw_iterations=20, distinct_requests=16, call_iterations=300, call_warmup=20,
    http=HttpBudget(warmup=10, turns=60, concurrency=8, rounds=3, latency_turns=150, latency_concurrency=50),
)  # fmt: skip
"""`make bench`: about three minutes on two cores (+ ~10 s of cross-worker fan-out)."""
QUICK = Budget(
    turn_iterations=4, turn_warmup=1, sqlite_iterations=3, sqlite_warmup=1,
    decision_iterations=200, raw_iterations=2, distinct_requests=3, call_iterations=5, call_warmup=1,
    fanout_appends=5, fanout_window=0.2,
    http=HttpBudget(warmup=1, turns=3, concurrency=2, rounds=1, latency_turns=4, latency_concurrency=3),
)  # fmt: skip
"""`--quick`: a smoke run (the figures are not meaningful)."""


@dataclass(frozen=True, slots=True)
class Report:
    turns: tuple[TurnResult, ...]
    gateway: GatewayResultSet
    http: HttpResult
    quick: bool
    fanout: FanoutResult
    telemetry: TelemetryResult
    grounding: GroundingResult


async def _turns(
    workdir: Path, budget: Budget
) -> tuple[tuple[TurnResult, ...], GatewayResultSet, FanoutResult, TelemetryResult, GroundingResult]:
    system = await asyncio.to_thread(open_demo, workdir)
    try:
        memory = await run_turn_bench(system, "in-memory", budget.turn_iterations, budget.turn_warmup)
        sqlite = await run_turn_bench(system, "sqlite", budget.sqlite_iterations, budget.sqlite_warmup)
        telemetry = await run_telemetry_bench(system, budget.sqlite_iterations, budget.sqlite_warmup)
        grounding = await run_grounding_bench(system, budget.turn_iterations, budget.turn_warmup)
        gateway = run_gateway_bench(
            system,
            iterations=budget.decision_iterations,
            raw_iterations=budget.raw_iterations,
            distinct=budget.distinct_requests,
            call_iterations=budget.call_iterations,
            warmup=budget.call_warmup,
        )
    finally:
        system.engine.dispose()
    fanout = await run_fanout_bench(workdir, appends=budget.fanout_appends, window=budget.fanout_window)
    return (memory, sqlite), gateway, fanout, telemetry, grounding


def collect_telemetry(budget: Budget) -> TelemetryResult:
    """Only the telemetry-overhead benchmark (`python -m bench telemetry`), in a fresh data directory."""

    async def run(workdir: Path) -> TelemetryResult:
        system = await asyncio.to_thread(open_demo, workdir)
        try:
            return await run_telemetry_bench(system, budget.sqlite_iterations, budget.sqlite_warmup)
        finally:
            system.engine.dispose()

    with tempfile.TemporaryDirectory(prefix="copilot-bench-") as tmp:
        return asyncio.run(run(Path(tmp)))


def collect(budget: Budget, *, quick: bool = False, database_urls: DatabaseUrls | None = None) -> Report:
    """Run every benchmark in a fresh temporary data directory (the HTTP one on `database_urls`, default
    SQLite files there)."""
    with tempfile.TemporaryDirectory(prefix="copilot-bench-") as tmp:
        turns, gateway, fanout, telemetry, grounding = asyncio.run(_turns(Path(tmp), budget))
        http = run_http_bench(
            Path(tmp) / "http", budget.http, database_urls or {"copilot": None, "bare": None}
        )
    return Report(turns, gateway, http, quick, fanout, telemetry, grounding)
