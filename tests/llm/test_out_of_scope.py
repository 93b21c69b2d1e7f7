"""Out-of-scope utterances never trigger a tool: the pack's domain vocabulary gates tool routing."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable

from copilot.llm.domain import Domain

Model = Runnable[LanguageModelInput, AIMessage]
unknown_word = st.text(st.sampled_from("bcdfghjklmnpqrstvwxz"), min_size=5, max_size=10)


def test_domain_share_counts_content_words_only() -> None:
    domain = Domain(["where is my order #W1234567", "cancel my order please"])
    assert domain.share("where is my order #W7654321?") == 1.0
    assert domain.share("what is photosynthesis") == 0.0
    assert domain.share("the and of") == 1.0  # nothing to judge
    assert domain.covers("cancel order") and not domain.covers("cancel my photosynthesis zebra")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(unknown_word, min_size=1, max_size=4), st.sampled_from(["what is", "tell me about", "my", ""])
)
def test_words_the_pack_never_uses_never_call_a_tool(
    bound: Model, system: SystemMessage, words: list[str], lead: str
) -> None:
    reply = bound.invoke([system, HumanMessage(f"{lead} {' '.join(words)}".strip())])
    assert reply.tool_calls == [] or [c["name"] for c in reply.tool_calls] == ["transfer_to_human_agents"]


def test_out_of_scope_questions_call_no_tool_but_account_requests_do(
    bound: Model, system: SystemMessage
) -> None:
    for text in ("what is photosynthesis", "what's on my calendar today", "what are the symptoms of the flu"):
        assert bound.invoke([system, HumanMessage(text)]).tool_calls == [], text
    assert bound.invoke([system, HumanMessage("where is my order #W2611340?")]).tool_calls
