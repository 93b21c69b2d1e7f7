"""Stop while a turn is still queued, over HTTP on SQLite and Postgres, with the real langchain-openai client and
a hung scripted model: the cancel marks the queued turns too, and each ends with turn.started +
turn.completed {cancelled} without running (no model call) — behind the conversation's running turn, and
on a worker with no room (COPILOT_TURN_CAPACITY=1) while another conversation's turn holds it. A turn that
executes a change the customer confirmed is kept (`kept: [{turn_id, reason: "confirmed_change"}]`), queued or
running: its write runs exactly once and is reported as tool.executed (issue 7's promise for a 202)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import httpx
import pytest

from copilot.api.app import create_app
from copilot.api.conversations import KEPT_CONFIRMED
from copilot.llm.testing import Reply, Script, Stall, ToolCall, WireServer, openai_app
from copilot.settings import Settings
from tests.api.support import SECRET, Sse, serve_in_thread, token
from tests.databases import BACKENDS, postgres_database
from tests.llm.wire.conversation import CUSTOMER, FAST, HUNG, Chat, kinds

SCRIPT = Script()
LATE = "the late answer of a hung model"


@pytest.fixture(scope="module", params=BACKENDS)
def base_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    no_timeouts: dict[str, Any] = FAST | {"model_timeout": HUNG, "model_read_timeout": HUNG}
    with WireServer(openai_app(SCRIPT)) as model, _database(request.param) as url:
        settings = Settings(
            data_dir=tmp_path_factory.mktemp("copilot"), secret=SECRET, database_url=url,
            model="openai:scripted", model_base_url=f"{model.url}/v1", turn_capacity=1,
            **no_timeouts,
        )  # fmt: skip
        with serve_in_thread(create_app(settings)) as base:
            yield base
        model.log.assert_clean()


def _database(backend: str) -> AbstractContextManager[str | None]:
    """Postgres: a fresh database on the server; SQLite: None (the data dir's file)."""
    return postgres_database() if backend == "postgres" else nullcontext()


@pytest.fixture
async def client(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    SCRIPT.reset()
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        yield http


async def _post(chat: Chat, text: str) -> str:
    response = await chat.client.post(
        f"/v1/conversations/{chat.cid}/messages", json={"text": text}, headers=chat.headers
    )
    assert response.status_code == 202, response.text
    turn_id: str = response.json()["turn_id"]
    return turn_id


async def _model_called(times: int) -> None:
    async with asyncio.timeout(20):
        while SCRIPT.position < times:
            await asyncio.sleep(0.02)


async def _cancel(chat: Chat) -> dict[str, Any]:
    response = await chat.client.post(f"/v1/conversations/{chat.cid}/cancel", headers=chat.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _ended(chat: Chat, turns: set[str]) -> list[Sse]:
    """All the conversation's events once each of `turns` has its turn.completed."""
    async with asyncio.timeout(20):
        while True:
            frames = await chat.all_events()
            if turns <= {_turn(f) for f in frames if f.event == "turn.completed"}:
                return frames
            await asyncio.sleep(0.05)


def _turn(frame: Sse) -> str:
    return str(frame.data.get("turn_id", ""))


def _by_turn(frames: list[Sse], turn: str) -> list[tuple[str, object]]:
    return [
        (f.event, f.data.get("status")) for f in frames if _turn(f) == turn and f.event != "message.delta"
    ]


async def test_stop_cancels_the_queued_turn_behind_the_hung_one(client: httpx.AsyncClient) -> None:
    SCRIPT.reset(Stall(HUNG, Reply(text=LATE)), Reply(text="Hello again."))
    chat = await Chat(client).start()
    first = await _post(chat, "hello?")
    await _model_called(1)  # the first turn's model request hangs
    second = await _post(chat, "are you there?")  # queued behind it
    assert await _cancel(chat) == {
        "cancelled": [first, second],
        "running": [first],
        "queued": [second],
        "kept": [],
    }
    frames = await _ended(chat, {first, second})
    assert _by_turn(frames, first)[-1] == ("turn.completed", "cancelled")
    assert _by_turn(frames, second) == [("turn.started", None), ("turn.completed", "cancelled")]  # never ran
    assert SCRIPT.position == 1 and LATE not in str(frames)  # the queued turn made no model call
    chat.last = frames[-1].id
    reply = await chat.say("hello again")  # the conversation goes on
    assert [f.data["status"] for f in reply if f.event == "turn.completed"] == ["completed"]
    assert "Hello again." in "".join(str(f.data.get("text", "")) for f in reply if f.event == "message.delta")
    assert (await _cancel(chat))["cancelled"] == []  # nothing left to stop


async def test_stop_ends_a_turn_queued_while_the_worker_is_busy(client: httpx.AsyncClient) -> None:
    SCRIPT.reset(Stall(HUNG, Reply(text=LATE)))
    busy = await Chat(client, user="demo_customer_0002").start()
    held = await _post(busy, "hello?")
    await _model_called(1)  # the worker's only slot (COPILOT_TURN_CAPACITY=1) is taken
    chat = await Chat(client).start()
    waiting = await _post(chat, "where is my order?")
    assert await _cancel(chat) == {
        "cancelled": [waiting],
        "running": [],
        "queued": [waiting],
        "kept": [],
    }
    frames = await _ended(chat, {waiting})  # at once, though the worker still has no room
    assert _by_turn(frames, waiting) == [("turn.started", None), ("turn.completed", "cancelled")]
    assert "message.delta" not in kinds(frames) and SCRIPT.position == 1
    assert (await _cancel(busy))["running"] == [held]
    await _ended(busy, {held})
    assert SCRIPT.position == 1


def _move(user: str, street: str = "5 Elm Street") -> ToolCall:
    address = {
        "user_id": user, "address1": street, "address2": "", "city": "Austin", "state": "TX",
        "country": "USA", "zip": "73301",
    }  # fmt: skip
    return ToolCall("modify_user_address", address, id=f"w_{user}")


async def _confirm(chat: Chat, frames: list[Sse]) -> str:
    preview = next(f.data for f in frames if f.event == "tool.preview")
    response = await chat.client.post(
        f"/v1/conversations/{chat.cid}/confirmations",
        json={"preview_id": preview["preview_id"], "approve": True}, headers=chat.headers,
    )  # fmt: skip
    assert response.status_code == 202, response.text
    turn_id: str = response.json()["turn_id"]
    return turn_id


def _kept(turn: str) -> list[dict[str, Any]]:
    return [{"turn_id": turn, "reason": "confirmed_change", "message": KEPT_CONFIRMED}]


async def test_stop_keeps_a_queued_confirmed_change_and_cancels_the_message_behind_it(
    client: httpx.AsyncClient,
) -> None:
    SCRIPT.reset(
        Reply(tool_calls=[_move(CUSTOMER)]), Stall(HUNG, Reply(text=LATE)),
        Reply(text="Your default address is now 5 Elm Street, Austin, TX 73301."),
    )  # fmt: skip
    chat = await Chat(client).start()
    asked = await chat.say("Please change my address to 5 Elm Street, Austin TX 73301, USA")
    busy = await Chat(client, user="demo_customer_0002").start()
    held = await _post(busy, "hello?")
    await _model_called(2)  # the worker's only slot is taken: the confirmation's resume stays queued
    resume = await _confirm(chat, asked)
    behind = await _post(chat, "thanks!")  # a plain message queued behind the confirmed change
    assert await _cancel(chat) == {
        "cancelled": [behind], "running": [], "queued": [behind], "kept": _kept(resume),
    }  # fmt: skip
    assert (await _cancel(busy))["running"] == [held]  # the slot frees up: the confirmed change runs
    frames = await _ended(chat, {resume, behind})
    assert kinds(frames).count("tool.executed") == 1  # exactly once
    assert _by_turn(frames, resume)[-1] == ("turn.completed", "completed")
    assert _by_turn(frames, behind) == [("turn.started", None), ("turn.completed", "cancelled")]
    assert SCRIPT.position == 3 and LATE not in str(frames)
    assert (await _cancel(chat))["kept"] == []  # done: nothing left to keep


async def test_stop_keeps_a_running_confirmed_change(client: httpx.AsyncClient) -> None:
    user = "demo_customer_0002"
    SCRIPT.reset(Reply(tool_calls=[_move(user)]), Stall(2, Reply(text="Your address is now 5 Elm Street.")))
    chat = await Chat(client, user=user).start()
    resume = await _confirm(chat, await chat.say("Please move me to 5 Elm Street, Austin TX 73301, USA"))
    await _model_called(2)  # the resume turn runs (its write done, its answer being written)
    assert await _cancel(chat) == {"cancelled": [], "running": [], "queued": [], "kept": _kept(resume)}
    frames = await _ended(chat, {resume})
    assert kinds(frames).count("tool.executed") == 1
    assert _by_turn(frames, resume)[-1] == ("turn.completed", "completed")


async def test_a_claim_does_not_drop_a_queued_confirmed_change(client: httpx.AsyncClient) -> None:
    """A human's claim stops the bot, but the customer's confirmed change still runs once (before, the queued
    resume turn was skipped as the conversation had an owner, and its write never ran) — and only the write:
    the turn ends with turn.completed {handoff}, no model call and no answer in the human's conversation."""
    SCRIPT.reset(
        Reply(tool_calls=[_move(CUSTOMER, "7 Oak Avenue")]), Stall(HUNG, Reply(text=LATE)),
        Reply(text="Your default address is now 7 Oak Avenue, Austin, TX 73301."),
    )  # fmt: skip
    chat = await Chat(client).start()
    asked = await chat.say("Please change my address to 7 Oak Avenue, Austin TX 73301, USA")
    busy = await Chat(client, user="demo_customer_0002").start()
    held = await _post(busy, "hello?")
    await _model_called(2)  # the worker's only slot is taken: the resume stays queued
    resume = await _confirm(chat, asked)
    path = f"/v1/conversations/{chat.cid}"
    handoff = await client.post(f"{path}/handoff", json={"reason": "a person"}, headers=chat.headers)
    assert handoff.status_code < 300, handoff.text
    async with asyncio.timeout(5):  # it does not wait for the confirmed change (not cancellable anyway)
        claimed = await client.post(f"{path}/claim", headers=token("agent", "alice"))
    assert claimed.status_code == 200, claimed.text
    assert (await _cancel(busy))["running"] == [held]
    frames = await _ended(chat, {resume})
    assert kinds(frames).count("tool.executed") == 1
    assert _by_turn(frames, resume)[-1] == ("turn.completed", "handoff")  # ended: a human owns it
    claim = next(i for i, f in enumerate(frames) if f.event == "handoff.claimed")
    after = kinds(frames[claim:])
    assert "tool.executed" in after  # the write ran after the claim, reported to the agent
    assert not {"message.delta", "message.completed"} & set(after)  # but the bot wrote no answer
    assert SCRIPT.position == 2  # and asked the model nothing after the write
