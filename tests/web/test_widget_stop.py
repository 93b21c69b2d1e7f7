"""The widget's Stop button in real Chromium: a copilot whose model (the real langchain-openai client against
the scripted OpenAI-compatible server) hangs; the customer stops the turn from the widget, the turn ends with
turn.completed {cancelled}, the hung model's late answer never appears, and the next message is answered. A Stop
while the customer's confirmed change is being made keeps it: the widget says so and the change is done once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from copilot.api.app import create_app
from copilot.llm.testing import Reply, Script, Stall, ToolCall, WireServer, openai_app
from copilot.settings import Settings
from tests.api.support import SECRET
from tests.web.conftest import LiveServer, serve
from tests.web.support import HostPage, serve_host_page
from tests.web.test_widget import CUSTOMER, events_of, open_widget, session_value, shop_page

pytestmark = pytest.mark.browser
LATE = "the late answer of a hung model"
SCRIPT = Script()


@pytest.fixture
def hung_copilot(tmp_path: Path) -> Iterator[LiveServer]:
    with WireServer(openai_app(SCRIPT)) as model:
        settings = Settings(
            data_dir=tmp_path / "data", secret=SECRET, model="openai:scripted",
            model_base_url=f"{model.url}/v1", model_timeout=30, model_read_timeout=30,
        )  # fmt: skip
        with serve(create_app(settings)) as url:
            yield LiveServer(url=url, settings=settings)
        model.log.assert_clean()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1100, "height": 820})
    opened = context.new_page()
    opened.set_default_timeout(20_000)
    yield opened
    context.close()


@pytest.fixture
def shop() -> Iterator[HostPage]:
    with serve_host_page() as host:
        yield host


def test_the_customer_stops_a_hung_turn_and_keeps_chatting(
    page: Page, shop: HostPage, hung_copilot: LiveServer, artifacts: Path
) -> None:
    SCRIPT.reset(Stall(8, Reply(text=LATE)), Reply(text="I'm here. What else can I help you with?"))
    token = hung_copilot.token("customer", CUSTOMER)
    errors = shop_page(page, shop, hung_copilot, token)
    open_widget(page)
    stop = page.get_by_role("button", name="Stop")
    expect(stop).to_be_hidden()  # nothing runs yet

    page.get_by_label("Message").fill("hello?")
    page.keyboard.press("Enter")
    expect(page.locator(".typing")).to_be_visible()
    expect(stop).to_be_visible()
    for _ in range(200):  # the model request is in flight (the turn is running, not merely queued)
        if SCRIPT.position:
            break
        page.wait_for_timeout(25)
    stop.click()

    expect(page.locator(".note", has_text="Stopped.")).to_be_visible(timeout=5_000)
    expect(stop).to_be_hidden()
    expect(page.locator(".typing")).to_have_count(0)
    expect(page.get_by_role("button", name="Send")).to_be_enabled()
    page.screenshot(path=str(artifacts / "widget-stopped.png"))

    page.get_by_label("Message").fill("are you there?")
    page.keyboard.press("Enter")
    expect(page.locator(".msg.bot").last).to_contain_text("What else can I help you with?")
    page.wait_for_timeout(300)
    cid = session_value(page, ":conversation")
    frames = events_of(hung_copilot, cid, token)
    ends = [f.data["status"] for f in frames if f.event == "turn.completed"]
    assert ends == ["cancelled", "completed"], ends
    assert LATE not in str([f.data for f in frames]) and LATE not in page.locator(".log").inner_text()
    assert errors == []


def test_stop_during_a_confirmed_change_keeps_it_and_says_so(
    page: Page, shop: HostPage, hung_copilot: LiveServer, artifacts: Path
) -> None:
    address = {
        "user_id": CUSTOMER, "address1": "5 Elm Street", "address2": "", "city": "Austin", "state": "TX",
        "country": "USA", "zip": "73301",
    }  # fmt: skip
    done = "Your default address is now 5 Elm Street, Austin, TX 73301."
    SCRIPT.reset(
        Reply(tool_calls=[ToolCall("modify_user_address", address, id="w1")]), Stall(3, Reply(text=done))
    )
    token = hung_copilot.token("customer", CUSTOMER)
    errors = shop_page(page, shop, hung_copilot, token)
    open_widget(page)
    page.get_by_label("Message").fill("Please change my address to 5 Elm Street, Austin TX 73301, USA")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Confirm").click()
    for _ in range(400):  # the write ran; the turn's answer is being written (a slow model)
        if SCRIPT.position >= 2:
            break
        page.wait_for_timeout(25)
    page.get_by_role("button", name="Stop").click()

    expect(page.locator(".note", has_text="Your confirmed change is still being made")).to_be_visible()
    expect(page.locator(".msg.bot").last).to_contain_text("5 Elm Street", timeout=10_000)
    expect(page.get_by_text("Done ✓")).to_be_visible()
    expect(page.get_by_role("button", name="Send")).to_be_enabled()
    page.screenshot(path=str(artifacts / "widget-stop-kept.png"))
    frames = events_of(hung_copilot, session_value(page, ":conversation"), token)
    assert [f.event for f in frames].count("tool.executed") == 1
    assert [f.data["status"] for f in frames if f.event == "turn.completed"] == [
        "awaiting_confirmation",
        "completed",
    ]
    assert page.locator(".note", has_text="Stopped.").count() == 0 and errors == []
