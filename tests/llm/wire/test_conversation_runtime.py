"""Model runtime settings over HTTP: fallback chain, context-window trimming, keys, the audit of model
failures, and a change that was made before the model failed."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select

from copilot.api.app import create_app
from copilot.errors import CopilotError, ErrorCode
from copilot.llm.testing import Fail, Reply, Script, ToolCall, WireServer, openai_app
from copilot.settings import Settings
from copilot.store.schema import audit_log
from tests.api.support import SECRET
from tests.llm.wire.conversation import PENDING, Chat, completed, copilot_on, error_of


async def test_fallback_model_answers_when_the_primary_is_down(tmp_path: Path) -> None:
    backup = Script([Reply(text="The backup model answers: how can I help?")])
    with WireServer(openai_app(backup)) as second:
        primary = Script([Fail(503), Fail(503)])
        fallbacks = f"openai:backup@{second.url}/v1"
        with copilot_on(tmp_path, primary, model_fallbacks=fallbacks) as (base, _):
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                frames = await (await Chat(client).start()).say("hello")
    assert completed(frames) == "completed"
    assert [f.data["text"] for f in frames if f.event == "message.completed"] == [
        "The backup model answers: how can I help?"
    ]
    primary.assert_consumed()
    backup.assert_consumed()
    assert second.log.requests[0].model == "backup"


async def test_history_is_trimmed_to_the_context_window(tmp_path: Path) -> None:
    """An 8k-context model overflowed after 24 rounds on 746edb1; trimmed, every round fits (summaries off:
    test_history_summary.py covers them)."""
    script = Script([Reply(text="Noted. " + "x" * 400) for _ in range(12)])
    with copilot_on(
        tmp_path, script, context_window=6000, model_context_tokens=6000, history_summary="off"
    ) as (base, model):
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            chat = await Chat(client).start()
            for n in range(12):
                assert completed(await chat.say(f"note number {n}: " + "y" * 1200)) == "completed"
    sizes = [r.estimated_tokens() for r in model.log.requests]
    assert max(sizes) <= 6000 and sizes[-1] < sum(
        len(m.get("content") or "") for m in model.log.requests[-1].messages
    )
    assert len(model.log.requests[-1].messages) < 2 * 12  # older rounds were left out
    assert "left out" in str(model.log.requests[-1].messages[0]["content"])


async def test_a_context_overflow_is_retried_with_less_history(tmp_path: Path) -> None:
    """Our estimate is approximate: when the server still says 'too long', half the history is sent."""
    script = Script([Reply(text="ok " * 200) for _ in range(4)])
    with copilot_on(tmp_path, script, model_context_tokens=100_000) as (base, model):
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            chat = await Chat(client).start()
            assert completed(await chat.say("z" * 3000)) == "completed"
            model.app.context_window = model.log.requests[0].estimated_tokens() + 1300  # ~1.5 more rounds
            results = [completed(await chat.say("z" * 3000)) for _ in range(3)]
    assert results == ["completed"] * 3
    assert any(r.estimated_tokens() > model.app.context_window for r in model.log.requests)  # refused once …
    script.assert_consumed()  # … and answered after trimming


async def test_model_failure_after_an_executed_change_says_the_change_was_made(tmp_path: Path) -> None:
    cancel = ToolCall("cancel_pending_order", {"order_id": PENDING, "reason": "ordered by mistake"}, id="w1")
    script = Script([Reply(tool_calls=[cancel]), Fail(503), Fail(503)])
    with copilot_on(tmp_path, script) as (base, _):
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            chat = await Chat(client).start()
            asked = await chat.say("cancel my order #W0000001, I ordered it by mistake")
            preview = next(f.data for f in asked if f.event == "tool.preview")
            done = await chat.turn("confirmations", {"preview_id": preview["preview_id"], "approve": True})
    assert "tool.executed" in [f.event for f in done]
    error = error_of(done)
    assert error["code"] == "model_unavailable" and error["message"].startswith(
        "Your requested change was made"
    )
    assert "rephrase" not in error["message"]
    engine = create_engine(Settings(data_dir=tmp_path).resolved_database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_log.c.tool, audit_log.c.code).where(audit_log.c.tool == "(model)")
        ).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("(model)", "model_unavailable")]


def test_hosted_model_without_its_key_is_a_clear_start_up_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(CopilotError) as caught:
        create_app(Settings(data_dir=tmp_path, secret=SECRET, model="openai:gpt-4o-mini"))
    assert caught.value.code is ErrorCode.CONFIGURATION and "OPENAI_API_KEY" in caught.value.message
    assert "OPENAI_API_KEY" not in os.environ  # the local-server tests above ran without any key
