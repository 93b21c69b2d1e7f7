"""Queue → claim → agent reply → release over HTTP with a scripted runner: ownership rules and events."""

from __future__ import annotations

import httpx

from copilot.runtime import Runtime
from tests.api.support import ScriptedRunner, parse_sse, token

CUSTOMER = token("customer", "alice")
ANN = token("agent", "ann")
BOB = token("agent", "bob")
SUE = token("supervisor", "sue")


async def _conversation(client: httpx.AsyncClient, headers: dict[str, str] = CUSTOMER) -> str:
    cid: str = (await client.post("/v1/conversations", headers=headers)).json()["id"]
    return cid


async def test_request_claim_reply_release(
    client: httpx.AsyncClient, runtime: Runtime, runner: ScriptedRunner
) -> None:
    cid = await _conversation(client)
    await client.post(
        f"/v1/conversations/{cid}/messages", json={"text": "I want a refund for #W0000002"}, headers=CUSTOMER
    )
    await runtime.turns.wait_idle(cid)
    queued = await client.post(f"/v1/conversations/{cid}/handoff", json={}, headers=CUSTOMER)
    assert queued.status_code == 200, queued.text
    item = queued.json()
    assert item["status"] == "waiting" and item["team"] == "returns" and item["customer"] == "alice"
    assert item["summary"]["intent"] == "I want a refund for #W0000002"
    again = await client.post(f"/v1/conversations/{cid}/handoff", headers=CUSTOMER)
    assert again.json()["created_at"] == item["created_at"]  # idempotent

    listing = (await client.get("/v1/handoffs?team=returns", headers=ANN)).json()["handoffs"]
    assert [h["conversation_id"] for h in listing] == [cid] and listing[0]["waiting_seconds"] >= 0
    assert (await client.get("/v1/handoffs", headers=CUSTOMER)).status_code == 403

    claimed = await client.post(f"/v1/conversations/{cid}/claim", headers=ANN)
    assert claimed.json()["status"] == "claimed" and claimed.json()["claimed_by"] == "ann"
    taken = await client.post(f"/v1/conversations/{cid}/claim", headers=BOB)
    assert taken.status_code == 409 and "ann" in taken.json()["error"]["message"]
    assert (
        await client.post(f"/v1/conversations/{cid}/agent-messages", json={"text": "x"}, headers=BOB)
    ).status_code == 409
    assert (await client.post(f"/v1/conversations/{cid}/release", headers=BOB)).status_code == 409

    reply = await client.post(
        f"/v1/conversations/{cid}/agent-messages", json={"text": "Hi, Ann here."}, headers=ANN
    )
    assert reply.status_code == 200, reply.text
    turns_before = len(runner.requests)
    posted = await client.post(
        f"/v1/conversations/{cid}/messages", json={"text": "thanks Ann"}, headers=CUSTOMER
    )
    assert posted.status_code == 202 and posted.json() == {"turn_id": None}
    assert len(runner.requests) == turns_before  # no bot turn while a human owns it

    released = await client.post(f"/v1/conversations/{cid}/release", headers=ANN)
    assert released.json()["status"] == "closed"
    bot = await client.post(
        f"/v1/conversations/{cid}/messages", json={"text": "one more question"}, headers=CUSTOMER
    )
    assert bot.json()["turn_id"] is not None
    await runtime.turns.wait_idle(cid)

    transcript = (await client.get(f"/v1/conversations/{cid}", headers=CUSTOMER)).json()
    roles = [(m["role"], m["text"]) for m in transcript["messages"]]
    assert ("agent", "Hi, Ann here.") in roles and ("user", "thanks Ann") in roles
    assert transcript["handoff"]["status"] == "closed" and transcript["handoff"]["agent"] == "ann"
    events = parse_sse(
        (await client.get(f"/v1/conversations/{cid}/events?follow=false", headers=CUSTOMER)).text
    )
    kinds = [e.event for e in events]
    for kind in ("handoff.queued", "handoff.claimed", "agent.message", "message.user", "handoff.released"):
        assert kinds.count(kind) == 1, kind
    assert kinds.index("handoff.released") < len(kinds) - 1 and kinds[-1] == "turn.completed"


async def test_supervisor_takes_over_with_force(client: httpx.AsyncClient) -> None:
    cid = await _conversation(client)
    await client.post(f"/v1/conversations/{cid}/claim", headers=ANN)
    assert (await client.post(f"/v1/conversations/{cid}/claim?force=true", headers=BOB)).status_code == 403
    forced = await client.post(f"/v1/conversations/{cid}/claim?force=true", headers=SUE)
    assert forced.status_code == 200 and forced.json()["claimed_by"] == "sue"
    assert (await client.post(f"/v1/conversations/{cid}/release", headers=ANN)).status_code == 409
    assert (await client.post(f"/v1/conversations/{cid}/release", headers=SUE)).json()["status"] == "closed"


async def test_guest_can_request_a_human(client: httpx.AsyncClient) -> None:
    guest = token("guest", "visitor_1")
    cid = await _conversation(client, guest)
    response = await client.post(
        f"/v1/conversations/{cid}/handoff", json={"reason": "question about shipping"}, headers=guest
    )
    assert response.status_code == 200 and response.json()["team"] == "orders"


async def test_request_mid_turn(client: httpx.AsyncClient, runtime: Runtime, runner: ScriptedRunner) -> None:
    runner.deltas, runner.delay = 5, 0.05
    cid = await _conversation(client)
    await client.post(f"/v1/conversations/{cid}/messages", json={"text": "hello"}, headers=CUSTOMER)
    assert await runtime.turns.active(cid)
    response = await client.post(f"/v1/conversations/{cid}/handoff", headers=CUSTOMER)
    assert response.status_code == 200 and response.json()["status"] == "waiting"
    claimed = await client.post(f"/v1/conversations/{cid}/claim", headers=ANN)  # waits for the bot's turn
    assert claimed.status_code == 200 and not await runtime.turns.active(cid)


async def test_other_tenant_and_other_customer_are_refused(client: httpx.AsyncClient) -> None:
    cid = await _conversation(client)
    foreign_agent = token("agent", "eve", tenant="other")
    for path in ("claim", "handoff", "release"):
        response = await client.post(f"/v1/conversations/{cid}/{path}", headers=foreign_agent)
        assert response.status_code == 404, path
    assert (await client.get("/v1/handoffs?status=all", headers=foreign_agent)).json() == {"handoffs": []}
    mallory = token("customer", "mallory")
    assert (await client.post(f"/v1/conversations/{cid}/handoff", headers=mallory)).status_code == 404
    assert (await client.get(f"/v1/conversations/{cid}", headers=mallory)).status_code == 404
    assert (
        await client.get(f"/v1/conversations/{cid}/events?follow=false", headers=mallory)
    ).status_code == 404
    assert (await client.post(f"/v1/conversations/{cid}/claim", headers=CUSTOMER)).status_code == 403
