"""The widget when the server dies mid-turn (a real `copilot serve` killed with SIGKILL at a crash point and
restarted on the same port and data): it reconnects, shows the recovered turn's outcome, never stays on
"typing…", and stays usable after a reload."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.crash.harness import Server, auth
from tests.web.support import serve_host_page

pytestmark = pytest.mark.browser
expect.set_options(timeout=40_000)  # a restart plus the lease of the dead worker on a slow CI machine

CUSTOMER = "demo_customer_0001"
HOST_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>Shop</title></head><body><h1>Shop</h1>
<script src="{api}/widget.js" data-token="{token}" data-tenant="demo" defer></script></body></html>"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    started = Server(tmp_path / "data")
    started.start()
    yield started
    started.kill()


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1100, "height": 820})
    opened = context.new_page()
    opened.set_default_timeout(40_000)
    with serve_host_page() as host:
        token = auth("customer", CUSTOMER)["Authorization"].removeprefix("Bearer ")
        host.html = HOST_PAGE.format(api=server.url, token=token)
        opened.goto(host.url)
        yield opened
    context.close()


def _open(page: Page) -> None:
    page.get_by_role("button", name="Help").click()
    expect(page.get_by_role("dialog", name="Support")).to_be_visible()


def _restart(server: Server) -> None:
    assert server.wait_dead(timeout=30), "the armed crash point was never reached"
    server.arm(None)
    server.start()


def test_a_confirmed_write_cut_by_a_crash_ends_done_after_the_restart(
    page: Page, server: Server, artifacts: Path
) -> None:
    _open(page)
    page.get_by_label("Message").fill("Please cancel order #W0000001, I no longer need it.")
    page.keyboard.press("Enter")
    card = page.get_by_role("group", name="Please confirm: Cancel pending order")
    expect(card.get_by_role("button", name="Confirm")).to_be_visible()
    server.arm("execute.committed")  # the write commits, then the worker dies before the graph sees it
    card.get_by_role("button", name="Confirm").click()
    expect(card).to_contain_text("Confirmed — working on it…")
    _restart(server)
    expect(card).to_contain_text("Done ✓")
    expect(page.locator(".typing")).to_have_count(0)
    expect(page.locator(".msg.bot").last).to_contain_text("cancelled")
    expect(page.get_by_role("button", name="Send")).to_be_enabled()
    page.screenshot(path=str(artifacts / "widget-recovered-write.png"))

    page.reload()
    expect(page.get_by_role("dialog", name="Support")).to_be_visible()  # the panel stays open
    expect(page.get_by_role("group", name="Please confirm: Cancel pending order")).to_contain_text("Done ✓")
    expect(page.locator(".typing")).to_have_count(0)
    expect(page.get_by_role("button", name="Send")).to_be_enabled()


def test_an_answer_cut_mid_stream_is_streamed_again_by_the_recovered_turn(page: Page, server: Server) -> None:
    _open(page)
    server.arm("event.message.delta")
    page.get_by_label("Message").fill("How long do refunds take?")
    page.keyboard.press("Enter")
    expect(page.locator(".typing")).to_have_count(1)
    _restart(server)
    expect(page.locator(".msg.bot").last).to_contain_text("5 to 7 business days")
    expect(page.locator(".msg.bot")).to_have_count(1)  # the cut partial answer was replaced, not kept
    expect(page.locator(".typing")).to_have_count(0)
    page.get_by_label("Message").fill("Thanks!")
    page.keyboard.press("Enter")
    expect(page.locator(".msg.user", has_text="Thanks!")).to_have_count(1)
