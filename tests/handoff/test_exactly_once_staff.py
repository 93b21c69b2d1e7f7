"""Staff paths keep the gateway's guarantees: an approval request commits with the confirmation that made it, a
supervisor's decision commits with its audit row (or not at all), and an approved preview executes once (SQLite
and Postgres); concurrent agent confirmations crediting one gift card never lose an update (the real system
over HTTP)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, Engine

from copilot.api.app import create_app
from copilot.errors import CopilotError, ErrorCode
from copilot.eventlog import EventLog
from copilot.gateway.casbin_authorizer import CasbinAuthorizer
from copilot.gateway.gateway import Gateway
from copilot.gateway.result import Preview
from copilot.handoff.approvals import ApprovalService, ApprovalStore
from copilot.principal import Principal
from copilot.runtime import Runtime, open_runtime
from copilot.settings import PROJECT_ROOT, Settings
from copilot.store.documents import DocumentStore
from tests.api.support import SECRET, token
from tests.gateway.retail import AGENT, audit_outcomes, doc, gift_card, ledger_rows, put, retail_pack

SUE = Principal("demo", "supervisor", "sue")
SAL = Principal("demo", "supervisor", "sal")
CANCEL = {"order_id": "#W0000004", "reason": "no longer needed"}


def _over_limit(engine: Engine) -> float:
    """#W0000004 (Sam, gift card) paid 6000: over the agent's 5000, under the supervisor's 25 000."""
    order = doc(engine, "order", "#W0000004")
    order["payment_history"][0]["amount"] = 6000.0
    put(engine, "order", "#W0000004", order, owner=order["user_id"])
    return gift_card(engine, "demo_customer_0002", "gift_card_0000002")


def _gateway(engine: Engine) -> tuple[Gateway, ApprovalStore]:
    store = ApprovalStore(engine)
    authorizer = CasbinAuthorizer.from_dir(PROJECT_ROOT / "policies")
    return Gateway(engine, retail_pack(), authorizer, approvals=store), store


def _approvals(engine: Engine, wrap: Any = None) -> tuple[ApprovalService, str, Gateway]:
    """The agent previews and confirms the over-limit cancel: that confirmation is the approval request."""
    gateway, store = _gateway(engine)
    previewed = gateway.call(AGENT, "cancel_pending_order", CANCEL)
    assert previewed.preview is not None and previewed.preview.approval is not None
    gateway.decide(AGENT, previewed.preview.preview_id, True)
    approval = store.by_preview("demo", previewed.preview.preview_id)
    assert approval is not None and approval.status == "pending"
    service = ApprovalService(store, wrap(gateway) if wrap else gateway, EventLog(engine))
    return service, approval.approval_id, gateway


def test_the_request_commits_with_the_confirmation_or_not_at_all(retail_engine: Engine) -> None:
    _over_limit(retail_engine)
    gateway, store = _gateway(retail_engine)
    preview = gateway.call(AGENT, "cancel_pending_order", CANCEL).preview
    assert preview is not None
    with pytest.raises(RuntimeError), retail_engine.begin() as conn:
        gateway.decide(AGENT, preview.preview_id, True, conn=conn)
        raise RuntimeError("the process died before the commit")
    assert store.by_preview("demo", preview.preview_id) is None  # no request without the confirmation
    assert gateway.execute(AGENT, preview.preview_id).code == "confirmation_required"
    gateway.decide(AGENT, preview.preview_id, True)
    assert gateway.execute(AGENT, preview.preview_id).code == "approval_pending"
    assert ledger_rows(retail_engine) == 0


async def test_two_supervisors_approving_at_once_execute_once(retail_engine: Engine) -> None:
    balance = _over_limit(retail_engine)
    service, approval_id, _ = _approvals(retail_engine)
    results = await asyncio.gather(
        service.decide(SUE, approval_id, True), service.decide(SAL, approval_id, True), return_exceptions=True
    )
    errors = [r for r in results if isinstance(r, CopilotError)]
    assert [e.code for e in errors] == [ErrorCode.CONFLICT], results
    decided = next(r for r in results if not isinstance(r, BaseException))
    assert decided.result is not None and decided.result["outcome"] == "executed" and decided.preview_id
    assert gift_card(retail_engine, "demo_customer_0002", "gift_card_0000002") == balance + 6000.0
    assert ledger_rows(retail_engine) == 1
    assert audit_outcomes(retail_engine, "cancel_pending_order").count("execute") == 1


