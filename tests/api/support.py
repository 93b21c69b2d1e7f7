"""Test helpers for the API: a scripted turn runner, an SSE parser, a real uvicorn server in a thread."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Connection

from copilot.auth import mint_token
from copilot.errors import CopilotError, ErrorCode
from copilot.events import EventSink, EventType
from copilot.gateway.result import Preview
from copilot.principal import Principal, Role
from copilot.serverprocess import free_port
from copilot.turns import TurnRequest, TurnStatus

SECRET = "test-secret-0123456789-0123456789-0123456789"


def token(role: Role = "customer", user: str = "alice", tenant: str = "demo") -> dict[str, str]:
    """Authorization headers for a principal."""
    value = mint_token(SECRET, Principal(tenant=tenant, role=role, user_id=user))
    return {"Authorization": f"Bearer {value}"}


@dataclass
class ScriptedRunner:
    """A fake graph: for each turn, emits `deltas` message.delta events (`delay` apart), then a
    message.completed echoing the text. Fails the test run if used after `done`."""

    deltas: int = 3
    delay: float = 0.0
    extra: list[tuple[EventType, dict[str, Any]]] = field(default_factory=list)
    requests: list[TurnRequest] = field(default_factory=list)
    fail: bool = False
    """Raise after the deltas (a crash inside the graph run)."""

    async def __call__(self, request: TurnRequest, sink: EventSink) -> TurnStatus:
        self.requests.append(request)
        for i in range(self.deltas):
            await sink.emit("message.delta", {"text": f"part{i} "}, turn_id=request.turn_id)
            if self.delay:
                await asyncio.sleep(self.delay)
        if self.fail:
            raise RuntimeError("scripted crash")
        for type_, data in self.extra:
            await sink.emit(type_, data, turn_id=request.turn_id)
        text = f"echo: {request.text}" if request.text is not None else f"resumed: {request.resume}"
        await sink.emit(
            "message.completed",
            {"text": text, "citations": [{"id": "returns-policy#1", "title": "Returns"}]},
            turn_id=request.turn_id,
        )
        return "completed"


@dataclass
class OnceDecider:
    """A decider with the gateway's single-use semantics (for API wiring tests; the real gateway is
    exercised by the confirmation-flow test)."""

    decided: dict[str, bool] = field(default_factory=dict)

    def decide(
        self, principal: Principal, preview_id: str, approve: bool, *, conn: Connection | None = None
    ) -> Preview:
        if preview_id in self.decided:
            raise CopilotError(ErrorCode.CONFIRMATION_USED, "This preview was already decided; ask again.")
        self.decided[preview_id] = approve
        return Preview(preview_id, "cancel_pending_order", {}, "cancel", (), None, {}, datetime.now(UTC), "h")


@dataclass(frozen=True, slots=True)
class Sse:
    id: int
    event: str
    data: dict[str, Any]


def parse_sse(text: str) -> list[Sse]:
    """Parse a complete SSE body (ignores comments/pings)."""
    return list(_frames(text.replace("\r\n", "\n").split("\n\n")))


def _frames(blocks: list[str]) -> Iterator[Sse]:
    for block in blocks:
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if line and not line.startswith(":") and ":" in line:
                key, _, value = line.partition(":")
                fields[key] = value.removeprefix(" ")
        if "id" in fields and "event" in fields:
            yield Sse(int(fields["id"]), fields["event"], json.loads(fields.get("data", "null")))


async def iter_sse(response: httpx.Response) -> AsyncIterator[Sse]:
    """Parse SSE frames from a streaming response as they arrive."""
    buffer = ""
    async for chunk in response.aiter_text():
        buffer += chunk.replace("\r\n", "\n")
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            for frame in _frames([block]):
                yield frame


@contextmanager
def serve_in_thread(app: FastAPI) -> Iterator[str]:
    """Run `app` under a real uvicorn server on a free port; yield its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30  # start-up seeds the store and the index: ~9 s on a loaded 2-core box
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
