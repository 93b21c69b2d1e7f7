"""The write protocol across a process restart, on the real async SQLite saver in the store's file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from langchain_core.messages import AIMessage

from copilot.agent.checkpoint import open_checkpointer
from copilot.settings import Settings
from copilot.store.database import make_engine
from tests.agent.conftest import CUSTOMER, MakeHarness, call

ORDER = "#W1000001"


async def test_confirmation_survives_restart_on_sqlite(harness: MakeHarness, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    make_engine(settings.resolved_database_url).dispose()  # the store's tables live in the same file
    async with open_checkpointer(settings) as saver:
        first = harness(call("cancel_pending_order", "w1", order_id=ORDER), checkpointer=saver)
        sink = await first.say(f"Cancel order {ORDER}")
        preview_id = str(sink.of("tool.preview")[0]["preview_id"])
        assert sink.events[-1][1] == {"status": "awaiting_confirmation"}

    first.gateway.decide(CUSTOMER, preview_id, approve=True)
    async with open_checkpointer(settings) as saver:  # a new process: new saver, new graph
        second = harness(AIMessage(content="Done: order cancelled."), checkpointer=saver)
        sink = await second.resume(preview_id, approved=True)
        assert sink.types()[0] == "tool.executed"
        assert sink.of("message.completed")[0]["text"] == "Done: order cancelled."
        state = await second.graph.aget_state({"configurable": {"thread_id": second.conversation_id}})
        assert not state.interrupts and state.values["pending"] == []
    assert second.gateway.handler_runs == 1

    assert settings.sqlite_path is not None
    with sqlite3.connect(settings.sqlite_path) as db:
        tables = {row[0] for row in db.execute("select name from sqlite_master where type='table'")}
    assert {"checkpoints", "writes", "documents", "previews"} <= tables
