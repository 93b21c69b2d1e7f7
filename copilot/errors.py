"""Typed errors: one enum of codes, one base error carrying code, message (what to do) and HTTP status."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    INVALID_ARGUMENTS = "invalid_arguments"
    UNKNOWN_TOOL = "unknown_tool"
    DENIED = "denied"
    LIMIT_EXCEEDED = "limit_exceeded"
    NOT_FOUND = "not_found"
    PRECONDITION_FAILED = "precondition_failed"
    CONFIRMATION_REQUIRED = "confirmation_required"
    CONFIRMATION_INVALID = "confirmation_invalid"
    CONFIRMATION_EXPIRED = "confirmation_expired"
    CONFIRMATION_USED = "confirmation_used"
    CONFIRMATION_MISMATCH = "confirmation_mismatch"
    PREVIEW_STALE = "preview_stale"
    APPROVAL_PENDING = "approval_pending"
    APPROVAL_REJECTED = "approval_rejected"
    TOOL_ERROR = "tool_error"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"
    BAD_REQUEST = "bad_request"
    CONFIGURATION = "configuration"
    INTERNAL = "internal"
    POLICY_INVALID = "policy_invalid"
    POLICY_UNACKNOWLEDGED = "policy_unacknowledged"
    POLICY_TESTS_FAILED = "policy_tests_failed"
    PROMPT_INVALID = "prompt_invalid"
    TURN_ABANDONED = "turn_abandoned"
    STORAGE_UNAVAILABLE = "storage_unavailable"
    MODEL_TIMEOUT = "model_timeout"
    MODEL_RATE_LIMITED = "model_rate_limited"
    MODEL_UNAVAILABLE = "model_unavailable"
    CONTEXT_OVERFLOW = "context_overflow"
    MODEL_OUTPUT_INVALID = "model_output_invalid"
    TURN_BUDGET_EXCEEDED = "turn_budget_exceeded"
    TURN_CANCELLED = "turn_cancelled"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    RATE_LIMITED = "rate_limited"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    BUDGET_EXCEEDED = "budget_exceeded"


_STATUS: dict[ErrorCode, int] = {
    ErrorCode.INVALID_ARGUMENTS: 422,
    ErrorCode.UNKNOWN_TOOL: 404,
    ErrorCode.DENIED: 403,
    ErrorCode.LIMIT_EXCEEDED: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.PRECONDITION_FAILED: 409,
    ErrorCode.CONFIRMATION_REQUIRED: 409,
    ErrorCode.CONFIRMATION_INVALID: 409,
    ErrorCode.CONFIRMATION_EXPIRED: 410,
    ErrorCode.CONFIRMATION_USED: 409,
    ErrorCode.CONFIRMATION_MISMATCH: 409,
    ErrorCode.PREVIEW_STALE: 409,
    ErrorCode.APPROVAL_PENDING: 409,
    ErrorCode.APPROVAL_REJECTED: 409,
    ErrorCode.TOOL_ERROR: 500,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.CONFLICT: 409,
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.CONFIGURATION: 500,
    ErrorCode.INTERNAL: 500,
    ErrorCode.POLICY_INVALID: 422,
    ErrorCode.POLICY_UNACKNOWLEDGED: 422,
    ErrorCode.POLICY_TESTS_FAILED: 422,
    ErrorCode.PROMPT_INVALID: 422,
    ErrorCode.TURN_ABANDONED: 503,
    ErrorCode.STORAGE_UNAVAILABLE: 503,
    ErrorCode.MODEL_TIMEOUT: 504,
    ErrorCode.MODEL_RATE_LIMITED: 429,
    ErrorCode.MODEL_UNAVAILABLE: 503,
    ErrorCode.CONTEXT_OVERFLOW: 413,
    ErrorCode.MODEL_OUTPUT_INVALID: 502,
    ErrorCode.TURN_BUDGET_EXCEEDED: 429,
    ErrorCode.TURN_CANCELLED: 409,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.BUDGET_EXCEEDED: 429,
}


class CopilotError(Exception):
    """Base error. `message` must tell the reader what to do next."""

    def __init__(self, code: ErrorCode, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}

    @property
    def status(self) -> int:
        return _STATUS[self.code]

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code.value, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class ToolError(CopilotError):
    """Raised by a tool handler when a business precondition fails (e.g. order is not pending)."""

    def __init__(self, message: str, code: ErrorCode = ErrorCode.PRECONDITION_FAILED) -> None:
        super().__init__(code, message)
