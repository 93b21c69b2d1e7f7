"""Analytics in the admin console, on a scripted day of conversations driven through the real API (offline
model, real uvicorn, SQLite): the series API counts what the day did, hour by hour, for the tenant's admin and
the platform admin (and refuses anyone else, inverted and too-long periods); the page in real Chromium shows
the same numbers in its tiles and in the table beside each chart, draws every chart, and is screenshotted."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from copilot.api.app import create_app
from copilot.principal import Role
from copilot.settings import Settings
from tests.api.support import SECRET
from tests.web.conftest import LiveServer, serve
from tests.web.scripted_day import DAY, PRICES, Day, play
from tests.web.support import console_errors

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser
TIMEOUT_MS = 15_000
HOURS = range(24)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("analytics") / "data", secret=SECRET, env="development",
        model="offline", prices=PRICES,
    )  # fmt: skip
    with serve(create_app(settings)) as url:
        yield LiveServer(url=url, settings=settings)


@pytest.fixture(scope="module")
def scripted_day(server: LiveServer) -> Day:
    """The day, played once for this module's tests."""
    return play(server.url)


def series(
    server: LiveServer, role: Role = "admin", of: str = "demo", params: dict[str, str] | None = None
) -> httpx.Response:
    """GET the series of DAY as ROLE:root@OF (`params` add to or replace the query)."""
    query = {"since": DAY.isoformat(), "until": (DAY + timedelta(days=1)).isoformat(), **(params or {})}
    headers = {"Authorization": f"Bearer {server.token(role, 'root', of)}"}
    return httpx.get(f"{server.url}/v1/analytics/series", params=query, headers=headers, timeout=30)


def test_the_series_counts_the_day_hour_by_hour(server: LiveServer, scripted_day: Day) -> None:
    got = series(server)
    assert got.status_code == 200, got.text
    body = got.json()
    assert (body["tenant"], body["bucket"], len(body["buckets"])) == ("demo", "hour", 24)
    points = body["buckets"]
    assert [p["turns"] for p in points] == [scripted_day.turns[h] for h in HOURS]
    assert [p["denials"] for p in points] == [scripted_day.denials[h] for h in HOURS]
    reasons = {reason for _, reason in scripted_day.handoffs}
    assert reasons == {"user_request"}
    for reason in reasons:
        expected = [scripted_day.handoffs[(h, reason)] for h in HOURS]
        assert [p["handoffs_by_reason"].get(reason, 0) for p in points] == expected
    # latency where turns ended; model cost only there (a handoff request calls no model)
    for point in points:
        busy = point["turns"] > 0
        assert (point["latency_p95_seconds"] is not None) == busy and (point["cost_usd"] == 0 or busy)
    answered = {h for h in scripted_day.conversations.values()} - {h for h, _ in scripted_day.handoffs}
    assert all(points[h]["cost_usd"] > 0 for h in answered)
    for outcome in ("confirmed", "assumed", "handed_off", "unresolved"):
        assert [p[outcome] for p in points] == [scripted_day.outcomes[(h, outcome)] for h in HOURS], outcome
    assert [p["feedback_up"] for p in points] == [scripted_day.ratings[(h, "up")] for h in HOURS]
    assert [p["feedback_down"] for p in points] == [scripted_day.ratings[(h, "down")] for h in HOURS]
    for point in points:  # the bucket's cost over its resolved conversations
        resolved = point["confirmed"] + point["assumed"]
        assert point["cost_per_resolved_usd"] == (
            pytest.approx(point["cost_usd"] / resolved) if resolved else None
        )
    total = body["total"]
    assert total["turns"] == scripted_day.turns.total() and total["denials"] == 1 and total["handoffs"] == 1
    assert (total["conversations"], total["resolved"], total["pending"]) == (6, 4, 0)
    assert total["cost_per_resolved_usd"] == pytest.approx(total["cost_usd"] / 4)
    assert total["turns_by_end"]["handoff"] == 1 and total["turns_by_end"]["awaiting_confirmation"] == 1
    assert total["cost_usd"] == pytest.approx(sum(p["cost_usd"] for p in points))
    assert max(p["latency_p95_seconds"] or 0 for p in points) == total["latency_p95_seconds"]


def test_only_admins_read_it_the_platform_admin_picks_the_tenant(
    server: LiveServer, scripted_day: Day
) -> None:
    mine = series(server).json()["total"]
    everyone = series(server, "platform", "_platform")
    assert everyone.status_code == 200 and everyone.json()["tenant"] is None
    assert everyone.json()["total"] == mine  # demo is the only tenant with traffic
    assert series(server, "platform", "_platform", {"tenant": "demo"}).json()["total"] == mine
    missing = series(server, "platform", "_platform", {"tenant": "nope"})
    assert missing.status_code == 404 and "GET /v1/tenants" in missing.json()["error"]["message"]
    roles: tuple[Role, ...] = ("customer", "agent", "supervisor")
    for role in roles:
        refused = series(server, role)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    other = series(server, params={"tenant": "acme"})
    assert other.status_code == 403 and "'demo' only" in other.json()["error"]["message"]


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"since": "2026-11-17T00:00:00Z", "until": "2026-11-16T00:00:00Z"}, "must be after"),
        ({"since": "2026-01-01T00:00:00Z", "until": "2026-11-16T00:00:00Z"}, "bucket=day"),
        ({"since": "2024-01-01T00:00:00Z", "until": "2026-11-16T00:00:00Z", "bucket": "day"}, "at most 366"),
        ({"bucket": "week"}, "'hour' or 'day'"),
        ({"since": "yesterday"}, "since"),
        ({"since": "9999-12-31T23:00:00Z", "until": "9999-12-31T23:59:00Z"}, "years 1 and 9999"),
    ],
)
def test_bad_periods_are_422_with_what_to_do(server: LiveServer, params: dict[str, str], says: str) -> None:
    got = series(server, params=params)
    assert got.status_code == 422 and got.json()["error"]["code"] == "invalid_arguments"
    assert says in got.json()["error"]["message"]


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    yield opened
    context.close()


