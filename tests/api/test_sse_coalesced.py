"""A long answer from the real graph (run_turn, coalesced deltas) over a real uvicorn server: the customer
still sees the text stream in several message.delta frames, far fewer than tokens, with the exact text."""

from __future__ import annotations

from pathlib import Path

import httpx
from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver

from copilot.agent.deps import AgentDeps
from copilot.agent.graph import build_graph
from copilot.agent.runner import run_turn
from copilot.api.app import create_app
from copilot.coalesce import FlushPolicy
from copilot.events import EventSink
from copilot.llm.scripted import ScriptedChatModel
from copilot.runtime import assemble
from copilot.settings import Settings
from copilot.turns import TurnRequest, TurnStatus
from tests.agent.fakes import FixedRetriever
from tests.agent.world import CUSTOMER, World
from tests.api.support import SECRET, OnceDecider, Sse, iter_sse, serve_in_thread, token

SENTENCE = "Items can be returned within 30 days of delivery, and refunds go back to the original card. "
ANSWER = SENTENCE * 12 + "[returns-policy#1] [returns-policy#2]"  # the last sentence cites both halves


async def test_a_long_answer_streams_in_several_coalesced_deltas(tmp_path: Path) -> None:
    world = World.create(tmp_path)
    model = ScriptedChatModel(script=[AIMessage(content=ANSWER)])
    deps = AgentDeps(model=model, gateway=world.gateway, retriever=FixedRetriever(), tools=[])
    graph = build_graph(deps, InMemorySaver())

    async def runner(request: TurnRequest, sink: EventSink) -> TurnStatus:
        return await run_turn(
            graph, conversation_id=request.conversation_id, turn_id=request.turn_id,
            principal=request.principal, sink=sink, text=request.text, flush=FlushPolicy(0.04, 256),
        )  # fmt: skip

    settings = Settings(data_dir=tmp_path, secret=SECRET)
    runtime = assemble(settings, runner=runner, decider=OnceDecider(), engine=world.engine)
    headers = token("customer", CUSTOMER.user_id)
    frames: list[Sse] = []
    with serve_in_thread(create_app(settings, runtime=runtime)) as base:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            cid = (await client.post("/v1/conversations", headers=headers)).json()["id"]
            body = {"text": "How do returns work?"}
            assert (
                await client.post(f"/v1/conversations/{cid}/messages", json=body, headers=headers)
            ).status_code == 202
            async with client.stream("GET", f"/v1/conversations/{cid}/events", headers=headers) as stream:
                async for frame in iter_sse(stream):
                    frames.append(frame)
                    if frame.event == "turn.completed":
                        break
    world.engine.dispose()
    deltas = [f.data["text"] for f in frames if f.event == "message.delta"]
    completed = next(f.data for f in frames if f.event == "message.completed")
    assert "".join(deltas) == completed["text"] == ANSWER
    assert len(ANSWER) // 256 <= len(deltas) < len(ANSWER.split()) // 4
    assert [f.id for f in frames] == list(range(1, len(frames) + 1))
    assert frames[-1].data["status"] == "completed"
