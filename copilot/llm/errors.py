"""Typed model errors: any provider exception (OpenAI, Anthropic, httpx, our own timeout) becomes a
`ModelError` with a code, a customer-facing message that offers a human, and whether a retry may help.
Classified by status code and exception shape, so no provider SDK is imported here."""

from __future__ import annotations

import email.utils
import json
import re
import time
from typing import Any

from pydantic import ValidationError

from copilot.errors import CopilotError, ErrorCode

MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.MODEL_TIMEOUT: "The assistant took too long to answer, so I stopped waiting.",
    ErrorCode.MODEL_RATE_LIMITED: "The assistant is handling too many requests right now.",
    ErrorCode.MODEL_UNAVAILABLE: "The assistant is unavailable right now.",
    ErrorCode.CONTEXT_OVERFLOW: "This conversation has grown too long for the assistant to follow.",
    ErrorCode.MODEL_OUTPUT_INVALID: "The assistant produced an answer it could not use.",
    ErrorCode.TURN_BUDGET_EXCEEDED: "The assistant needed too many steps for this request, so I stopped it.",
}
NEXT_STEP: dict[ErrorCode, str] = {
    ErrorCode.CONTEXT_OVERFLOW: "Start a new conversation, or talk to a human agent (the button below).",
}
DEFAULT_NEXT = "Please send your message again in a moment, or talk to a human agent (the button below)."
MODEL_CODES = frozenset(MESSAGES)
_OVERFLOW = re.compile(r"context_length_exceeded|maximum context length|context window|prompt is too long|too many tokens", re.I)  # fmt: skip
_RETRYABLE = frozenset({ErrorCode.MODEL_TIMEOUT, ErrorCode.MODEL_RATE_LIMITED, ErrorCode.MODEL_UNAVAILABLE,
                        ErrorCode.MODEL_OUTPUT_INVALID})  # fmt: skip


class ModelError(CopilotError):
    def __init__(
        self, code: ErrorCode, detail: str, *, retryable: bool | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(code, f"{MESSAGES[code]} {NEXT_STEP.get(code, DEFAULT_NEXT)}")
        self.detail = detail
        """What went wrong for operators (status, provider message); never shown to the customer."""
        self.retryable = code in _RETRYABLE if retryable is None else retryable
        self.retry_after = retry_after


def retry_after(headers: Any) -> float | None:
    """Seconds from `retry-after-ms` or `retry-after` (seconds or an HTTP date)."""
    if headers is None:
        return None
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def _from_status(exc: BaseException, status: int) -> ModelError:
    detail = f"HTTP {status}: {exc}"[:500]
    if status == 429:
        wait = retry_after(getattr(getattr(exc, "response", None), "headers", None))
        return ModelError(ErrorCode.MODEL_RATE_LIMITED, detail, retry_after=wait)
    if status in (400, 413) and _OVERFLOW.search(str(exc)):
        return ModelError(ErrorCode.CONTEXT_OVERFLOW, detail)
    if status >= 500:
        return ModelError(ErrorCode.MODEL_UNAVAILABLE, detail)
    return ModelError(ErrorCode.MODEL_UNAVAILABLE, detail, retryable=False)  # our request or key was refused


def classify(exc: BaseException) -> ModelError | None:
    """The ModelError for a failed model call, or None when `exc` is not a model failure (a bug: re-raise)."""
    if isinstance(exc, ModelError):
        return exc
    name = type(exc).__name__
    if isinstance(exc, TimeoutError) or "Timeout" in name:
        return ModelError(ErrorCode.MODEL_TIMEOUT, f"{name}: {exc}"[:500])
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return _from_status(exc, status)
    if "Connection" in name or isinstance(exc, ConnectionError) or "RemoteProtocol" in name:
        return ModelError(ErrorCode.MODEL_UNAVAILABLE, f"{name}: {exc}"[:500])
    if isinstance(exc, json.JSONDecodeError | ValidationError) or "ResponseValidation" in name:
        return ModelError(ErrorCode.MODEL_OUTPUT_INVALID, f"{name}: {exc}"[:500])
    return None
