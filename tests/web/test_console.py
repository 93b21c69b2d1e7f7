"""The agent console in real Chromium: queue → claim → live reply to the customer's widget → hand back; copilot
assist actions through the gateway with the agent's own permissions; the supervisors' approvals inbox."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy import create_engine, select

from copilot.principal import Role
from copilot.store.schema import documents
from tests.web.conftest import LiveServer
from tests.web.support import console_errors

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

pytestmark = pytest.mark.browser

CUSTOMER = "demo_customer_0001"
TIMEOUT_MS = 15_000
SHOW_RUN_PANEL = """side => {
  const card = document.getElementById("run-h").closest(".card");
  side.scrollTop += card.getBoundingClientRect().top - side.getBoundingClientRect().top;
}"""


class Pages:
    """Opens each actor's page in its own browser context; closes them all at teardown."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.contexts: list[BrowserContext] = []

    def new(self, width: int, height: int) -> Page:
        context = self.browser.new_context(viewport={"width": width, "height": height})
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        return page


@pytest.fixture
def pages(browser: Browser) -> Iterator[Pages]:
    opened = Pages(browser)
    yield opened
    for context in opened.contexts:
        context.close()


def open_console(pages: Pages, server: LiveServer, role: Role = "agent", user: str = "alice") -> Page:
    """A fresh browser context signed in to /console with a pasted staff token."""
    page = pages.new(1440, 900)
    page.goto(f"{server.url}/console")
    page.get_by_label("Staff token").fill(server.token(role, user))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("tab", name=re.compile("Queue")).wait_for()
    return page


class Customer:
    """A customer talking to the API directly (the widget's own flows are tested with the widget)."""

    def __init__(self, server: LiveServer, user: str = CUSTOMER, conversation: str | None = None) -> None:
        """A new conversation, or (given `conversation`) one the customer already has, e.g. the widget's."""
        self.http = httpx.Client(base_url=server.url, headers=server.headers("customer", user), timeout=10)
        self.id = conversation or str(self.http.post("/v1/conversations").raise_for_status().json()["id"])

    def say(self, text: str) -> None:
        self.http.post(f"/v1/conversations/{self.id}/messages", json={"text": text}).raise_for_status()
        self.wait_idle()

    def wait_idle(self) -> dict[str, Any]:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            transcript: dict[str, Any] = (
                self.http.get(f"/v1/conversations/{self.id}").raise_for_status().json()
            )
            if not transcript["running"]:
                return transcript
            time.sleep(0.1)
        raise AssertionError("the bot turn did not finish within 15 s")

    def hand_off(self, reason: str = "customer asked for a person") -> None:
        self.http.post(f"/v1/conversations/{self.id}/handoff", json={"reason": reason}).raise_for_status()


@pytest.fixture
def customer(live_server: LiveServer) -> Iterator[Customer]:
    talking = Customer(live_server)
    yield talking
    talking.http.close()


def select_and_claim(page: Page, customer: str) -> None:
    page.locator(".queue-item", has_text=customer).first.click()
    page.get_by_role("button", name="Claim").click()
    page.locator("#conv-state", has_text="claimed by").wait_for()


def open_widget(pages: Pages, server: LiveServer, user: str = CUSTOMER) -> Page:
    """The demo host page signed in as `user` (the dev server mints the token), chat panel open."""
    page = pages.new(420, 800)
    page.goto(f"{server.url}/demo?user={user}")
    page.get_by_role("button", name="Help").click()
    page.get_by_label("Message").wait_for()
    return page


def widget_say(page: Page, text: str) -> None:
    page.get_by_label("Message").fill(text)
    page.get_by_role("button", name="Send", exact=True).click()


