"""Process logs: one stderr handler, JSON lines (python-json-logger) or text (`COPILOT_LOG_FORMAT`), every
record redacted by copilot.redaction — message, arguments, extra fields and exception tracebacks.

A JSON line carries `time`, `level`, `logger`, `event` (the `extra={"event": …}` name, else the message
template, so lines group without parsing), `message`, the current OpenTelemetry `trace_id` / `span_id`
(the ids the audit row and the exported spans of the same turn carry), and the running turn's `tenant`,
`conversation_id` and `turn_id` (`log_context`). Conversation ids are random (`conv_<uuid>`), so they are
pseudonymous already; customer ids are never added (they can be names). uvicorn's access lines become
`event: http.request` with `method`, `path` (redacted) and `status`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal
from urllib.parse import unquote

from opentelemetry import trace
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from copilot.redaction import ExcInfo, redact_fields, redact_text, redact_traceback

LogFormat = Literal["auto", "json", "text"]
_CONTEXT: ContextVar[Mapping[str, str] | None] = ContextVar("copilot_log_context", default=None)
_STANDARD = frozenset({"time", "level", "logger", "event", "message", "exc_info", "stack_info", "taskName"})


@contextmanager
def log_context(**fields: str | None) -> Iterator[None]:
    """Records logged inside carry these fields (added to the enclosing context's)."""
    token = _CONTEXT.set({**(_CONTEXT.get() or {}), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def _access(record: logging.LogRecord) -> dict[str, Any]:
    """uvicorn.access records: (client, method, path, http version, status) as their arguments."""
    args = record.args
    if record.name != "uvicorn.access" or not isinstance(args, tuple) or len(args) != 5:
        return {}
    client, method, path, version, status = args
    shown = redact_text(
        unquote(str(path))
    )  # percent-decoded first: %40 or %20 hide nothing from the redactor
    line = f'{client} - "{method} {shown} HTTP/{version}" {status}'
    return {"event": "http.request", "method": method, "path": shown, "status": status, "message": line}


class JsonFormatter(_JsonFormatter):
    """One JSON object per record (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        log_data.pop("color_message", None)  # uvicorn's ANSI-coloured copy of the message
        extra = {k: v for k, v in log_data.items() if k not in _STANDARD and k not in ("level", "logger")}
        log_data.update(redact_fields(extra))
        log_data["message"] = redact_text(str(log_data.get("message", "")))  # also without the record factory
        log_data.update(_access(record))
        log_data.setdefault("event", record.msg if isinstance(record.msg, str) else record.name)
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            log_data["trace_id"], log_data["span_id"] = (
                format(span.trace_id, "032x"),
                format(span.span_id, "016x"),
            )
        log_data.update(_CONTEXT.get() or {})

    def formatException(self, ei: ExcInfo) -> str:  # type: ignore[override]
        return redact_traceback(ei)  # exc_info is cleared by the record factory; this is without it

    def formatStack(self, stack_info: str) -> str:
        return redact_text(stack_info)


class TextFormatter(logging.Formatter):
    """`time level logger: message`, the whole line (traceback included) redacted."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record))


def resolve_format(log_format: LogFormat) -> Literal["json", "text"]:
    """auto: JSON unless stderr is a terminal (a person reads a terminal; a collector reads the rest)."""
    if log_format != "auto":
        return log_format
    return "text" if sys.stderr.isatty() else "json"


def logging_config(log_format: LogFormat, level: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` for the process (uvicorn's `log_config`): every logger, uvicorn's
    access and error logs included, goes to one stderr handler with the chosen formatter."""
    chosen = resolve_format(log_format)
    formatter = {"()": f"{__name__}.{'JsonFormatter' if chosen == 'json' else 'TextFormatter'}"}
    access = formatter if chosen == "json" else {
        "()": "uvicorn.logging.AccessFormatter", "use_colors": False,
        "fmt": '%(asctime)s %(levelname)s uvicorn.access: %(client_addr)s "%(request_line)s" %(status_code)s',
    }  # fmt: skip
    stderr = {"class": "logging.StreamHandler", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": formatter, "access": access},
        "handlers": {"main": {**stderr, "formatter": "main"}, "access": {**stderr, "formatter": "access"}},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": ["access"], "propagate": False},
        },
        "root": {"handlers": ["main"], "level": level.upper()},
    }
