"""A real turn over HTTP shows up in /metrics, in the exported trace and in the usage table, with the numbers
the scripted model reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from copilot.settings import ModelPrice
from copilot.store.schema import audit_log, model_usage
from copilot.telemetry.report import tenant_costs
from tests.telemetry.support import order_lookup, sample, settings_for, stack

PRICES = {"scripted:scripted": ModelPrice(input=1.0, output=2.0)}


async def test_metrics_and_usage_rows_after_a_turn(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, prices=PRICES)
    async with stack(settings, order_lookup((120, 15)), traced=False) as s:
        before = await s.samples()
        cid = await s.conversation()
        frames = await s.turn(cid, "Where is my order #W0000001?")
        after = await s.samples()
        with s.runtime.engine.connect() as conn:
            rows = conn.execute(select(model_usage).order_by(model_usage.c.id)).all()
        [costs] = tenant_costs(s.runtime.engine)

    assert frames[-1].data["status"] == "completed"
    assert (costs.tenant, costs.conversations, costs.turns, costs.calls) == ("demo", 1, 1, 2)
    assert (costs.input_tokens, costs.output_tokens, costs.estimated_calls, costs.resolved) == (240, 30, 0, 1)
    assert costs.cost_per_resolved == pytest.approx(300 / 1e6) == costs.cost_usd
    turn_id = frames[-1].data["turn_id"]
    assert [(r.conversation_id, r.turn_id, r.tenant) for r in rows] == [(cid, turn_id, "demo")] * 2
    assert [(r.input_tokens, r.output_tokens, r.estimated) for r in rows] == [(120, 15, False)] * 2
    assert sum(r.cost_usd for r in rows) == pytest.approx((240 * 1.0 + 30 * 2.0) / 1e6)

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    model = {"provider": "scripted", "model": "scripted"}
    assert delta("copilot_model_calls_total", **model) == 2
    assert delta("copilot_model_tokens_total", **model, direction="input", estimated="false") == 240
    assert delta("copilot_model_tokens_total", **model, direction="output", estimated="false") == 30
    assert delta("copilot_model_cost_usd_total", **model) == pytest.approx((240 * 1.0 + 30 * 2.0) / 1e6)
    assert delta("copilot_model_call_seconds_count", **model) == 2
    assert delta("copilot_tool_decisions_total", tool="get_order_details", outcome="execute") == 1
    assert delta("copilot_turn_duration_seconds_count", status="completed") == 1
    assert delta("copilot_turn_first_token_seconds_count", status="completed") == 1
    assert delta("copilot_turn_queue_wait_seconds_count", kind="message") == 1
    assert delta("copilot_retrieval_seconds_count") == 1
    assert delta("copilot_event_append_seconds_count", type="tool.executed") == 1
    assert delta("copilot_event_append_seconds_count", type="message.completed") == 1
    assert sample(after, "copilot_sse_streams_open") == sample(before, "copilot_sse_streams_open")


async def test_a_model_without_usage_is_estimated_and_marked(tmp_path: Path) -> None:
    async with stack(settings_for(tmp_path), order_lookup(None), traced=False) as s:
        cid = await s.conversation()
        await s.turn(cid, "Where is my order #W0000001?")
        with s.runtime.engine.connect() as conn:
            rows = conn.execute(select(model_usage).order_by(model_usage.c.id)).all()

    assert [r.estimated for r in rows] == [True, True]
    # the prompt holds the system prompt, the passages and 16 tool schemas: thousands of characters
    assert all(r.input_tokens > 500 for r in rows)
    assert rows[1].input_tokens > rows[0].input_tokens  # the second call also carries the tool result
    assert rows[1].output_tokens == -(-len("Your order #W0000001 is pending.[]") // 4)
    assert all(r.cost_usd == 0 for r in rows)  # not in the (empty) price table


async def test_one_trace_per_turn_with_node_gateway_retrieval_and_model_spans(tmp_path: Path) -> None:
    async with stack(settings_for(tmp_path), order_lookup((120, 15))) as s:
        cid = await s.conversation()
        await s.turn(cid, "Where is my order #W0000001?")
        with s.runtime.engine.connect() as conn:
            audited = conn.execute(select(audit_log.c.tool, audit_log.c.trace_id)).all()
        spans = s.spans.get_finished_spans()

    turn = next(span for span in spans if span.name == "turn")
    assert turn.context is not None and turn.parent is None
    trace_id = turn.context.trace_id
    in_turn = [span for span in spans if span.context is not None and span.context.trace_id == trace_id]
    names = [span.name for span in in_turn]
    for node in ("guard", "retrieve", "act", "validate"):
        assert names.count(f"node {node}") == 1, names
    assert names.count("node plan") == 2 and names.count("chat scripted") == 2
    assert {"retrieval", "gateway call get_order_details", "gateway permission", "gateway validate",
            "gateway ownership", "gateway dry_run"} <= set(names)  # fmt: skip

    by_id = {span.context.span_id: span for span in in_turn if span.context is not None}
    chat = next(span for span in in_turn if span.name == "chat scripted")
    assert chat.parent is not None and by_id[chat.parent.span_id].name == "node plan"
    assert chat.attributes is not None
    assert chat.attributes["gen_ai.usage.input_tokens"] == 120
    assert chat.attributes["gen_ai.usage.output_tokens"] == 15
    assert chat.attributes["gen_ai.request.model"] == "scripted"
    call = next(span for span in in_turn if span.name == "gateway call get_order_details")
    assert call.parent is not None and by_id[call.parent.span_id].name == "node act"

    # the audit records (the call's and the turn's own) name the turn's trace; the turn links to the HTTP
    # request that queued it
    assert audited == [("get_order_details", format(trace_id, "032x")), ("(turn)", format(trace_id, "032x"))]
    post = next(span for span in spans if span.name == "POST /v1/conversations/{conversation_id}/messages")
    assert post.context is not None and [link.context.span_id for link in turn.links] == [
        post.context.span_id
    ]