def test_handoff_claim_live_reply_and_hand_back_across_widget_and_console(
    live_server: LiveServer, pages: Pages, artifacts: Path
) -> None:
    widget = open_widget(pages, live_server)
    widget_errors = console_errors(widget)
    widget_say(widget, "Where is my order #W0000001?")
    widget.locator(".msg.bot").first.wait_for()
    widget.get_by_role("button", name="Talk to a human").click()
    widget.get_by_text("Waiting for a human agent").wait_for()

    agent = open_console(pages, live_server)
    agent_errors = console_errors(agent)
    row = agent.locator(".queue-item", has_text=CUSTOMER)
    row.wait_for()
    assert "waiting" in row.inner_text()
    select_and_claim(agent, CUSTOMER)
    widget.get_by_text("alice joined the conversation").wait_for()
    transcript = agent.locator("#transcript")
    transcript.locator(".msg.user", has_text="Where is my order #W0000001?").wait_for()
    agent.locator("#assist-draft .draft-text, #assist-draft :text('No draft.')").first.wait_for()

    agent.get_by_label(re.compile("Ask the copilot")).fill("How long do refunds take?")  # staff-only thread
    agent.get_by_role("button", name="Ask", exact=True).click()
    staff_answer = agent.locator("#assist-draft .draft-text", has_text="refund")
    staff_answer.wait_for()
    shared = staff_answer.inner_text()[:30]
    assert widget.locator(".msg", has_text=shared).count() == 0  # not the customer's until sent
    agent.get_by_role("button", name="Send draft").click()
    widget.locator(".msg.agent", has_text=shared).wait_for()

    agent.get_by_label("Reply to the customer").fill("Hi, I'm Alice from support. Let me check that order.")
    agent.get_by_role("button", name="Send reply").click()
    widget.locator(".msg.agent", has_text="Let me check that order").wait_for()

    widget_say(widget, "Thanks, is it shipped yet?")
    transcript.locator(".msg.user", has_text="is it shipped yet").wait_for()  # live over SSE, no bot reply
    agent.screenshot(path=str(artifacts / "console-claimed.png"))

    agent.get_by_role("button", name="Hand back to bot").click()
    widget.get_by_text("back with the virtual assistant").wait_for()
    bot_answers = widget.locator(".msg.bot").count()
    widget_say(widget, "How long do refunds take?")
    widget.locator(".msg.bot").nth(bot_answers).locator("a").first.wait_for()  # a cited help-center answer
    answer = widget.locator(".msg.bot").nth(bot_answers).inner_text()
    assert "human" not in answer.lower()
    transcript.locator(".msg.assistant", has_text=answer.split("\n")[0][:40]).wait_for()
    assert widget_errors == []
    assert agent_errors == []


def test_agent_runs_a_suggested_read_action_and_sees_the_result_and_audit(
    live_server: LiveServer, pages: Pages, customer: Customer, artifacts: Path
) -> None:
    customer.say("Where is my order #W0000001?")
    customer.hand_off()
    page = open_console(pages, live_server)
    errors = console_errors(page)
    page.reload()
    page.get_by_role("tab", name=re.compile("Queue")).wait_for()

    select_and_claim(page, CUSTOMER)
    page.locator("#assist-actions button", has_text="Look up order #W0000001").click()
    output = page.locator("#tool-output")
    output.get_by_text("get_order_details: executed").wait_for()
    assert "#W0000001" in output.inner_text()
    audit = page.locator("#audit tbody")
    audit.locator("tr", has_text="get_order_details").filter(has_text="agent").first.wait_for()
    page.screenshot(path=str(artifacts / "console-assist.png"), full_page=True)

    draft = page.locator("#assist-draft .draft-text").inner_text()
    page.get_by_role("button", name="Edit draft").click()
    assert page.get_by_label("Reply to the customer").input_value() == draft
    page.get_by_role("button", name="Discard draft").click()
    page.locator("#assist-draft", has_text="No draft.").wait_for()
    assert errors == []


