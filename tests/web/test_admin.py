"""The policy admin console in real Chromium against a live server: an admin takes `cancel_pending_order` away
from customers (the simulator shows deny on the unsaved rules) and saves; the customer's model is no longer
offered the tool (no call, an answer in words) and a preview seen before the save is refused when confirmed;
the admin rolls back and the tool is offered and works again. Plus: admins only, edit conflicts, keyboard
tabs, audit filters."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from copilot.principal import Role
from tests.api.support import Sse, parse_sse
from tests.web.conftest import LiveServer
from tests.web.support import console_errors

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

CUSTOMER, ORDER = "demo_customer_0001", "#W0000001"
CANCEL_RULE = "p, customer, *, cancel_pending_order, call, allow"
TIMEOUT_MS = 15_000


@dataclass
class Turn:
    """One turn of a customer's conversation: the gateway outcomes for cancel_pending_order (`tool.preview` =
    offered and allowed, `tool.denied` = refused, `tool.executed` = done), the preview's id, the answer text."""

    outcomes: list[str]
    preview_id: str | None
    answer: str


class Customer:
    """The customer's side over HTTP + SSE: a new conversation per `ask_to_cancel`; `confirm` approves a
    preview (in the conversation it came from) the way the widget's Confirm button does."""

    def __init__(self, server: LiveServer) -> None:
        self.http = httpx.Client(
            base_url=server.url, headers=server.headers("customer", CUSTOMER), timeout=30
        )
        self.agent = server.headers("agent", "alice")
        self.conversations: dict[str, str] = {}  # preview id -> conversation id
        self.last: dict[str, int] = {}  # conversation id -> last event id seen

    def ask_to_cancel(self) -> Turn:
        cid = self.http.post("/v1/conversations").raise_for_status().json()["id"]
        text = f"Please cancel order {ORDER}, I no longer need it."
        turn = self._turn(cid, "messages", {"text": text})
        if turn.preview_id:
            self.conversations[turn.preview_id] = cid
        return turn

    def confirm(self, preview_id: str) -> Turn:
        body = {"preview_id": preview_id, "approve": True}
        return self._turn(self.conversations[preview_id], "confirmations", body)

    def order_status(self) -> str:
        """The order's status as an agent reads it through the gateway (a staff tool)."""
        cid = next(iter(self.last))
        body = {"tool": "get_order_details", "arguments": {"order_id": ORDER}}
        read = self.http.post(f"/v1/conversations/{cid}/agent-tools", json=body, headers=self.agent)
        assert read.status_code == 200 and read.json()["outcome"] == "executed", read.text
        return str(read.json()["result"]["status"])

    def _turn(self, cid: str, path: str, body: dict[str, object]) -> Turn:
        sent = self.http.post(f"/v1/conversations/{cid}/{path}", json=body)
        assert sent.status_code == 202, sent.text
        frames: list[Sse] = []
        resume = {"Last-Event-ID": str(self.last.get(cid, 0))}
        with self.http.stream("GET", f"/v1/conversations/{cid}/events", headers=resume) as stream:
            block = ""
            for line in stream.iter_lines():
                if line:
                    block += line + "\n"
                    continue
                frames += parse_sse(block + "\n")
                block = ""
                if frames and frames[-1].event == "turn.completed":
                    break
        self.last[cid] = frames[-1].id
        kinds = {"tool.preview", "tool.denied", "tool.executed", "tool.invalid", "tool.error"}
        mine = [f for f in frames if f.event in kinds and f.data.get("tool") == "cancel_pending_order"]
        previews = [f.data["preview_id"] for f in mine if f.event == "tool.preview"]
        answers = [str(f.data["text"]) for f in frames if f.event == "message.completed"]
        return Turn([f.event for f in mine], previews[0] if previews else None, " ".join(answers))


@pytest.fixture
def customer(live_server: LiveServer) -> Iterator[Customer]:
    client = Customer(live_server)
    yield client
    client.http.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    yield opened
    context.close()


def sign_in(page: Page, server: LiveServer, role: Role = "admin", user: str = "root") -> None:
    page.goto(f"{server.url}/admin")
    page.get_by_label("Admin token").fill(server.token(role, user))
    page.get_by_role("button", name="Sign in").click()


def active_version(page: Page, number: int) -> None:
    page.locator("#active-badge").filter(
        has_text=f"Policy of tenant demo · Active: version {number}"
    ).wait_for()


