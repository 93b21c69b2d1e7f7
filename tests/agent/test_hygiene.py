"""History trimming keeps a valid, recent suffix (hypothesis), and signatures identify identical calls."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage
from langchain_core.messages.utils import count_tokens_approximately

from copilot.agent.hygiene import fit, signature


def _round(n: int, size: int, tools: int) -> list[AnyMessage]:
    calls = [{"name": "t", "args": {"n": n}, "id": f"c{n}_{i}"} for i in range(tools)]
    messages: list[AnyMessage] = [HumanMessage("q" * size)]
    if calls:
        messages.append(AIMessage(content="", tool_calls=calls))
        messages += [ToolMessage("r" * size, tool_call_id=str(c["id"])) for c in calls]
    messages.append(AIMessage(content="a" * size))
    return messages


rounds = st.lists(st.tuples(st.integers(1, 400), st.integers(0, 2)), min_size=1, max_size=12)


@given(rounds, st.integers(1, 3000))
def test_fit_keeps_a_valid_recent_suffix(shape: list[tuple[int, int]], budget: int) -> None:
    messages = [m for n, (size, tools) in enumerate(shape) for m in _round(n, size, tools)]
    kept = fit(messages, budget)
    assert kept == messages[len(messages) - len(kept) :]  # a suffix: the newest messages
    assert isinstance(kept[0], HumanMessage)  # never a tool result without its call
    last_round = len(_round(0, 1, shape[-1][1]))
    assert len(kept) >= last_round  # the current turn is whole
    if len(kept) > last_round:
        assert count_tokens_approximately(kept) <= budget


def test_signature_is_canonical() -> None:
    assert signature("t", {"a": 1, "b": 2}) == signature("t", {"b": 2, "a": 1})
    assert signature("t", {"a": 1}) != signature("u", {"a": 1}) != signature("t", {"a": 2})
