"""The agent console's "Stop bot turn" in real Chromium: a copilot whose model (the real langchain-openai client
against the scripted OpenAI-compatible server) hangs on a customer's message in a handed-off conversation; the
agent stops the bot's turn from the console, it ends with turn.completed {cancelled}, the hung model's late
answer never appears, and a second Stop says nothing is running."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from copilot.api.app import create_app
from copilot.llm.testing import Reply, Script, Stall, WireServer, openai_app
from copilot.settings import Settings
from tests.api.support import SECRET
from tests.web.conftest import LiveServer, serve
from tests.web.support import console_errors
from tests.web.test_console import CUSTOMER, Pages, open_console
from tests.web.test_widget import events_of

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
def pages(browser: Browser) -> Iterator[Pages]:
    opened = Pages(browser)
    yield opened
    for context in opened.contexts:
        context.close()


def _model_called() -> None:
    deadline = time.monotonic() + 15
    while not SCRIPT.position:  # the model request is in flight: the turn runs, it is not merely queued
        assert time.monotonic() < deadline, "the bot's turn never called the model"
        time.sleep(0.025)


def test_the_agent_stops_the_bots_hung_turn_from_the_console(
    hung_copilot: LiveServer, pages: Pages, artifacts: Path
) -> None:
    SCRIPT.reset(Stall(8, Reply(text=LATE)))
    headers = hung_copilot.headers("customer", CUSTOMER)
    with httpx.Client(base_url=hung_copilot.url, headers=headers, timeout=10) as customer:
        cid = str(customer.post("/v1/conversations").raise_for_status().json()["id"])
        reason = {"reason": "customer asked for a person"}
        customer.post(f"/v1/conversations/{cid}/handoff", json=reason).raise_for_status()
        customer.post(f"/v1/conversations/{cid}/messages", json={"text": "hello?"}).raise_for_status()
    _model_called()  # waiting for a human, the bot still answers: its turn hangs

    page = open_console(pages, hung_copilot)
    errors = console_errors(page)
    page.locator(".queue-item", has_text=CUSTOMER).first.click()
    stop = page.get_by_role("button", name="Stop bot turn")
    stop.click()
    expect(page.locator("#toast")).to_have_text("The bot's turn was stopped.", timeout=5_000)

    token = hung_copilot.token("customer", CUSTOMER)
    deadline = time.monotonic() + 5
    while not [f for f in events_of(hung_copilot, cid, token) if f.event == "turn.completed"]:
        assert time.monotonic() < deadline, "the stopped turn never ended"
        time.sleep(0.05)
    page.screenshot(path=str(artifacts / "console-stopped.png"))
    stop.click()  # nothing runs any more
    expect(page.locator("#toast")).to_have_text("The bot is not running a turn.")
    frames = events_of(hung_copilot, cid, token)
    assert [f.data["status"] for f in frames if f.event == "turn.completed"] == ["cancelled"]
    assert LATE not in str([f.data for f in frames]) and LATE not in page.locator("#transcript").inner_text()
    assert errors == []
