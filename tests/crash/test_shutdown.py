"""SIGTERM on a real `copilot serve`: it stops taking turns, keeps streaming to the open SSE client while
the running turn drains, then exits cleanly; the client has every event of the turn through turn.completed."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import httpx

from tests.api.support import Sse, iter_sse
from tests.crash.harness import Client, Server, auth, of, settled


def _follow(
    server: Server, cid: str, headers: dict[str, str], out: list[Sse], started: threading.Event
) -> None:
    async def read() -> None:
        async with (
            httpx.AsyncClient(timeout=60) as http,
            http.stream("GET", f"{server.url}/v1/conversations/{cid}/events", headers=headers) as response,
        ):
            async for event in iter_sse(response):
                out.append(event)
                if event.event == "turn.started":
                    started.set()

    import asyncio

    asyncio.run(read())


def test_sigterm_drains_the_running_turn_while_the_stream_keeps_flowing(tmp_path: Path) -> None:
    server = Server(tmp_path / "data")
    server.start()
    try:
        headers = auth("customer", "demo_customer_0001")
        client = Client(server, headers)
        cid = client.conversation()
        received: list[Sse] = []
        started = threading.Event()
        reader = threading.Thread(target=_follow, args=(server, cid, headers, received, started), daemon=True)
        reader.start()
        client.post(f"/v1/conversations/{cid}/messages", {"text": "How long do refunds take?"})
        assert started.wait(timeout=30), "the turn never started"
        assert server.proc is not None
        server.proc.send_signal(signal.SIGTERM)
        reader.join(timeout=60)
        assert not reader.is_alive(), "the stream was not closed after the drain"
        assert server.proc.wait(timeout=60) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it handled
        kinds = [e.event for e in received]
        assert kinds[-1] == "turn.completed", kinds  # nothing was cut: the answer streamed through the drain
        assert "message.completed" in kinds
        assert [e.id for e in received] == list(range(1, len(received) + 1))
    finally:
        server.kill()
    server.start()  # the restarted worker has nothing left to recover: the turn ended once
    try:
        events = Client(server, auth("customer", "demo_customer_0001")).events(cid)
        assert settled(events) and len(of(events, "turn.completed")) == 1
    finally:
        server.kill()
