"""`copilot data erase`, `copilot data retain` and `copilot audit export` on a store filled by real turns
(offline model, real gateway, checkpoints), on SQLite and Postgres."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from copilot.agent.checkpoint import open_checkpointer
from copilot.api.app import create_app
from copilot.cli.main import app as cli
from copilot.retention import pseudonym
from copilot.runtime import open_runtime
from copilot.settings import Settings
from copilot.store.database import make_engine
from copilot.store.schema import (
    audit_log,
    conversations,
    events,
    feedback,
    model_usage,
    outcome_facts,
    previews,
    turns,
)
from copilot.telemetry.outcomes import outcomes
from tests.api.support import SECRET, token
from tests.databases import BACKENDS, postgres_database

ALEX, SAM = "demo_customer_0001", "demo_customer_0002"
runner = CliRunner()


@dataclass
class World:
    settings: Settings
    env: dict[str, str]
    conversations: dict[str, str]
    """customer → conversation id."""


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    if request.param == "sqlite":
        yield _world(tmp_path, None)
        return
    with postgres_database() as url:
        yield _world(tmp_path, url)


def _world(tmp_path: Path, url: str | None) -> World:
    settings = Settings(data_dir=tmp_path / "data", secret=SECRET, database_url=url)
    env = {
        "COPILOT_DATA_DIR": str(settings.data_dir),
        "COPILOT_SECRET": SECRET,
        "COPILOT_DATABASE_URL": url or "",
    }
    talks = {ALEX: ["Where is my order #W0000001?", "Please cancel order #W0000001, I ordered it by mistake"],
             SAM: ["Where is my order #W0000004?"]}  # fmt: skip
    return World(settings, env, asyncio.run(_converse(settings, talks)))


async def _converse(settings: Settings, talks: dict[str, list[str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    async with open_runtime(settings) as runtime:
        transport = httpx.ASGITransport(app=create_app(settings, runtime=runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            for customer, texts in talks.items():
                headers = token("customer", customer)
                cid = out[customer] = (await client.post("/v1/conversations", headers=headers)).json()["id"]
                for text in texts:
                    posted = await client.post(
                        f"/v1/conversations/{cid}/messages", json={"text": text}, headers=headers
                    )
                    assert posted.status_code == 202
                    await asyncio.wait_for(runtime.turns.wait_idle(cid), 30)
                messages = (await client.get(f"/v1/conversations/{cid}", headers=headers)).json()["messages"]
                answer = next(m["seq"] for m in reversed(messages) if m["role"] == "assistant")
                url = f"/v1/conversations/{cid}/answers/{answer}/feedback"
                rated = await client.put(url, json={"rating": "up", "comment": "thanks"}, headers=headers)
                assert rated.status_code == 201, rated.text
    return out


async def _threads(settings: Settings, ids: list[str]) -> list[bool]:
    async with open_checkpointer(settings) as saver:
        return [await saver.aget_tuple({"configurable": {"thread_id": i}}) is not None for i in ids]


def _check_usage_report(world: World) -> None:
    report = runner.invoke(cli, ["usage", "report", "--tenant", "demo"], env=world.env)
    assert report.exit_code == 0, report.output
    assert "demo" in report.stdout and "per resolved" in report.stdout
    _keep_outcome_facts(world.settings, list(world.conversations.values()))


def _set_turns(settings: Settings, conversation_id: str, status: str) -> None:
    engine = make_engine(settings.resolved_database_url)
    with engine.begin() as conn:
        last = conn.execute(
            select(func.max(turns.c.created_at)).where(turns.c.conversation_id == conversation_id)
        )
        newest = last.scalar_one()
        where = (turns.c.conversation_id == conversation_id) & (turns.c.created_at == newest)
        conn.execute(update(turns).where(where).values(status=status))
    engine.dispose()


def _keep_outcome_facts(settings: Settings, ids: list[str]) -> None:
    """An outcomes report keeps the folds of the conversations' logs (erasure must remove them)."""
    engine = make_engine(settings.resolved_database_url)
    assert outcomes(engine).total.conversations == len(ids)
    engine.dispose()
    assert _count(settings, outcome_facts, outcome_facts.c.conversation_id.in_(ids)) == len(ids)


def _count(settings: Settings, table: object, where: object) -> int:
    engine = make_engine(settings.resolved_database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table).where(where)).scalar_one())  # type: ignore[arg-type]
    finally:
        engine.dispose()