def remove_and_validate(page: Page, artifacts: Path) -> None:
    """Edit: remove the customer's cancel rule; Validate shows the decision that changes."""
    page.get_by_role("tab", name=re.compile("Edit rules")).click()
    page.get_by_placeholder("Filter rows").fill("cancel_pending")
    page.get_by_role("button", name=f"Remove rule {CANCEL_RULE}").click()
    assert page.locator("#dirty-badge").is_visible()
    page.get_by_role("button", name="Validate").click()
    out = page.locator("#validate-out")
    change = out.locator("tr", has_text="cancel_pending_order")
    change.wait_for()
    assert out.get_by_text(re.compile(r"^Valid")).is_visible()
    assert change.locator("td").all_inner_texts()[:4] == ["customer", "cancel_pending_order", "allow", "deny"]
    page.get_by_placeholder("Filter rows").fill("")
    page.screenshot(path=artifacts / "admin-edit.png", full_page=True)


def simulate_active_then_proposed(page: Page, artifacts: Path) -> None:
    """The simulator: allowed on the active version, denied on the proposed (unsaved) rules."""
    page.get_by_role("tab", name="What-if simulator").click()
    page.locator("#sim-role").select_option("customer")
    page.get_by_label("User id").fill(CUSTOMER)
    page.locator("#sim-tool").select_option("cancel_pending_order")
    assert ORDER in page.get_by_label("Arguments (JSON)").input_value()
    page.get_by_role("button", name="Simulate").click()
    page.locator("#sim-decision").filter(has_text="ALLOW").wait_for()
    assert page.locator("#sim-result").get_by_text("scope own").is_visible()  # ownership check passed
    assert "synthetic" in page.locator("#sim-data").inner_text()  # never the tenant's own records
    page.get_by_label("Proposed (unsaved) rules").check()
    page.get_by_role("button", name="Simulate").click()
    page.locator("#sim-decision").filter(has_text="DENY").wait_for()
    assert page.locator("#sim-rule").inner_text() == "none (default deny)"
    page.get_by_role("button", name="Compare").click()
    page.locator("#ddiff-out tr", has_text="cancel_pending_order").wait_for()
    page.screenshot(path=artifacts / "admin-simulator.png", full_page=True)


def save(page: Page, message: str, version: int) -> None:
    page.get_by_role("tab", name=re.compile("Edit rules")).click()
    page.get_by_label("Change message (why)").fill(message)
    page.get_by_role("button", name="Save new version").click()
    page.locator("#save-out").get_by_text(f"Saved as version {version}").wait_for()
    active_version(page, version)
    assert page.locator("#dirty-badge").is_hidden()


def roll_back_to_v1(page: Page, artifacts: Path) -> None:
    page.get_by_role("tab", name="History").click()
    page.locator("#version-2").get_by_text("no self-service cancels").wait_for()
    page.locator("#version-2 details summary").click()
    assert page.locator("#version-2 .rule-diff .removed").inner_text().endswith(CANCEL_RULE)
    page.screenshot(path=artifacts / "admin-history.png", full_page=True)
    page.get_by_role("button", name="Roll back to version 1").click()
    page.get_by_role("button", name="Confirm rollback").click()
    active_version(page, 3)
    page.locator("#version-3").get_by_text("rollback of v1").wait_for()


def audit_shows_changes_and_the_denial(page: Page, artifacts: Path) -> None:
    """The three policy changes, and the one denial: the stale preview confirmed on v2."""
    page.get_by_role("tab", name="Audit log").click()
    changes = page.locator("#changes-table tbody tr")
    changes.nth(2).wait_for()
    assert changes.count() == 3 and "admin:root@demo" in changes.first.inner_text()
    page.locator("#f-tool").select_option("cancel_pending_order")
    page.get_by_label("Outcome").select_option("deny")
    page.get_by_label("Principal").fill(f"customer:{CUSTOMER}@demo")
    page.get_by_role("button", name="Apply").click()
    page.locator("#audit-status").filter(has_text="of 1 decisions").wait_for()
    denied = page.locator("#audit-table tbody tr")
    assert denied.count() == 1 and re.search(r"\bdeny\b.*\bv2/", denied.inner_text().replace("\n", " "))
    page.screenshot(path=artifacts / "admin-audit.png", full_page=True)


