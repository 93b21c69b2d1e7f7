"""A validation repair on a write path never previews the change again (issue 9): before the fix, a model that
re-issued its write while repairing a rejected answer left a second pending preview of the same change."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import create_engine, select

from copilot.llm.testing import Reply, Script, ToolCall
from copilot.settings import Settings
from copilot.store.schema import previews
from tests.llm.wire.conversation import CUSTOMER, Chat, completed, copilot_on, kinds

ADDRESS = {
    "user_id": CUSTOMER, "address1": "5 Elm Street", "address2": "", "city": "Austin", "state": "TX",
    "country": "USA", "zip": "73301",
}  # fmt: skip
MOVE = ToolCall("modify_user_address", ADDRESS, id="w1")


def _previews(tmp: Path, conversation: str) -> list[tuple[str, str]]:
    engine = create_engine(Settings(data_dir=tmp).resolved_database_url)
    with engine.connect() as conn:
        query = select(previews.c.tool, previews.c.used_at).where(previews.c.conversation_id == conversation)
        rows = [(r.tool, "used" if r.used_at else "open") for r in conn.execute(query)]
    engine.dispose()
    return rows


async def test_a_repair_after_an_executed_write_does_not_preview_it_again(tmp_path: Path) -> None:
    script = Script([
        Reply(tool_calls=[MOVE]),
        Reply(text="Done! Your address is updated and we refunded $25 to your card."),  # fabricated
        Reply(tool_calls=[ToolCall("modify_user_address", ADDRESS, id="w2")]),  # the repair re-issues it
        Reply(text="Your default address is now 5 Elm Street, Austin, TX 73301."),
    ])  # fmt: skip
    with copilot_on(tmp_path, script) as (base, model):
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            chat = await Chat(client).start()
            asked = await chat.say("Please change my address to 5 Elm Street, Austin TX 73301, USA")
            preview = next(f.data for f in asked if f.event == "tool.preview")
            done = await chat.turn("confirmations", {"preview_id": preview["preview_id"], "approve": True})
    assert kinds(done).count("tool.executed") == 1 and "tool.preview" not in kinds(done), kinds(done)
    assert completed(done) != "awaiting_confirmation"
    assert _previews(tmp_path, chat.cid) == [("modify_user_address", "used")]
    repair_result = model.log.requests[3].messages[-1]
    assert repair_result["role"] == "tool" and "not_run" in repair_result["content"]
    script.assert_consumed()