def test_agent_confirms_a_previewed_write_from_a_suggested_action(
    live_server: LiveServer, pages: Pages, artifacts: Path
) -> None:
    sam = Customer(live_server, user="demo_customer_0002")
    try:
        sam.say("Please cancel order #W0000004, I no longer need it.")
        sam.hand_off()
    finally:
        sam.http.close()
    page = open_console(pages, live_server)
    errors = console_errors(page)
    select_and_claim(page, "demo_customer_0002")
    page.locator("#assist-actions button", has_text="Cancel order #W0000004").click()
    preview = page.get_by_role("group", name="Preview of the change")
    preview.wait_for()
    assert "#W0000004" in preview.inner_text()
    assert _order(live_server, "#W0000004")["status"] == "pending"  # a preview changes nothing
    page.screenshot(path=str(artifacts / "console-preview.png"))
    preview.get_by_role("button", name="Confirm").click()
    page.locator("#tool-output").get_by_text("cancel_pending_order: executed").wait_for()
    assert _order(live_server, "#W0000004")["status"] == "cancelled"
    page.locator("#audit tbody tr", has_text="alice").filter(has_text="cancel_pending_order").first.wait_for()
    assert errors == []


def _order(server: LiveServer, order_id: str) -> dict[str, Any]:
    """Read the order from the live server's store."""
    engine = create_engine(server.settings.resolved_database_url)
    where = (documents.c.kind == "order", documents.c.id == order_id)
    try:
        with engine.begin() as conn:
            data: dict[str, Any] = conn.execute(select(documents.c.data).where(*where)).scalar_one()
    finally:
        engine.dispose()
    return data


def test_over_limit_write_goes_to_the_approvals_inbox_and_a_supervisor_approves(
    live_server: LiveServer, pages: Pages, artifacts: Path
) -> None:
    # The demo store's #W0000007 (~5,860) is above the agent limit (5000) and under the supervisor's (25000).
    sam = Customer(live_server, user="demo_customer_0002")
    try:
        sam.say("Please cancel order #W0000007, I no longer need it.")
        sam.hand_off()
    finally:
        sam.http.close()

    agent = open_console(pages, live_server)
    select_and_claim(agent, "demo_customer_0002")
    agent.locator("#assist-actions button", has_text="Cancel order #W0000007").click()
    agent.locator(
        "#tool-output .preview", has_text="a supervisor must approve it"
    ).wait_for()  # preview first
    agent.locator("#tool-output").get_by_role("button", name="Confirm").click()
    agent.locator("#tool-output .approval-note", has_text="sent to a supervisor").wait_for()
    assert _order(live_server, "#W0000007")["status"] == "pending"

    supervisor = open_console(pages, live_server, role="supervisor", user="sue")
    errors = console_errors(supervisor)
    supervisor.get_by_role("tab", name=re.compile("Queue")).focus()
    supervisor.keyboard.press("ArrowRight")  # tabs are keyboard-operable
    assert (
        supervisor.get_by_role("tab", name=re.compile("Approvals")).get_attribute("aria-selected") == "true"
    )
    request = supervisor.locator(".approval", has_text="cancel_pending_order")
    request.get_by_text("agent:alice@demo").wait_for()
    assert "#W0000007" in request.locator(".preview").inner_text()  # the sentences the agent confirmed
    supervisor.screenshot(path=str(artifacts / "console-approvals.png"))
    request.get_by_role("button", name="Approve").click()
    supervisor.get_by_label("Show", exact=True).last.select_option("decided")
    decided = supervisor.locator(".approval", has_text="cancel_pending_order")
    decided.get_by_text("supervisor:sue@demo").wait_for()
    assert "approved" in decided.inner_text()
    assert _order(live_server, "#W0000007")["status"] == "cancelled"
    assert errors == []