def test_revoke_simulate_save_deny_then_roll_back(
    page: Page, live_server: LiveServer, customer: Customer, artifacts: Path
) -> None:
    errors = console_errors(page)
    sign_in(page, live_server)
    active_version(page, 1)
    assert page.get_by_label("customer cancel_pending_order: allow").is_visible()
    page.screenshot(path=artifacts / "admin-roles.png", full_page=True)
    assert customer.ask_to_cancel().outcomes == ["tool.preview"]

    remove_and_validate(page, artifacts)
    simulate_active_then_proposed(page, artifacts)
    seen_before = customer.ask_to_cancel()  # nothing saved yet: offered, previewed, not yet confirmed
    assert seen_before.outcomes == ["tool.preview"] and seen_before.preview_id

    save(page, "no self-service cancels", 2)
    assert (
        page.get_by_label("customer cancel_pending_order: no rule, denied").count() == 1
    )  # the roles table follows
    revoked = customer.ask_to_cancel()  # the model is no longer offered the tool: no call, an answer in words
    assert revoked.outcomes == [] and revoked.preview_id is None and revoked.answer.strip()
    stale = customer.confirm(seen_before.preview_id)  # a call still attempted: the gateway refuses it on v2
    assert stale.outcomes == ["tool.denied"]
    assert customer.order_status() == "pending"

    roll_back_to_v1(page, artifacts)
    back = customer.ask_to_cancel()  # offered again
    assert back.outcomes == ["tool.preview"] and back.preview_id
    assert customer.confirm(back.preview_id).outcomes == ["tool.executed"]  # and it works again
    assert customer.order_status() == "cancelled"
    audit_shows_changes_and_the_denial(page, artifacts)
    assert errors == []


def test_non_admins_get_a_clear_admins_only_message(page: Page, live_server: LiveServer) -> None:
    errors = console_errors(page)
    sign_in(page, live_server, role="supervisor", user="sam")
    alert = page.get_by_role("alert").filter(has_text="Admins only")
    alert.wait_for()
    assert "supervisor:sam@demo" in alert.inner_text()
    assert page.locator("#app-view").is_hidden()
    assert errors == [e for e in errors if "403" in e]  # only the refused API call itself


def test_a_stale_save_shows_the_conflict_and_reload_keyboard_tabs(
    page: Page, live_server: LiveServer, artifacts: Path
) -> None:
    sign_in(page, live_server)
    active_version(page, 1)
    roles = page.get_by_role("tab", name="Roles")
    roles.focus()
    page.keyboard.press("ArrowRight")
    edit = page.get_by_role("tab", name=re.compile("Edit rules"))
    assert edit.get_attribute("aria-selected") == "true" and edit.evaluate(
        "e => e === document.activeElement"
    )

    # another admin saves first (over HTTP)
    with httpx.Client(base_url=live_server.url, headers=live_server.headers("admin", "ann")) as http:
        current = http.get("/v1/policy")
        rules = [r for r in current.json()["rules"] if r != ["p", "guest", "*", "calculate", "call", "allow"]]
        body = {"rules": rules, "message": "guests: no calculator"}
        saved = http.put("/v1/policy", json=body, headers={"If-Match": current.headers["ETag"]})
        assert saved.status_code == 200, saved.text

    page.get_by_label("CSV text").check()  # edit as policy.csv text this time
    csv = page.get_by_label(re.compile("Rules in policy.csv format"))
    assert CANCEL_RULE in csv.input_value()
    csv.fill(csv.input_value().replace(CANCEL_RULE + "\n", ""))
    assert page.locator("#dirty-badge").is_visible()
    page.get_by_label("Change message (why)").fill("no self-service cancels")
    page.get_by_role("button", name="Save new version").click()
    conflict = page.locator("#save-out").get_by_text(
        "policy changed since you loaded it — reload", exact=False
    )
    conflict.wait_for()
    page.screenshot(path=artifacts / "admin-conflict.png", full_page=True)
    page.locator("#save-out").get_by_role("button", name="Reload").click()
    active_version(page, 2)
    assert page.locator("#dirty-badge").is_hidden()
    with httpx.Client(base_url=live_server.url, headers=live_server.headers("admin", "ann")) as http:
        assert http.get("/v1/policy").json()["message"] == "guests: no calculator"  # no lost update


def test_a_broader_grant_saves_only_after_its_warning_is_acknowledged(
    page: Page, live_server: LiveServer
) -> None:
    sign_in(page, live_server)
    active_version(page, 1)
    page.get_by_role("tab", name=re.compile("Edit rules")).click()
    page.get_by_role("button", name="Add rule").click()
    page.get_by_label(re.compile(r"Rule \d+ role$")).last.fill("supervisor")
    page.get_by_label(re.compile(r"Rule \d+ tool or pattern$")).last.fill("*")
    page.get_by_label("Change message (why)").fill("supervisors: every tool")
    page.get_by_role("button", name="Save new version").click()
    warning = page.locator("#save-out .finding.warning", has_text="wildcard_tool:supervisor")
    warning.wait_for()
    assert page.locator("#save-out").get_by_text("Not saved").is_visible()
    active_version(page, 1)  # refused: nothing changed
    warning.get_by_role("checkbox").check()
    page.get_by_role("button", name="Save new version").click()
    page.locator("#save-out").get_by_text("Saved as version 2").wait_for()
    active_version(page, 2)
