"""Live reload through the real running app (uvicorn, HTTP + SSE, the LangGraph graph, offline model, demo
store): an admin revoking a role's permission over the policy API takes effect on the very next tool call of
a conversation that is already running — even the execution of a preview the customer saw before the change —
and a rollback restores it just as immediately. Every decision's audit row names the version that made it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from copilot.api.app import create_app
from copilot.settings import Settings
from tests.api.support import SECRET, Sse, iter_sse, serve_in_thread, token

from .conftest import CUSTOMER_CANCEL

USER, ORDER = "demo_customer_0001", "#W0000001"
ADMIN = token("admin", "root")
CANCEL = f"Please cancel order {ORDER}, I no longer need it."


class Conversation:
    """One customer's running conversation: POST a message or confirmation, read the SSE stream until the
    turn completes (resuming after the last event seen)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client, self.headers, self.last, self.id = client, token("customer", USER), 0, ""

    async def start(self) -> None:
        response = await self.client.post("/v1/conversations", headers=self.headers)
        assert response.status_code in (200, 201), response.text
        self.id = response.json()["id"]

    async def turn(self, path: str, body: dict[str, Any]) -> list[Sse]:
        response = await self.client.post(
            f"/v1/conversations/{self.id}/{path}", json=body, headers=self.headers
        )
        assert response.status_code == 202, response.text
        frames: list[Sse] = []
        headers = {**self.headers, "Last-Event-ID": str(self.last)}
        async with self.client.stream(
            "GET", f"/v1/conversations/{self.id}/events", headers=headers
        ) as stream:
            async for frame in iter_sse(stream):
                frames.append(frame)
                if frame.event == "turn.completed":
                    break
        self.last = frames[-1].id
        return frames


def tool_events(frames: list[Sse], tool: str = "cancel_pending_order") -> list[str]:
    """The gateway outcomes of TOOL in a turn, as wire event names (tool.preview, tool.denied, ...)."""
    outcomes = {"tool.preview", "tool.denied", "tool.executed", "tool.invalid", "tool.error"}
    return [f.event for f in frames if f.event in outcomes and f.data.get("tool") == tool]


async def order_status(client: httpx.AsyncClient, conversation_id: str) -> str:
    """The order's status, read by an agent through the same gateway (staff tools on the conversation)."""
    body = {"tool": "get_order_details", "arguments": {"order_id": ORDER}}
    path = f"/v1/conversations/{conversation_id}/agent-tools"
    result = await client.post(path, json=body, headers=token("agent", "alice"))
    assert result.status_code == 200 and result.json()["outcome"] == "executed", result.text
    return str(result.json()["result"]["status"])


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(data_dir=tmp_path / "data", secret=SECRET, env="development", model="offline")
    with serve_in_thread(create_app(settings)) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            yield http


async def _put_without_cancel(client: httpx.AsyncClient) -> int:
    current = await client.get("/v1/policy", headers=ADMIN)
    rules = [r for r in current.json()["rules"] if tuple(r) != CUSTOMER_CANCEL]
    saved = await client.put("/v1/policy", headers={**ADMIN, "If-Match": current.headers["ETag"]},
                             json={"rules": rules, "message": "no self-service cancels"})  # fmt: skip
    assert saved.status_code == 200, saved.text
    return int(saved.json()["version"])


async def test_revoking_takes_effect_on_the_next_tool_call_of_a_running_conversation(
    client: httpx.AsyncClient,
) -> None:
    chat = Conversation(client)
    await chat.start()
    asked = await chat.turn("messages", {"text": CANCEL})
    assert tool_events(asked) == ["tool.preview"]
    preview = next(f for f in asked if f.event == "tool.preview").data

    revoked = await _put_without_cancel(client)  # while the conversation waits on the customer's confirmation
    confirmed = await chat.turn("confirmations", {"preview_id": preview["preview_id"], "approve": True})
    assert tool_events(confirmed) == ["tool.denied"]  # the execution re-authorizes on the new version
    assert await order_status(client, chat.id) == "pending"

    again = await chat.turn("messages", {"text": CANCEL})
    assert tool_events(again) == []  # the model is no longer even offered the revoked tool

    current = await client.get("/v1/policy", headers=ADMIN)
    rolled = await client.post("/v1/policy/rollback", json={"version": 1, "message": "cancels are back"},
                               headers={**ADMIN, "If-Match": current.headers["ETag"]})  # fmt: skip
    assert rolled.status_code == 200, rolled.text
    allowed = await chat.turn("messages", {"text": CANCEL})
    assert tool_events(allowed) == ["tool.preview"]
    preview = next(f for f in allowed if f.event == "tool.preview").data
    done = await chat.turn("confirmations", {"preview_id": preview["preview_id"], "approve": True})
    assert tool_events(done) == ["tool.executed"]
    assert await order_status(client, chat.id) == "cancelled"

    audit = await client.get("/v1/audit", params={"tool": "cancel_pending_order", "conversation_id": chat.id},
                             headers=ADMIN)  # fmt: skip
    rows = [(a["outcome"], a["policy_version"].split("/")[0]) for a in reversed(audit.json()["items"])]
    now, back = f"v{revoked}", f"v{revoked + 1}"  # "confirm" rows record the customer's approval
    assert rows == [("preview", "v1"), ("confirm", now), ("deny", now),
                    ("preview", back), ("confirm", back), ("execute", back)]  # fmt: skip


def _answer(frames: list[Sse]) -> str:
    return " ".join(str(f.data.get("text", "")) for f in frames if f.event == "message.completed")


async def test_a_revoked_action_is_not_a_dead_end(client: httpx.AsyncClient) -> None:
    """After the revoke the customer asking for it is told it can't be done in this chat and offered a human;
    saying yes queues a handoff (no tool call, no deny row, the order untouched)."""
    await _put_without_cancel(client)
    chat = Conversation(client)
    await chat.start()
    asked = await chat.turn("messages", {"text": CANCEL})
    answer = _answer(asked)
    assert tool_events(asked) == [] and "can't do that in this chat" in answer, answer
    assert "human agent" in answer and answer.rstrip().endswith("?"), answer
    accepted = await chat.turn("messages", {"text": "yes please"})
    assert any(f.event == "handoff.queued" for f in accepted), [f.event for f in accepted]
    assert await order_status(client, chat.id) == "pending"
