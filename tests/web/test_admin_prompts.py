"""The admin console's Prompts section in real Chromium against a live server (offline model): a template that
drops its required placeholder is refused with what to keep; a valid edit is published as version 2 (who, why,
what changed); the diff against version 1 shows the changed lines; rolling back publishes version 3 with
version 1's templates; the next customer turn's audit row names prompt v3 and the model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.web.conftest import LiveServer
from tests.web.support import console_errors

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser
NEW_DECLINED = "The customer said no; nothing changed. Ask what they want instead."


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


def _customer_turn(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, headers=server.headers(), timeout=30) as http:
        cid = http.post("/v1/conversations").raise_for_status().json()["id"]
        assert (
            http.post(
                f"/v1/conversations/{cid}/messages", json={"text": "How long does a refund take?"}
            ).status_code
            == 202
        )
        with http.stream("GET", f"/v1/conversations/{cid}/events") as stream:
            for line in stream.iter_lines():
                if line.startswith("event: turn.completed"):
                    break


def test_edit_refuse_publish_diff_and_roll_back_prompts(
    page: Page, live_server: LiveServer, artifacts: Path
) -> None:
    errors = console_errors(page)
    page.goto(f"{live_server.url}/admin")
    page.get_by_label("Admin token").fill(live_server.token("admin", "root"))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("tab", name="Prompts").click()
    meta = page.locator("#prompts-meta")
    meta.filter(has_text="Published: version 1").wait_for()
    assert "You are Support Copilot" in page.locator("#prompt-system").input_value()
    repair = page.locator("#prompt-repair")
    original_repair, original_declined = repair.input_value(), page.locator("#prompt-declined").input_value()

    repair.fill(original_repair.replace("{problems}", "the problems"))
    page.get_by_label("Why (shown in the prompt history)").fill("plainer decline note")
    page.get_by_role("button", name="Publish new version").click()
    out = page.locator("#prompts-out")
    out.filter(has_text="must keep the placeholder {problems}").wait_for()
    page.screenshot(path=artifacts / "admin-prompts-refused.png", full_page=True)
    meta.filter(has_text="Published: version 1").wait_for()  # nothing was published

    repair.fill(original_repair)
    page.locator("#prompt-declined").fill(NEW_DECLINED)
    page.get_by_role("button", name="Validate").click()
    out.filter(has_text="Valid: every template keeps its required placeholders.").wait_for()
    page.get_by_role("button", name="Publish new version").click()
    meta.filter(has_text="Published: version 2").wait_for()
    v2 = page.locator("#prompt-version-2")
    assert (
        "admin:root@demo" in v2.inner_text() and "plainer decline note (changed: declined)" in v2.inner_text()
    )

    v1 = page.locator("#prompt-version-1")
    v1.get_by_role("button", name="Diff v1 → published").click()
    diff = v1.locator(".prompt-diff pre")
    diff.wait_for()
    assert f"+{NEW_DECLINED}" in diff.inner_text() and f"-{original_declined}" in diff.inner_text()
    assert diff.locator("span.added").count() == 1 and diff.locator("span.removed").count() == 1
    page.screenshot(path=artifacts / "admin-prompts-diff.png", full_page=True)

    v1.get_by_role("button", name="Roll back to version 1").click()
    meta.filter(has_text="Published: version 3").wait_for()
    assert page.locator("#prompt-declined").input_value() == original_declined
    assert "rollback of v1" in page.locator("#prompt-version-3").inner_text()

    _customer_turn(live_server)
    page.get_by_role("tab", name="Audit log").click()
    newest = page.locator("#audit-table tbody tr").first
    newest.filter(has_text="(turn)").wait_for()
    cells = newest.locator("td").all_inner_texts()
    assert cells[2:4] == ["(turn)", "completed"] and cells[6:8] == [
        "v3",
        "copilot-offline:copilot-offline",
    ], cells
    page.screenshot(path=artifacts / "admin-prompts-audit.png", full_page=True)
    assert len(errors) == 1 and "422" in errors[0]  # only the refused publish itself
