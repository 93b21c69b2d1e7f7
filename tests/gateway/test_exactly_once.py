"""Exactly-once without holes, on real SQLite and real Postgres: the ledger key is the preview's, the approval
is checked before any replay, a write commits with its ledger and audit rows or not at all, and concurrent
writes to one record never lose an update."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, text, update

from copilot.errors import ToolError
from copilot.gateway.confirmation import idempotency_key
from copilot.gateway.gateway import Gateway
from copilot.gateway.result import GatewayResult
from copilot.gateway.spec import Tool, ToolContext
from copilot.packs import Pack
from copilot.store.documents import Doc, DocumentStore
from copilot.store.schema import executions, previews
from tests.gateway.retail import (
    ALEX,
    SAM,
    approved,
    audit_outcomes,
    doc,
    gift_card,
    ledger_rows,
    make_gateway,
    preview,
    put,
    retail_pack,
    write,
)

ADDRESS = "modify_pending_order_address"
X = {
    "address1": "1 X Street",
    "address2": "",
    "city": "Xville",
    "state": "CA",
    "country": "USA",
    "zip": "94107",
}
Y = {**X, "address1": "2 Y Avenue", "city": "Ytown"}


def test_the_same_change_asked_again_runs_again(retail_gateway: Gateway, retail_engine: Engine) -> None:
    """Issue 7's reproduction: address X confirmed, Y confirmed, X again (which used to reuse the first call's
    key) → the store and every tool.executed result agree; nothing is answered from an older ledger row."""
    for address in (X, Y, X):
        result = write(retail_gateway, ALEX, ADDRESS, {"order_id": "#W0000001", **address})
        assert result.outcome == "executed"
        assert result.result["address"] == address == doc(retail_engine, "order", "#W0000001")["address"]
    assert ledger_rows(retail_engine) == 3
    assert audit_outcomes(retail_engine, ADDRESS).count("execute") == 3


def _forge_ledger_row(engine: Engine, preview_id: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(executions).values(
                tenant="demo", idempotency_key=idempotency_key(preview_id), tool=ADDRESS, args_hash="x",
                result={"value": {"forged": True}}, executed_at=datetime.now(UTC),
            )
        )  # fmt: skip


def test_the_approval_is_checked_before_any_replay(retail_gateway: Gateway, retail_engine: Engine) -> None:
    rejected = preview(retail_gateway, ALEX, ADDRESS, {"order_id": "#W0000001", **X})
    retail_gateway.decide(ALEX, rejected, approve=False)
    undecided = preview(retail_gateway, ALEX, ADDRESS, {"order_id": "#W0000001", **Y})
    for preview_id in (rejected, undecided):
        _forge_ledger_row(retail_engine, preview_id)
    refused = retail_gateway.execute(ALEX, rejected)
    assert (refused.outcome, refused.code, refused.result) == ("denied", "confirmation_invalid", None)
    waiting = retail_gateway.execute(ALEX, undecided)
    assert (waiting.outcome, waiting.code, waiting.result) == ("denied", "confirmation_required", None)
    assert doc(retail_engine, "order", "#W0000001")["address"]["address1"] == "1 Demo Plaza"


def test_a_replay_still_answers_after_expiry(retail_gateway: Gateway, retail_engine: Engine) -> None:
    preview_id = approved(retail_gateway, ALEX, ADDRESS, {"order_id": "#W0000001", **X})
    first = retail_gateway.execute(ALEX, preview_id)
    with retail_engine.begin() as conn:
        conn.execute(update(previews).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    again = retail_gateway.execute(ALEX, preview_id)
    assert (again.outcome, again.result) == ("executed", first.result)
    assert audit_outcomes(retail_engine, ADDRESS)[-2:] == ["execute", "replay"]


@dataclass
class _RacingStore(DocumentStore):
    """The handler's store (same connection, change list and versions) that waits at a barrier before its
    first write, so both executions have read the gift card before either writes it."""

    barrier: threading.Barrier | None = None

    def put(self, kind: str, id_: str, data: Doc, owner: str | None = None) -> None:
        if self.barrier is not None:
            barrier, self.barrier = self.barrier, None
            barrier.wait(timeout=30)
        super().put(kind, id_, data, owner)


def _racing(pack: Pack, tool_name: str, barrier: threading.Barrier | None) -> Pack:
    def wrap(tool: Tool) -> Tool:
        def handler(ctx: ToolContext, args: dict[str, Any]) -> Any:
            if not ctx.dry_run:
                s = ctx.store
                ctx.store = _RacingStore(s.conn, s.tenant, s.changes, s.seen, barrier=barrier)
            return tool.handler(ctx, args)

        return Tool(tool.spec, handler) if tool.spec.name == tool_name else tool

    return Pack(
        name=pack.name, tools=[wrap(t) for t in pack.tools], seed=pack.seed, articles_dir=pack.articles_dir
    )


def _second_gift_card_order(engine: Engine) -> None:
    """#W0000099: like #W0000004 (Sam, pending, paid with gift_card_0000002) but for 40.00."""
    order = doc(engine, "order", "#W0000004")
    order.update(order_id="#W0000099", payment_history=[{**order["payment_history"][0], "amount": 40.0}])
    put(engine, "order", "#W0000099", order, owner=SAM.user_id)


