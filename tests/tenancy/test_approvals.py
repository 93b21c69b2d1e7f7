"""Approvals keep consent (real server, real HTTP, live SSE). Regression: on 746edb1 the supervisor approval
request was created during the dry run, before the customer saw a preview; "Approve" previewed, approved and
executed in one step without showing the diff; the customer was never told and their old preview answered
with a developer error. Now the caller previews and confirms first; only then is it an approval request with
the same before → after diff, which executes exactly the confirmed preview once; both decisions are audited
and the customer's stream shows waiting → approved|rejected → executed live."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
from sqlalchemy import create_engine, func, select, update

from copilot.store.schema import documents, executions
from tests.api.support import Sse, parse_sse, token

CUSTOMER = token("customer", "demo_customer_0001")
SUE = token("supervisor", "sue")
ANN = token("agent", "ann")


def _set_paid(database_url: str, order_id: str, amount: float) -> None:
    engine = create_engine(database_url)
    key = (documents.c.tenant == "demo") & (documents.c.kind == "order") & (documents.c.id == order_id)
    with engine.begin() as conn:
        data = conn.execute(select(documents.c.data).where(key)).scalar_one()
        for payment in data["payment_history"]:
            payment["amount"] = amount
        conn.execute(update(documents).where(key).values(data=data))
    engine.dispose()


def _order(database_url: str, order_id: str) -> tuple[str, int]:
    """(status, ledger rows of the database)."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        key = (documents.c.kind == "order") & (documents.c.id == order_id)
        status = conn.execute(select(documents.c.data).where(key)).scalar_one()["status"]
        ledger = conn.execute(select(func.count()).select_from(executions)).scalar_one()
    engine.dispose()
    return str(status), int(ledger)


def _another_pending_order(database_url: str) -> str:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(select(documents.c.id, documents.c.data).where(documents.c.kind == "order")).all()
    engine.dispose()
    return next(str(i) for i, data in sorted(rows) if data["status"] == "pending" and i != "#W0000001")


def _events(http: httpx.Client, cid: str, headers: dict[str, str], after: int = 0) -> list[Sse]:
    got = http.get(
        f"/v1/conversations/{cid}/events", params={"follow": "false", "after": after}, headers=headers
    )
    assert got.status_code == 200, got.text
    return parse_sse(got.text)


def _settle(http: httpx.Client, cid: str, after: int) -> list[Sse]:
    """The events after `after`, once the turn they belong to completed."""
    for _ in range(300):
        new = _events(http, cid, CUSTOMER, after)
        if any(e.event == "turn.completed" for e in new):
            return new
        time.sleep(0.05)
    raise AssertionError(f"no turn.completed after {after}")


def _follow(server: str, cid: str, after: int, until: str, out: list[Sse]) -> None:
    """A live SSE stream as the customer (the widget's view), until approval.status `until`."""
    headers = {**CUSTOMER, "Last-Event-ID": str(after)}
    with (
        httpx.Client(base_url=server, timeout=20) as live,
        live.stream("GET", f"/v1/conversations/{cid}/events", headers=headers) as stream,
    ):
        buffer = ""
        for chunk in stream.iter_text():
            buffer += chunk.replace("\r\n", "\n")
            frames, _, buffer = buffer.rpartition("\n\n")
            out.extend(parse_sse(frames + "\n\n"))
            if any(e.event == "approval.status" and e.data["status"] == until for e in out):
                return


