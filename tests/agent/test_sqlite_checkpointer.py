"""The write protocol across a process restart, on the real async SQLite saver in the store's file."""

from __future__ import annotations

import sqlite3

from langchain_core.messages import AIMessage

from copilot.agent.checkpoint import open_checkpointer
from tests.agent.conftest import MakeHarness, call
from tests.agent.world import CUSTOMER, PENDING, World


async def test_confirmation_survives_restart_on_sqlite(harness: MakeHarness, world: World) -> None:
    async with open_checkpointer(world.settings) as saver:
        first = harness(
            call("cancel_pending_order", "w1", order_id=PENDING, reason="ordered by mistake"),
            checkpointer=saver,
        )
        sink = await first.say(f"Cancel order {PENDING}")
        preview_id = str(sink.of("tool.preview")[0]["preview_id"])
        assert sink.events[-1][1] == {"status": "awaiting_confirmation"}

    world.gateway.decide(CUSTOMER, preview_id, approve=True)
    async with open_checkpointer(world.settings) as saver:  # a new process: new saver, new graph
        second = harness(AIMessage(content="Done: order cancelled."), checkpointer=saver)
        sink = await second.resume(preview_id, approved=True)
        assert sink.types()[0] == "tool.executed"
        assert sink.of("message.completed")[0]["text"] == "Done: order cancelled."
        state = await second.graph.aget_state({"configurable": {"thread_id": second.conversation_id}})
        assert not state.interrupts and state.values["pending"] == []
    assert world.status(PENDING) == "cancelled" and world.executions() == 1

    assert world.settings.sqlite_path is not None
    with sqlite3.connect(world.settings.sqlite_path) as db:
        tables = {row[0] for row in db.execute("select name from sqlite_master where type='table'")}
    assert {"checkpoints", "writes", "documents", "previews", "executions"} <= tables
