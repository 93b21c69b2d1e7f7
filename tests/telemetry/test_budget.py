"""Per-tenant token budgets: over budget is a clear error event and the handoff path, never a silent failure."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from copilot.store.schema import handoffs, model_usage
from copilot.telemetry.report import tenant_costs
from tests.telemetry.support import order_lookup, sample, settings_for, stack


async def test_budget_used_up_mid_turn_then_before_the_next(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, token_budgets={"demo": 100})
    async with stack(settings, order_lookup((120, 15))[:1], traced=False) as s:
        before = await s.samples()
        cid = await s.conversation()
        first = await s.turn(cid, "Where is my order #W0000001?")
        # the first model call (135 tokens) used the budget up: the second is refused before it is made
        types = [f.event for f in first]
        error = next(f for f in first if f.event == "error")
        assert error.data["code"] == "budget_exceeded" and "human agent" in error.data["message"]
        asked = next(f for f in first if f.event == "handoff.requested")
        assert asked.data["reason"] == "budget_exceeded"
        assert types.index("error") < types.index("handoff.requested")
        assert "handoff.queued" in types and first[-1].data["status"] == "handoff"

        second = await s.turn(cid, "Hello?", after=first[-1].id)  # the script is empty: no model call
        assert [f.event for f in second] == [
            "turn.started", "error", "handoff.requested", "turn.completed",
        ]  # fmt: skip
        assert second[1].data["code"] == "budget_exceeded" and second[-1].data["status"] == "handoff"
        after = await s.samples()
        with s.runtime.engine.connect() as conn:
            used = conn.execute(select(model_usage.c.input_tokens, model_usage.c.output_tokens)).all()
            queued = conn.execute(select(handoffs.c.reason, handoffs.c.status)).all()
        [costs] = tenant_costs(s.runtime.engine)

    assert s.model.remaining == 0
    assert used == [(120, 15)]
    assert queued == [("budget_exceeded", "waiting")]
    assert (costs.conversations, costs.resolved, costs.cost_per_resolved) == (1, 0, None)  # handed off
    model = {"provider": "scripted", "model": "scripted"}
    errors = sample(after, "copilot_model_errors_total", **model, kind="budget")
    assert errors - sample(before, "copilot_model_errors_total", **model, kind="budget") == 1
    handed = sample(after, "copilot_handoffs_total", reason="budget_exceeded")
    assert handed - sample(before, "copilot_handoffs_total", reason="budget_exceeded") == 1
    assert (
        sample(after, "copilot_turn_duration_seconds_count", status="handoff")
        - sample(before, "copilot_turn_duration_seconds_count", status="handoff")
        == 2
    )


async def test_another_tenant_or_no_budget_is_not_limited(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, token_budgets={"other": 1})
    async with stack(settings, order_lookup((120, 15)), traced=False) as s:
        cid = await s.conversation()
        frames = await s.turn(cid, "Where is my order #W0000001?")
    assert frames[-1].data["status"] == "completed"
    assert not [f for f in frames if f.event == "error"]
