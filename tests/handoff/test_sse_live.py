"""Over a real uvicorn server: the customer's SSE stream receives the handoff live (claimed, the agent's
reply, released); another customer and another tenant's agent cannot open the stream."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from copilot.api.app import create_app
from copilot.runtime import assemble
from copilot.settings import Settings
from tests.api.support import SECRET, OnceDecider, ScriptedRunner, Sse, iter_sse, serve_in_thread, token

ME = token("customer", "alice")
ANN = token("agent", "ann")


async def _read_until(client: httpx.AsyncClient, url: str, headers: dict[str, str], last: str) -> list[Sse]:
    frames: list[Sse] = []
    async with client.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200
        async for frame in iter_sse(response):
            frames.append(frame)
            if frame.event == last:
                break
    return frames


async def test_customer_sees_the_handoff_live_and_strangers_see_nothing(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret=SECRET)
    runtime = assemble(settings, runner=ScriptedRunner(deltas=1), decider=OnceDecider())
    with serve_in_thread(create_app(settings, runtime=runtime)) as base:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            cid = (await client.post("/v1/conversations", headers=ME)).json()["id"]
            url = f"/v1/conversations/{cid}/events"
            for stranger in (token("customer", "mallory"), token("agent", "eve", tenant="other")):
                async with client.stream("GET", url, headers=stranger) as response:
                    assert response.status_code == 404
            customer = asyncio.create_task(_read_until(client, url, ME, "handoff.released"))
            agent = asyncio.create_task(_read_until(client, url, ANN, "handoff.released"))
            await asyncio.sleep(0.2)  # both streams are open and idle
            await client.post(f"/v1/conversations/{cid}/handoff", json={"reason": "refund"}, headers=ME)
            await client.post(f"/v1/conversations/{cid}/claim", headers=ANN)
            await client.post(f"/v1/conversations/{cid}/agent-messages", json={"text": "Hello!"}, headers=ANN)
            await client.post(f"/v1/conversations/{cid}/messages", json={"text": "hi Ann"}, headers=ME)
            await client.post(f"/v1/conversations/{cid}/release", headers=ANN)
            seen = await asyncio.wait_for(customer, timeout=5)
            staff_seen = await asyncio.wait_for(agent, timeout=5)
    await runtime.turns.aclose()
    expected = ["handoff.queued", "handoff.claimed", "agent.message", "message.user", "handoff.released"]
    assert [f.event for f in seen] == expected and [f.event for f in staff_seen] == expected
    assert seen[1].data["agent"] == "ann" and seen[2].data == {
        "text": "Hello!",
        "agent": "ann",
        "turn_id": None,
    }
    assert [f.id for f in seen] == [1, 2, 3, 4, 5]
