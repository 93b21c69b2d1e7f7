"""Smoke test: `python -m bench --quick` runs every benchmark with tiny iteration counts and reports every
field (no timing assertions: the quick figures are not meaningful)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench.gateway import RULES, synthetic_rules
from bench.grounding import GOAL as GROUNDING_GOAL
from bench.run import QUICK
from copilot.agent.runner import DURABILITY
from copilot.settings import PROJECT_ROOT

STATS = {"name", "n", "mean_ms", "p50_ms", "p95_ms"}


@dataclass(frozen=True)
class Run:
    stdout: str
    data: dict[str, Any]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json", str(out)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return Run(done.stdout, json.loads(out.read_text(encoding="utf-8")))


def _check_stats(stats: dict[str, Any], n: int) -> None:
    assert set(stats) == STATS
    assert stats["n"] == n
    assert 0 < stats["p50_ms"] <= stats["p95_ms"]
    assert stats["mean_ms"] > 0


def test_turn_benchmarks_cover_both_savers(run: Run) -> None:
    turns = run.data["turns"]
    assert [t["saver"] for t in turns] == ["in-memory", "sqlite"]
    for turn, n in zip(turns, (QUICK.turn_iterations, QUICK.sqlite_iterations), strict=True):
        for variant in ("ours", "bare", "bare_other"):
            _check_stats(turn[variant], n)
        assert turn["ratio"] == pytest.approx(turn["ours"]["mean_ms"] / turn["bare"]["mean_ms"])
        assert turn["ratio_p50"] == pytest.approx(turn["ours"]["p50_ms"] / turn["bare"]["p50_ms"])
        assert turn["durability"] == DURABILITY
        assert turn["bare"]["name"] == f"bare, durability={DURABILITY}"  # the goal compares like with like
        assert turn["other_durability"] != DURABILITY


def test_gateway_benchmark_runs_at_ten_thousand_rules(run: Run) -> None:
    gw = run.data["gateway"]
    assert gw["rules"] > RULES
    assert gw["requests"] == QUICK.distinct_requests
    _check_stats(gw["ours"], QUICK.decision_iterations)
    _check_stats(gw["miss"], QUICK.distinct_requests)
    _check_stats(gw["raw"], QUICK.raw_iterations)
    _check_stats(gw["call"], QUICK.call_iterations)
    assert gw["ratio_p95"] == pytest.approx(gw["ours"]["p95_ms"] / gw["raw"]["p95_ms"])
    assert len(gw["policy_version"]) == 16


def test_gateway_benchmark_measures_the_live_authorizer(run: Run) -> None:
    gw = run.data["gateway"]
    for key in ("live_own", "live_shared", "live_call"):
        _check_stats(gw[key], QUICK.call_iterations)
    assert gw["live_call"]["name"] == "gateway .call (read, live policy)"


def test_http_benchmark_compares_the_copilot_with_a_bare_server_writing_the_same_events(run: Run) -> None:
    http = run.data["http"]
    assert http["database"] == "sqlite"
    assert set(http["events_per_turn"]) == {"help", "order"}
    assert all(n >= 4 for n in http["events_per_turn"].values())
    for key, figures in http["throughput"].items():
        # CPU is read in clock ticks (10 ms): a quick run of the bare server may not reach one
        assert figures["turns_per_s"] > 0 and figures["cpu_ms_per_turn"] >= 0, key
    for kind, ratio in http["ratio"].items():
        copilot, bare = http["throughput"][f"copilot/{kind}"], http["throughput"][f"bare/{kind}"]
        assert ratio == pytest.approx(copilot["turns_per_s"] / bare["turns_per_s"])
    for server in ("copilot", "bare"):
        _check_stats(http["latency"][server], QUICK.http.latency_turns * QUICK.http.rounds)
    assert http["latency_concurrency"] == QUICK.http.latency_concurrency


def test_fanout_benchmark_measures_both_doorbells(run: Run) -> None:
    fanout = run.data["fanout"]
    _check_stats(fanout["local"], QUICK.fanout_appends)
    if fanout["redis"] is not None:  # None: no Redis server answered (the summary line says so)
        _check_stats(fanout["redis"], QUICK.fanout_appends)
    assert fanout["goal_p95_ms"] == 50.0


def test_output_has_table_and_summary_block(run: Run) -> None:
    assert "Support Copilot benchmarks" in run.stdout
    summary = run.stdout.split("== summary ==", 1)[1].strip().splitlines()
    assert summary == run.data["summary"]
    assert summary[0].startswith("turn (in-memory): ours ") and "→ ratio" in summary[0]
    assert summary[1].startswith("turn (sqlite): ours ")
    assert summary[2].startswith(f"gateway decision @{run.data['gateway']['rules']} rules: ours p95 ")
    assert summary[3].startswith("gateway .call get_order_details")
    assert summary[4].startswith("gateway decision with live policy reload")
    assert summary[5].startswith("cross-worker first event")
    assert summary[6].startswith("HTTP (sqlite): one uvicorn worker each; events per turn after coalescing")
    assert "throughput ratio" in summary[7] and "throughput ratio" in summary[8]
    assert summary[9].startswith("HTTP p95 turn latency")
    assert summary[-1].startswith("grounding checks: ") and "of a turn (in-memory" in summary[-1]
    assert 0 < run.data["grounding"]["share_of_turn"] < run.data["grounding"]["checks_share_of_turn"] < 1
    assert "+ hygiene " in summary[-1] and run.data["grounding"]["hygiene"]["mean_ms"] > 0
    # the ≤ 10% goal's verdict is printed and agrees with the figures (quick timings are not asserted)
    verdict = re.search(r"; goal ≤ 10%: (met|NOT met)\)$", summary[-1])
    assert verdict is not None, summary[-1]
    grounding = run.data["grounding"]
    assert grounding["goal_share"] == GROUNDING_GOAL == 0.10
    assert grounding["goal_met"] == (grounding["checks_share_of_turn"] <= GROUNDING_GOAL)
    assert (verdict.group(1) == "met") == grounding["goal_met"]
    assert f"durability={DURABILITY}" in summary[1]


def test_telemetry_benchmark_compares_on_with_off_in_the_same_run(run: Run) -> None:
    telemetry = run.data["telemetry"]
    for key in ("on", "off", "unwrapped"):
        _check_stats(telemetry[key], QUICK.sqlite_iterations)
    assert telemetry["ratio"] == pytest.approx(telemetry["on"]["mean_ms"] / telemetry["off"]["mean_ms"])
    assert telemetry["durability"] == DURABILITY
    assert telemetry["spans_per_turn"] > 10  # turn, nodes, gateway stages, retrieval, model calls
    line = run.data["summary"][-2]  # then grounding
    assert line.startswith("turn with metrics + tracing vs without (same run, interleaved")
    assert f"durability={DURABILITY} on both sides" in line and "goal ≤ 1.05: " in line


def test_the_telemetry_benchmark_runs_alone(tmp_path: Path) -> None:
    """`python -m bench telemetry`: only that benchmark, its summary line and its figures."""
    out = tmp_path / "telemetry.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json", str(out), "telemetry"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert (
        data["summary"][0].startswith("turn with metrics + tracing vs without")
        and "gateway" not in done.stdout
    )
    assert data["telemetry"]["spans_per_turn"] > 10 and data["telemetry"]["cpu_ratio"] > 0


def test_synthetic_rules_are_distinct_and_span_tenants() -> None:
    rows = synthetic_rules(["get_order_details", "cancel_pending_order"], count=500)
    assert len({tuple(r[:3]) for r in rows}) == 500
    assert len({r[1] for r in rows}) > 100
    assert {r[4] for r in rows} == {"allow", "deny"}
