"""JSON and text log lines: real logging, the real record-factory redaction and a real OTel SDK tracer."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.sdk.trace import TracerProvider

from copilot.logs import JsonFormatter, TextFormatter, log_context, logging_config, resolve_format
from copilot.redaction import install_log_redaction

EMAIL, CARD, STREET = "ann.lee@shop.io", "gift_card_0000001", "12 Main Street"


@pytest.fixture
def lines() -> Iterator[tuple[logging.Logger, io.StringIO, logging.Handler]]:
    install_log_redaction()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("copilot.test.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield logger, stream, handler
    finally:
        logger.removeHandler(handler)


def _parsed(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_json_line_has_trace_turn_and_event_fields_and_no_pii(
    lines: tuple[logging.Logger, io.StringIO, logging.Handler],
) -> None:
    logger, stream, _ = lines
    tracer = TracerProvider().get_tracer("test")
    outer = log_context(tenant="demo", conversation_id="conv_1")
    with tracer.start_as_current_span("turn") as span, outer, log_context(turn_id="t1"):  # nested contexts
        logger.info("refund to %s for %s", CARD, EMAIL, extra={"event": "refund.sent", "address1": STREET})
    [line] = _parsed(stream)
    context = span.get_span_context()
    assert line["trace_id"] == format(context.trace_id, "032x")
    assert line["span_id"] == format(context.span_id, "016x")
    assert (line["tenant"], line["conversation_id"], line["turn_id"]) == ("demo", "conv_1", "t1")
    assert (line["event"], line["level"], line["logger"]) == ("refund.sent", "INFO", "copilot.test.logs")
    assert (
        line["message"] == "refund to gift_card_***0001 for a***@shop.io" and line["address1"] == "[redacted]"
    )
    assert "time" in line


def test_outside_a_span_and_a_turn_there_are_no_ids_and_the_event_is_the_template(
    lines: tuple[logging.Logger, io.StringIO, logging.Handler],
) -> None:
    logger, stream, _ = lines
    logger.warning("disk %s low", "d1")
    [line] = _parsed(stream)
    assert line["event"] == "disk %s low" and line["message"] == "disk d1 low"
    assert not {"trace_id", "span_id", "tenant", "turn_id"} & set(line)


def test_a_traceback_is_redacted_in_json_and_text(
    lines: tuple[logging.Logger, io.StringIO, logging.Handler],
) -> None:
    logger, stream, handler = lines
    for formatter in (JsonFormatter(), TextFormatter()):
        handler.setFormatter(formatter)
        try:
            raise ValueError(f"no account for {EMAIL} paying with {CARD} at {STREET}")
        except ValueError:
            logger.exception("lookup failed")
    out = stream.getvalue()
    first = json.loads(out.splitlines()[0])
    assert "ValueError: no account for a***@shop.io paying with gift_card_***0001 at [address]" in str(
        first["exc_info"]
    )
    assert "Traceback (most recent call last)" in out.split("\n", 1)[1]  # the text line's traceback
    assert EMAIL not in out and CARD not in out and STREET not in out


@given(
    local=st.from_regex(r"[a-z][a-z0-9.]{2,12}", fullmatch=True),
    number=st.from_regex(r"[0-9]{7}", fullmatch=True),
)
def test_no_email_or_payment_id_in_an_exception_reaches_a_json_line(local: str, number: str) -> None:
    install_log_redaction()
    email, card = f"{local}@example.com", f"credit_card_{number}"
    try:
        raise RuntimeError(f"{email} {card}")
    except RuntimeError as exc:
        record = logging.getLogRecordFactory()(
            "copilot.x",
            logging.ERROR,
            __file__,
            1,
            "failed for %s",
            (email,),
            (type(exc), exc, exc.__traceback__),
        )
    out = JsonFormatter().format(record)
    assert email not in out and card not in out
    assert json.loads(out)["exc_info"]


def test_uvicorn_access_records_become_http_request_lines_with_the_path_decoded_and_redacted() -> None:
    install_log_redaction()
    path = "/v1/x?email=ann.lee%40shop.io&ship=12%20Main%20Street"
    record = logging.getLogRecordFactory()(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", path, "1.1", 200), None,
    )  # fmt: skip
    line = json.loads(JsonFormatter().format(record))
    assert (line["event"], line["method"], line["status"]) == ("http.request", "GET", 200)
    assert line["path"] == "/v1/x?email=a***@shop.io&ship=[address]"
    assert line["message"] == '127.0.0.1:5000 - "GET /v1/x?email=a***@shop.io&ship=[address] HTTP/1.1" 200'


def test_the_config_routes_every_logger_to_one_stderr_handler() -> None:
    config = logging_config("json", "debug")
    assert config["formatters"]["main"]["()"] == "copilot.logs.JsonFormatter"
    assert config["formatters"]["access"] == config["formatters"]["main"]
    assert config["root"] == {"handlers": ["main"], "level": "DEBUG"}
    assert logging_config("text", "info")["formatters"]["access"]["()"] == "uvicorn.logging.AccessFormatter"
    assert resolve_format("text") == "text" and resolve_format("json") == "json"
