"""`copilot chat`: a terminal session through the real graph and gateway (scripted model, fake keyboard)."""

from __future__ import annotations

import io
from pathlib import Path

from langchain_core.messages import AIMessage, ToolCall
from rich.console import Console
from sqlalchemy import select

from copilot.cli.chat import chat_session
from copilot.llm.scripted import ScriptedChatModel
from copilot.principal import Principal
from copilot.settings import Settings
from copilot.store.schema import documents
from copilot.wiring import open_system


async def test_chat_previews_ask_then_execute(tmp_path: Path) -> None:
    model = ScriptedChatModel(script=[])
    out = io.StringIO()
    console = Console(file=out, width=200)
    asked: list[str] = []
    async with open_system(Settings(data_dir=tmp_path, secret="k" * 64), model=model) as system:
        with system.engine.connect() as conn:
            rows = conn.execute(
                select(documents.c.owner, documents.c.id, documents.c.data).where(documents.c.kind == "order")
            ).all()
        user, order = next((r.owner, r.id) for r in rows if r.data["status"] == "pending")
        model.script.extend(
            [
                AIMessage(
                    content="",
                    tool_calls=[
                        ToolCall(
                            name="cancel_pending_order",
                            id="c1",
                            args={"order_id": order, "reason": "no longer needed"},
                        )
                    ],
                ),
                AIMessage(content="Done, your order is cancelled."),
            ]
        )
        lines = iter([f"please cancel {order}", "/quit", "never read"])

        def ask(question: str) -> bool:
            asked.append(question)
            return True

        await chat_session(system, Principal("demo", "customer", user), console, lambda: next(lines), ask)
        with system.engine.connect() as conn:
            data = conn.execute(select(documents.c.data).where(documents.c.id == order)).scalar_one()
    assert asked == ["Apply cancel_pending_order?"]
    assert data["status"] == "cancelled"
    text = out.getvalue()
    assert "Please confirm:" in text and f"• Cancel order {order} with" in text
    assert "Done, your order is cancelled." in text
    assert model.remaining == 0
