"""copilot.redaction: what free text and structured records keep and lose (examples and properties), and that
audit reasons and log lines pass it — on the gateway and over real HTTP."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from copilot.api.app import create_app
from copilot.redaction import install_log_redaction, redact_fields, redact_text
from copilot.settings import Settings
from copilot.store.schema import audit_log
from tests.api.support import SECRET, serve_in_thread, token
from tests.gateway.retail import ALEX, backend, doc, make_gateway, put, retail_engine  # noqa: F401 (fixtures)

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("Gift card gift_card_0000001 has a balance of 150.0, not enough to pay 2674.4",
         "Gift card gift_card_***0001 has a balance of [amount], not enough to pay 2674.4"),
        ("Payment method credit_card_9699699 not found for user ethan_kim_8860",
         "Payment method credit_card_***9699 not found for user ethan_kim_8860"),
        ("no user has email ethan.kim@example.com", "no user has email e***@example.com"),
        ("ship to 123 Main Street, Apt 4B, Austin", "ship to [address], [address], Austin"),
        ("{'balance': 62.0, 'source': 'gift_card'}", "{'balance': [amount], 'source': 'gift_card'}"),
        ("call +1 415-555-0100 or pay with 4242 4242 4242 4242", "call [phone] or pay with [card]"),
        ("Authorization: Bearer abcdefghijklmnop", "Authorization: Bearer [token]"),
        ("as agent:eve@demo: allow", "as agent:eve@demo: allow"),  # a principal label, not an email
        ("Order #W0000001 item 6086499569 refund 135.85", "Order #W0000001 item 6086499569 refund 135.85"),
        ("the card_number field is missing", "the card_number field is missing"),
    ],
)  # fmt: skip
def test_free_text(text: str, redacted: str) -> None:
    assert redact_text(text) == redacted


def test_structured_fields() -> None:
    masked = redact_fields(
        {"email": "ethan.kim@example.com", "payment_method_id": "credit_card_9699699", "address1": "1 Main St",
         "first_name": "Ethan", "api_token": "abc", "zip": "78286", "balance": 62.5,
         "summary": "refund to paypal_1234567 for ann.lee@shop.io", "nested": [{"email": "x@y.z"}], "n": 3}
    )  # fmt: skip
    assert masked == {
        "email": "e***@example.com", "payment_method_id": "credit_card_***9699", "address1": "[redacted]",
        "first_name": "E***", "api_token": "[redacted]", "zip": "78286", "balance": "[amount]",
        "summary": "refund to paypal_***4567 for a***@shop.io", "nested": [{"email": "x***@y.z"}], "n": 3,
    }  # fmt: skip


words = st.text(st.characters(codec="ascii", categories=["L", "N", "Zs", "P"]), max_size=30)
locals_ = st.from_regex(r"[a-z][a-z0-9.]{2,12}", fullmatch=True)
digits = st.from_regex(r"[0-9]{7}", fullmatch=True)


@given(before=words, local=locals_, after=words)
def test_no_email_survives(before: str, local: str, after: str) -> None:
    email = f"{local}@example.com"
    out = redact_text(f"{before} {email} {after}")
    assert email not in out and f"{local[0]}***@example.com" in out


@given(before=words, kind=st.sampled_from(["gift_card", "credit_card", "paypal", "bank_account"]), number=digits,
       after=words)  # fmt: skip
def test_no_payment_method_id_survives(before: str, kind: str, number: str, after: str) -> None:
    out = redact_text(f"{before} {kind}_{number} {after}")
    assert f"{kind}_{number}" not in out and f"{kind}_***{number[-4:]}" in out


@given(st.text(max_size=200))
def test_redaction_is_idempotent_and_total(text: str) -> None:
    once = redact_text(text)
    assert redact_text(once) == once


def test_log_lines_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    install_log_redaction()  # idempotent
    with caplog.at_level(logging.INFO, logger="copilot.test"):
        logging.getLogger("copilot.test").info("refund %s to %s", "gift_card_0000001", "ann.lee@shop.io")
    assert caplog.records[-1].getMessage() == "refund gift_card_***0001 to a***@shop.io"


def test_uvicorn_access_lines_keep_their_arguments() -> None:
    """uvicorn's access formatter unpacks the record's arguments: redaction keeps them a tuple."""
    from uvicorn.logging import AccessFormatter

    install_log_redaction()
    formatter = AccessFormatter("%(client_addr)s %(request_line)s %(status_code)s", use_colors=False)
    for path, shown in [
        ("/v1/health", "/v1/health"),
        ("/v1/x?email=ann.lee@shop.io", "/v1/x?email=a***@shop.io"),
    ]:
        record = logging.getLogRecordFactory()(
            "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
            ("127.0.0.1:5000", "GET", path, "1.1", 200), None,
        )  # fmt: skip
        assert formatter.format(record) == f"127.0.0.1:5000 GET {shown} HTTP/1.1 200 OK"


def _reasons(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [r for (r,) in conn.execute(select(audit_log.c.reason)) if r]


def test_audit_reasons_hold_no_payment_ids_or_balances(retail_engine: Engine) -> None:  # noqa: F811
    user = doc(retail_engine, "user", ALEX.user_id)
    user["payment_methods"]["gift_card_0000001"]["balance"] = 12.34
    put(retail_engine, "user", ALEX.user_id, user, owner=ALEX.user_id)
    gateway = make_gateway(retail_engine)
    refused = gateway.call(ALEX, "modify_pending_order_payment",
                           {"order_id": "#W0000001", "payment_method_id": "gift_card_0000001"})  # fmt: skip
    assert "12.34" in (refused.message or "")  # the caller is told; the record is not
    reasons = " ".join(_reasons(retail_engine))
    assert "gift_card_***0001" in reasons and "balance of [amount]" in reasons
    assert "gift_card_0000001" not in reasons and "12.34" not in reasons


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = Settings(data_dir=Path(tmp_path_factory.mktemp("redact")), secret=SECRET)
    with serve_in_thread(create_app(settings)) as url:
        yield url


def test_the_audit_api_shows_redacted_reasons(base: str) -> None:
    customer, agent = token("customer", "demo_customer_0001"), token("agent", "ann")
    with httpx.Client(base_url=base, timeout=10) as http:
        cid = http.post("/v1/conversations", headers=customer).json()["id"]
        args = {"order_id": "#W0000001", "payment_method_id": "gift_card_0000002"}  # another customer's card
        ran = http.post(f"/v1/conversations/{cid}/agent-tools", json={"tool": "modify_pending_order_payment",
                                                                      "arguments": args}, headers=agent)  # fmt: skip
        assert ran.status_code == 200 and ran.json()["outcome"] in ("error", "denied"), ran.text
        trail = http.get(f"/v1/conversations/{cid}/audit", headers=agent).json()
    reasons = " ".join(
        str(row["reason"]) for row in trail["entries"] if row["tool"] == "modify_pending_order_payment"
    )
    assert "gift_card_***0002" in reasons, trail
    stored = str(trail)
    assert "gift_card_***0002" in stored and "gift_card_0000002" not in stored


def _log_failure(logger: logging.Logger) -> None:
    try:
        try:
            raise KeyError("ann.lee@shop.io")
        except KeyError as cause:
            raise ValueError("gift_card_0000001 has a balance of 62.00; ship to 123 Main Street") from cause
    except ValueError:
        logger.exception("refund failed for %s", "ethan.kim@example.com")


@pytest.mark.parametrize("style", ["plain", "uvicorn"])
def test_tracebacks_are_redacted_for_every_formatter(style: str) -> None:
    """The exception's message and its chained cause pass the same redactor as the message, whatever
    formatter prints the record (stdlib's or uvicorn's), and no handler gets the raw exception."""
    import io

    from uvicorn.logging import DefaultFormatter

    install_log_redaction()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter() if style == "plain" else DefaultFormatter(use_colors=False))
    seen: list[logging.LogRecord] = []
    logger = logging.getLogger(f"copilot.test.trace.{style}")
    logger.addHandler(handler)
    logger.addFilter(lambda record: not seen.append(record))  # type: ignore[func-returns-value]
    try:
        _log_failure(logger)
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "Traceback (most recent call last)" in text and "ValueError" in text and "KeyError" in text
    assert "e***@example.com" in text and "a***@shop.io" in text and "gift_card_***0001" in text
    for leaked in ("ethan.kim@", "ann.lee@", "gift_card_0000001", "62.00", "123 Main Street"):
        assert leaked not in text, (leaked, text)
    assert seen[-1].exc_info is None and seen[-1].exc_text and "a***@shop.io" in seen[-1].exc_text


def test_stack_info_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    log = logging.getLogger("copilot.test")
    with caplog.at_level(logging.INFO, logger="copilot.test"):
        log.info("looking up", stack_info=True, extra={"who": "ann.lee@shop.io"})  # the stack shows this line
    stack = caplog.records[-1].stack_info
    assert stack and "Stack (most recent call last)" in stack
    assert "a***@shop.io" in stack and "ann.lee@" not in stack
