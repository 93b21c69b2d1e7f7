"""The graph with the offline model (no network) and the real knowledge base, store, policy and gateway."""

from __future__ import annotations

from pathlib import Path

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from copilot.agent.deps import AgentDeps
from copilot.agent.graph import build_graph
from copilot.agent.retrieve import KnowledgeRetriever
from copilot.agent.runner import run_turn
from copilot.knowledge import KnowledgeBase
from copilot.llm.factory import make_chat_model
from tests.agent.fakes import RecordingSink
from tests.agent.world import CUSTOMER, PENDING, World


@pytest.fixture
def offline(world: World) -> AgentDeps:
    kb = KnowledgeBase.from_paths([world.pack.articles_dir])
    return AgentDeps(
        model=make_chat_model(world.settings, world.pack),
        gateway=world.gateway,
        retriever=KnowledgeRetriever(kb),
        tools=[t.spec for t in world.pack.tools],
    )


async def _say(deps: AgentDeps, text: str) -> RecordingSink:
    graph = build_graph(deps, InMemorySaver())
    sink = RecordingSink()
    status = await run_turn(graph, conversation_id="c", turn_id="t", principal=CUSTOMER, sink=sink, text=text)
    await sink.emit("turn.completed", {"status": status}, turn_id="t")  # as the scheduler does
    return sink


async def test_offline_order_status(offline: AgentDeps) -> None:
    sink = await _say(offline, f"Where is my order {PENDING}?")
    assert sink.of("tool.executed")[0]["tool"] == "get_order_details"
    assert sink.of("message.completed")[0]["text"]
    assert sink.events[-1][1] == {"status": "completed"}


async def test_offline_policy_answer_cites_retrieved(offline: AgentDeps) -> None:
    sink = await _say(offline, "How many days do I have to return an item?")
    completed = sink.of("message.completed")[0]
    assert completed["citations"], completed["text"]
    assert "message.delta" in sink.types()
    assert sink.events[-1][1] == {"status": "completed"}


async def test_offline_cancel_previews(offline: AgentDeps, world: World) -> None:
    sink = await _say(offline, f"Please cancel my order {PENDING}, I ordered it by mistake")
    assert sink.of("tool.preview")[0]["tool"] == "cancel_pending_order"
    assert sink.events[-1][1] == {"status": "awaiting_confirmation"}
    assert world.status(PENDING) == "pending"


BANKING_QUESTIONS = (
    "What are the transfer reason codes when you hand me to a human agent?",
    "How do I open a personal checking account?",
    "Why didn't I get my referral bonus for the friends I referred to a credit card?",
    "Can you waive my annual fee on the gold rewards card?",
    "How do I dispute a transaction on my debit card?",
)


@pytest.mark.parametrize("question", BANKING_QUESTIONS)
async def test_a_customer_question_on_the_banking_kb_never_cites_an_internal_doc(
    world: World, shared_data: Path, question: str
) -> None:
    kb = KnowledgeBase.from_paths([shared_data / "tau2-banking-kb" / "documents.jsonl"])
    deps = AgentDeps(
        model=make_chat_model(world.settings, world.pack),
        gateway=world.gateway,
        retriever=KnowledgeRetriever(kb),
        tools=[t.spec for t in world.pack.tools],
    )
    sink = await _say(deps, question)
    internal = {c.id for c in kb.chunks if c.audience == "internal"}
    completed = sink.of("message.completed")[0]
    cited = {c["id"] for c in completed["citations"]}
    assert not cited & internal, completed
    assert "Internal:" not in completed["text"]
