"""Live reload: the very next decision uses a newly activated version; in-flight decisions stay pinned;
other processes (no in-process notification) see it through the DB stamp; the audit row names the version."""

from __future__ import annotations

from sqlalchemy import Engine, select

from copilot.gateway.gateway import Gateway
from copilot.packs import Pack
from copilot.policy.reload import LiveAuthorizer, LocalNotifier
from copilot.policy.service import PolicyService
from copilot.principal import Principal
from copilot.store.schema import audit_log

from .conftest import CUSTOMER_CANCEL, pending_order, without


def _revoke_cancel(service: PolicyService) -> int:
    active = service.store.active()
    return service.save(without(active.rules, CUSTOMER_CANCEL), author="admin:ann@demo",
                        message="no self-service cancels", if_match=active.etag).version  # fmt: skip


def test_revoking_takes_effect_on_the_very_next_gateway_call(
    service: PolicyService, live: LiveAuthorizer, engine: Engine, pack: Pack
) -> None:
    user, order = pending_order(engine)
    gateway = Gateway(engine, pack, live)
    customer = Principal("demo", "customer", user)
    args = {"order_id": order, "reason": "no longer needed"}
    first = gateway.call(customer, "cancel_pending_order", args, conversation_id="conv1")
    assert first.outcome == "preview"
    version = _revoke_cancel(service)
    second = gateway.call(customer, "cancel_pending_order", args, conversation_id="conv1")
    assert second.outcome == "denied" and second.code == "denied"
    with engine.connect() as conn:
        versions = conn.execute(
            select(audit_log.c.outcome, audit_log.c.policy_version).order_by(audit_log.c.seq)
        ).all()
    assert [v.outcome for v in versions] == ["preview", "deny"]
    assert versions[0].policy_version.startswith("v1/") and versions[1].policy_version.startswith(
        f"v{version}/"
    )
    rolled = service.rollback(1, author="admin:ann@demo", if_match=service.store.active().etag)
    third = gateway.call(customer, "cancel_pending_order", args, conversation_id="conv1")
    assert third.outcome == "preview" and rolled.version == 3


def test_an_in_flight_decision_finishes_on_its_version(service: PolicyService, live: LiveAuthorizer) -> None:
    with live.pinned() as snapshot:
        assert snapshot.number == 1
        _revoke_cancel(service)
        assert live.allows("customer", "demo", "cancel_pending_order")  # still version 1 inside the decision
        assert live.version.startswith("v1/")
    assert not live.allows("customer", "demo", "cancel_pending_order")
    assert live.version.startswith("v2/") and live.reloads == 1


def test_another_process_sees_the_change_through_the_db_stamp(service: PolicyService) -> None:
    other = LiveAuthorizer(service.store, LocalNotifier(), poll_ms=0)  # never notified in-process
    lazy = LiveAuthorizer(service.store, LocalNotifier(), poll_ms=60_000)
    assert other.allows("customer", "demo", "cancel_pending_order")
    assert lazy.allows("customer", "demo", "cancel_pending_order")
    _revoke_cancel(service)
    assert not other.allows("customer", "demo", "cancel_pending_order")
    assert lazy.allows("customer", "demo", "cancel_pending_order")  # polls at most once a minute
    assert other.active_number == 2 and lazy.active_number == 1


def test_a_gateway_in_another_process_reads_the_stamp_on_its_own_connection(
    service: PolicyService, engine: Engine, pack: Pack
) -> None:
    """Gateway.call reads the stamp on the connection it opens for the call (no extra pool checkout);
    an un-notified worker must still apply the new version before its very next decision."""
    user, order = pending_order(engine)
    other = LiveAuthorizer(service.store, LocalNotifier(), poll_ms=0)  # never notified in-process
    gateway = Gateway(engine, pack, other)
    customer = Principal("demo", "customer", user)
    args = {"order_id": order, "reason": "no longer needed"}
    assert gateway.call(customer, "cancel_pending_order", args).outcome == "preview"
    version = _revoke_cancel(service)
    denied = gateway.call(customer, "cancel_pending_order", args)
    assert denied.outcome == "denied" and other.reloads == 1
    read = gateway.call(customer, "get_order_details", {"order_id": order})
    assert read.outcome == "executed" and read.result["order_id"] == order
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_log.c.outcome, audit_log.c.policy_version).order_by(audit_log.c.seq)
        ).all()
    assert [r.outcome for r in rows] == ["preview", "deny", "execute"]
    assert [r.policy_version.split("/")[0] for r in rows] == ["v1", f"v{version}", f"v{version}"]