class _DecisionLost:
    """The real gateway, whose supervisor audit row fails after writing (as if the connection dropped)."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.call, self.execute, self.decide = gateway.call, gateway.execute, gateway.decide
        self.load_preview = gateway.load_preview

    def audit_approval(self, conn: Connection, approver: Principal, preview: Preview, approve: bool,
                       **kw: Any) -> None:  # fmt: skip
        self.gateway.audit_approval(conn, approver, preview, approve, **kw)
        raise CopilotError(ErrorCode.INTERNAL, "The database went away; nothing was changed, retry.")


async def test_the_supervisors_decision_commits_with_its_audit_row(retail_engine: Engine) -> None:
    _over_limit(retail_engine)
    failing, approval_id, gateway = _approvals(retail_engine, _DecisionLost)
    with pytest.raises(CopilotError):
        await failing.decide(SUE, approval_id, True)
    still = failing.store.get("demo", approval_id)
    assert still is not None and (still.status, still.decided_by) == ("pending", None)
    assert audit_outcomes(retail_engine, "cancel_pending_order").count("confirm") == 1  # the agent's only
    assert doc(retail_engine, "order", "#W0000004")["status"] == "pending" and ledger_rows(retail_engine) == 0
    working = ApprovalService(failing.store, gateway, EventLog(retail_engine))
    decided = await working.decide(SUE, approval_id, True)
    assert decided.result is not None and decided.result["outcome"] == "executed"
    assert audit_outcomes(retail_engine, "cancel_pending_order").count("execute") == 1


class _DiedBeforeExecuting:
    """The real gateway, whose process 'dies' when the approved preview is to execute (after TX-A)."""

    def __init__(self, gateway: Gateway) -> None:
        self.call, self.decide, self.load_preview = gateway.call, gateway.decide, gateway.load_preview
        self.audit_approval = gateway.audit_approval

    def execute(self, principal: Principal, preview_id: str) -> Any:
        raise RuntimeError("killed between the approval's commit and its execution")


async def test_an_execution_owed_after_the_approval_runs_once_however_many_workers_run_it(
    retail_engine: Engine,
) -> None:
    balance = _over_limit(retail_engine)
    dying, approval_id, gateway = _approvals(retail_engine, _DiedBeforeExecuting)
    with pytest.raises(RuntimeError, match="killed"):
        await dying.decide(SUE, approval_id, True)
    owed = dying.store.get("demo", approval_id)
    assert (
        owed is not None
        and (owed.status, owed.result) == ("approved", None)
        and ledger_rows(retail_engine) == 0
    )
    later = datetime.now(UTC) + timedelta(seconds=1)
    assert dying.store.owed(owed.decided_at or later) == []  # a live request's run is left alone meanwhile
    workers = [ApprovalService(dying.store, gateway, EventLog(retail_engine)) for _ in range(3)]
    ran = await asyncio.gather(
        *(w.execute_owed(later) for w in workers), workers[0].decide(SUE, approval_id, True)
    )
    assert sum(r for r in ran[:3] if isinstance(r, int)) >= 1
    done = dying.store.get("demo", approval_id)
    assert done is not None and done.result is not None and done.result["outcome"] == "executed"
    assert gift_card(retail_engine, "demo_customer_0002", "gift_card_0000002") == balance + 6000.0
    assert ledger_rows(retail_engine) == 1
    assert audit_outcomes(retail_engine, "cancel_pending_order").count("execute") == 1
    assert dying.store.owed(later) == []


# -- agent tools over HTTP (the real system on SQLite) ---------------------------------------------------------
ANN = token("agent", "ann")


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    settings = Settings(data_dir=tmp_path, secret=SECRET)
    async with open_runtime(settings) as runtime:
        transport = httpx.ASGITransport(app=create_app(settings, runtime=runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield runtime, client


def _copy_order(engine: Engine, source: str, target: str, amount: float) -> None:
    with engine.begin() as conn:
        store = DocumentStore(conn, "demo")
        order = store.get("order", source)
        assert order is not None
        order.update(order_id=target, payment_history=[{**order["payment_history"][0], "amount": amount}])
        store.put("order", target, order, owner=order["user_id"])


async def test_concurrent_agent_confirmations_never_lose_a_gift_card_credit(
    system: tuple[Runtime, httpx.AsyncClient],
) -> None:
    runtime, client = system
    _copy_order(runtime.engine, "#W0000004", "#W0000098", 40.0)
    before = gift_card(runtime.engine, "demo_customer_0002", "gift_card_0000002")
    cid = (await client.post("/v1/conversations", headers=token("customer", "demo_customer_0002"))).json()[
        "id"
    ]
    ids = []
    for order_id in ("#W0000004", "#W0000098"):
        body = {"tool": "cancel_pending_order", "arguments": {**CANCEL, "order_id": order_id}}
        previewed = (await client.post(f"/v1/conversations/{cid}/agent-tools", json=body, headers=ANN)).json()
        ids.append(previewed["preview"]["preview_id"])
    url = f"/v1/conversations/{cid}/agent-confirmations"
    responses = await asyncio.gather(
        *(client.post(url, json={"preview_id": p, "approve": True}, headers=ANN) for p in ids)
    )
    outcomes = sorted((r.json()["outcome"], r.json()["code"]) for r in responses)
    assert outcomes == [("denied", "preview_stale"), ("executed", None)]
    executed = next(r.json() for r in responses if r.json()["outcome"] == "executed")
    credited = sum(
        p["amount"] for p in executed["result"]["payment_history"] if p["transaction_type"] == "refund"
    )
    assert gift_card(runtime.engine, "demo_customer_0002", "gift_card_0000002") == round(before + credited, 2)
    again = await client.post(url, json={"preview_id": ids[0], "approve": True}, headers=ANN)
    assert again.status_code == 409 and again.json()["error"]["code"] == "confirmation_used"
