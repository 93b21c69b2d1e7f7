"""The one redactor for what we write down: the audit log (arguments and reasons) and the logs.

Three functions, nothing else to learn:

* `redact_text(text)` masks, inside any free text: emails (`e***@example.com`), payment-method ids
  (`gift_card_***0001`), amounts stated as balances (`balance of [amount]`), street addresses and units
  (`[address]`), phone and card numbers, bearer tokens and JWTs (`[token]`). Ids of orders, items, users and
  conversations stay readable: an auditor needs them, and they are not secrets.
* `redact_fields(mapping)` redacts a structured record by key (secrets and street lines removed, names reduced
  to an initial, balances to `[amount]`, payment-method ids masked), recursing into dicts and lists, and runs
  `redact_text` over every other string.
* `install_log_redaction()` makes every log record of the process pass `redact_text` (message and arguments
  formatted first; idempotent), its traceback and stack too: the exception is formatted once, redacted into
  `record.exc_text` (what every formatter prints) and `record.exc_info` cleared, so no handler or formatter
  can print the exception's own message (an email or balance inside a `ValueError`). A JSON log formatter
  calls `redact_fields` on its extra fields and prints `exc_text` (or `redact_traceback(exc_info)`).

Redaction is deliberately lossy and one-way; it never raises (a value it does not understand is kept).
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

_SECRET_KEYS = re.compile(r"password|secret|token|cvv|cvc|card_number|iban|ssn|authorization", re.IGNORECASE)
_REMOVED_KEYS = frozenset({"address1", "address2", "street", "phone", "phone_number"})
_NAME_KEYS = frozenset({"first_name", "last_name", "name", "full_name"})
_PAYMENT = r"(?:[a-z]+_)*(?:card|paypal|bank|wallet|account|payment)(?:_[a-z]+)*"
_BALANCE = (
    r"(?i)(balance[a-z_]*['\"]?(?:\s+(?:of|is|was|now|left|remaining))*\s*[:=]?\s*)"  # "balance of ", "balance": "
    r"[$€£]?\s?-?\d[\d,]*(?:\.\d+)?"
)
_STREET = r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Drive|Dr|Lane|Ln|Way|Court|Ct|Place|Pl|Plaza|Terrace|Parkway|Pkwy|Highway|Hwy|Circle|Cir|Square|Sq)"  # fmt: skip

_TEXT_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]+"), "[token]"),
    (re.compile(r"(?i)\b(bearer\s+)[\w.~+/=-]{8,}"), r"\1[token]"),
    (re.compile(r"\b([\w.+-])[\w.+-]*@([\w-]+(?:\.[\w-]+)+)\b"), r"\1***@\2"),
    (re.compile(rf"\b({_PAYMENT})_(?=[A-Za-z]*\d)[A-Za-z0-9]*([A-Za-z0-9]{{4}})\b"), r"\1_***\2"),
    (re.compile(_BALANCE), r"\1[amount]"),
    (re.compile(rf"\b\d{{1,6}}(?:\s+[A-Z][\w'-]*){{1,4}}\s+{_STREET}\b\.?"), "[address]"),
    (re.compile(r"(?i)\b(?:suite|apt|apartment|unit)\.?\s*#?\s*\w+"), "[address]"),
    (re.compile(r"(?<![\w#.])(?:\d[ -]?){12,18}\d\b"), "[card]"),
    (re.compile(r"(?<![\w#.])\+?(?:\d{1,3}[\s.-])?\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b"), "[phone]"),
]


def redact_text(text: str) -> str:
    """`text` with emails, payment-method ids, balances, addresses, phone/card numbers and tokens masked."""
    for pattern, replacement in _TEXT_RULES:
        text = pattern.sub(replacement, text)
    return text


def _mask_payment(value: str) -> str:
    head, _, tail = value.rpartition("_")
    return f"{head}_***{tail[-4:]}" if head else f"***{value[-4:]}"


def _redact_value(key: str, value: Any) -> Any:
    if isinstance(value, Mapping):
        return redact_fields(value)
    if isinstance(value, list | tuple):
        return [_redact_value(key, v) for v in value]
    if "balance" in key.lower() and isinstance(value, int | float | str) and not isinstance(value, bool):
        return "[amount]"
    if not isinstance(value, str):
        return value
    if _SECRET_KEYS.search(key) or key in _REMOVED_KEYS:
        return "[redacted]"
    if "payment_method" in key:
        return _mask_payment(value)
    if key in _NAME_KEYS:
        return f"{value[:1]}***"
    return redact_text(value)


def redact_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `fields` safe to store or log (see the module docstring)."""
    return {str(k): _redact_value(str(k), v) for k, v in fields.items()}


ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def redact_traceback(exc_info: ExcInfo) -> str:
    """The traceback as `logging.Formatter.formatException` prints it, with `redact_text` applied (exception
    messages, chained causes and any source line that quotes data)."""
    return redact_text("".join(traceback.format_exception(*exc_info)).rstrip("\n"))


_installed: list[Callable[..., logging.LogRecord]] = []


def install_log_redaction() -> None:
    """Every log record created from now on carries a redacted message (process-wide, idempotent)."""
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            _redact_record(record)
        except Exception:  # a record whose arguments do not format: leave it to logging's own error report
            return record
        return record

    _installed.append(factory)
    logging.setLogRecordFactory(factory)


def _redact_record(record: logging.LogRecord) -> None:
    _redact_trace(record)
    _redact_message(record)


def _redact_trace(record: logging.LogRecord) -> None:
    """The traceback becomes redacted text in `exc_text` (stdlib formatters append it whether or not
    `exc_info` is set); `exc_info` goes, so nothing downstream formats the raw exception again."""
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = redact_traceback(record.exc_info)
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = redact_text(record.exc_text)
    if record.stack_info:
        record.stack_info = redact_text(record.stack_info)


def _redact_message(record: logging.LogRecord) -> None:
    """Redact in place, keeping the record's shape when possible: formatters such as uvicorn's access log
    unpack `record.args`, so arguments are redacted one by one; only when that is not enough (a secret made of
    the message and an argument together) the record becomes its redacted message without arguments."""
    message = record.getMessage()
    redacted = redact_text(message)
    if redacted == message:
        return
    if isinstance(record.args, tuple) and isinstance(record.msg, str):
        msg = redact_text(record.msg)
        arguments = tuple(redact_text(a) if isinstance(a, str) else a for a in record.args)
        formatted = msg % arguments if arguments else msg
        if redact_text(formatted) == formatted:
            record.msg, record.args = msg, arguments
            return
    record.msg, record.args = redacted, ()
