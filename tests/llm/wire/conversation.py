"""A real copilot server (create_app over SQLite, the demo shop) whose COPILOT_MODEL is the real
langchain-openai client pointed at a scripted OpenAI-compatible server — the issue's failures over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from copilot.api.app import create_app
from copilot.llm.testing import Responder, WireServer, openai_app
from copilot.settings import Settings
from tests.api.support import SECRET, Sse, parse_sse, serve_in_thread, token

CUSTOMER = "demo_customer_0001"
PENDING = "#W0000001"
FAST = {
    "model_timeout": 20.0, "model_read_timeout": 15.0, "model_retries": 1, "model_backoff_seconds": 0.05,
    "model_max_retry_after": 2.0, "turn_max_model_calls": 4,
}  # fmt: skip
"""Quick retries and budgets. The timeouts are far above a healthy request's time on a loaded 2-core box (a
first call there took 0.65 s of client start-up alone; a 1 s attempt budget timed out a healthy request and
the retry took the next scripted step): only a test about timeouts should see one fire (`TIMEOUTS`)."""
TIMEOUTS: dict[str, Any] = {"model_timeout": 5.0, "model_read_timeout": 4.0}
"""For tests of a hung model: ~4x the slowest healthy model call seen under load (~1.3 s at load 12 on 2
cores), and far below `HUNG`."""
HUNG = 60.0
"""A `Stall` that no timeout here waits out (it is ended by the timeout, a cancel or the test's end)."""


@contextmanager
def copilot_on(
    tmp: Path, script: Responder, *, context_window: int | None = None, **overrides: Any
) -> Iterator[tuple[str, WireServer]]:
    """(copilot base URL, scripted model server); no OPENAI_API_KEY is needed for the local server."""
    with WireServer(openai_app(script, context_window=context_window)) as model:
        settings = Settings(
            data_dir=tmp, secret=SECRET, model="openai:scripted", model_base_url=f"{model.url}/v1",
            **(FAST | overrides),
        )  # fmt: skip
        with serve_in_thread(create_app(settings)) as base:
            yield base, model


class Chat:
    """One customer conversation over HTTP: `say` posts and returns that turn's events."""

    def __init__(self, client: httpx.AsyncClient, user: str = CUSTOMER) -> None:
        self.client, self.headers, self.cid, self.last = client, token("customer", user), "", 0

    async def start(self) -> Chat:
        response = await self.client.post("/v1/conversations", headers=self.headers)
        self.cid = response.json()["id"]
        return self

    async def events(self) -> list[Sse]:
        url = f"/v1/conversations/{self.cid}/events?follow=false&after={self.last}"
        return parse_sse((await self.client.get(url, headers=self.headers)).text)

    async def turn(self, path: str, body: dict[str, Any], timeout: float = 20) -> list[Sse]:
        response = await self.client.post(
            f"/v1/conversations/{self.cid}/{path}", json=body, headers=self.headers
        )
        assert response.status_code == 202, response.text
        return await self.turn_end(timeout)

    async def all_events(self) -> list[Sse]:
        url = f"/v1/conversations/{self.cid}/events?follow=false"
        return parse_sse((await self.client.get(url, headers=self.headers)).text)

    async def turn_end(self, timeout: float = 20) -> list[Sse]:
        """The events after the last seen one, up to the next turn.completed."""
        async with asyncio.timeout(timeout):  # turns of a conversation are serial: wait for this one's end
            frames = await self.events()
            while not any(f.event == "turn.completed" for f in frames):
                await asyncio.sleep(0.05)
                frames = await self.events()
        self.last = frames[-1].id
        return frames

    async def say(self, text: str) -> list[Sse]:
        return await self.turn("messages", {"text": text})


def kinds(frames: list[Sse]) -> list[str]:
    return [f.event for f in frames if f.event not in ("message.delta",)]


def completed(frames: list[Sse]) -> str:
    """The turn's terminal status (exactly one turn.completed per turn)."""
    ends = [f for f in frames if f.event == "turn.completed"]
    assert len(ends) == 1, kinds(frames)
    return str(ends[0].data["status"])


def error_of(frames: list[Sse]) -> dict[str, Any]:
    errors = [f.data for f in frames if f.event == "error"]
    assert len(errors) == 1, kinds(frames)
    return errors[0]
