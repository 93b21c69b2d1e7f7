"""End to end over HTTP with the real system (retail pack, demo data, Casbin, gateway, graph, SQLite saver)
and a scripted model: cancel an own pending order → preview → unchanged → confirm → executed exactly once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.messages import AIMessage, ToolCall
from sqlalchemy import select

from copilot.api.app import create_app
from copilot.llm.scripted import ScriptedChatModel
from copilot.runtime import Runtime, open_runtime
from copilot.settings import Settings
from copilot.store.schema import documents
from tests.api.support import SECRET, Sse, parse_sse, token


def _pending_order(runtime: Runtime) -> tuple[str, str]:
    """(user id, order id) of some pending order in the seeded demo store."""
    with runtime.engine.connect() as conn:
        rows = conn.execute(
            select(documents.c.owner, documents.c.id, documents.c.data).where(documents.c.kind == "order")
        ).all()
    return next((row.owner, row.id) for row in rows if row.data["status"] == "pending")


def _order_status(runtime: Runtime, order_id: str) -> str:
    with runtime.engine.connect() as conn:
        data: dict[str, Any] = conn.execute(
            select(documents.c.data).where(documents.c.kind == "order", documents.c.id == order_id)
        ).scalar_one()
    return str(data["status"])


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[tuple[Runtime, ScriptedChatModel]]:
    model = ScriptedChatModel(script=[])
    settings = Settings(data_dir=tmp_path, secret=SECRET)
    async with open_runtime(settings, model=model) as runtime:
        yield runtime, model


async def _events(
    client: httpx.AsyncClient, runtime: Runtime, cid: str, headers: dict[str, str], after: int
) -> list[Sse]:
    await runtime.turns.wait_idle(cid)
    response = await client.get(f"/v1/conversations/{cid}/events?follow=false&after={after}", headers=headers)
    return parse_sse(response.text)


async def test_cancel_own_pending_order(system: tuple[Runtime, ScriptedChatModel]) -> None:
    runtime, model = system
    user, order_id = _pending_order(runtime)
    model.script.extend(
        [
            AIMessage(
                content="",
                tool_calls=[
                    ToolCall(
                        name="cancel_pending_order",
                        id="w1",
                        args={"order_id": order_id, "reason": "no longer needed"},
                    )
                ],
            ),
            AIMessage(content="Your order is cancelled."),
        ]
    )
    me = token("customer", user)
    app = create_app(runtime.settings, runtime=runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        health = (await client.get("/healthz")).json()
        assert health["tools"] == 16 and health["kb_chunks"] > 0
        cid = (await client.post("/v1/conversations", headers=me)).json()["id"]
        await client.post(
            f"/v1/conversations/{cid}/messages", json={"text": f"cancel {order_id}"}, headers=me
        )
        first = await _events(client, runtime, cid, me, 0)
        preview = next(e for e in first if e.event == "tool.preview")
        assert preview.data["changes"][0]["changed"]["status"] == ["pending", "cancelled"]
        assert first[-1].event == "turn.completed" and first[-1].data["status"] == "awaiting_confirmation"
        assert _order_status(runtime, order_id) == "pending"

        url = f"/v1/conversations/{cid}/confirmations"
        other = await client.post(
            url,
            json={"preview_id": preview.data["preview_id"], "approve": True},
            headers=token("customer", "someone_else"),
        )
        assert other.status_code == 404
        staff = await client.post(
            url,
            json={"preview_id": preview.data["preview_id"], "approve": True},
            headers=token("agent", "ann"),
        )
        assert staff.status_code in (403, 409), staff.text  # bound to the customer who asked
        assert staff.json()["error"]["code"].startswith("confirmation_")
        assert _order_status(runtime, order_id) == "pending"
        ok = await client.post(
            url, json={"preview_id": preview.data["preview_id"], "approve": True}, headers=me
        )
        assert ok.status_code == 202, ok.text
        second = await _events(client, runtime, cid, me, first[-1].id)
        assert [e.event for e in second].count("tool.executed") == 1
        assert second[-1].data["status"] == "completed"
        assert _order_status(runtime, order_id) == "cancelled"

        again = await client.post(
            url, json={"preview_id": preview.data["preview_id"], "approve": True}, headers=me
        )
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "confirmation_invalid"
        transcript = (await client.get(f"/v1/conversations/{cid}", headers=me)).json()
    assert transcript["previews"][0]["status"] == "executed"
    last = transcript["messages"][-1]
    assert isinstance(last.pop("seq"), int)  # the answer's event seq, what feedback rates
    assert last == {
        "role": "assistant",
        "text": "Your order is cancelled.",
        "turn_id": ok.json()["turn_id"],
        "citations": [],
    }
    assert model.remaining == 0
