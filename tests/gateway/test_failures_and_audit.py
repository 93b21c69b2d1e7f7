"""Crashes roll back, authorization fails closed, and every decision leaves a redacted audit row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select

from copilot.gateway.audit import redact
from copilot.gateway.authorizer import CALL, Scope
from copilot.gateway.casbin_authorizer import CasbinAuthorizer
from copilot.gateway.gateway import Gateway
from copilot.packs import Pack
from copilot.store.schema import audit_log, executions, previews
from tests.gateway.conftest import Doc, who

ALICE = who("customer")


class ExplodingAuthorizer:
    """A fake authorizer whose policy backend is broken (e.g. the policy store is unreachable)."""

    version = "broken"

    def allows(self, role: str, tenant: str, obj: str, act: str = CALL) -> bool:
        return True

    def scope(self, role: str, tenant: str) -> Scope:
        raise ConnectionError("policy store unreachable")

    def limit(self, role: str, tenant: str, key: str) -> float:
        raise ConnectionError("policy store unreachable")


def _audit(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(audit_log).order_by(audit_log.c.seq)))


def test_authorizer_exception_is_a_denial(engine: Engine, pack: Pack, order: Doc) -> None:
    gateway = Gateway(engine, pack, ExplodingAuthorizer())
    read = gateway.call(ALICE, "get_order_details", {"order_id": "#W0000001"})
    write = gateway.call(
        ALICE, "cancel_pending_order", {"order_id": "#W0000001", "reason": "no longer needed"}
    )
    assert (read.outcome, read.code, read.result) == ("denied", "denied", None)
    assert (write.outcome, write.code, write.preview) == ("denied", "denied", None)
    assert "unreachable" not in (read.message or "")
    rows = _audit(engine)
    assert [r.outcome for r in rows] == ["deny", "deny"]
    assert all("fail-closed: ConnectionError" in r.reason for r in rows)
    assert order("#W0000001")["status"] == "pending"


def test_handler_crash_rolls_back_and_hides_the_trace(gateway: Gateway, engine: Engine, order: Doc) -> None:
    preview = gateway.call(ALICE, "modify_pending_order_items", {"order_id": "#W0000001"}).preview
    assert preview is not None
    gateway.decide(ALICE, preview.preview_id, approve=True)
    result = gateway.execute(ALICE, preview.preview_id)
    assert (result.outcome, result.code) == ("error", "tool_error")
    assert "secret" not in str(result.for_model()) and "exploded" not in str(result.for_model())
    assert order("#W0000001")["status"] == "pending"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(executions)).scalar_one() == 0
        assert conn.execute(select(previews.c.used_at)).scalar_one() is None
    last = _audit(engine)[-1]
    assert (last.outcome, last.code) == ("error", "tool_error")
    assert "RuntimeError" in last.reason


def test_every_outcome_is_audited_with_version_latency_and_redaction(
    gateway: Gateway, engine: Engine, authorizer: CasbinAuthorizer
) -> None:
    results = [
        gateway.call(ALICE, "get_order_details", {"order_id": "#W0000001"}),
        gateway.call(ALICE, "get_order_details", {"order_id": "#W0000002"}),
        gateway.call(ALICE, "get_order_details", {"order_id": 1}),
        gateway.call(ALICE, "get_order_details", {"order_id": float("nan")}),
    ]
    refund = {"order_id": "#W0000001", "amount": 5, "payment_method_id": "gift_card_1111111"}
    first = gateway.call(ALICE, "return_delivered_order_items", refund)
    second = gateway.call(ALICE, "return_delivered_order_items", refund)
    assert first.preview is not None and second.preview is not None
    gateway.decide(ALICE, first.preview.preview_id, approve=True)
    gateway.decide(ALICE, second.preview.preview_id, approve=False)
    executed = gateway.execute(ALICE, first.preview.preview_id)
    results += [first, second, executed]
    rows = _audit(engine)
    outcomes = [r.outcome for r in rows]
    assert outcomes == [
        "execute",
        "deny",
        "invalid",
        "invalid",
        "preview",
        "preview",
        "confirm",
        "reject",
        "execute",
    ]
    assert {r.decision_id for r in rows} >= {r.decision_id for r in results}
    assert all(r.policy_version == authorizer.version and r.latency_ms >= 0 for r in rows)
    assert all(r.principal == "customer:alice@demo" and r.tenant == "demo" for r in rows)
    assert rows[4].arguments["payment_method_id"] == "gift_card_***1111"
    assert "1111111" not in str([r.arguments for r in rows])


def test_redaction_masks_pii_and_secrets() -> None:
    masked = redact(
        {"email": "ethan.kim@example.com", "payment_method_id": "credit_card_9699699", "address1": "1 Main St",
         "first_name": "Ethan", "api_token": "abc", "zip": "78286", "nested": [{"email": "x@y.z"}]}
    )  # fmt: skip
    assert masked == {
        "email": "e***@example.com", "payment_method_id": "credit_card_***9699", "address1": "[redacted]",
        "first_name": "E***", "api_token": "[redacted]", "zip": "78286", "nested": [{"email": "x***@y.z"}],
    }  # fmt: skip


def test_read_tools_never_commit(gateway: Gateway, order: Doc) -> None:
    staff = who("agent", "ann")
    missing = gateway.call(staff, "get_order_details", {"order_id": "#W7777777"})
    assert (missing.outcome, missing.code, missing.message) == (
        "error",
        "precondition_failed",
        "Order not found.",
    )
    read = gateway.call(staff, "get_item_details", {"order_id": "#W0000001"})
    assert read.outcome == "executed"
    assert order("#W0000001")["status"] == "pending"
