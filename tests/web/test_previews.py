"""Previews for people, in real Chromium: one write reads the same plain sentences in the customer's widget,
in the agent console's transcript and in the supervisors' approvals inbox (rendered once, server-side, from the
tool spec) — no raw JSON, ids-only lines or internal counters."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.web.conftest import LiveServer
from tests.web.support import console_errors
from tests.web.test_console import (
    Customer,
    Pages,
    open_console,
    open_widget,
    pages,
    select_and_claim,
    widget_say,
)

pytestmark = pytest.mark.browser
__all__ = ["pages"]  # the fixture, re-exported for this module's tests

SAM = "demo_customer_0002"
LEAKS = re.compile(r"[{}\[\]]|undefined|\bnull\b|\d+ entr(y|ies)|payment_history|_id\b")


def test_one_write_reads_the_same_in_widget_console_and_approvals(
    live_server: LiveServer, pages: Pages, artifacts: Path
) -> None:
    widget = open_widget(pages, live_server, user=SAM)
    errors = console_errors(widget)
    widget_say(widget, "Please cancel order #W0000007, I no longer need it.")
    card = widget.get_by_role("group", name=re.compile("Please confirm"))
    card.locator("li").first.wait_for()
    sentences = card.locator("li").all_inner_texts()
    widget.screenshot(path=str(artifacts / "preview-widget.png"))
    assert sentences[0].startswith("Cancel order #W0000007 with Laptop (")
    assert sentences[1] == "Refund $5,862.56 to the Mastercard card ending in 5100, within 5-7 business days."
    assert not LEAKS.search(card.inner_text()), card.inner_text()

    conversation = widget.evaluate(
        "() => Object.entries(sessionStorage).find(([key]) => key.endsWith(':conversation'))[1]"
    )
    sam = Customer(live_server, user=SAM, conversation=str(conversation))  # the widget's conversation
    sam.hand_off()
    sam.http.close()

    agent = open_console(pages, live_server)
    select_and_claim(agent, SAM)
    activity = agent.locator("#transcript details.tool.preview").first
    activity.locator("summary").click()
    assert activity.locator("ul.sentences li").all_inner_texts() == sentences
    agent.locator("#assist-actions button", has_text="Cancel order #W0000007").click()
    agent.locator(
        "#tool-output .preview", has_text="a supervisor must approve it"
    ).wait_for()  # consent first
    agent.locator("#tool-output").get_by_role("button", name="Confirm").click()
    agent.locator("#tool-output .approval-note", has_text="sent to a supervisor").wait_for()
    agent.screenshot(path=str(artifacts / "preview-console.png"))

    supervisor = open_console(pages, live_server, role="supervisor", user="sue")
    supervisor.get_by_role("tab", name=re.compile("Approvals")).click()
    request = supervisor.locator(".approval", has_text="cancel_pending_order")
    request.locator("ul.sentences li").first.wait_for()
    confirmed = request.locator("ul.sentences li").all_inner_texts()  # what the agent confirmed: the same
    assert confirmed[: len(sentences)] == sentences and "a supervisor must approve it" in confirmed[-1]
    assert not LEAKS.search(request.locator("ul.sentences").inner_text())
    supervisor.screenshot(path=str(artifacts / "preview-approvals.png"))
    assert errors == []
