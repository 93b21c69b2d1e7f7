"""The what-if simulator does not leak (real server, real HTTP). Regression: on 746edb1 simulating as an agent
returned exact order totals, order status, payment methods and whether an email is registered — to an admin
whose own role is denied every customer-data tool — and left no audit row. Now every record-reading stage runs
on a synthetic fixture, so the answer cannot depend on the tenant's records, and every simulation is audited."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import create_engine, select, update

from copilot.store.schema import documents
from tests.api.support import token

ADMIN = token("admin", "ann")
ORDER = "#W0000001"
ASKS: list[dict[str, Any]] = [
    {"principal": {"role": "agent", "user_id": "eve"}, "tool": "cancel_pending_order",
     "arguments": {"order_id": ORDER, "reason": "no longer needed"}},
    {"principal": {"role": "agent", "user_id": "eve"}, "tool": "get_order_details", "arguments": {"order_id": ORDER}},
    {"principal": {"role": "agent", "user_id": "eve"}, "tool": "find_user_id_by_email",
     "arguments": {"email": "only.live@example.com"}},
    {"principal": {"role": "customer", "user_id": "demo_customer_0001"}, "tool": "get_order_details",
     "arguments": {"order_id": ORDER}},
]  # fmt: skip


def _change_the_live_records(database_url: str) -> None:
    """Give the live order another total, status and owner, and register an email only the live store has."""
    engine = create_engine(database_url)
    with engine.begin() as conn:
        key = (documents.c.tenant == "demo") & (documents.c.kind == "order") & (documents.c.id == ORDER)
        data = conn.execute(select(documents.c.data).where(key)).scalar_one()
        data["status"] = "processed"
        for payment in data["payment_history"]:
            payment["amount"] = 98765.43
        conn.execute(update(documents).where(key).values(data=data, owner="demo_customer_0002"))
        user_key = (documents.c.tenant == "demo") & (documents.c.kind == "user")
        user_id, user = conn.execute(select(documents.c.id, documents.c.data).where(user_key).limit(1)).one()
        user["email"] = "only.live@example.com"
        conn.execute(update(documents).where(user_key & (documents.c.id == user_id)).values(data=user))
    engine.dispose()


def _simulate(http: httpx.Client) -> list[dict[str, Any]]:
    answers = []
    for ask in ASKS:
        response = http.post("/v1/policy/simulate", json=ask, headers=ADMIN)
        assert response.status_code == 200, response.text
        answers.append(response.json())
    return answers


def test_simulations_do_not_depend_on_the_tenants_records_and_are_audited(
    http: httpx.Client, database_url: str
) -> None:
    before = _simulate(http)
    assert before[0]["decision"] == "allow" and before[0]["data"].startswith("synthetic")
    _change_the_live_records(database_url)
    after = _simulate(http)
    assert after == before  # the same answer whatever the live order, owner or emails are
    assert "98765" not in str(after) and "processed" not in str(after)

    audit = http.get("/v1/audit", params={"outcome": "simulate", "limit": 50}, headers=ADMIN).json()
    assert audit["total"] == 2 * len(ASKS)
    rows = {(row["principal"], row["tool"], row["reason"]) for row in audit["items"]}
    assert ("admin:ann@demo", "cancel_pending_order", "as agent:eve@demo: allow") in rows
