"""Browser-test helpers shared by the widget and console tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Page


def console_errors(page: Page) -> list[str]:
    """Collect the page's console errors and uncaught exceptions (assert the list is empty at the end)."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"console: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    return errors


@dataclass
class HostPage:
    """A third-party site (its own server and origin) serving `html` at `url`."""

    url: str
    html: str = "<!doctype html><title>empty</title>"


@contextmanager
def serve_host_page() -> Iterator[HostPage]:
    """A real HTTP server on another loopback port, standing in for the shop that embeds the widget
    (Chromium only lets loopback pages call a loopback API, so a routed fake origin would not do)."""
    host = HostPage(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = host.html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("localhost", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host.url = f"http://localhost:{server.server_address[1]}/shop"
    try:
        yield host
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
