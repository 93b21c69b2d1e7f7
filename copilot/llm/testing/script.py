"""What a scripted model server answers: one `Step` per request, from a `Responder` (a `Script` replays steps in
order and records requests it did not expect). Steps are protocol-neutral; each server encodes them."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Provider = Literal["openai", "anthropic"]


@dataclass(frozen=True, slots=True)
class ToolCall:
    name: str
    arguments: Mapping[str, Any] | str = field(default_factory=dict)
    """A mapping is sent as JSON; a string is sent as-is (e.g. malformed JSON)."""
    id: str | None = None

    def raw_arguments(self) -> str:
        return self.arguments if isinstance(self.arguments, str) else json.dumps(self.arguments)


@dataclass(frozen=True, slots=True)
class Reply:
    """A normal answer: text and/or tool calls. Streamed in `chunk`-character pieces; `stall_after` chunks
    the stream stops sending for `stall_seconds` (a stalled stream), `cut_after` chunks the connection drops."""

    text: str = ""
    tool_calls: Sequence[ToolCall] = ()
    prompt_tokens: int | None = None
    """Reported usage; None estimates ~4 characters per token of the request."""
    chunk: int = 8
    stall_after: int | None = None
    stall_seconds: float = 30.0
    cut_after: int | None = None


@dataclass(frozen=True, slots=True)
class Fail:
    """An HTTP error: 429 with `retry_after`, 500, 503, 529 (Anthropic overloaded), 400 …"""

    status: int
    message: str = "scripted failure"
    code: str | None = None
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class Stall:
    """Accept the request and answer nothing for `seconds` (a hung model), then a normal `then` reply."""

    seconds: float
    then: Reply = field(default_factory=lambda: Reply(text="(late answer)"))


@dataclass(frozen=True, slots=True)
class Malformed:
    """A 200 whose body (or stream event) is not valid JSON."""

    body: str = '{"id": "broken", "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi'


@dataclass(frozen=True, slots=True)
class Cut:
    """Close the connection without an answer (a killed server or proxy)."""


Step = Reply | Fail | Stall | Malformed | Cut


@dataclass(frozen=True, slots=True)
class WireRequest:
    provider: Provider
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)
    """When it arrived (time.monotonic)."""

    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))

    @property
    def tool_names(self) -> list[str]:
        names = []
        for tool in self.body.get("tools") or []:
            names.append(str(tool["function"]["name"] if "function" in tool else tool["name"]))
        return names

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages") or [])

    def estimated_tokens(self) -> int:
        """~4 characters per token over messages, system prompt and tools (a deliberately rough count)."""
        parts = [self.body.get("messages"), self.body.get("system"), self.body.get("tools")]
        return max(1, len(json.dumps(parts, default=str)) // 4)


Responder = Callable[[WireRequest], Step]


class Script:
    """Replays `steps` in order; a request past the end gets a 500 and is recorded in `unexpected`."""

    def __init__(self, steps: Sequence[Step] = ()) -> None:
        self._steps = list(steps)
        self._lock = threading.Lock()
        self.position = 0
        self.unexpected: list[WireRequest] = []

    def reset(self, *steps: Step) -> None:
        """Start over with `steps` (a long-lived server serving one test after another)."""
        with self._lock:
            self._steps, self.position, self.unexpected = list(steps), 0, []

    def add(self, *steps: Step) -> None:
        with self._lock:
            self._steps.extend(steps)

    @property
    def remaining(self) -> int:
        return len(self._steps) - self.position

    def __call__(self, request: WireRequest) -> Step:
        with self._lock:
            if self.position >= len(self._steps):
                self.unexpected.append(request)
                return Fail(
                    500, f"unexpected request #{self.position + 1}: the script has {len(self._steps)}"
                )
            step = self._steps[self.position]
            self.position += 1
            return step

    def assert_consumed(self) -> None:
        assert not self.unexpected, f"{len(self.unexpected)} request(s) past the end of the script"
        assert not self.remaining, f"{self.remaining} scripted step(s) never requested"


def by_model(responders: Mapping[str, Responder]) -> Responder:
    """Route each request to the responder named by its `model` (e.g. "user" and "copilot" in one server)."""

    def respond(request: WireRequest) -> Step:
        responder = responders.get(request.model)
        if responder is None:
            return Fail(404, f"model {request.model!r} is not served here", code="model_not_found")
        return responder(request)

    return respond


@dataclass
class WireLog:
    """What a server saw: every request, and why any was rejected by the protocol checks."""

    requests: list[WireRequest] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert not self.rejected, f"the server rejected requests: {self.rejected}"
