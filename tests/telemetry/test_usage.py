"""Prices, estimates and budget periods (pure functions), and the ledger's sums on a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from copilot.errors import ErrorCode
from copilot.settings import ModelPrice
from copilot.store.database import make_engine
from copilot.telemetry.callbacks import error_kind
from copilot.telemetry.usage import Budget, CallUsage, TurnUsage, UsageLedger, cost, estimate_tokens

PRICES = {
    "openai:gpt-4o-mini": ModelPrice(input=0.15, output=0.6),
    "local-llama": ModelPrice(input=0, output=0),
}
tokens = st.integers(min_value=0, max_value=10**9)


@given(tokens, tokens, tokens, tokens)
def test_cost_is_linear_in_tokens(a: int, b: int, c: int, d: int) -> None:
    together = cost(PRICES, "openai", "gpt-4o-mini", a + c, b + d)
    apart = cost(PRICES, "openai", "gpt-4o-mini", a, b) + cost(PRICES, "openai", "gpt-4o-mini", c, d)
    assert together == pytest.approx(apart)
    assert together >= 0


def test_cost_by_provider_model_then_model_alone_else_free() -> None:
    assert cost(PRICES, "openai", "gpt-4o-mini", 1_000_000, 1_000_000) == pytest.approx(0.75)
    assert cost(PRICES, "vllm", "local-llama", 5, 5) == 0
    assert cost(PRICES, "anthropic", "unpriced", 10**6, 10**6) == 0


@given(st.text(max_size=400))
def test_estimate_is_about_four_characters_per_token(text: str) -> None:
    estimate = estimate_tokens(text)
    assert estimate * 4 >= len(text) > (estimate - 1) * 4


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_budget_periods_start_at_utc_midnight_and_the_first_of_the_month(now: datetime) -> None:
    day, month = Budget(1, "day").start(now), Budget(1, "month").start(now)
    assert day <= now < day + timedelta(days=1) and (day.hour, day.minute, day.second) == (0, 0, 0)
    assert month.day == 1 and month <= day and (month.year, month.month) == (now.year, now.month)


def test_turn_usage_refuses_once_the_budget_is_used_up() -> None:
    usage = TurnUsage("demo", "c", "t", {}, remaining=100, budget=Budget(100, "day"))
    usage.check()
    usage.add(CallUsage("p", "m", 60, 40, False, 0.0))
    with pytest.raises(Exception) as refused:
        usage.check()
    assert getattr(refused.value, "code", None) == ErrorCode.BUDGET_EXCEEDED and usage.over_budget


def test_ledger_sums_a_tenants_tokens_since_a_moment(tmp_path: Path) -> None:
    ledger = UsageLedger(make_engine(f"sqlite:///{tmp_path / 'u.db'}"))
    start = datetime.now(UTC)
    for tenant, calls in (("demo", [(10, 5), (7, 3)]), ("other", [(1000, 1000)])):
        usage = TurnUsage(tenant, "c", "t", {})
        for i, o in calls:
            usage.add(CallUsage("p", "m", i, o, True, 0.0))
        ledger.record(usage)
    assert ledger.used("demo", start - timedelta(seconds=1)) == 25
    assert ledger.used("demo", datetime.now(UTC) + timedelta(seconds=1)) == 0
    assert ledger.used("nobody", start) == 0
    ledger.engine.dispose()


class _Status(Exception):
    def __init__(self, status: int) -> None:
        self.status_code = status


class ReadTimeout(Exception):
    pass


def test_provider_errors_are_classified() -> None:
    assert error_kind(_Status(429)) == "rate_limit"
    assert error_kind(_Status(503)) == "server"
    assert error_kind(ReadTimeout()) == "timeout" and error_kind(TimeoutError()) == "timeout"
    assert error_kind(_Status(400)) == "other" and error_kind(ValueError()) == "other"
