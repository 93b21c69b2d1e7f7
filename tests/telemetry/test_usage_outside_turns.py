"""Usage that used to go unrecorded: a grounding repair's model call, agent assist drafts and staff assist
questions (no turn), and the rows of a turn that is cut before it ends (written as each call ends)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from sqlalchemy import Engine, select

from copilot.events import EventType
from copilot.llm.scripted import ScriptedChatModel
from copilot.principal import Principal
from copilot.settings import Settings
from copilot.store.database import make_engine
from copilot.store.schema import model_usage
from copilot.telemetry.turn import TurnObserver
from copilot.telemetry.usage import CallUsage, TurnUsage, UsageLedger
from copilot.turns import TurnRequest, TurnStatus
from tests.api.support import token
from tests.telemetry.support import settings_for, stack

AGENT = token("agent", "ann")


def _reply(text: str, used: tuple[int, int]) -> AIMessage:
    meta = {"input_tokens": used[0], "output_tokens": used[1], "total_tokens": sum(used)}
    return AIMessage(content=text, usage_metadata=meta)


def _rows(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(model_usage).order_by(model_usage.c.id)).all())


async def _settled_rows(engine: Engine, count: int) -> list[Any]:
    """The rows once `count` are stored: turn.completed reaches the client while the turn's last usage
    writes may still be committing (the turn waits for them right after), so wait for them (≤ 10 s)."""
    for _ in range(1000):
        rows = _rows(engine)
        if len(rows) >= count:
            return rows
        await asyncio.sleep(0.01)
    return _rows(engine)


async def test_the_grounding_repair_call_is_recorded_with_its_turn(tmp_path: Path) -> None:
    script = [_reply("Returns take 30 days [made-up#7].", (50, 5)), _reply("See [other-doc#2].", (60, 4))]
    async with stack(settings_for(tmp_path), script, traced=False) as s:
        cid = await s.conversation()
        frames = await s.turn(cid, "How long do I have to return something?")
        rows = await _settled_rows(s.runtime.engine, 2)
        repair = s.model.prompts[1][-1]
    assert isinstance(repair, HumanMessage) and "[made-up#7]" in repair.text  # the second call is the repair
    assert frames[-1].data["status"] == "handoff"
    turn_id = frames[-1].data["turn_id"]
    # each call's row is written on its own thread as the call ends: either may commit first
    assert sorted((r.turn_id, r.conversation_id, r.input_tokens, r.output_tokens) for r in rows) == [
        (turn_id, cid, 50, 5), (turn_id, cid, 60, 4),
    ]  # fmt: skip


async def test_assist_drafts_and_staff_questions_are_recorded_outside_turns(tmp_path: Path) -> None:
    script = [
        _reply("Thanks, I am checking that for you.", (300, 20)),
        _reply("Refunds take 5 days.", (310, 9)),
    ]
    async with stack(settings_for(tmp_path), script, traced=False) as s:
        cid = await s.conversation()
        handed = await s.turn(cid, "Can a person help me with my refund?")  # straight to a human, no model
        assert handed[-1].data["status"] == "handoff" and s.model.prompts == []
        drafted = await s.client.get(f"/v1/conversations/{cid}/assist", headers=AGENT)
        asked = await s.client.post(
            f"/v1/conversations/{cid}/assist/questions",
            json={"text": "How long do refunds take?"},
            headers=AGENT,
        )
        rows = [r for r in _rows(s.runtime.engine) if r.turn_id is None]
    assert drafted.status_code == 200 and asked.status_code == 200, (drafted.text, asked.text)
    assert [(r.conversation_id, r.tenant, r.input_tokens, r.output_tokens, r.estimated) for r in rows] == [
        (cid, "demo", 300, 20, False), (cid, "demo", 310, 9, False),
    ]  # fmt: skip


async def test_assist_over_the_tenant_budget_is_refused_without_a_model_call(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, token_budgets={"demo": 100})
    async with stack(settings, [_reply("unused", (1, 1))], traced=False) as s:
        cid = await s.conversation()
        spent = TurnUsage("demo", None, None, {})
        spent.calls.append(CallUsage("scripted", "scripted", 90, 10, False, 0.0))
        UsageLedger(s.runtime.engine).record(spent)
        asked = await s.client.post(
            f"/v1/conversations/{cid}/assist/questions", json={"text": "Refund time?"}, headers=AGENT
        )
        remaining = s.model.remaining
    assert asked.status_code == 429 and asked.json()["error"]["code"] == "budget_exceeded"
    assert "human agent" in asked.json()["error"]["message"] and remaining == 1


class _Sink:
    async def emit(self, type: EventType, data: dict[str, Any], *, turn_id: str | None = None) -> int:
        return 0


async def test_a_call_s_row_is_committed_before_the_turn_ends(tmp_path: Path) -> None:
    """A crash after the call keeps its row: the row is in the database while the turn is still running."""
    settings = Settings(data_dir=tmp_path, secret="k" * 64)
    engine = make_engine(settings.resolved_database_url)
    model, answered, release = (
        ScriptedChatModel(script=[_reply("Hi", (40, 2))]),
        asyncio.Event(),
        asyncio.Event(),
    )

    async def runner(request: TurnRequest, sink: Any) -> TurnStatus:
        await model.ainvoke([HumanMessage("hello")])
        answered.set()
        await release.wait()  # the turn goes on (or its worker dies here)
        return "completed"

    observed = TurnObserver(settings, UsageLedger(engine), None).wrap(runner)
    request = TurnRequest("conv_1", "turn_1", Principal("demo", "customer", "c1"), "hello")

    async def play() -> TurnStatus:
        return await observed(request, _Sink())

    turn = asyncio.create_task(play())
    await asyncio.wait_for(answered.wait(), 10)
    rows: list[Any] = []
    for _ in range(100):
        if rows := _rows(engine):
            break
        await asyncio.sleep(0.02)
    assert not turn.done()
    assert [(r.turn_id, r.input_tokens, r.output_tokens) for r in rows] == [("turn_1", 40, 2)]
    release.set()
    assert await turn == "completed" and len(_rows(engine)) == 1  # flushed once, not written twice
    engine.dispose()
