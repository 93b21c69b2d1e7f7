"""History that no longer fits the context window is summarised by the model (the real langchain-openai
client against the scripted server): every request fits the window, later requests carry the summary and the
latest result of a tool whose messages fell out, and a confirmed write's turn is sent whole."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from copilot.llm.testing import Reply, Step, ToolCall, WireRequest
from tests.llm.wire.conversation import PENDING, Chat, completed, copilot_on

WINDOW = 8000
LOOKUP = ToolCall("get_order_details", {"order_id": PENDING}, id="r1")
CANCEL = ToolCall("cancel_pending_order", {"order_id": PENDING, "reason": "ordered by mistake"}, id="w1")


class Model:
    """Summary requests (no tools, our summary instructions) get a numbered summary; the copilot's requests
    follow the conversation: look the order up, note long messages, preview the cancel, then answer."""

    def __init__(self) -> None:
        self.summaries: list[WireRequest] = []
        self.turns: list[WireRequest] = []

    def __call__(self, request: WireRequest) -> Step:
        system = str(request.messages[0]["content"])
        if not request.tool_names and system.startswith("Summarise this earlier part"):
            self.summaries.append(request)
            return Reply(text=f"SUMMARY-{len(self.summaries)}: the customer sent numbered notes.")
        self.turns.append(request)
        last = request.messages[-1]
        said = str(last.get("content") or "")
        if last["role"] == "user" and "where is" in said:
            return Reply(tool_calls=[LOOKUP])
        if last["role"] == "user" and said.startswith("cancel"):
            return Reply(tool_calls=[CANCEL])
        if last["role"] == "tool" and last.get("tool_call_id") == "w1":
            return Reply(text="What else can I help you with?")
        return Reply(text="Noted. " + "x" * 300)


async def test_history_is_summarised_to_fit_the_window(tmp_path: Path) -> None:
    model = Model()
    with copilot_on(
        tmp_path, model, context_window=WINDOW, model_context_tokens=WINDOW, history_summary="model"
    ) as (base, server):
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            chat = await Chat(client).start()
            assert completed(await chat.say(f"where is my order {PENDING}?")) == "completed"
            for n in range(10):
                assert completed(await chat.say(f"note number {n}: " + "y" * 1600)) == "completed"
            asked = await chat.say(f"cancel my order {PENDING}, I ordered it by mistake")
            preview = next(f.data for f in asked if f.event == "tool.preview")
            done = await chat.turn("confirmations", {"preview_id": preview["preview_id"], "approve": True})
    server.log.assert_clean()
    assert completed(done) == "completed" and "tool.executed" in [f.event for f in done]
    assert max(r.estimated_tokens() for r in server.log.requests) <= WINDOW  # every request fits
    assert 1 <= len(model.summaries) < 10  # summarised when needed, then reused
    later = model.turns[-1]
    system = str(later.messages[0]["content"])
    assert f"SUMMARY-{len(model.summaries)}" in system and "<summary>" in system
    carried = system.split("Latest tool results", 1)[1]
    assert "get_order_details" in carried and PENDING in carried  # the lookup's result, carried verbatim
    sent = json.dumps(later.messages[1:])
    assert '"r1"' not in sent and "note number 0" not in sent  # those messages themselves were left out
    assert [m.get("tool_call_id") for m in later.messages if m["role"] == "tool"][
        -1
    ] == "w1"  # the write, whole
    assert "note number 0" in json.dumps(model.summaries[0].messages)  # the model summarised what fell out
