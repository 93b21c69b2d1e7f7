"""The issue's acceptance path over a real server, HTTP + SSE, offline model, τ² retail DB:
where is my order → get_order_details; cancel → preview, unchanged, confirm → executed once; human → handoff."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from copilot.api.app import create_app
from copilot.settings import Settings
from copilot.store.database import make_engine
from copilot.store.schema import documents
from tests.api.support import SECRET, Sse, iter_sse, serve_in_thread, token

pytestmark = pytest.mark.shared


def _pending_order(db: Path) -> tuple[str, str]:
    orders: dict[str, dict[str, Any]] = json.loads(db.read_text())["orders"]
    order = next(o for o in orders.values() if o["status"] == "pending")
    return str(order["user_id"]), str(order["order_id"])


class Session:
    def __init__(self, client: httpx.AsyncClient, user: str) -> None:
        self.client, self.headers, self.last = client, token("customer", user), 0
        self.cid = ""

    async def start(self) -> None:
        self.cid = (await self.client.post("/v1/conversations", headers=self.headers)).json()["id"]

    async def turn(self, path: str, body: dict[str, Any]) -> list[Sse]:
        """POST, then read the stream (resuming after the last seen id) until turn.completed."""
        response = await self.client.post(
            f"/v1/conversations/{self.cid}/{path}", json=body, headers=self.headers
        )
        assert response.status_code == 202, response.text
        frames: list[Sse] = []
        headers = {**self.headers, "Last-Event-ID": str(self.last)}
        async with self.client.stream(
            "GET", f"/v1/conversations/{self.cid}/events", headers=headers
        ) as stream:
            async for frame in iter_sse(stream):
                frames.append(frame)
                if frame.event == "turn.completed":
                    break
        self.last = frames[-1].id
        return frames


def _status(settings: Settings, order_id: str) -> str:
    engine = make_engine(settings.resolved_database_url)
    try:
        with engine.connect() as conn:
            data = conn.execute(select(documents.c.data).where(documents.c.id == order_id)).scalar_one()
        return str(data["status"])
    finally:
        engine.dispose()


async def test_customer_journey_over_http(tmp_path: Path, shared_data: Path) -> None:
    db = shared_data / "tau2-retail" / "db.json"
    user, order_id = _pending_order(db)
    settings = Settings(data_dir=tmp_path, secret=SECRET, data_path=db, model="offline")
    with serve_in_thread(create_app(settings)) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            assert (await client.get("/healthz")).json()["tools"] == 16
            session = Session(client, user)
            await session.start()

            where = await session.turn("messages", {"text": f"Where is my order {order_id}?"})
            executed = [f.data["tool"] for f in where if f.event == "tool.executed"]
            assert "get_order_details" in executed
            assert any(f.event == "message.completed" and f.data["text"] for f in where)

            cancel = await session.turn(
                "messages", {"text": f"Please cancel order {order_id}, I no longer need it."}
            )
            preview = next(f for f in cancel if f.event == "tool.preview")
            assert preview.data["tool"] == "cancel_pending_order"
            assert _status(settings, order_id) == "pending"

            confirm = {"preview_id": preview.data["preview_id"], "approve": True}
            done = await session.turn("confirmations", confirm)
            assert [f.data["tool"] for f in done if f.event == "tool.executed"] == ["cancel_pending_order"]
            assert _status(settings, order_id) == "cancelled"
            again = await client.post(
                f"/v1/conversations/{session.cid}/confirmations", json=confirm, headers=session.headers
            )
            assert again.status_code == 409

            human = await session.turn("messages", {"text": "I want to talk to a human agent"})
            assert any(f.event == "handoff.requested" for f in human)