def test_concurrent_refunds_to_one_gift_card_never_lose_an_update(
    backend: str, retail_engine: Engine
) -> None:
    """Two approved cancellations crediting one gift card, executed by two threads at once: exactly one runs,
    the other is preview_stale, and the balance is the initial one plus what was executed."""
    _second_gift_card_order(retail_engine)
    # Postgres (READ COMMITTED) really interleaves both handlers; SQLite serialises them at the claim.
    barrier = threading.Barrier(2) if backend == "postgres" else None
    gateway = make_gateway(retail_engine, _racing(retail_pack(), "cancel_pending_order", barrier))
    initial = gift_card(retail_engine, SAM.user_id, "gift_card_0000002")
    reason = {"reason": "no longer needed"}
    ids = [
        approved(gateway, SAM, "cancel_pending_order", {"order_id": o, **reason})
        for o in ("#W0000004", "#W0000099")
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results: list[GatewayResult] = list(pool.map(lambda p: gateway.execute(SAM, p), ids))
    outcomes = sorted((r.outcome, r.code) for r in results)
    assert outcomes == [("denied", "preview_stale"), ("executed", None)], [
        (r.code, r.message) for r in results
    ]
    executed = next(r for r in results if r.outcome == "executed")
    refunded = sum(
        p["amount"] for p in executed.result["payment_history"] if p["transaction_type"] == "refund"
    )
    assert gift_card(retail_engine, SAM.user_id, "gift_card_0000002") == round(initial + refunded, 2)
    assert ledger_rows(retail_engine) == 1
    assert audit_outcomes(retail_engine, "cancel_pending_order").count("execute") == 1
    stale = next(r for r in results if r.outcome == "denied")
    assert stale.message == "The records changed since the preview; ask for the change again."


def _fails_after_writing(pack: Pack, tool_name: str) -> Pack:
    def wrap(tool: Tool) -> Tool:
        def handler(ctx: ToolContext, args: dict[str, Any]) -> Any:
            result = tool.handler(ctx, args)  # every put of the real handler has run
            if not ctx.dry_run:
                raise ToolError("The payment processor refused the refund; try again later.")
            return result

        return Tool(tool.spec, handler) if tool.spec.name == tool_name else tool

    return Pack(
        name=pack.name, tools=[wrap(t) for t in pack.tools], seed=pack.seed, articles_dir=pack.articles_dir
    )


def test_a_write_that_fails_midway_commits_nothing(retail_engine: Engine) -> None:
    gateway = make_gateway(retail_engine, _fails_after_writing(retail_pack(), "cancel_pending_order"))
    before = (doc(retail_engine, "order", "#W0000004"), doc(retail_engine, "user", SAM.user_id))
    result = write(
        gateway, SAM, "cancel_pending_order", {"order_id": "#W0000004", "reason": "no longer needed"}
    )
    assert (result.outcome, result.code) == ("error", "precondition_failed")
    assert (doc(retail_engine, "order", "#W0000004"), doc(retail_engine, "user", SAM.user_id)) == before
    assert ledger_rows(retail_engine) == 0
    assert audit_outcomes(retail_engine, "cancel_pending_order") == ["preview", "confirm", "error"]


_REFUSE_EXECUTE_AUDIT = {
    "sqlite": [
        "CREATE TRIGGER refuse_execute_audit BEFORE INSERT ON audit_log WHEN NEW.outcome = 'execute' "
        "BEGIN SELECT RAISE(ABORT, 'audit refused'); END"
    ],
    "postgres": [
        "CREATE FUNCTION refuse_execute_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.outcome = 'execute' THEN RAISE EXCEPTION 'audit refused'; END IF; RETURN NEW; END $$",
        "CREATE TRIGGER refuse_execute_audit BEFORE INSERT ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION refuse_execute_audit()",
    ],
}
_ALLOW_EXECUTE_AUDIT = {
    "sqlite": ["DROP TRIGGER refuse_execute_audit"],
    "postgres": ["DROP TRIGGER refuse_execute_audit ON audit_log", "DROP FUNCTION refuse_execute_audit()"],
}


def _run_sql(engine: Engine, statements: list[str]) -> None:
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def test_no_write_commits_without_its_audit_row(
    backend: str, retail_gateway: Gateway, retail_engine: Engine
) -> None:
    """The database refuses the execute audit row (a trigger): the domain write and the ledger row go too,
    and the preview stays executable."""
    args = {"order_id": "#W0000004", "reason": "no longer needed"}
    preview_id = approved(retail_gateway, SAM, "cancel_pending_order", args)
    before = gift_card(retail_engine, SAM.user_id, "gift_card_0000002")
    _run_sql(retail_engine, _REFUSE_EXECUTE_AUDIT[backend])
    failed = retail_gateway.execute(SAM, preview_id)
    assert (failed.outcome, failed.code) == ("error", "internal")
    assert doc(retail_engine, "order", "#W0000004")["status"] == "pending"
    assert gift_card(retail_engine, SAM.user_id, "gift_card_0000002") == before
    assert ledger_rows(retail_engine) == 0
    _run_sql(retail_engine, _ALLOW_EXECUTE_AUDIT[backend])
    done = retail_gateway.execute(SAM, preview_id)
    assert done.outcome == "executed" and done.result["status"] == "cancelled"
    assert gift_card(retail_engine, SAM.user_id, "gift_card_0000002") == round(before + 135.85, 2)
    assert audit_outcomes(retail_engine, "cancel_pending_order") == ["preview", "confirm", "error", "execute"]
