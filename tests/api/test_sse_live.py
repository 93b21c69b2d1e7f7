"""SSE over a real uvicorn server: disconnect mid-turn, the turn completes, a reconnect gets what it missed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from copilot.api.app import create_app
from copilot.runtime import assemble
from copilot.settings import Settings
from tests.api.support import (
    SECRET,
    OnceDecider,
    ScriptedRunner,
    Sse,
    iter_sse,
    parse_sse,
    serve_in_thread,
    token,
)


async def _read(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], stop_after: int | None
) -> list[Sse]:
    """Read frames until `stop_after` frames (then drop the connection) or turn.completed."""
    frames: list[Sse] = []
    async with client.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200
        async for frame in iter_sse(response):
            frames.append(frame)
            if len(frames) == stop_after or frame.event == "turn.completed":
                break
    return frames


async def _wait_idle(client: httpx.AsyncClient, url: str) -> dict[str, object]:
    for _ in range(200):
        body: dict[str, object] = (await client.get(url, headers=token())).json()
        if body["running"] is False:
            return body
        await asyncio.sleep(0.05)
    raise AssertionError("turn did not finish")


async def test_disconnect_mid_turn_then_resume(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret=SECRET)
    runner = ScriptedRunner(deltas=12, delay=0.05)
    runtime = assemble(settings, runner=runner, decider=OnceDecider())
    with serve_in_thread(create_app(settings, runtime=runtime)) as base:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            cid = (await client.post("/v1/conversations", headers=token())).json()["id"]
            events_url = f"/v1/conversations/{cid}/events"
            posted = await client.post(
                f"/v1/conversations/{cid}/messages", json={"text": "hi"}, headers=token()
            )
            assert posted.status_code == 202
            first = await _read(client, events_url, token(), stop_after=3)
            assert [f.id for f in first] == [1, 2, 3]
            transcript = await _wait_idle(client, f"/v1/conversations/{cid}")
            assert transcript["messages"] == [
                {
                    "role": "user",
                    "text": "hi",
                    "turn_id": posted.json()["turn_id"],
                    "seq": 1,
                    "citations": [],
                },
                {
                    "role": "assistant",
                    "text": "echo: hi",
                    "turn_id": posted.json()["turn_id"],
                    "seq": 14,
                    "citations": [{"id": "returns-policy#1", "title": "Returns"}],
                },
            ]
            rest = await _read(client, events_url, {**token(), "Last-Event-ID": "3"}, stop_after=None)
            everything = parse_sse((await client.get(f"{events_url}?follow=false", headers=token())).text)
    assert [f.id for f in rest] == list(range(4, 16))
    assert first + rest == everything
    assert rest[-1].event == "turn.completed"


async def test_live_tail_receives_events_as_they_happen(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret=SECRET)
    runtime = assemble(settings, runner=ScriptedRunner(deltas=4, delay=0.02), decider=OnceDecider())
    with serve_in_thread(create_app(settings, runtime=runtime)) as base:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            cid = (await client.post("/v1/conversations", headers=token())).json()["id"]
            reader = asyncio.create_task(_read(client, f"/v1/conversations/{cid}/events", token(), None))
            await asyncio.sleep(0.2)  # the stream is open and idle before the turn starts
            await client.post(f"/v1/conversations/{cid}/messages", json={"text": "hi"}, headers=token())
            frames = await asyncio.wait_for(reader, timeout=5)
    assert [f.event for f in frames] == [
        "turn.started",
        *["message.delta"] * 4,
        "message.completed",
        "turn.completed",
    ]
    assert [f.id for f in frames] == list(range(1, 8))
