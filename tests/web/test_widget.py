"""The customer widget in real Chromium against a live copilot (offline model, seeded demo store):
cited help answers, a confirmed cancellation that runs exactly once, asking for a human, guests without
account tools, reload and reconnect without duplicates, phone width and keyboard use."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect
from sqlalchemy import func, select

from copilot.store.database import make_engine
from copilot.store.schema import documents, executions
from tests.api.support import parse_sse
from tests.web.conftest import LiveServer
from tests.web.support import HostPage, console_errors, serve_host_page

pytestmark = pytest.mark.browser
expect.set_options(timeout=20_000)  # a turn of the offline model on a slow CI machine

CUSTOMER = "demo_customer_0001"
HOST_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>Shop</title></head><body><h1>A shop on another origin</h1>
<script src="{api}/widget.js" data-token="{token}" data-tenant="demo" defer></script></body></html>"""


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1100, "height": 820})
    opened = context.new_page()
    opened.set_default_timeout(20_000)
    yield opened
    context.close()


@pytest.fixture(name="shop")
def shop_fixture() -> Iterator[HostPage]:
    """A shop's own web server (another origin) whose page embeds the widget with one tag."""
    with serve_host_page() as host:
        yield host


def shop_page(page: Page, shop: HostPage, server: LiveServer, token: str) -> list[str]:
    """Load the shop's page embedding the copilot's widget for `token`; return its console errors (live)."""
    shop.html = HOST_PAGE.format(api=server.url, token=token)
    errors = console_errors(page)
    page.goto(shop.url)
    return errors


def open_widget(page: Page) -> None:
    page.get_by_role("button", name="Help").click()
    expect(page.get_by_role("dialog", name="Support")).to_be_visible()
    expect(page.get_by_label("Message")).to_be_focused()


def ask(page: Page, text: str) -> None:
    page.get_by_label("Message").fill(text)
    page.keyboard.press("Enter")
    expect(page.locator(".msg.user", has_text=text)).to_have_count(1)
    expect(page.locator(".typing")).to_have_count(0)


def order_status(server: LiveServer, order_id: str) -> str:
    with make_engine(server.settings.resolved_database_url).connect() as conn:
        data = conn.execute(select(documents.c.data).where(documents.c.id == order_id)).scalar_one()
    return str(data["status"])


def executions_of(server: LiveServer, tool: str) -> int:
    with make_engine(server.settings.resolved_database_url).connect() as conn:
        count = conn.execute(select(func.count()).select_from(executions).where(executions.c.tool == tool))
        return int(count.scalar_one())


def session_value(page: Page, suffix: str) -> str:
    """A value the widget keeps in sessionStorage (conversation id, guest token)."""
    value = page.evaluate(
        "s => Object.keys(sessionStorage).filter(k => k.endsWith(s)).map(k => sessionStorage.getItem(k))[0]",
        suffix,
    )
    assert isinstance(value, str) and value, f"no sessionStorage entry ending in {suffix}"
    return value


