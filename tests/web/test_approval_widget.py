"""The approval states in the customer's widget (real Chromium, live copilot): an over-limit cancel is
previewed and confirmed by the customer, the card then says it waits for a supervisor, and the supervisor's
approval turns it into "Done" live (SSE) — and again after a reload. The old card never offers Confirm again."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from copilot.store.database import make_engine
from copilot.store.schema import documents
from tests.web.conftest import LiveServer
from tests.web.support import HostPage
from tests.web.test_widget import (
    CUSTOMER,
    ask,
    executions_of,
    open_widget,
    order_status,
    page,
    shop_fixture,
    shop_page,
)

__all__ = ["page", "shop_fixture"]  # fixtures
pytestmark = pytest.mark.browser


def _set_paid(server: LiveServer, order_id: str, amount: float) -> None:
    engine = make_engine(server.settings.resolved_database_url)
    key = (documents.c.kind == "order") & (documents.c.id == order_id)
    with engine.begin() as conn:
        data = conn.execute(select(documents.c.data).where(key)).scalar_one()
        for payment in data["payment_history"]:
            payment["amount"] = amount
        conn.execute(update(documents).where(key).values(data=data))
    engine.dispose()


def test_an_over_limit_cancel_waits_for_the_supervisor_then_is_done_live(
    page: Page, shop: HostPage, live_server: LiveServer
) -> None:
    _set_paid(live_server, "#W0000001", 20000.0)  # over the customer's 10 000
    errors = shop_page(page, shop, live_server, live_server.token("customer", CUSTOMER))
    open_widget(page)
    ask(page, "Please cancel order #W0000001, I no longer need it.")
    card = page.get_by_role("group", name="Please confirm: Cancel pending order")
    expect(card).to_contain_text("after you confirm, a supervisor must approve it")
    card.get_by_role("button", name="Confirm").click()
    expect(card).to_contain_text("waiting for a supervisor's approval")
    expect(card.get_by_role("button", name="Confirm")).to_be_hidden()
    assert order_status(live_server, "#W0000001") == "pending"

    supervisor = {"Authorization": f"Bearer {live_server.token('supervisor', 'sue')}"}
    inbox = httpx.get(f"{live_server.url}/v1/approvals", headers=supervisor, timeout=10).json()["approvals"]
    approved = httpx.post(f"{live_server.url}/v1/approvals/{inbox[0]['approval_id']}", json={"approve": True},
                          headers=supervisor, timeout=30)  # fmt: skip
    assert approved.status_code == 200, approved.text
    expect(card).to_contain_text("Done ✓ (approved by a supervisor)")  # live, over SSE
    assert order_status(live_server, "#W0000001") == "cancelled"
    assert executions_of(live_server, "cancel_pending_order") == 1

    page.reload()  # the panel reopens by itself and rebuilds from the event log
    again = page.get_by_role("group", name="Please confirm: Cancel pending order")
    expect(again).to_contain_text("Done ✓ (approved by a supervisor)")
    expect(again.get_by_role("button", name="Confirm")).to_be_hidden()
    assert errors == []
