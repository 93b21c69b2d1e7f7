"""One error shape for every failure: {"error": {"code", "message"}} with the code's HTTP status."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match

from copilot.api.models import ErrorResponse
from copilot.errors import CopilotError, ErrorCode
from copilot.store.errors import storage_error, storage_exception_types

log = logging.getLogger(__name__)

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
_HTTP_CODES = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.UNAUTHENTICATED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    409: ErrorCode.CONFLICT,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
}


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    headers = {**(headers or {}), **({"WWW-Authenticate": "Bearer"} if status == 401 else {})}
    return JSONResponse({"error": body}, status_code=status, headers=headers or None)


async def _copilot_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CopilotError)
    return error_response(exc.status, exc.code.value, exc.message, exc.details)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        f"{'.'.join(str(part) for part in err['loc'] if part != 'body')}: {err['msg']}"
        for err in exc.errors()
    ]
    message = "Fix the request: " + "; ".join(problems)
    return error_response(422, ErrorCode.INVALID_ARGUMENTS.value, message)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, ErrorCode.BAD_REQUEST)
    if exc.status_code == 405:
        allow = ", ".join(allowed_methods(request)) or (exc.headers or {}).get("Allow", "GET, HEAD")
        message = f"{request.method} is not allowed on {request.url.path}; use {allow}."
        return error_response(405, code.value, message, headers={"Allow": allow})
    return error_response(exc.status_code, code.value, str(exc.detail), headers=exc.headers)


def allowed_methods(request: Request) -> list[str]:
    """The methods some route of the app fully matches at this path; empty when the request's own method
    matches (a mount such as /static that refused it itself)."""
    matching = [
        method
        for method in _METHODS
        if any(
            r.matches({**request.scope, "method": method})[0] == Match.FULL for r in request.app.router.routes
        )
    ]
    return [] if request.method in matching else matching


async def _storage(_request: Request, exc: Exception) -> JSONResponse:
    """A database error: 503 `storage_unavailable` when the operator must act (read-only, full, down)."""
    error = storage_error(exc)
    if error is None:
        return await _unexpected(_request, exc)
    log.error("storage unavailable: %s", error.details.get("cause"))
    return error_response(error.status, error.code.value, error.message, error.details)


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error", exc_info=exc)
    return error_response(
        500, ErrorCode.INTERNAL.value, "Internal error; retry, and report it if it persists."
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(CopilotError, _copilot_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    for storage_type in storage_exception_types():
        app.add_exception_handler(storage_type, _storage)
    app.add_exception_handler(Exception, _unexpected)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the given error statuses."""
    return {status: {"model": ErrorResponse, "description": _DESCRIPTIONS[status]} for status in statuses}


_DESCRIPTIONS = {
    400: "The request is well-formed but its content is not (code `bad_request`); the message says what to fix.",
    401: "Missing, invalid or expired bearer token (code `unauthenticated`).",
    403: "Your role may not do this (code `forbidden`); use a token of a role that may.",
    404: "No such conversation for this caller (code `not_found`).",
    409: "Conflict: a turn is running, or the confirmation is invalid/used/mismatched.",
    410: "The preview expired (code `confirmation_expired`); ask again for a fresh preview.",
    422: "Invalid request body (code `invalid_arguments`).",
    429: "Too many requests or open streams for this caller (code `rate_limited`); retry later.",
    503: "Storage unavailable (code `storage_unavailable`): the database is read-only, full or down.",
}
