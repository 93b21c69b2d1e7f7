"""Raw ASGI plumbing shared by the scripted servers: read a JSON body, answer, stream, stall, cut."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Handler = Callable[[str, dict[str, Any], dict[str, str], Send], Awaitable[None]]


class CutConnection(Exception):
    """Raised inside a response to drop the connection (uvicorn closes it)."""


async def read_json(receive: Receive) -> Any:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return json.loads(b"".join(chunks) or b"null")


async def answer(send: Send, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    head += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": raw})


async def stream(send: Send, frames: AsyncIterator[str]) -> None:
    """A text/event-stream response of pre-encoded SSE frames."""
    head = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
    await send({"type": "http.response.start", "status": 200, "headers": head})
    async for frame in frames:
        await send({"type": "http.response.body", "body": frame.encode(), "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def cut(send: Send) -> None:
    """Promise a body, send part of it, then drop the connection."""
    head = [(b"content-type", b"application/json"), (b"content-length", b"4096")]
    await send({"type": "http.response.start", "status": 200, "headers": head})
    await send({"type": "http.response.body", "body": b'{"id": ', "more_body": True})
    raise CutConnection


def app(handler: Handler) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """An ASGI app that hands POSTs to `handler(path, body, headers, send)`; a cut drops the connection."""

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        try:
            body = await read_json(receive)
        except ValueError:
            await answer(send, 400, {"error": {"message": "the request body is not JSON", "type": "invalid"}})
            return
        if scope["method"] != "POST" or not isinstance(body, dict):
            await answer(send, 404, {"error": {"message": f"no route {scope['path']}", "type": "not_found"}})
            return
        await handler(scope["path"], body, headers, send)

    return asgi
