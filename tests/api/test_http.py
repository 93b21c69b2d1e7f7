"""The HTTP surface over a real app and database (scripted turn runner): auth, access, turns, SSE, errors."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from copilot.runtime import Runtime
from tests.api.support import ScriptedRunner, parse_sse, token


async def _conversation(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    response = await client.post("/v1/conversations", headers=headers)
    assert response.status_code == 201, response.text
    conversation_id: str = response.json()["id"]
    return conversation_id


async def _turn(client: httpx.AsyncClient, runtime: Runtime, cid: str, text: str) -> str:
    response = await client.post(f"/v1/conversations/{cid}/messages", json={"text": text}, headers=token())
    assert response.status_code == 202, response.text
    await runtime.turns.wait_idle(cid)
    turn_id: str = response.json()["turn_id"]
    return turn_id


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.json() == {
        "status": "ok",
        "tools": 16,
        "kb_chunks": 5,
        "model": "offline",
        "prompt_tokens": {},
    }


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic YTpi"}],
    ids=["missing", "garbage", "basic"],
)
async def test_unauthenticated(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await client.post("/v1/conversations", headers=headers)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "unauthenticated"
    assert "copilot token --role customer --user" in error["message"]
    assert response.headers["www-authenticate"] == "Bearer"


async def test_message_streams_a_turn(client: httpx.AsyncClient, runtime: Runtime) -> None:
    cid = await _conversation(client, token())
    turn_id = await _turn(client, runtime, cid, "Where is my order?")
    response = await client.get(f"/v1/conversations/{cid}/events?follow=false", headers=token())
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(response.text)
    assert [e.id for e in events] == [1, 2, 3, 4, 5, 6]
    assert [e.event for e in events] == [
        "turn.started",
        *["message.delta"] * 3,
        "message.completed",
        "turn.completed",
    ]
    assert events[0].data["text"] == "Where is my order?"
    assert all(e.data["turn_id"] == turn_id for e in events)
    assert events[-1].data["status"] == "completed"


async def test_resume_returns_exactly_the_missed_events(client: httpx.AsyncClient, runtime: Runtime) -> None:
    cid = await _conversation(client, token())
    await _turn(client, runtime, cid, "one")
    await _turn(client, runtime, cid, "two")
    url = f"/v1/conversations/{cid}/events?follow=false"
    resumed = parse_sse((await client.get(url, headers={**token(), "Last-Event-ID": "4"})).text)
    assert [e.id for e in resumed] == list(range(5, 13))
    by_query = parse_sse((await client.get(f"{url}&after=10", headers=token())).text)
    assert [e.id for e in by_query] == [11, 12]
    bad = await client.get(url, headers={**token(), "Last-Event-ID": "abc"})
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_arguments"


async def test_messages_while_running_queue_in_order(
    client: httpx.AsyncClient, runtime: Runtime, runner: ScriptedRunner
) -> None:
    runner.delay = 0.05
    cid = await _conversation(client, token())
    posted = [
        await client.post(f"/v1/conversations/{cid}/messages", json={"text": t}, headers=token())
        for t in ("a", "b", "c")
    ]
    assert [p.status_code for p in posted] == [202, 202, 202]
    await runtime.turns.wait_idle(cid)
    assert [r.text for r in runner.requests] == ["a", "b", "c"]
    events = await runtime.events.read_all(cid)
    bounds = [(e["type"], e["turn_id"]) for e in events if e["type"] in ("turn.started", "turn.completed")]
    ids = [p.json()["turn_id"] for p in posted]
    # one after the other: each turn completes before the next one starts
    assert bounds == [(kind, t) for t in ids for kind in ("turn.started", "turn.completed")]


@pytest.mark.parametrize(
    "body", [{"text": ""}, {"text": "   "}, {"text": "x" * 4001}, {}, {"text": "hi", "role": "admin"}]
)
async def test_invalid_message_body(client: httpx.AsyncClient, body: dict[str, str]) -> None:
    cid = await _conversation(client, token())
    response = await client.post(f"/v1/conversations/{cid}/messages", json=body, headers=token())
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_arguments"
    assert error["message"].startswith("Fix the request:")


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (token("customer", "alice"), 200),
        (token("agent", "ann"), 200),
        (token("supervisor", "sue"), 200),
        (token("customer", "bob"), 404),
        (token("admin", "root"), 404),
        (token("guest", "alice"), 404),
        (token("agent", "ann", tenant="other"), 404),
        (token("customer", "alice", tenant="other"), 404),
    ],
    ids=[
        "owner",
        "agent",
        "supervisor",
        "other-customer",
        "admin",
        "guest-same-id",
        "agent-other-tenant",
        "same-user-other-tenant",
    ],
)
async def test_who_can_read(
    client: httpx.AsyncClient, runtime: Runtime, headers: dict[str, str], status: int
) -> None:
    cid = await _conversation(client, token("customer", "alice"))
    await _turn(client, runtime, cid, "private")
    transcript = await client.get(f"/v1/conversations/{cid}", headers=headers)
    events = await client.get(f"/v1/conversations/{cid}/events?follow=false", headers=headers)
    post = await client.post(f"/v1/conversations/{cid}/messages", json={"text": "x"}, headers=headers)
    assert transcript.status_code == events.status_code == status
    if status == 404:
        assert transcript.json()["error"]["code"] == "not_found"
        assert post.status_code == 404
        assert "private" not in events.text


async def test_transcript_is_derived_from_events(client: httpx.AsyncClient, runtime: Runtime) -> None:
    cid = await _conversation(client, token())
    await runtime.events.append(cid, "tool.executed", {"tool": "get_order_details", "call_id": "c1"})
    await _turn(client, runtime, cid, "hello")
    body = (await client.get(f"/v1/conversations/{cid}", headers=token())).json()
    assert [(m["role"], m["text"]) for m in body["messages"]] == [
        ("user", "hello"),
        ("assistant", "echo: hello"),
    ]
    assert body["messages"][1]["citations"] == [{"id": "returns-policy#1", "title": "Returns"}]
    assert body["tools"] == [
        {
            "tool": "get_order_details",
            "outcome": "executed",
            "turn_id": None,
            "call_id": "c1",
            "code": None,
            "message": None,
        }
    ]
    assert body["handoff"] == {"requested": False, "summary": None}
    assert body["last_event_id"] == 7
    assert body["running"] is False


async def test_confirmation_needs_a_preview_of_this_conversation(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    cid = await _conversation(client, token())
    url = f"/v1/conversations/{cid}/confirmations"
    unknown = await client.post(url, json={"preview_id": "prv_1", "approve": True}, headers=token())
    assert unknown.status_code == 409
    assert unknown.json()["error"]["code"] == "confirmation_invalid"
    await runtime.events.append(cid, "tool.preview", {"tool": "cancel_pending_order", "preview_id": "prv_1"})
    ok = await client.post(url, json={"preview_id": "prv_1", "approve": True}, headers=token())
    assert ok.status_code == 202
    await runtime.turns.wait_idle(cid)
    again = await client.post(url, json={"preview_id": "prv_1", "approve": True}, headers=token())
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "confirmation_invalid"  # already decided: not pending
    not_bool = await client.post(url, json={"preview_id": "prv_1", "approve": "yes"}, headers=token())
    assert not_bool.status_code == 422
    body = (await client.get(f"/v1/conversations/{cid}", headers=token())).json()
    assert body["previews"][0]["status"] == "approved"


async def test_openapi_is_complete(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    paths = spec["paths"]
    assert set(paths) >= {
        "/healthz",
        "/v1/conversations",
        "/v1/conversations/{conversation_id}",
        "/v1/conversations/{conversation_id}/messages",
        "/v1/conversations/{conversation_id}/events",
        "/v1/conversations/{conversation_id}/confirmations",
    }
    post_message = paths["/v1/conversations/{conversation_id}/messages"]["post"]
    assert {"202", "401", "404", "409", "422"} <= set(post_message["responses"])
    assert post_message["tags"] == ["conversations"]
    assert (
        "text/event-stream"
        in paths["/v1/conversations/{conversation_id}/events"]["get"]["responses"]["200"]["content"]
    )
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert "ErrorResponse" in spec["components"]["schemas"]


async def test_events_of_concurrent_conversations_stay_separate(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    first, second = await _conversation(client, token()), await _conversation(client, token())
    await asyncio.gather(_turn(client, runtime, first, "a"), _turn(client, runtime, second, "b"))
    for cid, text in ((first, "a"), (second, "b")):
        events = parse_sse(
            (await client.get(f"/v1/conversations/{cid}/events?follow=false", headers=token())).text
        )
        assert [e.id for e in events] == [1, 2, 3, 4, 5, 6]
        assert events[0].data["text"] == text


async def test_a_failing_turn_ends_with_error_and_turn_completed(
    client: httpx.AsyncClient, runtime: Runtime, runner: ScriptedRunner
) -> None:
    runner.fail = True
    cid = await _conversation(client, token())
    await _turn(client, runtime, cid, "boom")
    events = parse_sse(
        (await client.get(f"/v1/conversations/{cid}/events?follow=false", headers=token())).text
    )
    assert [e.event for e in events][-2:] == ["error", "turn.completed"]
    assert events[-2].data["code"] == "internal"
    assert events[-1].data["status"] == "failed"
    again = await client.post(f"/v1/conversations/{cid}/messages", json={"text": "retry"}, headers=token())
    assert again.status_code == 202


async def test_list_shows_own_or_tenant_conversations(client: httpx.AsyncClient) -> None:
    alice = await _conversation(client, token("customer", "alice"))
    bob = await _conversation(client, token("customer", "bob"))
    await _conversation(client, token("customer", "carol", tenant="other"))

    async def ids(headers: dict[str, str]) -> set[str]:
        response = await client.get("/v1/conversations", headers=headers)
        assert response.status_code == 200
        return {c["id"] for c in response.json()["conversations"]}

    assert await ids(token("customer", "alice")) == {alice}
    assert await ids(token("agent", "ann")) == {alice, bob}
    assert await ids(token("admin", "root")) == set()
