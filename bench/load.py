"""The HTTP load driver: closed-loop clients (each one conversation at a time, turns back to back) against
a server process, timing every turn from its POST to its `turn.completed` frame and reading the server's
CPU time from /proc around the phase.

* copilot client: like the widget — create a conversation, keep its SSE stream open, POST each message
  and read frames until `turn.completed`; a new conversation every `TURNS_PER_CONVERSATION` turns.
* bare client: one POST per turn whose response streams the events the bare server writes.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import httpx

TURNS_PER_CONVERSATION = 5
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Frame:
    id: int
    event: str
    data: dict[str, Any]


async def sse_frames(response: httpx.Response) -> AsyncIterator[Frame]:
    """Parse SSE frames as they arrive (comments and pings skipped)."""
    buffer = ""
    async for chunk in response.aiter_text():
        buffer += chunk.replace("\r\n", "\n")
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            fields = dict(
                line.split(": ", 1) for line in block.split("\n") if ": " in line and line[0] != ":"
            )
            if "id" in fields and "event" in fields:
                yield Frame(int(fields["id"]), fields["event"], json.loads(fields.get("data", "null")))


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


class Slot:
    """One simulated customer: runs turns one after another."""

    async def turn(self) -> list[Frame]:
        raise NotImplementedError

    async def aclose(self) -> None:
        return None


class CopilotSlot(Slot):
    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str], text: str) -> None:
        self._client, self._headers, self._text = client, headers, text
        self._stack = AsyncExitStack()
        self._frames: AsyncIterator[Frame] | None = None
        self._cid = ""
        self._turns = 0

    async def _open(self) -> AsyncIterator[Frame]:
        await self._stack.aclose()
        self._stack = AsyncExitStack()
        created = await self._client.post("/v1/conversations", headers=self._headers)
        self._cid = created.raise_for_status().json()["id"]
        stream = self._client.stream("GET", f"/v1/conversations/{self._cid}/events", headers=self._headers)
        response = await self._stack.enter_async_context(stream)
        self._frames = sse_frames(response)
        return self._frames

    async def turn(self) -> list[Frame]:
        frames_in = self._frames
        if frames_in is None or self._turns % TURNS_PER_CONVERSATION == 0:
            frames_in = await self._open()
        self._turns += 1
        url = f"/v1/conversations/{self._cid}/messages"
        posted = await self._client.post(url, json={"text": self._text}, headers=self._headers)
        if posted.status_code != 202:
            raise RuntimeError(f"POST {url}: {posted.status_code} {posted.text}")
        frames: list[Frame] = []
        while not frames or frames[-1].event != "turn.completed":
            frames.append(await anext(frames_in))
        return frames

    async def aclose(self) -> None:
        await self._stack.aclose()


class BareSlot(Slot):
    def __init__(
        self, client: httpx.AsyncClient, name: str, script: list[tuple[str, dict[str, Any]]]
    ) -> None:
        self._client, self._name, self._script = client, name, script
        self._turns = 0

    async def turn(self) -> list[Frame]:
        cid = f"{self._name}-{self._turns // TURNS_PER_CONVERSATION}"
        self._turns += 1
        body = {"conversation_id": cid, "events": self._script}
        async with self._client.stream("POST", "/turn", json=body) as response:
            return [frame async for frame in sse_frames(response.raise_for_status())]


@dataclass(frozen=True, slots=True)
class Phase:
    turns: int
    wall_s: float
    cpu_s: float
    latencies_ms: list[float]
    events_per_turn: float

    @property
    def turns_per_s(self) -> float:
        return self.turns / self.wall_s

    @property
    def cpu_ms_per_turn(self) -> float:
        return self.cpu_s * 1000 / self.turns


async def run_phase(
    pid: int,
    make_slot: Callable[[int], Slot],
    *,
    concurrency: int,
    turns: int,
    check: Callable[[list[Frame]], None],
) -> Phase:
    """`turns` turns over `concurrency` closed-loop slots; every turn is checked (outside its timing)."""
    remaining = [turns]
    latencies: list[float] = []
    events = [0]

    async def client(i: int) -> None:
        slot = make_slot(i)
        try:
            while remaining[0] > 0:
                remaining[0] -= 1
                start = time.perf_counter()
                frames = await slot.turn()
                latencies.append((time.perf_counter() - start) * 1000)
                check(frames)
                events[0] += len(frames)
        finally:
            await slot.aclose()

    cpu, start = cpu_seconds(pid), time.perf_counter()
    await _gather(*(client(i) for i in range(concurrency)))
    wall, cpu = time.perf_counter() - start, cpu_seconds(pid) - cpu
    return Phase(len(latencies), wall, cpu, latencies, events[0] / max(1, len(latencies)))


async def _gather(*jobs: Awaitable[None]) -> None:
    tasks = [asyncio.ensure_future(job) for job in jobs]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
