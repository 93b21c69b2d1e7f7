"""A whole conversation over HTTP with the real langchain-anthropic client against the scripted Anthropic
Messages server: a cited answer, a write (tool_use → preview → confirm → execute → answer) with a 429 and
its retry-after on the way, then an overloaded (529) model → a typed error offering a human, and the
conversation still answers afterwards. The server checks the key and every tool_use/tool_result pairing."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from copilot.api.app import create_app
from copilot.llm.testing import Fail, Reply, Step, ToolCall, WireRequest, WireServer, anthropic_app
from copilot.settings import Settings
from tests.api.support import SECRET, serve_in_thread
from tests.llm.wire.conversation import FAST, PENDING, Chat, completed, error_of, kinds

KEY = "ak-scripted"
_PASSAGE = re.compile(r'<passage id="([^"]*)" title="[^"]*">(.*?)</passage>', re.DOTALL)


def system_text(request: WireRequest) -> str:
    system = request.body.get("system")
    if isinstance(system, list):
        return "\n".join(str(block.get("text", "")) for block in system if isinstance(block, dict))
    return str(system or "")


def quote_first_passage(request: WireRequest) -> Step:
    """Answer with a sentence of the first passage the copilot sent, cited: what a grounded model does."""
    pid, text = _PASSAGE.findall(system_text(request))[0]
    sentence = next(s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if len(s.split()) >= 5)
    return Reply(text=f"{sentence.rstrip('.')} [{pid}].", chunk=5)


class Steps:
    """Replays steps in order; a step may be computed from the request. Fails the test on an extra request."""

    def __init__(self, *steps: Step | Callable[[WireRequest], Step]) -> None:
        self.steps, self.position = list(steps), 0

    def __call__(self, request: WireRequest) -> Step:
        if self.position >= len(self.steps):
            return Fail(500, f"unexpected request #{self.position + 1}")
        step = self.steps[self.position]
        self.position += 1
        return step(request) if callable(step) else step


async def test_a_conversation_with_the_anthropic_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    cancel = ToolCall(
        "cancel_pending_order", {"order_id": PENDING, "reason": "ordered by mistake"}, id="toolu_w1"
    )
    steps = Steps(
        quote_first_passage,
        Reply(tool_calls=[cancel]),
        Fail(429, "rate limited", retry_after=1),
        Reply(text=f"Order {PENDING} is now cancelled."),
        Fail(529, "Overloaded"),
        Fail(529, "Overloaded"),
        Reply(text="I'm back: how else can I help?"),
    )
    with WireServer(anthropic_app(steps, api_key=KEY)) as model:
        fast: dict[str, Any] = dict(FAST)
        settings = Settings(data_dir=tmp_path, secret=SECRET, model="anthropic:scripted",
                            model_base_url=model.url, **fast)  # fmt: skip
        with serve_in_thread(create_app(settings)) as base:
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                chat = await Chat(client).start()
                help_turn = await chat.say("How long do I have to return an item?")
                asked = await chat.say(f"Please cancel my order {PENDING}, I ordered it by mistake")
                preview = next(f.data for f in asked if f.event == "tool.preview")
                done = await chat.turn(
                    "confirmations", {"preview_id": preview["preview_id"], "approve": True}
                )
                overloaded = await chat.say("Is there anything else I should know?")
                after = await chat.say("Hello again")
    model.log.assert_clean()
    assert steps.position == len(steps.steps)
    requests = model.log.requests
    assert {r.model for r in requests} == {
        "scripted"
    }  # not streamed: the graph streams node updates (db0ec3e)

    answer = next(f.data for f in help_turn if f.event == "message.completed")
    assert answer["citations"] and f"[{answer['citations'][0]['id']}]" in answer["text"]
    streamed = "".join(f.data["text"] for f in help_turn if f.event == "message.delta")
    assert streamed == answer["text"] and completed(help_turn) == "completed"

    assert completed(asked) == "awaiting_confirmation" and preview["tool"] == "cancel_pending_order"
    assert "tool.executed" in kinds(done) and completed(done) == "completed", kinds(done)
    assert (
        next(f.data for f in done if f.event == "message.completed")["text"]
        == f"Order {PENDING} is now cancelled."
    )
    limited, retried = requests[2], requests[3]
    assert retried.at - limited.at >= 1.0  # the retry waited for retry-after
    results = [b for b in retried.messages[-1]["content"] if b.get("type") == "tool_result"]
    assert [b["tool_use_id"] for b in results] == ["toolu_w1"]  # the executed write, answered in place

    error = error_of(overloaded)
    assert error["code"] == "model_unavailable" and error["handoff"] == "offered", error
    assert completed(overloaded) == "failed" and "message.completed" not in kinds(overloaded)
    assert completed(after) == "completed"
