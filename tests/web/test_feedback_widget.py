"""Feedback in the customer widget, real Chromium against a live copilot: 👍/👎 under each completed answer, an
optional comment, a changed rating, and the state after a reload (from the conversation's event log)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import LiveServer
from tests.web.support import HostPage, console_errors, serve_host_page
from tests.web.test_widget import HOST_PAGE, ask, open_widget, session_value

pytestmark = pytest.mark.browser
expect.set_options(timeout=20_000)
CUSTOMER = "demo_customer_0002"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1100, "height": 820})
    opened = context.new_page()
    opened.set_default_timeout(20_000)
    yield opened
    context.close()


def _feedback(server: LiveServer, cid: str) -> list[tuple[int, str, str | None, int]]:
    response = httpx.get(
        f"{server.url}/v1/conversations/{cid}/feedback",
        headers=server.headers("customer", CUSTOMER),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return [(f["seq"], f["rating"], f["comment"], f["revisions"]) for f in response.json()["feedback"]]


def test_customer_rates_answers_and_the_rating_survives_a_reload(
    page: Page, live_server: LiveServer, artifacts: Path
) -> None:
    with serve_host_page() as shop:
        shop.html = HOST_PAGE.format(api=live_server.url, token=live_server.token("customer", CUSTOMER))
        errors = console_errors(page)
        page.goto(shop.url)
        _rate_then_reload(page, live_server, shop, artifacts)
    assert errors == []


def _rate_then_reload(page: Page, server: LiveServer, shop: HostPage, artifacts: Path) -> None:
    open_widget(page)
    ask(page, "How long do refunds take?")
    ask(page, "Do you offer free shipping?")
    bars = page.get_by_role("group", name="Rate this answer")
    expect(bars).to_have_count(2)  # one under each completed answer
    first, second = bars.nth(0), bars.nth(1)
    up = first.get_by_role("button", name="Thumbs up")
    expect(up).to_have_attribute("aria-pressed", "false")

    up.click()
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(first.get_by_role("status")).to_have_text("Thanks for your feedback.")
    second.get_by_role("button", name="Thumbs down").click()
    comment = second.get_by_label("Comment on this answer")
    expect(comment).to_be_focused()  # the optional comment box opens after a rating
    comment.fill("I wanted to know the cost for my city, call me at 415-555-0100")
    second.get_by_role("button", name="Add comment").click()
    expect(second.get_by_role("status")).to_contain_text("call me at [phone]")  # stored redacted
    expect(comment).to_be_hidden()
    first.get_by_role("button", name="Thumbs down").click()  # changing one's mind replaces the rating
    expect(first.get_by_role("button", name="Thumbs down")).to_have_attribute("aria-pressed", "true")
    expect(up).to_have_attribute("aria-pressed", "false")

    cid = session_value(page, ":conversation")
    answers = [seq for seq, *_ in _feedback(server, cid)]
    assert _feedback(server, cid) == [
        (answers[0], "down", None, 2),
        (
            answers[1],
            "down",
            "I wanted to know the cost for my city, call me at [phone]",
            2,
        ),  # rating, comment
    ]
    page.screenshot(path=str(artifacts / "widget-feedback.png"))

    page.reload()
    bars = page.get_by_role("group", name="Rate this answer")
    expect(bars).to_have_count(2)
    expect(bars.nth(0).get_by_role("button", name="Thumbs down")).to_have_attribute("aria-pressed", "true")
    expect(bars.nth(0).get_by_role("button", name="Thumbs up")).to_have_attribute("aria-pressed", "false")
    expect(bars.nth(1).get_by_role("button", name="Thumbs down")).to_have_attribute("aria-pressed", "true")
    expect(bars.nth(1).get_by_role("status")).to_contain_text("call me at [phone]")
    transcript = httpx.get(
        f"{server.url}/v1/conversations/{cid}", headers=server.headers("customer", CUSTOMER), timeout=10
    ).json()
    assert [m.get("feedback") for m in transcript["messages"] if m["role"] == "assistant"] == ["down", "down"]
    assert shop.url in page.url