def test_erase_one_customer_then_retention_and_audit_export(world: World) -> None:
    settings, alex, sam = world.settings, world.conversations[ALEX], world.conversations[SAM]
    label = f"customer:{ALEX}@demo"
    assert _count(settings, audit_log, audit_log.c.principal == label) >= 2  # the read and the preview
    assert _count(settings, previews, previews.c.conversation_id == alex) == 1
    assert asyncio.run(_threads(settings, [alex, sam])) == [True, True]

    _check_usage_report(world)  # and keeps the outcome facts of both conversations
    _set_turns(settings, alex, "running")  # a turn in flight: refused, nothing touched
    busy = runner.invoke(cli, ["data", "erase", "--customer", ALEX], env=world.env)
    assert busy.exit_code == 2 and "turn running" in busy.output and "nothing was erased" in busy.output
    assert asyncio.run(_threads(settings, [alex])) == [True]
    _set_turns(settings, alex, "done")

    done = runner.invoke(cli, ["data", "erase", "--customer", ALEX, "--by", "dpo"], env=world.env)
    assert done.exit_code == 0, done.output
    alias = pseudonym(SECRET, "demo", ALEX)
    assert "removed 1 conversation(s)" in done.stdout and alias in done.stdout

    for table, column in ((conversations, conversations.c.id), (events, events.c.conversation_id),
                          (turns, turns.c.conversation_id), (previews, previews.c.conversation_id),
                          (feedback, feedback.c.conversation_id),
                          (outcome_facts, outcome_facts.c.conversation_id)):  # fmt: skip
        assert _count(settings, table, column == alex) == 0, table
        assert _count(settings, table, column == sam) > 0 or table is previews, table
    assert asyncio.run(_threads(settings, [alex, sam])) == [False, True]
    assert _count(settings, audit_log, audit_log.c.principal == label) == 0
    assert _count(settings, audit_log, audit_log.c.principal == f"customer:{alias}@demo") >= 2
    assert _count(settings, audit_log, audit_log.c.principal == f"customer:{SAM}@demo") >= 1
    assert _count(settings, model_usage, model_usage.c.conversation_id == alex) == 0
    assert _count(settings, model_usage, model_usage.c.conversation_id.is_(None)) >= 2  # the cost stays

    exported = runner.invoke(cli, ["audit", "export"], env=world.env)
    assert exported.exit_code == 0, exported.output
    records = [json.loads(line) for line in exported.stdout.splitlines()]
    assert [r["seq"] for r in records] == sorted(r["seq"] for r in records)
    assert ALEX not in exported.stdout  # nowhere in the audit log any more
    erased = [r for r in records if r["tool"] == "data.erase"]
    assert len(erased) == 1 and erased[0]["principal"] == "admin:dpo@demo"
    assert erased[0]["arguments"]["customer"] == alias and erased[0]["arguments"]["conversations"] == 1
    datetime.fromisoformat(records[0]["at"])
    later = runner.invoke(cli, ["audit", "export", "--after", str(records[-2]["seq"])], env=world.env)
    assert [json.loads(line)["seq"] for line in later.stdout.splitlines()] == [records[-1]["seq"]]

    # retention: Sam's conversation idle for 40 days goes, with its thread; its audit rows stay
    engine = make_engine(settings.resolved_database_url)
    with engine.begin() as conn:
        old = datetime.now(UTC) - timedelta(days=40)
        conn.execute(update(conversations).where(conversations.c.id == sam).values(updated_at=old))
    engine.dispose()
    refused = runner.invoke(cli, ["data", "retain"], env=world.env)
    assert refused.exit_code == 2 and "COPILOT_RETENTION_DAYS" in refused.output
    kept = runner.invoke(cli, ["data", "retain"], env={**world.env, "COPILOT_RETENTION_DAYS": "41"})
    assert kept.exit_code == 0 and "older than 41 days: removed 0 conversation(s)" in kept.stdout
    asyncio.run(_serve_with_retention(settings.model_copy(update={"retention_days": 30}), sam))
    assert _count(settings, conversations, conversations.c.id == sam) == 0
    assert _count(settings, events, events.c.conversation_id == sam) == 0
    assert _count(settings, feedback, feedback.c.conversation_id == sam) == 0
    assert asyncio.run(_threads(settings, [sam])) == [False]
    assert (
        _count(settings, audit_log, audit_log.c.tool == "data.retain") == 1
    )  # a purge that removed nothing is not
    assert _count(settings, audit_log, audit_log.c.principal == f"customer:{SAM}@demo") >= 1


async def _serve_with_retention(settings: Settings, gone: str) -> None:
    """A server with COPILOT_RETENTION_DAYS purges on start."""
    async with open_runtime(settings) as runtime:
        for _ in range(200):
            if await runtime.conversations.get(gone) is None:
                return
            await asyncio.sleep(0.05)
    raise AssertionError(f"{gone} was not purged")
