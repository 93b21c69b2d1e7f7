"""Writes: dry-run preview, the human's decision, exactly-once execution, stale/expired/reused/mismatched."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select, update

from copilot.errors import CopilotError, ErrorCode
from copilot.gateway.casbin_authorizer import CasbinAuthorizer
from copilot.gateway.gateway import Gateway
from copilot.gateway.result import GatewayResult
from copilot.store.documents import DocumentStore
from copilot.store.schema import audit_log, executions, previews
from tests.gateway.conftest import Doc, who

CANCEL = {"order_id": "#W0000001", "reason": "no longer needed"}
ALICE = who("customer")


def _preview(gateway: Gateway) -> GatewayResult:
    result = gateway.call(ALICE, "cancel_pending_order", CANCEL, conversation_id="conv")
    assert result.outcome == "preview" and result.preview is not None
    return result


def _set_status(engine: Engine, oid: str, **fields: object) -> None:
    with engine.begin() as conn:
        store = DocumentStore(conn, "demo")
        doc = store.get("order", oid)
        assert doc is not None
        store.put("order", oid, {**doc, **fields})


def test_write_returns_a_preview_and_changes_nothing(gateway: Gateway, order: Doc) -> None:
    result = _preview(gateway)
    preview = result.preview
    assert preview is not None
    assert order("#W0000001")["status"] == "pending"
    assert [(c.kind, c.id, c.changed["status"]) for c in preview.changes] == [
        ("order", "#W0000001", ("pending", "cancelled"))
    ]
    assert preview.amount == 100.0 and preview.facts == {"refund_to": "gift_card_1111111"}
    assert preview.expires_at > datetime.now(UTC)
    seen = result.for_model()
    assert seen["status"] == "awaiting_confirmation" and seen["preview_id"] == preview.preview_id
    assert "cancelled" in preview.summary


def test_approved_preview_executes_exactly_once(gateway: Gateway, engine: Engine, order: Doc) -> None:
    preview = _preview(gateway).preview
    assert preview is not None
    gateway.decide(ALICE, preview.preview_id, approve=True)
    first = gateway.execute(ALICE, preview.preview_id)
    assert (first.outcome, first.result) == ("executed", {"status": "cancelled"})
    done = order("#W0000001")
    assert done["status"] == "cancelled" and done["args_seen"] == "#W0000001"
    _set_status(engine, "#W0000001", status="pending")  # if the handler ran again it would cancel again
    again = gateway.execute(ALICE, preview.preview_id)
    assert (again.outcome, again.result) == ("executed", {"status": "cancelled"})
    assert order("#W0000001")["status"] == "pending"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(executions)).scalar_one() == 1


def test_two_previews_of_the_same_change_are_two_changes(gateway: Gateway, engine: Engine) -> None:
    """The ledger key is the preview's: a second preview is never answered with the first one's result."""
    first, second = _preview(gateway).preview, _preview(gateway).preview
    assert first is not None and second is not None and first.preview_id != second.preview_id
    for preview in (first, second):
        gateway.decide(ALICE, preview.preview_id, approve=True)
    assert gateway.execute(ALICE, first.preview_id).outcome == "executed"
    again = gateway.execute(ALICE, second.preview_id)
    assert (again.outcome, again.code) == ("error", "precondition_failed")  # ran for real: already cancelled
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(executions)).scalar_one() == 1


def test_execute_requires_an_approval(gateway: Gateway, order: Doc) -> None:
    preview = _preview(gateway).preview
    assert preview is not None
    pending = gateway.execute(ALICE, preview.preview_id)
    assert (pending.outcome, pending.code) == ("denied", "confirmation_required")
    gateway.decide(ALICE, preview.preview_id, approve=False)
    rejected = gateway.execute(ALICE, preview.preview_id)
    assert (rejected.outcome, rejected.code) == ("denied", "confirmation_invalid")
    assert order("#W0000001")["status"] == "pending"


def test_a_decision_is_single_use(gateway: Gateway) -> None:
    preview = _preview(gateway).preview
    assert preview is not None
    gateway.decide(ALICE, preview.preview_id, approve=True)
    with pytest.raises(CopilotError) as caught:
        gateway.decide(ALICE, preview.preview_id, approve=True)
    assert caught.value.code == ErrorCode.CONFIRMATION_USED


@pytest.mark.parametrize(
    "other", [who("customer", "bob"), who("agent", "ann"), who("customer", "alice", "acme")]
)
def test_only_the_same_principal_can_decide_or_execute(gateway: Gateway, other: object, order: Doc) -> None:
    preview = _preview(gateway).preview
    assert preview is not None
    with pytest.raises(CopilotError) as caught:
        gateway.decide(other, preview.preview_id, approve=True)  # type: ignore[arg-type]
    assert caught.value.code in (ErrorCode.CONFIRMATION_MISMATCH, ErrorCode.CONFIRMATION_INVALID)
    gateway.decide(ALICE, preview.preview_id, approve=True)
    stolen = gateway.execute(other, preview.preview_id)  # type: ignore[arg-type]
    assert stolen.outcome == "denied" and stolen.code in ("confirmation_mismatch", "confirmation_invalid")
    assert order("#W0000001")["status"] == "pending"


def test_unknown_preview_is_invalid(gateway: Gateway) -> None:
    with pytest.raises(CopilotError) as caught:
        gateway.decide(ALICE, "made-up-by-the-model", approve=True)
    assert caught.value.code == ErrorCode.CONFIRMATION_INVALID
    assert gateway.execute(ALICE, "made-up-by-the-model").code == "confirmation_invalid"


def test_expired_previews_cannot_be_decided_or_executed(engine: Engine, gateway: Gateway, order: Doc) -> None:
    expired_gateway = Gateway(
        engine, gateway.pack, gateway.authorizer, confirmation_ttl=timedelta(seconds=-1)
    )
    stale = expired_gateway.call(ALICE, "cancel_pending_order", CANCEL).preview
    assert stale is not None
    with pytest.raises(CopilotError) as caught:
        gateway.decide(ALICE, stale.preview_id, approve=True)
    assert caught.value.code == ErrorCode.CONFIRMATION_EXPIRED
    preview = _preview(gateway).preview
    assert preview is not None
    gateway.decide(ALICE, preview.preview_id, approve=True)
    with engine.begin() as conn:
        conn.execute(update(previews).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    result = gateway.execute(ALICE, preview.preview_id)
    assert (result.outcome, result.code) == ("denied", "confirmation_expired")
    assert order("#W0000001")["status"] == "pending"


def test_stale_preview_is_refused(gateway: Gateway, engine: Engine, order: Doc) -> None:
    preview = _preview(gateway).preview
    assert preview is not None
    gateway.decide(ALICE, preview.preview_id, approve=True)
    _set_status(engine, "#W0000001", total=55.0)
    result = gateway.execute(ALICE, preview.preview_id)
    assert (result.outcome, result.code) == ("denied", "preview_stale")
    assert order("#W0000001")["status"] == "pending"


def test_policy_change_after_preview_is_enforced_at_execute(
    gateway: Gateway, authorizer: CasbinAuthorizer, order: Doc
) -> None:
    preview = _preview(gateway).preview
    assert preview is not None
    gateway.decide(ALICE, preview.preview_id, approve=True)
    authorizer.add_policies("p", [["customer", "demo", "cancel_*", "call", "deny"]])
    result = gateway.execute(ALICE, preview.preview_id)
    assert result.outcome == "denied"
    assert order("#W0000001")["status"] == "pending"


def test_business_precondition_comes_back_as_an_actionable_error(gateway: Gateway) -> None:
    preview = _preview(gateway).preview
    assert preview is not None
    gateway.decide(ALICE, preview.preview_id, approve=True)
    gateway.execute(ALICE, preview.preview_id)
    again = gateway.call(ALICE, "cancel_pending_order", CANCEL)
    assert (again.outcome, again.code) == ("error", "precondition_failed")
    assert again.for_model() == {
        "ok": False,
        "error": {"code": "precondition_failed", "message": "Only pending orders can be cancelled."},
    }


def test_concurrent_executes_run_the_handler_once(gateway: Gateway, engine: Engine, order: Doc) -> None:
    preview = _preview(gateway).preview
    assert preview is not None
    gateway.decide(ALICE, preview.preview_id, approve=True)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: gateway.execute(ALICE, preview.preview_id), range(4)))
    assert [(r.outcome, r.result) for r in results] == [("executed", {"status": "cancelled"})] * 4
    assert order("#W0000001")["status"] == "cancelled"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(executions)).scalar_one() == 1
        outcomes = conn.execute(select(audit_log.c.outcome).where(audit_log.c.tool == "cancel_pending_order"))
        assert sorted(row[0] for row in outcomes) == ["confirm", "execute", "preview", *["replay"] * 3]
    assert gateway.execute(ALICE, preview.preview_id).result == {"status": "cancelled"}
