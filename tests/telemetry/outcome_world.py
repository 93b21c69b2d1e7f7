"""A real `copilot serve`-like server (uvicorn in a thread, offline model, demo store) and customers that talk to
it over HTTP: start conversations, send messages (waiting for the turn over SSE), rate answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import Engine, update

from copilot.principal import Role
from copilot.store.schema import conversations
from tests.api.support import Sse, iter_sse, token


@dataclass
class Customer:
    client: httpx.AsyncClient
    user: str
    headers: dict[str, str] = field(init=False)
    cid: str = ""
    last: int = 0
    role: Role = "customer"

    def __post_init__(self) -> None:
        self.headers = token(self.role, self.user)

    async def start(self) -> str:
        response = await self.client.post("/v1/conversations", headers=self.headers)
        assert response.status_code == 201, response.text
        self.cid, self.last = response.json()["id"], 0
        return self.cid

    async def say(self, text: str) -> list[Sse]:
        """Send a message and read the stream until its turn completes."""
        posted = await self.client.post(
            f"/v1/conversations/{self.cid}/messages", json={"text": text}, headers=self.headers
        )
        assert posted.status_code == 202, posted.text
        frames: list[Sse] = []
        headers = {**self.headers, "Last-Event-ID": str(self.last)}
        async with self.client.stream(
            "GET", f"/v1/conversations/{self.cid}/events", headers=headers
        ) as stream:
            async for frame in iter_sse(stream):
                frames.append(frame)
                if frame.event == "turn.completed" and frame.data.get("turn_id") == posted.json()["turn_id"]:
                    break
        self.last = frames[-1].id
        return frames

    async def transcript(self) -> dict[str, Any]:
        response = await self.client.get(f"/v1/conversations/{self.cid}", headers=self.headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def last_answer(self) -> int:
        answers = [m for m in (await self.transcript())["messages"] if m["role"] == "assistant"]
        assert answers, "no answer to rate"
        seq: int = answers[-1]["seq"]
        return seq

    async def rate(self, rating: str, comment: str | None = None, seq: int | None = None) -> httpx.Response:
        seq = seq if seq is not None else await self.last_answer()
        body: dict[str, Any] = {"rating": rating} | ({"comment": comment} if comment is not None else {})
        return await self.client.put(
            f"/v1/conversations/{self.cid}/answers/{seq}/feedback", json=body, headers=self.headers
        )


def set_times(engine: Engine, cid: str, created: datetime, last_activity: datetime) -> None:
    """Place a conversation in time (the scripted day happened in the past)."""
    with engine.begin() as conn:
        where = conversations.c.id == cid
        conn.execute(update(conversations).where(where).values(created_at=created, updated_at=last_activity))
