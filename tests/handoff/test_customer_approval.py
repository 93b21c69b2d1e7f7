"""A customer's write over the customer limit is previewed to and confirmed by the customer first; only that
confirmation becomes an approval request, which a supervisor decides in the approvals inbox (executed once,
with the approver recorded)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from copilot.api.app import create_app
from copilot.runtime import Runtime, open_runtime
from copilot.settings import Settings
from copilot.store.schema import executions
from tests.api.support import SECRET, token
from tests.handoff.support import CUSTOMER_ID, PENDING, events, order, say, set_paid

ME = token("customer", CUSTOMER_ID)
SUE = token("supervisor", "sue")


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    settings = Settings(data_dir=tmp_path, secret=SECRET)
    async with open_runtime(settings) as runtime:
        transport = httpx.ASGITransport(app=create_app(settings, runtime=runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield runtime, client


async def test_customer_over_limit_cancel_goes_to_a_supervisor(
    system: tuple[Runtime, httpx.AsyncClient],
) -> None:
    runtime, client = system
    set_paid(runtime, PENDING, 20000.0)  # customer limit 10 000, supervisor 25 000
    cid = (await client.post("/v1/conversations", headers=ME)).json()["id"]
    said = await say(client, runtime, cid, ME, f"Please cancel order {PENDING}, I ordered it by mistake")
    preview = next(e.data for e in said if e.event == "tool.preview")
    assert preview["approval"] == {"amount": 20000.0, "limit": 10000.0, "approver": "supervisor"}
    assert "tool.denied" not in [e.event for e in said] and order(runtime, PENDING)["status"] == "pending"
    assert (await client.get("/v1/approvals", headers=SUE)).json()["approvals"] == []

    confirm = {"preview_id": preview["preview_id"], "approve": True}
    assert (
        await client.post(f"/v1/conversations/{cid}/confirmations", json=confirm, headers=ME)
    ).status_code == 202
    await runtime.turns.wait_idle(cid)
    pending = (await client.get("/v1/approvals", headers=SUE)).json()["approvals"]
    assert [(a["requested_by"], a["tool"], a["amount"]) for a in pending] == [
        (f"customer:{CUSTOMER_ID}@demo", "cancel_pending_order", 20000.0)
    ]
    customer_view = [e.event for e in await events(client, cid, ME)]
    assert "approval.status" in customer_view and "approval.requested" not in customer_view  # staff-only
    assert "approval.requested" in [e.event for e in await events(client, cid, SUE)]

    approval_id = pending[0]["approval_id"]
    decided = (await client.post(f"/v1/approvals/{approval_id}", json={"approve": True}, headers=SUE)).json()
    assert decided["decided_by"] == "supervisor:sue@demo" and decided["result"]["outcome"] == "executed"
    assert order(runtime, PENDING)["status"] == "cancelled"
    with runtime.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(executions)).scalar_one() == 1