def events_of(server: LiveServer, cid: str, token: str) -> list[Any]:
    response = httpx.get(
        f"{server.url}/v1/conversations/{cid}/events",
        params={"follow": "false"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return parse_sse(response.text)


def test_customer_gets_a_cited_answer_from_a_host_page_on_another_origin(
    page: Page, shop: HostPage, live_server: LiveServer, artifacts: Path
) -> None:
    errors = shop_page(page, shop, live_server, live_server.token("customer", CUSTOMER))
    open_widget(page)
    ask(page, "How long do refunds take?")

    answer = page.locator(".msg.bot").last
    expect(answer).to_contain_text("5 to 7 business days")
    sources = answer.get_by_role("list", name="Sources").get_by_role("link")
    expect(sources.first).to_be_visible()
    href = sources.first.get_attribute("href")
    assert href is not None and href.startswith(f"{live_server.url}/help/")
    article = httpx.get(href, timeout=10)
    assert article.status_code == 200 and "<h1>" in article.text
    inline = answer.locator("a.cite").first
    expect(inline).to_have_attribute("href", href)
    page.screenshot(path=str(artifacts / "widget-answer.png"))
    assert errors == []


def test_customer_cancels_own_pending_order_exactly_once(
    page: Page, shop: HostPage, live_server: LiveServer, artifacts: Path
) -> None:
    token = live_server.token("customer", CUSTOMER)
    errors = shop_page(page, shop, live_server, token)
    open_widget(page)
    ask(page, "Please cancel order #W0000001, I no longer need it.")

    card = page.get_by_role("group", name="Please confirm: Cancel pending order")
    expect(card).to_contain_text("Cancel order #W0000001 with T-Shirt (")
    expect(card).to_contain_text("to the Visa card ending in 4242, within 5-7 business days.")
    page.screenshot(path=str(artifacts / "widget-preview.png"))
    assert order_status(live_server, "#W0000001") == "pending"  # a preview changes nothing

    card.get_by_role("button", name="Confirm").click()
    expect(card.get_by_role("button", name="Confirm")).to_be_hidden()  # no second click possible
    expect(card).to_contain_text("Done ✓")
    expect(page.locator(".msg.bot").last).to_contain_text("cancelled")
    assert order_status(live_server, "#W0000001") == "cancelled"
    assert executions_of(live_server, "cancel_pending_order") == 1

    cid = session_value(page, ":conversation")
    preview_id = next(
        e.data["preview_id"] for e in events_of(live_server, cid, token) if e.event == "tool.preview"
    )
    again = httpx.post(
        f"{live_server.url}/v1/conversations/{cid}/confirmations",
        json={"preview_id": preview_id, "approve": True},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert again.status_code == 409, again.text  # the stale preview cannot run it again
    assert executions_of(live_server, "cancel_pending_order") == 1
    page.screenshot(path=str(artifacts / "widget-cancelled.png"))
    assert errors == []


def test_customer_asks_for_a_human_and_sees_the_waiting_status(
    page: Page, shop: HostPage, live_server: LiveServer, artifacts: Path
) -> None:
    errors = shop_page(page, shop, live_server, live_server.token("customer", CUSTOMER))
    open_widget(page)
    ask(page, "How do I return an item?")
    human = page.get_by_role("button", name="Talk to a human")
    human.click()
    expect(page.get_by_role("status").filter(has_text="Waiting for a human agent")).to_be_visible()
    expect(page.get_by_role("button", name="A human agent is on the way")).to_be_disabled()
    page.screenshot(path=str(artifacts / "widget-waiting.png"))
    assert errors == []


def test_guest_gets_help_answers_but_no_account_tools(
    page: Page, live_server: LiveServer, artifacts: Path
) -> None:
    errors = console_errors(page)
    page.goto(f"{live_server.url}/demo")
    open_widget(page)
    ask(page, "How long do refunds take?")
    expect(page.locator(".msg.bot").last.get_by_role("list", name="Sources")).to_be_visible()

    ask(page, "What is the status of order #W0000001?")
    expect(page.locator(".msg.bot").last).to_contain_text("sign in to manage your orders")
    expect(page.get_by_role("button", name="Talk to a human")).to_be_enabled()
    page.screenshot(path=str(artifacts / "widget-guest.png"))

    token, cid = session_value(page, ":guest-token"), session_value(page, ":conversation")
    events = events_of(live_server, cid, token)
    assert [e for e in events if e.event.startswith("tool.")] == []  # no account tool is even tried
    assert errors == []


def test_reload_mid_conversation_continues_without_duplicates(
    page: Page, shop: HostPage, live_server: LiveServer
) -> None:
    errors = shop_page(page, shop, live_server, live_server.token("customer", CUSTOMER))
    open_widget(page)
    ask(page, "How long do refunds take?")
    cid = session_value(page, ":conversation")

    page.reload()
    expect(page.get_by_role("dialog", name="Support")).to_be_visible()  # the panel stays open
    expect(page.locator(".msg.bot")).to_have_count(1)
    ask(page, "How do I return an item?")
    expect(page.locator(".msg.user")).to_have_count(2)
    expect(page.locator(".msg.bot")).to_have_count(2)
    assert session_value(page, ":conversation") == cid
    assert errors == []


def _sse(frames: list[Any]) -> str:
    return "".join(f"id: {f.id}\nevent: {f.event}\ndata: {json.dumps(f.data)}\n\n" for f in frames)


@pytest.mark.parametrize("live_server", [1], indirect=True)  # a delta per token: the stream drops mid-answer
def test_dropped_stream_resumes_with_last_event_id_without_duplicating_text(
    page: Page, shop: HostPage, live_server: LiveServer
) -> None:
    token = live_server.token("customer", CUSTOMER)
    errors = shop_page(page, shop, live_server, token)
    open_widget(page)
    ask(page, "How long do refunds take?")
    cid = session_value(page, ":conversation")
    log = events_of(live_server, cid, token)
    final = next(f.data["text"] for f in log if f.event == "message.completed")
    cut = next(i for i, f in enumerate(log) if f.event == "message.delta") + 5  # mid-answer

    # After the reload, the stream "drops" twice: first after `cut` events, then after a replay that overlaps
    # what was already received; the third connection is the real, live one.
    seen: list[str | None] = []

    def drop(route: Route) -> None:
        seen.append(route.request.headers.get("last-event-id"))
        if len(seen) == 1:
            route.fulfill(content_type="text/event-stream", body=_sse(log[:cut]))
        elif len(seen) == 2:
            route.fulfill(content_type="text/event-stream", body=_sse(log[cut - 4 : cut + 10]))
        else:
            route.continue_()

    page.route(f"{live_server.url}/v1/conversations/{cid}/events", drop)
    page.reload()
    answer = page.locator(".msg.bot")
    expect(answer).to_have_count(1)
    expect(answer.locator("ol.sources")).to_have_count(1)
    assert answer.evaluate("n => n.firstChild.textContent").startswith(final.split(" [")[0])
    assert seen[:3] == ["0", str(log[cut - 1].id), str(log[cut + 9].id)]
    expect(page.locator(".msg.user")).to_have_count(1)
    assert errors == []


def test_phone_width_keyboard_and_accessibility(
    browser: Browser, live_server: LiveServer, artifacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 700}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors = console_errors(page)
    page.goto(f"{live_server.url}/demo?user={CUSTOMER}")
    launcher = page.get_by_role("button", name="Help")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    launcher.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Support")
    box = dialog.bounding_box()
    assert box is not None and box["width"] == 375 and box["height"] == 700  # full screen on a phone
    expect(page.get_by_role("log", name="Conversation")).to_have_attribute("aria-live", "polite")
    expect(page.get_by_label("Message")).to_be_focused()
    ask(page, "How long do refunds take?")
    expect(page.locator(".msg.bot").last).to_contain_text("business days")
    page.screenshot(path=str(artifacts / "widget-phone.png"))
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    assert errors == []
    context.close()


def test_an_over_long_message_is_refused_whole_never_cut(
    page: Page, shop: HostPage, live_server: LiveServer
) -> None:
    token = live_server.token("customer", CUSTOMER)
    errors = shop_page(page, shop, live_server, token)
    open_widget(page)
    long_text = "Where is my order #W0000001? " + "Some more detail. " * 300
    page.get_by_label("Message").fill(long_text)
    page.keyboard.press("Enter")
    expect(page.locator(".msg.error")).to_contain_text("the limit is 4,000. Please shorten it")
    assert page.get_by_label("Message").input_value() == long_text  # nothing was cut or lost
    expect(page.locator(".msg.user")).to_have_count(0)  # and nothing was sent
    ask(page, "Where is my order #W0000001?")
    expect(page.locator(".msg.bot").last).to_contain_text("#W0000001")
    assert errors == []