def test_a_customers_over_limit_cancel_is_confirmed_then_approved_then_executed_once(
    http: httpx.Client, server: str, database_url: str
) -> None:
    _set_paid(database_url, "#W0000001", 20000.0)  # customer limit 10 000, supervisor 25 000
    cid = http.post("/v1/conversations", headers=CUSTOMER).json()["id"]
    text = "Please cancel order #W0000001, I ordered it by mistake"
    assert (
        http.post(f"/v1/conversations/{cid}/messages", json={"text": text}, headers=CUSTOMER).status_code
        == 202
    )
    asked = _settle(http, cid, 0)
    preview = next(e.data for e in asked if e.event == "tool.preview")
    assert preview["approval"]["limit"] == 10000 and "supervisor" in preview["summary"]
    assert http.get("/v1/approvals", headers=SUE).json()["approvals"] == []  # nothing before consent

    confirm = {"preview_id": preview["preview_id"], "approve": True}
    assert (
        http.post(f"/v1/conversations/{cid}/confirmations", json=confirm, headers=CUSTOMER).status_code == 202
    )
    confirmed = _settle(http, cid, asked[-1].id)
    statuses = [e.data["status"] for e in confirmed if e.event == "approval.status"]
    assert statuses == ["waiting"] and "approval.requested" not in [e.event for e in confirmed]
    assert _order(database_url, "#W0000001")[0] == "pending"
    again = http.post(f"/v1/conversations/{cid}/confirmations", json=confirm, headers=CUSTOMER)
    assert again.status_code == 409 and "waiting for a supervisor" in again.json()["error"]["message"]

    inbox = http.get("/v1/approvals", headers=SUE).json()["approvals"]
    assert [(a["requested_by"], a["preview_id"]) for a in inbox] == [
        ("customer:demo_customer_0001@demo", preview["preview_id"])
    ]
    assert inbox[0]["preview"]["changes"] == preview["changes"]  # the same before → after diff

    seen: list[Sse] = []
    follower = threading.Thread(target=_follow, args=(server, cid, confirmed[-1].id, "executed", seen))
    follower.start()
    time.sleep(0.3)
    decided = http.post(f"/v1/approvals/{inbox[0]['approval_id']}", json={"approve": True}, headers=SUE)
    follower.join(timeout=20)
    assert decided.status_code == 200, decided.text
    assert decided.json()["result"]["outcome"] == "executed"
    assert [e.data["status"] for e in seen if e.event == "approval.status"] == ["approved", "executed"]
    assert _order(database_url, "#W0000001") == ("cancelled", 1)
    assert (
        http.post(f"/v1/approvals/{inbox[0]['approval_id']}", json={"approve": True}, headers=SUE).status_code
        == 409
    )

    audit = http.get(f"/v1/conversations/{cid}/audit", headers=SUE).json()["entries"]
    trail = [(a["principal"], a["outcome"]) for a in audit if a["tool"] == "cancel_pending_order"]
    assert ("customer:demo_customer_0001@demo", "confirm") in trail and (
        "supervisor:sue@demo",
        "confirm",
    ) in trail
    assert [p for p, outcome in trail if outcome == "execute"] == ["customer:demo_customer_0001@demo"]
    transcript: dict[str, Any] = http.get(f"/v1/conversations/{cid}", headers=CUSTOMER).json()
    assert [(p["status"], p["approval"]) for p in transcript["previews"]] == [("executed", "executed")]


def test_an_agents_over_limit_write_rejected_by_the_supervisor_never_runs(
    http: httpx.Client, database_url: str
) -> None:
    order = _another_pending_order(database_url)
    _set_paid(database_url, order, 6000.0)  # agent limit 5000
    cid = http.post("/v1/conversations", headers=CUSTOMER).json()["id"]
    args = {"order_id": order, "reason": "no longer needed"}
    tool = {"tool": "cancel_pending_order", "arguments": args}
    previewed = http.post(f"/v1/conversations/{cid}/agent-tools", json=tool, headers=ANN).json()
    assert previewed["outcome"] == "preview", (previewed["code"], previewed["message"])
    assert previewed["preview"]["approval"]["limit"] == 5000
    confirm = {"preview_id": previewed["preview"]["preview_id"], "approve": True}
    waiting = http.post(f"/v1/conversations/{cid}/agent-confirmations", json=confirm, headers=ANN).json()
    assert waiting["code"] == "approval_pending" and waiting["approval_id"]
    rejected = http.post(f"/v1/approvals/{waiting['approval_id']}", json={"approve": False}, headers=SUE)
    assert rejected.json()["status"] == "rejected"
    statuses = [e.data["status"] for e in _events(http, cid, CUSTOMER) if e.event == "approval.status"]
    assert statuses == ["waiting", "rejected"]
    assert _order(database_url, order)[0] == "pending"
    audit = http.get(f"/v1/conversations/{cid}/audit", headers=SUE).json()["entries"]
    assert [(a["principal"], a["outcome"]) for a in audit] == [
        ("agent:ann@demo", "preview"), ("agent:ann@demo", "confirm"), ("agent:ann@demo", "deny"),
        ("supervisor:sue@demo", "reject"),
    ]  # fmt: skip
