"""A scripted Anthropic Messages server (POST /v1/messages, streaming or not), checking what the real API
rejects: every `tool_use` block answered by a `tool_result` in the next user message, and the API key (`x-api-key`, or a bearer token as newer SDKs send it)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from copilot.llm.testing.asgi import Send, answer, app, cut, stream
from copilot.llm.testing.openai_server import ScriptedApp
from copilot.llm.testing.script import Cut, Fail, Malformed, Reply, Responder, Stall, WireLog, WireRequest

PATH = "/v1/messages"
_KINDS = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
          429: "rate_limit_error", 529: "overloaded_error"}  # fmt: skip


def _blocks(message: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    content = message.get("content")
    return (
        [b for b in content if isinstance(b, dict) and b.get("type") == kind]
        if isinstance(content, list)
        else []
    )


def unanswered_tool_uses(messages: list[dict[str, Any]]) -> str | None:
    for n, message in enumerate(messages):
        if message.get("role") != "assistant":
            continue
        uses = {str(b["id"]) for b in _blocks(message, "tool_use")}
        if not uses:
            continue
        following = messages[n + 1] if n + 1 < len(messages) else {}
        answered = {str(b.get("tool_use_id")) for b in _blocks(following, "tool_result")}
        if missing := sorted(uses - answered):
            return (
                f"messages.{n + 1}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                f"{', '.join(missing)}. Each `tool_use` block must have a corresponding `tool_result` block in "
                "the next message."
            )
    return None


def _error(status: int, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": _KINDS.get(status, "api_error"), "message": message}}


def _content(reply: Reply) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = [{"type": "text", "text": reply.text}] if reply.text else []
    for i, call in enumerate(reply.tool_calls):
        arguments: Any = call.arguments if not isinstance(call.arguments, str) else json.loads(call.arguments)
        content.append(
            {"type": "tool_use", "id": call.id or f"toolu_{i}", "name": call.name, "input": arguments}
        )
    return content


def _usage(request: WireRequest, reply: Reply) -> dict[str, int]:
    prompt = reply.prompt_tokens if reply.prompt_tokens is not None else request.estimated_tokens()
    output = max(1, (len(reply.text) + sum(len(c.raw_arguments()) for c in reply.tool_calls)) // 4)
    return {"input_tokens": prompt, "output_tokens": output}


def message(request: WireRequest, reply: Reply) -> dict[str, Any]:
    return {
        "id": "msg_scripted", "type": "message", "role": "assistant", "model": request.model,
        "content": _content(reply), "stop_reason": "tool_use" if reply.tool_calls else "end_turn",
        "stop_sequence": None, "usage": _usage(request, reply),
    }  # fmt: skip


def _event(kind: str, data: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n"


def _block_events(reply: Reply) -> list[str]:
    events: list[str] = []
    index = 0
    if reply.text:
        events.append(
            _event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
        )
        for i in range(0, len(reply.text), reply.chunk):
            delta = {"type": "text_delta", "text": reply.text[i : i + reply.chunk]}
            events.append(_event("content_block_delta", {"index": 0, "delta": delta}))
        events.append(_event("content_block_stop", {"index": 0}))
        index = 1
    for n, call in enumerate(reply.tool_calls, start=index):
        block = {"type": "tool_use", "id": call.id or f"toolu_{n - index}", "name": call.name, "input": {}}
        events.append(_event("content_block_start", {"index": n, "content_block": block}))
        raw = call.raw_arguments()
        for i in range(0, len(raw), reply.chunk):
            delta = {"type": "input_json_delta", "partial_json": raw[i : i + reply.chunk]}
            events.append(_event("content_block_delta", {"index": n, "delta": delta}))
        events.append(_event("content_block_stop", {"index": n}))
    return events


async def _frames(request: WireRequest, reply: Reply) -> AsyncIterator[str]:
    usage = _usage(request, reply)
    start = message(request, Reply()) | {"content": [], "stop_reason": None,
                                         "usage": {"input_tokens": usage["input_tokens"], "output_tokens": 1}}  # fmt: skip
    yield _event("message_start", {"message": start})
    for n, frame in enumerate(_block_events(reply)):
        if n == reply.cut_after:
            raise ConnectionAbortedError("scripted cut")
        if n == reply.stall_after:
            await asyncio.sleep(reply.stall_seconds)
        yield frame
    stop = {"stop_reason": "tool_use" if reply.tool_calls else "end_turn", "stop_sequence": None}
    yield _event("message_delta", {"delta": stop, "usage": usage})  # cumulative, as the API sends it
    yield _event("message_stop", {})


async def _broken(body: str) -> AsyncIterator[str]:
    yield f"event: message_start\ndata: {body}\n\n"


def anthropic_app(responder: Responder, *, api_key: str | None = None) -> ScriptedApp:
    log = WireLog()

    async def handle(path: str, body: dict[str, Any], headers: dict[str, str], send: Send) -> None:
        if path.rstrip("/") != PATH:
            await answer(send, 404, _error(404, f"no route {path}"))
            return
        request = WireRequest("anthropic", path, body, headers)
        log.requests.append(request)
        sent = headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ")
        if api_key is not None and sent != api_key:
            await answer(send, 401, _error(401, "invalid x-api-key"))
            return
        if (problem := unanswered_tool_uses(request.messages)) is not None:
            log.rejected.append(problem)
            await answer(send, 400, _error(400, problem))
            return
        await _play(request, responder(request), send)

    return ScriptedApp(app(handle), log)


async def _play(request: WireRequest, step: object, send: Send) -> None:
    if isinstance(step, Stall):
        await asyncio.sleep(step.seconds)
        step = step.then
    if isinstance(step, Fail):
        headers = {"retry-after": f"{step.retry_after:g}"} if step.retry_after is not None else {}
        await answer(send, step.status, _error(step.status, step.message), headers)
    elif isinstance(step, Cut):
        await cut(send)
    elif isinstance(step, Malformed):
        await (stream(send, _broken(step.body)) if request.stream else answer(send, 200, step.body))
    elif isinstance(step, Reply):
        await (
            stream(send, _frames(request, step))
            if request.stream
            else answer(send, 200, message(request, step))
        )
