"""First contact: the landing page at / links everything, and the API docs render with no network."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.web.conftest import LiveServer
from tests.web.support import console_errors

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Route

pytestmark = pytest.mark.browser


def test_landing_page_links_demo_consoles_docs_and_articles(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        page = http.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        links = set(re.findall(r'<a href="([^"]+)"', page.text))
        assert {"/demo", "/console", "/admin", "/docs", "/redoc", "/openapi.json"} <= links
        articles = sorted(link for link in links if link.startswith("/help/"))
        shipped = Path(live_server.settings.pack_path / "articles").glob("*.md")
        assert articles == sorted(f"/help/{path.stem}" for path in shipped)
        for link in links:
            assert http.get(link).status_code == 200, link


def test_api_docs_are_served_from_this_server_only(live_server: LiveServer, browser: Browser) -> None:
    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        for docs in ("/docs", "/redoc"):
            html = http.get(docs).text
            assets = re.findall(r'(?:src|href)="([^"]+)"', html)
            assert assets and all(a.startswith("/") for a in assets), assets  # no CDN
            for asset in assets:
                assert http.get(asset).status_code == 200, asset
    context = browser.new_context()
    outside: list[str] = []

    def refuse(route: Route) -> None:  # the machine is offline: anything not on this server fails
        if route.request.resource_type == "image":  # ReDoc's footer logo: cosmetic, left blank
            route.fulfill(
                status=200, content_type="image/svg+xml", body="<svg xmlns='http://www.w3.org/2000/svg'/>"
            )
            return
        outside.append(f"{route.request.resource_type} {route.request.url}")
        route.abort()

    context.route(re.compile(r"^(?!" + re.escape(live_server.url) + ")"), refuse)
    page = context.new_page()
    errors = console_errors(page)
    page.goto(f"{live_server.url}/docs")
    page.locator(".swagger-ui .info .title", has_text="Support Copilot").wait_for(timeout=15_000)
    page.locator(".opblock-summary-path", has_text="/v1/conversations").first.wait_for()
    page.goto(f"{live_server.url}/redoc")
    page.get_by_text("Support Copilot", exact=False).first.wait_for(timeout=15_000)
    context.close()
    assert outside == [] and errors == []
