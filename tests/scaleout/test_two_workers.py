"""Scale-out: two real `copilot serve` workers on one PostgreSQL database and one Redis, as the README's
"Scale out" section runs them. Concurrent messages to one conversation run one after the other; a turn
started on one worker streams on the other; a preview is confirmed on the other worker and runs once; a
handoff is claimed, answered and released across workers; a worker killed mid-turn has its turn finished by
the other within the lease; after PostgreSQL drops every connection the next turn works."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import create_engine, select

from copilot.store.schema import documents, executions, previews
from tests.api.support import iter_sse
from tests.crash.harness import LEASE_SECONDS, Client, Server, auth, of, settled
from tests.databases import postgres_database, redis_server, terminate_sessions

pytestmark = pytest.mark.postgres

CUSTOMER = "demo_customer_0002"


@dataclass
class Pair:
    a: Server
    b: Server
    database_url: str

    def both(self) -> tuple[Server, Server]:
        return self.a, self.b


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    redis = redis_server()
    with postgres_database() as url:
        root = tmp_path_factory.mktemp("workers")
        env = {"COPILOT_REDIS_URL": redis}
        a = Server(root / "a", database_url=url, extra_env=env)
        a.start()  # first: it creates the schema and seeds the shop
        b = Server(root / "b", database_url=url, extra_env=env)
        b.start()
        try:
            yield Pair(a, b, url)
        finally:
            a.kill()
            b.kill()


def _customer(server: Server) -> Client:
    return Client(server, auth("customer", CUSTOMER))


def _pending_order(url: str, user: str, taken: set[str]) -> str:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(documents.c.id, documents.c.data).where(
                documents.c.kind == "order", documents.c.owner == user
            )
        ).all()
    engine.dispose()
    pending = sorted(r.id for r in rows if r.data.get("status") == "pending" and r.id not in taken)
    assert pending, f"{user} has no pending order left"
    taken.add(pending[0])
    return str(pending[0])


TAKEN: set[str] = set()


def test_concurrent_messages_to_one_conversation_run_one_after_the_other(pair: Pair) -> None:
    cid = _customer(pair.a).conversation()
    texts = [f"question {n}: how long do refunds take?" for n in range(6)]

    def post(n: int) -> httpx.Response | None:
        server = pair.a if n % 2 else pair.b
        return _customer(server).post(f"/v1/conversations/{cid}/messages", {"text": texts[n]})

    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(post, range(6)))
    assert all(r is not None and r.status_code == 202 for r in responses)
    events = _customer(pair.b).wait_events(cid, lambda ev: len(of(ev, "turn.completed")) == 6, timeout=60)
    assert events is not None
    bounds = [(e["type"], e["turn_id"]) for e in events if e["type"] in ("turn.started", "turn.completed")]
    for i in range(0, len(bounds), 2):  # never two at once: started, completed, started, completed, ...
        assert bounds[i][0] == "turn.started" and bounds[i + 1] == ("turn.completed", bounds[i][1])
    assert sorted(e["text"] for e in of(events, "turn.started")) == sorted(texts)  # the model kept them all
    assert len(of(events, "message.completed")) == 6


def test_a_turn_on_one_worker_streams_live_on_the_other(pair: Pair) -> None:
    headers = auth("customer", CUSTOMER)
    cid = _customer(pair.a).conversation()
    seen: list[tuple[str, float]] = []
    ready = threading.Event()

    def follow() -> None:
        import asyncio

        async def read() -> None:
            url = f"{pair.b.url}/v1/conversations/{cid}/events"
            async with (
                httpx.AsyncClient(timeout=60) as http,
                http.stream("GET", url, headers=headers) as response,
            ):
                ready.set()
                async for event in iter_sse(response):
                    seen.append((event.event, time.monotonic()))
                    if event.event == "turn.completed":
                        return

        asyncio.run(read())

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    assert ready.wait(30)
    posted = time.monotonic()
    _customer(pair.a).post(f"/v1/conversations/{cid}/messages", {"text": "How long do refunds take?"})
    reader.join(timeout=60)
    kinds = [kind for kind, _ in seen]
    assert kinds[0] == "turn.started" and kinds[-1] == "turn.completed" and "message.completed" in kinds
    assert seen[0][1] - posted < 2.0  # woken by the Redis doorbell, not a poll


def test_a_preview_confirmed_on_the_other_worker_runs_once(pair: Pair) -> None:
    order_id = _pending_order(pair.database_url, CUSTOMER, TAKEN)
    on_a, on_b = _customer(pair.a), _customer(pair.b)
    cid = on_a.conversation()
    on_a.post(f"/v1/conversations/{cid}/messages", {"text": f"Cancel order {order_id}, I no longer need it."})
    events = on_a.wait_events(cid, lambda ev: settled(ev) and bool(of(ev, "tool.preview")))
    assert events is not None
    preview_id = of(events, "tool.preview")[0]["preview_id"]
    body = {"preview_id": preview_id, "approve": True}
    with ThreadPoolExecutor(2) as pool:  # the same click reaching both workers at once
        answers = list(
            pool.map(lambda c: c.post(f"/v1/conversations/{cid}/confirmations", body), (on_a, on_b))
        )
    codes = sorted(r.status_code for r in answers if r is not None)
    assert codes[0] == 202 and codes.count(202) == 1, codes
    events = on_a.wait_events(cid, lambda ev: settled(ev) and bool(of(ev, "tool.executed")))
    assert events is not None
    engine = create_engine(pair.database_url)
    with engine.connect() as conn:
        key = conn.execute(select(previews.c.idempotency_key).where(previews.c.preview_id == preview_id))
        ran = conn.execute(select(executions.c.tool).where(executions.c.idempotency_key == key.scalar_one()))
        assert len(ran.all()) == 1
    engine.dispose()


def test_handoff_is_claimed_answered_and_released_across_workers(pair: Pair) -> None:
    customer_a = _customer(pair.a)
    agent_b = Client(pair.b, auth("agent", "alice"))
    cid = customer_a.conversation()
    customer_a.post(f"/v1/conversations/{cid}/messages", {"text": "I want to talk to a human agent please"})
    assert customer_a.wait_events(cid, lambda ev: bool(of(ev, "handoff.queued")) and settled(ev)) is not None
    assert cid in {item["conversation_id"] for item in agent_b.get("/v1/handoffs").json()["handoffs"]}
    claimed = agent_b.post(f"/v1/conversations/{cid}/claim")
    assert claimed is not None and claimed.status_code == 200, claimed
    reply = agent_b.post(
        f"/v1/conversations/{cid}/agent-messages", {"text": "Hi, I'm Alice. How can I help?"}
    )
    assert reply is not None and reply.status_code in (200, 201, 202), reply
    events = customer_a.wait_events(cid, lambda ev: bool(of(ev, "agent.message")), timeout=10)
    assert events is not None and of(events, "agent.message")[0]["text"].startswith("Hi, I'm Alice")
    released = Client(pair.a, auth("agent", "alice")).post(f"/v1/conversations/{cid}/release")
    assert released is not None and released.status_code == 200, released
    customer_b = _customer(pair.b)
    customer_b.post(f"/v1/conversations/{cid}/messages", {"text": "How long do refunds take?"})
    events = customer_b.wait_events(cid, lambda ev: len(of(ev, "message.completed")) >= 1 and settled(ev))
    assert events is not None and of(events, "handoff.released")


def test_postgres_dropping_every_connection_is_followed_by_a_working_turn(pair: Pair) -> None:
    terminate_sessions(pair.database_url)
    for server in pair.both():
        client = _customer(server)
        cid = client.conversation()
        client.post(f"/v1/conversations/{cid}/messages", {"text": "How long do refunds take?"})
        events = client.wait_events(cid, settled)
        assert events is not None and of(events, "turn.completed")[0]["status"] == "completed", events
        assert httpx.get(f"{server.url}/readyz", timeout=10).status_code == 200


def test_a_worker_killed_mid_turn_has_its_turn_finished_by_the_other(pair: Pair) -> None:
    """Last: it kills worker A (restarted afterwards for nothing else)."""
    on_a, on_b = _customer(pair.a), _customer(pair.b)
    cid = on_b.conversation()
    pair.a.arm("event.message.delta")  # A dies while it streams the answer
    deaths: list[float] = []
    for _ in range(10):  # the worker that gets the message usually claims it first; retry if B did
        on_a.post(f"/v1/conversations/{cid}/messages", {"text": "How long do refunds take?"})
        if pair.a.wait_dead(timeout=3):
            deaths.append(time.monotonic())
            break
        assert on_b.wait_events(cid, settled) is not None
    assert deaths, "worker A never claimed a turn"
    events = on_b.wait_events(cid, lambda ev: settled(ev) and bool(of(ev, "turn.recovered")), timeout=30)
    finished = time.monotonic()
    assert events is not None, "the dead worker's turn was not finished by the other"
    assert finished - deaths[0] <= LEASE_SECONDS + 2 + 1.0  # lease + 2 s (+ polling slack of this test)
    (recovered,) = of(events, "turn.recovered")
    assert of(events, "message.completed", recovered["turn_id"])
    pair.a.arm(None)
    pair.a.start()
