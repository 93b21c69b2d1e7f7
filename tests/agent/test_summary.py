"""History summaries (copilot/agent/summary.py): the extractive summary and the carried tool results stay
within their room whatever the history, the newest facts first kept; the summary covers a prefix by id."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage

from copilot.agent.summary import HistorySummary, carried, compact, extractive, transcript_lines, uncovered

texts = st.text(min_size=0, max_size=400)
messages = st.lists(
    st.one_of(
        texts.map(HumanMessage),
        texts.map(AIMessage),
        st.tuples(st.sampled_from(["get_order_details", "get_user_details"]), texts).map(
            lambda p: ToolMessage(p[1], tool_call_id="c", name=p[0])
        ),
    ),
    max_size=30,
)


@given(messages, st.integers(min_value=10, max_value=2000), st.none() | texts)
def test_the_extractive_summary_fits_its_room(
    history: list[AnyMessage], limit: int, previous: str | None
) -> None:
    summary = extractive(previous, history, limit)
    assert len(summary) <= limit + 2  # and "…" when older lines had to go
    opening = [*(previous.split("\n") if previous else []), *transcript_lines(history)]
    opening = [line for line in opening if line != "…"]
    assert not opening or summary.startswith(opening[0][:limit])


@given(messages, st.integers(min_value=120, max_value=1000))
def test_carried_results_are_the_latest_per_tool_within_the_limit(
    history: list[AnyMessage], limit: int
) -> None:
    kept = carried([], history, limit)
    assert all(len(text) <= limit for _, text in kept) and len({t for t, _ in kept}) == len(kept)
    for tool, text in kept:
        last = [m for m in history if isinstance(m, ToolMessage) and m.name == tool][-1]
        assert text == compact(last.text, limit)


def test_a_json_result_keeps_its_top_level_facts_first() -> None:
    result = {
        "ok": True,
        "result": {"items": [{"name": "T-Shirt", "price": 44.2}] * 20, "order_id": "#W0000001"},
    }
    text = compact(json.dumps(result), 120)
    assert text.startswith("ok: True; result.order_id: #W0000001") and len(text) <= 120


def test_the_summary_covers_the_messages_before_its_id() -> None:
    history: list[AnyMessage] = [HumanMessage("a", id="1"), AIMessage("b", id="2"), HumanMessage("c", id="3")]
    summary = HistorySummary(text="a, b", upto="3", results=[])
    assert [m.id for m in uncovered(history, summary)] == ["3"]
    assert uncovered(history, None) == history
    assert extractive(None, history[:2], 100) == "Customer: a\nAssistant: b"
