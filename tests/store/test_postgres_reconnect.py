"""The real runtime (graph, gateway, offline model, LangGraph Postgres saver) survives PostgreSQL dropping
every connection: the next turns complete and /readyz is ok; a database that refuses connections makes /readyz
answer 503 naming the database and the checkpointer; a read-only one makes writes a typed 503."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text

from copilot.api.app import create_app
from copilot.runtime import Runtime, open_runtime
from copilot.settings import Settings
from tests.api.support import SECRET, parse_sse, token
from tests.databases import admin_engine, postgres_database, terminate_sessions

pytestmark = pytest.mark.postgres
ME = token("customer", "demo_customer_0001")


@pytest.fixture(scope="module")
def admin() -> Iterator[Engine]:
    engine = admin_engine()
    yield engine
    engine.dispose()


@pytest.fixture
def url() -> Iterator[str]:
    with postgres_database() as database:
        yield database


@pytest.fixture
async def client(url: str, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    settings = Settings(data_dir=tmp_path, secret=SECRET, database_url=url)
    async with open_runtime(settings) as runtime:
        app = create_app(settings, runtime=runtime)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            yield http, runtime


async def _turn(http: httpx.AsyncClient, runtime: Runtime, cid: str, text_: str) -> str:
    """Post a message, wait for its turn, return the turn's final status."""
    posted = await http.post(f"/v1/conversations/{cid}/messages", json={"text": text_}, headers=ME)
    assert posted.status_code == 202, posted.text
    await runtime.turns.wait_idle(cid)
    events = await http.get(f"/v1/conversations/{cid}/events?follow=false", headers=ME)
    completed = [e for e in parse_sse(events.text) if e.event == "turn.completed"]
    return str(completed[-1].data["status"])


async def test_turns_survive_dropped_connections(client: tuple[httpx.AsyncClient, Runtime], url: str) -> None:
    http, runtime = client
    cid = (await http.post("/v1/conversations", headers=ME)).json()["id"]
    assert await _turn(http, runtime, cid, "what is your return policy?") == "completed"
    assert terminate_sessions(url) >= 2  # the store's pooled connection and the saver's
    statuses = [await _turn(http, runtime, cid, f"and question {n}?") for n in range(4)]
    assert statuses == ["completed"] * 4
    ready = await http.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert set(ready.json()["components"]) == {"database", "checkpointer"}


async def test_a_database_that_went_away_is_not_ready(
    client: tuple[httpx.AsyncClient, Runtime], admin: Engine, url: str
) -> None:
    http, _runtime = client
    assert (await http.get("/readyz")).status_code == 200
    name = url.rsplit("/", 1)[1]
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
    terminate_sessions(url)
    response = await http.get("/readyz")
    assert response.status_code == 503, response.text
    components = response.json()["components"]
    assert components["database"]["status"] == "failed"
    assert "COPILOT_DATABASE_URL" in components["database"]["message"]
    assert name in components["database"]["message"]
    assert components["checkpointer"]["status"] == "failed"
    assert (await http.get("/healthz")).status_code == 200  # liveness: the process itself is fine


async def test_a_read_only_database_is_a_typed_503(
    client: tuple[httpx.AsyncClient, Runtime], admin: Engine, url: str
) -> None:
    http, _runtime = client
    name = url.rsplit("/", 1)[1]
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
    terminate_sessions(url)  # new sessions start read-only (as on a standby after a failover)
    response = await http.post("/v1/conversations", headers=ME)
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "storage_unavailable"
    assert "read-only" in error["message"] and "COPILOT_DATABASE_URL" in error["message"]
