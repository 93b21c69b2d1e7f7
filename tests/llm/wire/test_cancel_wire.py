"""Cancelling a turn whose model hangs, over HTTP with the real langchain-openai client: by the customer's
API call, and by a human agent's claim — the bot's late answer never reaches a conversation a human owns."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from copilot.llm.testing import Reply, Script, Stall, WireServer
from tests.api.support import token
from tests.llm.wire.conversation import Chat, completed, copilot_on, kinds

SCRIPT = Script()
LATE = "the late answer of a hung model"


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, WireServer]]:
    with copilot_on(
        tmp_path_factory.mktemp("copilot"), SCRIPT, model_timeout=30, model_read_timeout=30
    ) as pair:
        yield pair


@pytest.fixture
async def chat(running: tuple[str, WireServer]) -> AsyncIterator[Chat]:
    SCRIPT.reset()
    async with httpx.AsyncClient(base_url=running[0], timeout=30) as client:
        yield await Chat(client).start()
    running[1].log.assert_clean()


async def started(chat: Chat, text: str) -> None:
    response = await chat.client.post(
        f"/v1/conversations/{chat.cid}/messages", json={"text": text}, headers=chat.headers
    )
    assert response.status_code == 202
    async with asyncio.timeout(5):  # the model request is in flight
        while SCRIPT.position == 0:
            await asyncio.sleep(0.02)


async def test_the_customer_cancels_a_hung_turn(chat: Chat) -> None:
    SCRIPT.reset(Stall(5, Reply(text=LATE)), Reply(text="Hello again."))
    await started(chat, "hello?")
    t0 = time.monotonic()
    response = await chat.client.post(f"/v1/conversations/{chat.cid}/cancel", headers=chat.headers)
    assert response.status_code == 200 and len(response.json()["cancelled"]) == 1
    frames = await chat.turn_end()
    assert completed(frames) == "cancelled" and time.monotonic() - t0 < 2
    assert completed(await chat.say("hello again")) == "completed"
    await asyncio.sleep(0.2)
    everything = await chat.all_events()
    assert LATE not in str(everything) and [f.data["status"] for f in everything if f.event == "turn.completed"] == [
        "cancelled", "completed"
    ]  # fmt: skip


async def test_a_human_claim_cancels_the_bots_turn(chat: Chat) -> None:
    SCRIPT.reset(Stall(5, Reply(text=LATE)))
    await started(chat, "I need help with my order")
    t0 = time.monotonic()
    claim = await chat.client.post(f"/v1/conversations/{chat.cid}/claim", headers=token("agent", "alice"))
    assert claim.status_code == 200, claim.text
    assert time.monotonic() - t0 < 2  # not the 10 s idle wait
    frames = await chat.turn_end()
    assert completed(frames) == "cancelled"
    await asyncio.sleep(0.5)
    everything = await chat.all_events()
    assert LATE not in str(everything)
    assert kinds(everything).index("turn.completed") < kinds(everything).index("handoff.claimed")
