"""Two real `copilot serve` processes on one PostgreSQL database, with Redis as the doorbell and without it
(Postgres LISTEN/NOTIFY): an SSE stream on worker B follows a turn that runs on worker A (the no-bell poll is
set to 30 s, so only the doorbell can deliver it in time), and a policy activation on A applies to B's very
next gateway decision."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from copilot.auth import mint_token
from copilot.principal import Principal, Role
from tests.api.support import SECRET
from tests.crash.harness import Server
from tests.databases import postgres_database, redis_server

pytestmark = pytest.mark.postgres

PROMPT = 0.5
CUSTOMER = "demo_customer_0001"


@pytest.fixture(scope="module", params=["redis", "notify"])
def workers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Server]]:
    root = tmp_path_factory.mktemp("workers")
    env = {"COPILOT_EVENT_POLL_SECONDS": "30"}
    if request.param == "redis":
        env["COPILOT_REDIS_URL"] = redis_server()
    started: list[Server] = []
    with postgres_database() as url:  # a database per doorbell: the policy test changes the policy
        try:
            for name in ("a", "b"):  # one after the other: the first one seeds the database
                started.append(Server(root / name, database_url=url, extra_env=env))
                started[-1].start()
            yield started
        finally:
            for worker in started:  # cleanup, not a shutdown test (tests/crash/test_shutdown.py is one)
                worker.kill()


def _auth(role: Role, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(SECRET, Principal('demo', role, user))}"}


def _first_frame_at(client: httpx.Client, url: str) -> tuple[str, float]:
    with client.stream("GET", url, headers=_auth("customer", CUSTOMER), timeout=10) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("event:"):
                return line.removeprefix("event:").strip(), time.perf_counter()
    raise AssertionError("the stream ended without an event")


def test_a_stream_on_b_follows_a_turn_on_a(workers: list[Server]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    a, b = workers
    customer = _auth("customer", CUSTOMER)
    with httpx.Client(timeout=10) as client, ThreadPoolExecutor(1) as pool:
        cid = client.post(f"{a.url}/v1/conversations", headers=customer).json()["id"]
        first = pool.submit(_first_frame_at, client, f"{b.url}/v1/conversations/{cid}/events")
        time.sleep(0.5)  # B's stream has replayed nothing and sleeps on the doorbell
        sent = time.perf_counter()
        posted = client.post(
            f"{a.url}/v1/conversations/{cid}/messages", json={"text": "hi"}, headers=customer
        )
        assert posted.status_code == 202
        event, arrived = first.result(timeout=10)
    assert event == "turn.started" and arrived - sent < PROMPT, arrived - sent


def _callable_tools(client: httpx.Client, worker: Server) -> set[str]:
    listed = client.get(f"{worker.url}/v1/tools", headers=_auth("customer", CUSTOMER))
    assert listed.status_code == 200, listed.text
    return {tool["name"] for tool in listed.json()["tools"]}


def test_a_policy_change_on_a_applies_to_the_next_decision_on_b(workers: list[Server]) -> None:
    a, b = workers
    admin = _auth("admin", "ann")
    with httpx.Client(timeout=30) as client:
        assert "cancel_pending_order" in _callable_tools(client, b)
        active = client.get(f"{a.url}/v1/policy", headers=admin)
        rules = [r for r in active.json()["rules"] if r[:4] != ["p", "customer", "*", "cancel_pending_order"]]
        saved = client.put(
            f"{a.url}/v1/policy",
            json={"rules": rules, "message": "no self-service cancels"},
            headers={**admin, "If-Match": active.headers["ETag"]},
        )
        assert saved.status_code == 200, saved.text
        assert "cancel_pending_order" not in _callable_tools(client, b)