def test_agent_runs_any_allowed_tool_from_the_run_a_tool_panel(
    live_server: LiveServer, pages: Pages, customer: Customer, artifacts: Path
) -> None:
    customer.say("Where is my order #W0000001?")
    customer.hand_off()
    page = open_console(pages, live_server)
    errors = console_errors(page)
    page.locator(".queue-item", has_text=CUSTOMER).first.click()
    page.locator("#transcript .msg.user", has_text="#W0000001").wait_for()

    tools = page.get_by_label("Tool", exact=True)
    assert tools.locator("option").count() == 16  # every tool the agent's role may call, not only suggestions
    arguments = page.get_by_label("Arguments (JSON)")
    tools.select_option("get_order_details")
    assert json.loads(arguments.input_value()) == {"order_id": "#W0000001"}  # mentioned in the conversation
    tools.select_option("get_user_details")
    assert json.loads(arguments.input_value()) == {"user_id": CUSTOMER}  # the conversation's customer
    page.get_by_role("button", name="Run tool").click()
    output = page.locator("#run-output")
    output.get_by_text("get_user_details: executed").wait_for()
    assert "demo_customer_0001" in output.inner_text() and "payment_methods" in output.inner_text()
    page.locator("#audit tbody tr", has_text="get_user_details").filter(has_text="alice").first.wait_for()
    page.locator("#side").evaluate(SHOW_RUN_PANEL)
    page.screenshot(path=str(artifacts / "console-run-tool.png"))

    arguments.fill('{"user_id": "demo_customer_0001"')  # missing brace: never sent
    page.get_by_role("button", name="Run tool").click()
    alert = page.locator("#run-error")
    alert.get_by_text("Arguments must be a JSON object").wait_for()
    assert arguments.get_attribute("aria-invalid") == "true"
    assert "get_user_details: executed" in output.inner_text()  # the last result stays

    arguments.fill('{"user_id": "Not A User"}')  # valid JSON, refused by the gateway's schema check
    page.get_by_role("button", name="Run tool").click()
    output.get_by_text("get_user_details: invalid").wait_for()
    assert alert.inner_text() == ""
    assert errors == []


def test_the_staff_thread_lists_earlier_questions_and_drafts_never_shown_to_the_customer(
    live_server: LiveServer, pages: Pages, artifacts: Path
) -> None:
    widget = open_widget(pages, live_server)
    widget_say(widget, "Where is my order #W0000001?")
    widget.locator(".msg.bot").first.wait_for()
    widget.get_by_role("button", name="Talk to a human").click()
    widget.get_by_text("Waiting for a human agent").wait_for()

    agent = open_console(pages, live_server)
    errors = console_errors(agent)
    agent.locator(".queue-item", has_text=CUSTOMER).first.click()
    thread = agent.locator("#assist-thread .thread-item")
    questions = ["How long do refunds take?", "Do you ship internationally?"]
    for number, question in enumerate(questions, start=1):
        agent.get_by_label(re.compile("Ask the copilot")).fill(question)
        agent.get_by_role("button", name="Ask", exact=True).click()
        thread.nth(number - 1).locator(".thread-q", has_text=question).wait_for()  # live, from the stream
    answers = [thread.nth(i).locator(".thread-a").inner_text() for i in range(2)]
    assert all(answers) and thread.count() == 2

    again = open_console(pages, live_server, user="bob")  # another agent, a fresh page: the history
    again.locator(".queue-item", has_text=CUSTOMER).first.click()
    listed = again.locator("#assist-thread .thread-item")
    listed.nth(1).locator(".thread-q", has_text=questions[1]).wait_for()
    assert [listed.nth(i).locator(".thread-q").inner_text() for i in range(2)] == [
        f"alice asked: {q}" for q in questions
    ]
    assert [listed.nth(i).locator(".thread-a").inner_text() for i in range(2)] == answers
    listed.nth(0).get_by_role("button", name="Use as draft").click()
    again.locator("#assist-draft .draft-text", has_text=answers[0][:30]).wait_for()
    again.screenshot(path=str(artifacts / "console-staff-thread.png"))

    widget.locator(".msg", has_text="Where is my order").first.wait_for()  # the widget still follows live
    shown = widget.locator("support-copilot").inner_text()
    for text in [*questions, *(a[:40] for a in answers)]:
        assert text not in shown
    assert errors == []
