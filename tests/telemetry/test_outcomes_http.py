"""Outcomes over real HTTP (uvicorn, offline model, demo store) on SQLite and Postgres: a scripted set of
conversations with known outcomes gives exact confirmed/assumed resolution, handoff and containment rates, by
intent and by tool, through the library, the admin API and the CLI; feedback shows in /metrics."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from typer.testing import CliRunner

from copilot.api.app import create_app
from copilot.cli.main import app as cli
from copilot.settings import ModelPrice, Settings
from copilot.store.database import make_engine
from copilot.store.schema import model_usage
from copilot.telemetry.outcomes import outcomes
from copilot.tenants import PLATFORM_TENANT
from tests.api.support import SECRET, serve_in_thread, token
from tests.databases import BACKENDS, postgres_database
from tests.telemetry.outcome_world import Customer, set_times

runner = CliRunner()
PRICES = {"copilot-offline": ModelPrice(input=1.0, output=4.0)}  # USD per million (estimated) tokens


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    if request.param == "sqlite":
        yield Settings(data_dir=tmp_path / "data", secret=SECRET, prices=PRICES)
        return
    with postgres_database() as url:
        yield Settings(data_dir=tmp_path / "data", secret=SECRET, database_url=url, prices=PRICES)


async def _feedback_counts(client: httpx.AsyncClient) -> dict[tuple[str, str], float]:
    text = (await client.get("/metrics")).text
    return {
        (s.labels["rating"], s.labels["change"]): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "copilot_feedback_total"
    }


async def _script(client: httpx.AsyncClient) -> dict[str, Any]:
    """Nine engaged conversations with known outcomes (and one empty); returns their ids and what they saw."""
    ids: dict[str, Any] = {}
    up = Customer(client, "u_up")
    ids["up"] = await up.start()
    await up.say("Do you offer free shipping?")
    assert (await up.rate("up")).status_code == 201

    thanks = Customer(client, "u_thanks")
    ids["thanks"] = await thanks.start()
    await thanks.say("How long does delivery take?")
    await thanks.say("thanks, that helped!")

    order = Customer(client, "demo_customer_0001")
    ids["order"] = await order.start()
    seen = await order.say("Where is my order #W0000001?")
    assert "get_order_details" in {f.data.get("tool") for f in seen if f.event == "tool.executed"}

    down = Customer(client, "u_down")
    ids["down"] = await down.start()
    await down.say("What is your return policy?")
    assert (await down.rate("down", "It did not say how long it takes")).status_code == 201

    human = Customer(client, "u_human")
    ids["human"] = await human.start()
    await human.say("Can I pay with PayPal?")
    handed = await human.say("talk to a human please")
    assert any(f.event == "handoff.requested" for f in handed)
    ids["human_tools"] = {f.data["tool"] for f in handed if f.event.startswith("tool.") and "tool" in f.data}

    back = Customer(client, "u_back")
    ids["first"] = await back.start()
    await back.say("What payment methods do you accept?")
    ids["second"] = await back.start()
    await back.say("How do I leave a review?")

    change = Customer(client, "u_change")
    ids["change"] = await change.start()
    await change.say("Do you offer free shipping?")
    assert (await change.rate("down")).status_code == 201
    replaced = await change.rate("up")
    assert replaced.status_code == 200 and replaced.json()["revisions"] == 2

    recent = Customer(client, "u_recent")
    ids["recent"] = await recent.start()
    await recent.say("How long does delivery take?")
    ids["empty"] = await Customer(client, "u_empty").start()
    return ids


def _place(settings: Settings, ids: dict[str, Any], base: datetime) -> None:
    """Every conversation but the recent one happened three days ago; u_back came back after two hours."""
    engine = make_engine(settings.resolved_database_url)
    try:
        for name in ("up", "thanks", "order", "down", "human", "change", "empty"):
            set_times(engine, ids[name], base, base + timedelta(minutes=5))
        set_times(engine, ids["first"], base, base + timedelta(minutes=10))
        set_times(engine, ids["second"], base + timedelta(hours=2), base + timedelta(hours=2, minutes=10))
    finally:
        engine.dispose()


EXPECTED_TOTAL = {
    "conversations": 9, "confirmed": 3, "assumed": 2, "pending": 1, "handed_off": 1, "unresolved": 2,
    "feedback_up": 2, "feedback_down": 1,
}  # fmt: skip
EXPECTED_INTENTS = {  # intent → (conversations, confirmed, assumed, pending, handed_off, unresolved)
    "delivery_options": (2, 2, 0, 0, 0, 0),
    "delivery_period": (2, 1, 0, 1, 0, 0),
    "track_order": (1, 0, 1, 0, 0, 0),
    "check_refund_policy": (1, 0, 0, 0, 0, 1),
    "check_payment_methods": (2, 0, 0, 0, 1, 1),
    "review": (1, 0, 1, 0, 0, 0),
}


def _shape(group: dict[str, Any]) -> tuple[int, ...]:
    keys = ("conversations", "confirmed", "assumed", "pending", "handed_off", "unresolved")
    return tuple(int(group[key]) for key in keys)


async def test_scripted_conversations_give_exact_outcomes(settings: Settings) -> None:
    with serve_in_thread(create_app(settings)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            before = await _feedback_counts(client)
            ids = await _script(client)
            after = await _feedback_counts(client)
            base = datetime.now(UTC) - timedelta(days=3)
            _place(settings, ids, base)
            admin = token("admin", "root")
            report = await client.get("/v1/analytics/outcomes", headers=admin)
            assert report.status_code == 200, report.text
            body = report.json()
            settled = await client.get(
                "/v1/analytics/outcomes",
                params={"until": (base + timedelta(days=1)).isoformat()},
                headers=admin,
            )
            platform = await client.get(
                "/v1/analytics/outcomes",
                params={"tenant": "demo"},
                headers=token("platform", "root", PLATFORM_TENANT),
            )

    delta = {key: after.get(key, 0.0) - before.get(key, 0.0) for key in after}
    assert {k: v for k, v in delta.items() if v} == {
        ("up", "new"): 1,
        ("down", "new"): 2,
        ("up", "changed"): 1,
    }

    total = body["total"]
    assert {key: total[key] for key in EXPECTED_TOTAL} == EXPECTED_TOTAL
    assert total["resolution_rate"] == pytest.approx(5 / 9)
    assert total["confirmed_rate"] == pytest.approx(3 / 9)
    assert total["assumed_rate"] == pytest.approx(2 / 9)
    assert total["handoff_rate"] == pytest.approx(1 / 9)
    assert total["containment_rate"] == pytest.approx(8 / 9)
    assert body["tenant"] == "demo" and body["window_hours"] == 24
    assert {g["key"]: _shape(g) for g in body["by_intent"]} == EXPECTED_INTENTS

    by_tool = {g["key"]: _shape(g) for g in body["by_tool"]}
    assert by_tool["get_order_details"] == (1, 0, 1, 0, 0, 0)
    for tool in ids["human_tools"]:
        assert by_tool[tool][4] == 1  # the tools of the handed-off conversation count its handoff
    tool_less = 8 if not ids["human_tools"] else 7
    assert by_tool["none"][0] == tool_less

    # the recent (pending) conversation started after `until`: the settled numbers leave it out
    assert _shape(settled.json()["total"]) == (8, 3, 2, 0, 1, 2)
    assert platform.status_code == 200 and platform.json()["total"] == total

    _check_library_and_cli(settings, ids, total)


def _check_library_and_cli(settings: Settings, ids: dict[str, Any], total: dict[str, Any]) -> None:
    # the library: one outcome per conversation, and how the confirmed ones were confirmed
    engine = make_engine(settings.resolved_database_url)
    try:
        library = outcomes(engine, tenant="demo")
        with engine.connect() as conn:
            spent = conn.execute(select(func.sum(model_usage.c.cost_usd))).scalar_one()
    finally:
        engine.dispose()
    assert spent > 0 and total["cost_usd"] == pytest.approx(
        spent
    )  # every call was in an engaged conversation
    assert total["cost_per_resolution"] == pytest.approx(spent / 5)
    by_id = {item.conversation_id: item for item in library.conversations}
    assert ids["empty"] not in by_id
    assert [by_id[ids[n]].outcome for n in ("up", "thanks", "change", "order", "second")] == [
        "confirmed", "confirmed", "confirmed", "assumed", "assumed"
    ]  # fmt: skip
    assert [by_id[ids[n]].confirmed_by for n in ("up", "thanks", "change")] == [
        "feedback",
        "message",
        "feedback",
    ]
    assert [by_id[ids[n]].outcome for n in ("down", "first", "human", "recent")] == [
        "unresolved", "unresolved", "handed_off", "pending"
    ]  # fmt: skip

    env = {"COPILOT_DATA_DIR": str(settings.data_dir), "COPILOT_SECRET": SECRET,
           "COPILOT_DATABASE_URL": settings.database_url or ""}  # fmt: skip
    printed = runner.invoke(cli, ["outcomes", "report", "--tenant", "demo"], env=env)
    assert printed.exit_code == 0, printed.output
    assert "conversations 9" in printed.stdout and "resolution 55.6%" in printed.stdout
    assert "confirmed 3 (33.3%)" in printed.stdout and "handoff 11.1%" in printed.stdout
    assert "containment 88.9%" in printed.stdout and "track_order" in printed.stdout
