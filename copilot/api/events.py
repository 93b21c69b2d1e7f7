"""GET .../events: the conversation's event log as Server-Sent Events, resumable with Last-Event-ID."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import APIRouter, Header, Query
from sse_starlette import EventSourceResponse, ServerSentEvent

from copilot.api.deps import ConversationDep, PrincipalDep, RuntimeDep
from copilot.api.errors import error_responses
from copilot.api.limits import MAX_INT
from copilot.errors import CopilotError, ErrorCode
from copilot.eventlog import EventLog
from copilot.events import STAFF_ONLY_EVENTS
from copilot.runtime import Runtime
from copilot.streamcap import Cap, held
from copilot.telemetry.metrics import open_stream

router = APIRouter(prefix="/v1/conversations", tags=["events"])

PING_SECONDS = 15
SEND_TIMEOUT_SECONDS = 30
STREAM_LEASE_SECONDS = 60.0
"""A stream's slot in the per-principal cap is renewed while it is open; a dead worker's expires after this."""
T = TypeVar("T")

_SSE_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": (
            "An SSE stream. Each event has `id` = per-conversation seq, `event` = type (message.delta, "
            "message.completed, tool.requested, tool.denied, tool.invalid, tool.preview, tool.executed, "
            "tool.error, handoff.requested, turn.started, turn.completed, error) and `data` = JSON."
        ),
        "content": {
            "text/event-stream": {
                "example": 'id: 3\nevent: message.delta\ndata: {"text": "Your order", "turn_id": "turn_1"}\n\n'
            }
        },
    }
}


def _start_after(last_event_id: str | None, after: int | None) -> int:
    if last_event_id is None or not last_event_id.strip():
        return after or 0
    value = last_event_id.strip()
    if not value.isascii() or not value.isdigit() or int(value) > MAX_INT:
        raise CopilotError(
            ErrorCode.INVALID_ARGUMENTS,
            f"Last-Event-ID must be the integer id of a received event (0 to {MAX_INT}); "
            "reconnect without it to replay from the start.",
        )
    return int(value)


async def _encode(
    events: EventLog, conversation_id: str, after: int, follow: bool, staff: bool = False
) -> AsyncIterator[ServerSentEvent]:
    async for event in events.tail(conversation_id, after, follow=follow):
        if not staff and event["type"] in STAFF_ONLY_EVENTS:
            continue
        data = {**event["data"]}
        data.setdefault("turn_id", event["turn_id"])
        yield ServerSentEvent(
            id=str(event["seq"]), event=event["type"], data=json.dumps(data, ensure_ascii=False, default=str)
        )


async def _until(stop: asyncio.Event, source: AsyncIterator[T]) -> AsyncIterator[T]:
    """The items of `source` until `stop` is set; `source` is closed however this ends (stop, exhaustion,
    or the client going away)."""
    stopped = asyncio.ensure_future(stop.wait())
    following: asyncio.Future[T] | None = None
    try:
        while True:
            following = asyncio.ensure_future(anext(source))
            await asyncio.wait({following, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not following.done():
                return
            try:
                item = following.result()
            except StopAsyncIteration:
                return
            following = None
            yield item
    finally:
        stopped.cancel()
        if following is not None and not following.done():
            following.cancel()  # the pending read must end before the generator can be closed
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await following
        await source.aclose()  # type: ignore[attr-defined]


async def _drained(shutdown: anyio.Event, runtime: Runtime, done: asyncio.Event) -> None:
    """On server shutdown, drain this worker's turns (the stream keeps flowing), then end the stream: the
    client reconnects to another worker with Last-Event-ID."""
    await shutdown.wait()
    await runtime.drain()
    done.set()


async def _capped(cap: Cap, key: str, holder: str, source: AsyncIterator[T]) -> AsyncIterator[T]:
    async with held(cap, key, holder):
        async for item in source:
            yield item


async def _live(
    runtime: Runtime, conversation_id: str, after: int, *, follow: bool, staff: bool, shutdown: anyio.Event
) -> AsyncIterator[ServerSentEvent]:
    done = asyncio.Event()
    watcher = asyncio.create_task(_drained(shutdown, runtime, done))
    with open_stream(runtime.telemetry):
        try:
            async for sse in _until(done, _encode(runtime.events, conversation_id, after, follow, staff)):
                yield sse
        finally:
            watcher.cancel()


@router.get(
    "/{conversation_id}/events",
    summary="Stream the conversation's events (SSE); resume with Last-Event-ID or ?after=",
    response_class=EventSourceResponse,
    responses={**_SSE_DOC, **error_responses(401, 404, 422, 429)},
)
async def stream_events(
    conversation: ConversationDep,
    runtime: RuntimeDep,
    *,
    principal: PrincipalDep,
    last_event_id: Annotated[
        str | None, Header(alias="Last-Event-ID", description="Resume after this event id.")
    ] = None,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_INT, description="Resume after this event id (if no header).")
    ] = None,
    follow: Annotated[
        bool, Query(description="Keep the stream open for new events (false: send and close).")
    ] = True,
) -> EventSourceResponse:
    start = _start_after(last_event_id, after)
    limit, key, holder = runtime.settings.max_streams_per_user, principal.label(), uuid.uuid4().hex
    cap = runtime.backplane.cap("streams", limit, STREAM_LEASE_SECONDS)
    if not await cap.acquire(key, holder):
        raise CopilotError(
            ErrorCode.RATE_LIMITED,
            f"You already have {limit} open event streams; close one (another tab or console) and retry.",
        )
    shutdown = anyio.Event()
    live = _live(runtime, conversation.id, start, follow=follow, staff=principal.is_staff, shutdown=shutdown)
    return EventSourceResponse(
        _capped(cap, key, holder, live),
        ping=PING_SECONDS,
        send_timeout=SEND_TIMEOUT_SECONDS,
        shutdown_event=shutdown,
        shutdown_grace_period=runtime.settings.drain_seconds + 5,
    )
