"""With the offline model (COPILOT_HISTORY_SUMMARY=auto → extractive), a conversation longer than the context
window gets an extractive summary of what fell out, kept in the checkpoint, with the latest order lookup
carried; no model call is spent on it."""

from __future__ import annotations

from pathlib import Path

from copilot.principal import Principal
from copilot.settings import Settings
from copilot.simulation.trial import TurnEvents
from copilot.turns.request import TurnRequest, new_turn_id
from copilot.wiring import open_system
from tests.api.support import SECRET

CUSTOMER = Principal("demo", "customer", "demo_customer_0001")


async def test_the_offline_model_gets_an_extractive_summary(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret=SECRET, model="offline", model_context_tokens=6000)
    async with open_system(settings) as system:
        cid = "summary-offline"
        said = ["What is the status of my order #W0000001?"]
        said += [f"Another note {n}: " + "please remember this detail " * 40 for n in range(8)]
        for text in said:
            sink = TurnEvents()
            assert (
                await system.runner(TurnRequest(cid, new_turn_id(), CUSTOMER, text=text), sink) == "completed"
            )
        state = (await system.graph.aget_state({"configurable": {"thread_id": cid}})).values
    summary = state["summary"]
    assert summary is not None and "Customer: What is the status of my order #W0000001?" in summary["text"]
    assert [tool for tool, _ in summary["results"]] == ["get_order_details"]
    assert "order_id: #W0000001" in summary["results"][0][1]
    assert state["spent"]["model_calls"] <= 2  # the extractive summary makes no model call
