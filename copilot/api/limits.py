"""Limits at the HTTP edge: bounded integers, the request body size, security headers on the pages.

* `MAX_INT` bounds every integer a client sends (ids, offsets, versions): the database stores 64-bit integers,
  so a larger one is a 422 with a clear message, never an overflow deep in a query.
* `BodyLimit` refuses a body over `COPILOT_MAX_BODY_BYTES` with 413 `payload_too_large`, from Content-Length
  before reading anything, or while reading a chunked body, so a 20 MB body is never parsed.
* `within_message_rate` allows a principal COPILOT_MESSAGES_PER_MINUTE messages (429 `rate_limited` after),
  counted across workers through Redis when COPILOT_REDIS_URL is set.
* `PageHeaders` adds a Content-Security-Policy and frame/sniffing/referrer headers to every HTML page: the
  consoles load only their own scripts and styles; no page can be framed (clickjacking).
"""

from __future__ import annotations

from fastapi import FastAPI, HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from copilot.api.errors import error_response
from copilot.errors import CopilotError, ErrorCode
from copilot.principal import Principal
from copilot.runtime import Runtime

MAX_INT = 2**63 - 1
"""The largest integer accepted anywhere in the API (a signed 64-bit column)."""

_COMMON = "default-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"  # fmt: skip
CONSOLE_CSP = f"{_COMMON}; style-src 'self'"
PAGE_CSP = f"{_COMMON}; style-src 'self' 'unsafe-inline'"
"""Pages with an inline <style> (the demo host page, the landing page, help articles)."""
_STRICT = ("/console", "/admin")
_PAGES = ("/demo", "/help/")
_FRAME = [(b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]  # fmt: skip


def _too_large(limit: int) -> str:
    return (
        f"The request body is larger than {limit} bytes; send less (COPILOT_MAX_BODY_BYTES sets the limit)."
    )


class BodyLimit:
    """Pure ASGI middleware: at most `limit` bytes of request body."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            code = ErrorCode.PAYLOAD_TOO_LARGE if declared.isdigit() else ErrorCode.BAD_REQUEST
            message = _too_large(self.limit) if declared.isdigit() else "Content-Length must be a byte count."
            await error_response(413 if declared.isdigit() else 400, code.value, message)(
                scope, receive, send
            )
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:  # raised inside the route: the error handlers answer 413
                raise HTTPException(413, _too_large(self.limit))
            return message

        await self.app(scope, counted, send)


class PageHeaders:
    """Pure ASGI middleware: CSP and frame headers on HTML responses (the API's JSON is left alone)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                content_type = dict(headers).get(b"content-type", b"")
                if content_type.startswith(b"text/html"):
                    headers += _FRAME
                    csp = page_csp(path)
                    if csp is not None:
                        headers.append((b"content-security-policy", csp.encode()))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def page_csp(path: str) -> str | None:
    """The CSP of a page we serve (None: a page of a dependency, e.g. /docs, which needs inline scripts)."""
    if path.startswith(_STRICT):
        return CONSOLE_CSP
    if path == "/" or path.startswith(_PAGES):
        return PAGE_CSP
    return None


async def within_message_rate(runtime: Runtime, principal: Principal) -> None:
    """Count one message of `principal`; 429 once it sent COPILOT_MESSAGES_PER_MINUTE in the last minute."""
    per_minute = runtime.settings.messages_per_minute
    if not await runtime.backplane.limiter("messages", per_minute, 60.0).allow(principal.label()):
        raise CopilotError(
            ErrorCode.RATE_LIMITED,
            f"You sent {per_minute} messages in the last minute; wait a minute and retry.",
        )


def install(app: FastAPI, max_body_bytes: int) -> None:
    app.add_middleware(PageHeaders)
    app.add_middleware(BodyLimit, limit=max_body_bytes)