def sign_in(page: Page, server: LiveServer, role: Role, tenant: str) -> None:
    page.goto(f"{server.url}/admin")
    page.get_by_label("Admin token").fill(server.token(role, "root", tenant))
    page.get_by_role("button", name="Sign in").click()


def show_day(page: Page) -> None:
    page.get_by_label("Period", exact=True).select_option("custom")
    page.get_by_label("From (UTC)").fill(DAY.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("To (UTC)").fill((DAY + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("By", exact=True).select_option("hour")
    page.get_by_role("button", name="Show").click()
    page.locator("#an-status", has_text="2026-11-16 00:00").wait_for()


def column(page: Page, chart: str, index: int = 0) -> list[str]:
    """The raw values of a chart's table column (data-value, one per bucket)."""
    cells: list[Any] = page.locator(f"#table-{chart} tbody tr").evaluate_all(
        f"rows => rows.map(r => r.querySelectorAll('td')[{index}].dataset.value)"
    )
    return [str(c) for c in cells]


def tile(page: Page, metric: str) -> str:
    return str(page.locator(f".tile[data-metric={metric}]").get_attribute("data-value"))


def test_the_page_charts_the_day(
    page: Page, server: LiveServer, scripted_day: Day, tmp_path: Path, artifacts: Path
) -> None:
    errors = console_errors(page)  # a CSP violation would be one
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    sign_in(page, server, "admin", "demo")
    page.get_by_role("tab", name="Analytics").click()
    show_day(page)
    expected = series(server).json()
    assert tile(page, "turns") == str(scripted_day.turns.total())
    assert tile(page, "denials") == "1" and tile(page, "handoffs") == "1"
    assert float(tile(page, "cost_usd")) == pytest.approx(expected["total"]["cost_usd"])
    assert column(page, "turns") == [str(scripted_day.turns[h]) for h in HOURS]
    assert column(page, "denials") == [str(scripted_day.denials[h]) for h in HOURS]
    assert tile(page, "resolved") == "4" and tile(page, "feedback") == "2"
    assert column(page, "resolution", 0) == [str(scripted_day.outcomes[(h, "confirmed")]) for h in HOURS]
    assert column(page, "resolution", 1) == [str(scripted_day.outcomes[(h, "assumed")]) for h in HOURS]
    assert column(page, "feedback", 0) == [str(scripted_day.ratings[(h, "up")]) for h in HOURS]
    assert column(page, "feedback", 1) == [str(scripted_day.ratings[(h, "down")]) for h in HOURS]
    per_resolved = [p["cost_per_resolved_usd"] for p in expected["buckets"]]
    shown = [float(v) if v else None for v in column(page, "cost", 1)]
    assert shown == [None if v is None else pytest.approx(v) for v in per_resolved]
    assert column(page, "handoffs") == [str(scripted_day.handoffs[(h, "user_request")]) for h in HOURS]
    latency = column(page, "latency")
    assert [v != "" for v in latency] == [scripted_day.turns[h] > 0 for h in HOURS]
    assert [float(v) for v in latency if v] == [
        p["latency_p95_seconds"] for p in expected["buckets"] if p["latency_p95_seconds"] is not None
    ]
    headers = page.locator("#table-handoffs thead th").evaluate_all("cells => cells.map(c => c.textContent)")
    assert headers == ["Bucket (UTC)", "user_request"]
    canvases = page.locator(".chart canvas")
    assert canvases.count() == 7
    for box in canvases.all():
        size = box.bounding_box()
        assert size is not None and size["width"] > 250 and size["height"] > 100
    page.locator("#table-turns").evaluate("t => t.closest('details').open = true")
    for path in (tmp_path / "analytics.png", artifacts / "analytics.png"):
        page.screenshot(path=path, full_page=True)
    assert (tmp_path / "analytics.png").stat().st_size > 20_000
    assert f"{server.url}/static/vendor/uplot/uPlot.iife.min.js" in requested
    assert [url for url in requested if not url.startswith(server.url)] == []  # no CDN, no network
    assert errors == []


def test_the_platform_admin_sees_analytics_only_and_picks_a_tenant(
    page: Page, server: LiveServer, scripted_day: Day
) -> None:
    errors = console_errors(page)
    sign_in(page, server, "platform", "_platform")
    page.locator("#panel-analytics").wait_for()
    assert page.get_by_role("tab").all_inner_texts() == ["Analytics"]
    tenants = page.locator("#an-tenant").locator("option").all_inner_texts()
    assert tenants == ["All tenants", "demo"]
    show_day(page)
    assert page.locator("#an-status").inner_text().startswith("All tenants")
    assert tile(page, "turns") == str(scripted_day.turns.total())
    page.locator("#an-tenant").select_option("demo")
    page.get_by_role("button", name="Show").click()
    page.locator("#an-status", has_text=re.compile("^Tenant demo")).wait_for()
    assert tile(page, "denials") == "1"
    assert errors == []
