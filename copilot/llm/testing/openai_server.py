"""A scripted OpenAI-compatible chat-completions server (POST /v1/chat/completions, streaming or not).

It checks requests the way OpenAI does where it matters to us: every assistant tool call must be answered by
a tool message before the conversation goes on (else 400, as the real API answers), an optional API key, and
an optional context window (400 `context_length_exceeded`)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from copilot.llm.testing.asgi import Send, answer, app, cut, stream
from copilot.llm.testing.script import Cut, Fail, Malformed, Reply, Responder, Stall, WireLog, WireRequest

PATH = "/v1/chat/completions"


@dataclass
class ScriptedApp:
    asgi: Any
    log: WireLog
    context_window: int | None = None
    """Requests estimated above this many tokens get 400 context_length_exceeded (may change between turns)."""


def unanswered_tool_calls(messages: list[dict[str, Any]]) -> str | None:
    """OpenAI's rule: an assistant message with tool_calls is followed by a tool message for each id."""
    waiting: list[str] = []
    for message in messages:
        role = message.get("role")
        if role == "tool":
            call_id = message.get("tool_call_id")
            if call_id not in waiting:
                return f"Invalid parameter: messages with role 'tool' must be a response to a preceding message with 'tool_calls' ({call_id})."
            waiting.remove(call_id)
            continue
        if waiting:
            break
        if role == "assistant":
            waiting = [str(call["id"]) for call in message.get("tool_calls") or []]
    if waiting:
        return (
            "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
            f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(waiting)}"
        )
    return None


def _error(status: int, message: str, code: str | None = None) -> dict[str, Any]:
    kind = {429: "rate_limit_error", 401: "invalid_request_error", 400: "invalid_request_error"}
    return {
        "error": {"message": message, "type": kind.get(status, "server_error"), "param": None, "code": code}
    }


def _usage(request: WireRequest, reply: Reply) -> dict[str, int]:
    prompt = reply.prompt_tokens if reply.prompt_tokens is not None else request.estimated_tokens()
    completion = max(1, (len(reply.text) + sum(len(c.raw_arguments()) for c in reply.tool_calls)) // 4)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _calls(reply: Reply) -> list[dict[str, Any]]:
    return [
        {
            "id": c.id or f"call_{i}",
            "type": "function",
            "function": {"name": c.name, "arguments": c.raw_arguments()},
        }
        for i, c in enumerate(reply.tool_calls)
    ]


def _finish(reply: Reply) -> str:
    return "tool_calls" if reply.tool_calls else "stop"


def completion(request: WireRequest, reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.tool_calls:
        message["tool_calls"] = _calls(reply)
    return {
        "id": "chatcmpl-scripted", "object": "chat.completion", "created": 0, "model": request.model,
        "choices": [{"index": 0, "message": message, "finish_reason": _finish(reply), "logprobs": None}],
        "usage": _usage(request, reply),
    }  # fmt: skip


def _chunk(request: WireRequest, delta: dict[str, Any], finish: str | None = None) -> str:
    body = {
        "id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": 0, "model": request.model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
    }  # fmt: skip
    return f"data: {json.dumps(body)}\n\n"


def _deltas(reply: Reply) -> list[dict[str, Any]]:
    text = reply.text
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    deltas += [{"content": text[i : i + reply.chunk]} for i in range(0, len(text), reply.chunk)]
    for index, call in enumerate(_calls(reply)):
        first = {
            "index": index,
            "id": call["id"],
            "type": "function",
            "function": {"name": call["function"]["name"], "arguments": ""},
        }
        deltas.append({"tool_calls": [first]})
        raw = call["function"]["arguments"]
        for i in range(0, len(raw), reply.chunk):
            deltas.append(
                {"tool_calls": [{"index": index, "function": {"arguments": raw[i : i + reply.chunk]}}]}
            )
    return deltas


async def _frames(request: WireRequest, reply: Reply) -> AsyncIterator[str]:
    for n, delta in enumerate(_deltas(reply)):
        if n == reply.cut_after:
            raise ConnectionAbortedError("scripted cut")
        if n == reply.stall_after:
            await asyncio.sleep(reply.stall_seconds)
        yield _chunk(request, delta)
    yield _chunk(request, {}, _finish(reply))
    if (request.body.get("stream_options") or {}).get("include_usage"):
        usage = {"id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": 0,
                 "model": request.model, "choices": [], "usage": _usage(request, reply)}  # fmt: skip
        yield f"data: {json.dumps(usage)}\n\n"
    yield "data: [DONE]\n\n"


async def _broken(request: WireRequest, body: str) -> AsyncIterator[str]:
    yield _chunk(request, {"role": "assistant", "content": ""})
    yield f"data: {body}\n\n"
    yield "data: [DONE]\n\n"


def openai_app(
    responder: Responder, *, api_key: str | None = None, context_window: int | None = None
) -> ScriptedApp:
    """The server's ASGI app and its log; `api_key` demands that bearer key, `context_window` caps tokens."""
    log = WireLog()

    async def handle(path: str, body: dict[str, Any], headers: dict[str, str], send: Send) -> None:
        if path.rstrip("/") != PATH:
            await answer(send, 404, _error(404, f"no route {path}"))
            return
        context_window = scripted.context_window
        request = WireRequest("openai", path, body, headers)
        log.requests.append(request)
        if api_key is not None and headers.get("authorization") != f"Bearer {api_key}":
            await answer(send, 401, _error(401, "Incorrect API key provided.", "invalid_api_key"))
            return
        problem = unanswered_tool_calls(request.messages)
        if problem is None and context_window is not None and request.estimated_tokens() > context_window:
            problem = (
                f"This model's maximum context length is {context_window} tokens. However, your messages "
                f"resulted in {request.estimated_tokens()} tokens. Please reduce the length of the messages."
            )
            await answer(send, 400, _error(400, problem, "context_length_exceeded"))
            return
        if problem is not None:
            log.rejected.append(problem)
            await answer(send, 400, _error(400, problem))
            return
        await _play(request, responder(request), send)

    scripted = ScriptedApp(app(handle), log, context_window)
    return scripted


async def _play(request: WireRequest, step: object, send: Send) -> None:
    if isinstance(step, Stall):
        await asyncio.sleep(step.seconds)
        step = step.then
    if isinstance(step, Fail):
        headers = {"retry-after": f"{step.retry_after:g}"} if step.retry_after is not None else {}
        await answer(send, step.status, _error(step.status, step.message, step.code), headers)
    elif isinstance(step, Cut):
        await cut(send)
    elif isinstance(step, Malformed):
        if request.stream:
            await stream(send, _broken(request, step.body))
        else:
            await answer(send, 200, step.body)
    elif isinstance(step, Reply):
        if request.stream:
            await stream(send, _frames(request, step))
        else:
            await answer(send, 200, completion(request, step))
