"""The real system (demo store, Casbin, gateway, graph, offline model, SQLite) over HTTP: handoff from the
graph, hand-back with a context boundary, restart safety, agent tools, approvals and assist."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from copilot.api.app import create_app
from copilot.runtime import Runtime, open_runtime
from copilot.settings import Settings
from copilot.store.schema import executions
from tests.api.support import SECRET, token
from tests.handoff.support import CUSTOMER_ID, PENDING, events, order, say, set_paid

ME = token("customer", CUSTOMER_ID)
ANN = token("agent", "ann")
SUE = token("supervisor", "sue")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, secret=SECRET)


@pytest.fixture
async def system(settings: Settings) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    async with open_runtime(settings) as runtime:
        transport = httpx.ASGITransport(app=create_app(settings, runtime=runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield runtime, client


async def _start(client: httpx.AsyncClient) -> str:
    cid: str = (await client.post("/v1/conversations", headers=ME)).json()["id"]
    return cid


async def test_graph_handoff_then_hand_back_answers_the_next_question(
    system: tuple[Runtime, httpx.AsyncClient],
) -> None:
    runtime, client = system
    cid = await _start(client)
    asked = await say(client, runtime, cid, ME, "I want to talk to a human agent")
    assert [e.event for e in asked if e.event.startswith("handoff.")] == [
        "handoff.requested",
        "handoff.queued",
    ]
    queue = (await client.get("/v1/handoffs", headers=ANN)).json()["handoffs"]
    assert [item["conversation_id"] for item in queue] == [cid]
    await client.post(f"/v1/conversations/{cid}/claim", headers=ANN)
    quiet = await say(client, runtime, cid, ME, "are you there?")
    assert [e.event for e in quiet] == ["message.user"]
    await client.post(f"/v1/conversations/{cid}/agent-messages", json={"text": "Yes, Ann here."}, headers=ANN)
    await client.post(f"/v1/conversations/{cid}/release", headers=ANN)

    after = await say(client, runtime, cid, ME, "How long do refunds take?")
    kinds = [e.event for e in after]
    assert "handoff.requested" not in kinds and kinds[-1] == "turn.completed"
    answer = next(e for e in after if e.event == "message.completed")
    assert answer.data["citations"] and not answer.data["handoff"]
    assert (await client.get("/v1/handoffs?status=closed", headers=ANN)).json()["handoffs"][0][
        "claimed_by"
    ] == "ann"


async def test_restart_loses_no_queue_item_message_or_claim(settings: Settings) -> None:
    async with open_runtime(settings) as runtime:
        app = create_app(settings, runtime=runtime)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            cid = await _start(client)
            await say(client, runtime, cid, ME, f"Where is my order {PENDING}?")
            await client.post(f"/v1/conversations/{cid}/handoff", json={"reason": "wants a call"}, headers=ME)
            await client.post(f"/v1/conversations/{cid}/claim", headers=ANN)
            await client.post(f"/v1/conversations/{cid}/agent-messages", json={"text": "On it."}, headers=ANN)
            await say(client, runtime, cid, ME, "thank you")
    async with open_runtime(settings) as reopened:
        app = create_app(settings, runtime=reopened)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            claimed = (await client.get("/v1/handoffs?status=claimed", headers=ANN)).json()["handoffs"]
            assert [(h["conversation_id"], h["claimed_by"]) for h in claimed] == [(cid, "ann")]
            assert claimed[0]["summary"]["intent"] == f"Where is my order {PENDING}?"
            transcript = (await client.get(f"/v1/conversations/{cid}", headers=ME)).json()
            texts = [(m["role"], m["text"]) for m in transcript["messages"]]
            assert ("agent", "On it.") in texts and texts[-1] == ("user", "thank you")
            assert transcript["handoff"]["status"] == "claimed" and transcript["handoff"]["agent"] == "ann"
            still = await client.post(f"/v1/conversations/{cid}/messages", json={"text": "hi"}, headers=ME)
            assert still.json() == {"turn_id": None}  # the claim survived: the bot stays paused
            assert (await client.post(f"/v1/conversations/{cid}/release", headers=ANN)).status_code == 200


async def test_agent_tools_preview_confirm_execute_once(system: tuple[Runtime, httpx.AsyncClient]) -> None:
    runtime, client = system
    cid = await _start(client)
    url = f"/v1/conversations/{cid}/agent-tools"
    read = (
        await client.post(
            url, json={"tool": "get_order_details", "arguments": {"order_id": PENDING}}, headers=ANN
        )
    ).json()
    assert read["outcome"] == "executed" and read["result"]["status"] == "pending"
    args = {"order_id": PENDING, "reason": "no longer needed"}
    preview = (
        await client.post(url, json={"tool": "cancel_pending_order", "arguments": args}, headers=ANN)
    ).json()
    assert preview["outcome"] == "preview" and order(runtime, PENDING)["status"] == "pending"
    confirm = {"preview_id": preview["preview"]["preview_id"], "approve": True}
    bob = await client.post(
        f"/v1/conversations/{cid}/agent-confirmations", json=confirm, headers=token("agent", "bob")
    )
    assert bob.status_code == 409 and bob.json()["error"]["code"] == "confirmation_mismatch"
    done = await client.post(f"/v1/conversations/{cid}/agent-confirmations", json=confirm, headers=ANN)
    assert done.json()["outcome"] == "executed" and order(runtime, PENDING)["status"] == "cancelled"
    again = await client.post(f"/v1/conversations/{cid}/agent-confirmations", json=confirm, headers=ANN)
    assert again.status_code == 409
    assert (
        await client.post(url, json={"tool": "get_order_details", "arguments": {}}, headers=ME)
    ).status_code == 403
    audit = (await client.get(f"/v1/conversations/{cid}/audit", headers=ANN)).json()["entries"]
    assert [(a["principal"], a["outcome"]) for a in audit if a["tool"] == "cancel_pending_order"] == [
        ("agent:ann@demo", "preview"),
        ("agent:ann@demo", "confirm"),
        ("agent:ann@demo", "execute"),
    ]
    assert (await client.get(f"/v1/conversations/{cid}/audit", headers=ME)).status_code == 403


async def test_over_limit_goes_to_a_supervisor_and_executes_once(
    system: tuple[Runtime, httpx.AsyncClient],
) -> None:
    runtime, client = system
    set_paid(runtime, PENDING, 6000.0)  # agent limit 5000, supervisor 25000
    cid = await _start(client)
    args = {"order_id": PENDING, "reason": "no longer needed"}
    previewed = (
        await client.post(
            f"/v1/conversations/{cid}/agent-tools",
            json={"tool": "cancel_pending_order", "arguments": args},
            headers=ANN,
        )
    ).json()
    assert previewed["outcome"] == "preview" and previewed["preview"]["approval"]["amount"] == 6000.0
    assert (await client.get("/v1/approvals", headers=SUE)).json()["approvals"] == []  # not before consent
    confirm = {"preview_id": previewed["preview"]["preview_id"], "approve": True}
    waiting = (
        await client.post(f"/v1/conversations/{cid}/agent-confirmations", json=confirm, headers=ANN)
    ).json()
    assert waiting["code"] == "approval_pending" and waiting["approval_id"]
    approval_id = waiting["approval_id"]
    pending = (await client.get("/v1/approvals", headers=SUE)).json()["approvals"]
    assert [(a["approval_id"], a["amount"], a["requested_by"]) for a in pending] == [
        (approval_id, 6000.0, "agent:ann@demo")
    ]
    assert pending[0]["preview"]["changes"] == previewed["preview"]["changes"]
    assert (
        await client.post(f"/v1/approvals/{approval_id}", json={"approve": True}, headers=ANN)
    ).status_code == 403
    assert order(runtime, PENDING)["status"] == "pending"

    approved = await client.post(f"/v1/approvals/{approval_id}", json={"approve": True}, headers=SUE)
    body = approved.json()
    assert body["status"] == "approved" and body["decided_by"] == "supervisor:sue@demo"
    assert body["result"]["outcome"] == "executed" and order(runtime, PENDING)["status"] == "cancelled"
    twice = await client.post(f"/v1/approvals/{approval_id}", json={"approve": True}, headers=SUE)
    assert twice.status_code == 409
    with runtime.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(executions)).scalar_one() == 1
    foreign = token("supervisor", "zed", tenant="other")
    assert (
        await client.post(f"/v1/approvals/{approval_id}", json={"approve": True}, headers=foreign)
    ).status_code == 404

    staff_kinds = [e.event for e in await events(client, cid, SUE)]
    assert staff_kinds == ["approval.requested", "approval.status", "approval.decided", "approval.status",
                           "approval.status"]  # fmt: skip
    customer_view = [(e.event, e.data["status"]) for e in await events(client, cid, ME)]
    assert customer_view == [("approval.status", s) for s in ("waiting", "approved", "executed")]
    audit = (await client.get(f"/v1/conversations/{cid}/audit", headers=SUE)).json()["entries"]
    assert [(a["principal"], a["outcome"]) for a in audit] == [
        ("agent:ann@demo", "preview"), ("agent:ann@demo", "confirm"), ("agent:ann@demo", "deny"),
        ("supervisor:sue@demo", "confirm"), ("agent:ann@demo", "execute"),
    ]  # fmt: skip


async def test_assist_drafts_a_cited_reply_and_suggests_actions(
    system: tuple[Runtime, httpx.AsyncClient],
) -> None:
    runtime, client = system
    cid = await _start(client)
    await say(client, runtime, cid, ME, f"Please cancel order {PENDING}, I ordered it by mistake")
    await client.post(f"/v1/conversations/{cid}/handoff", headers=ME)
    assist = (await client.get(f"/v1/conversations/{cid}/assist", headers=ANN)).json()
    cited = {c["id"] for c in assist["draft"]["citations"]}
    assert assist["draft"]["text"] and cited
    assert (
        "[" not in assist["draft"]["text"] and " ." not in assist["draft"]["text"]
    )  # clean text, no markers
    actions = {(a["tool"], tuple(sorted(a["arguments"].items()))) for a in assist["suggested_actions"]}
    assert ("get_order_details", (("order_id", PENDING),)) in actions
    assert ("cancel_pending_order", (("order_id", PENDING), ("reason", "ordered by mistake"))) in actions
    assert all(a["label"] for a in assist["suggested_actions"])
    assert (await client.get(f"/v1/conversations/{cid}/assist", headers=ME)).status_code == 403

    await client.post(f"/v1/conversations/{cid}/claim", headers=ANN)
    url = f"/v1/conversations/{cid}/agent-messages"
    sent = {"text": assist["draft"]["text"], "citations": assist["draft"]["citations"]}
    assert (await client.post(url, json=sent, headers=ANN)).status_code == 200
    message = [e for e in await events(client, cid, ME) if e.event == "agent.message"][-1]
    assert message.data["text"] == assist["draft"]["text"]
    assert message.data["citations"] == assist["draft"]["citations"]  # the widget links them
    bad = await client.post(url, json={"text": "x", "citations": [{"id": "no chunk number"}]}, headers=ANN)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_arguments"
