"""Gateway.decide(conn=...): the decision and its audit row are written inside the caller's transaction and
commit (or roll back) with the caller's own rows; a refusal's audit row survives the caller's rollback."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, Engine, func, insert, select

from copilot.errors import CopilotError, ErrorCode
from copilot.gateway.gateway import Gateway
from copilot.store.schema import audit_log, events
from tests.gateway.retail import ALEX, audit_outcomes, preview

ARGS = {"order_id": "#W0000001", "reason": "no longer needed"}
TOOL = "cancel_pending_order"


def _outbox_row(conn: Connection) -> None:
    row = {"conversation_id": "conv", "seq": 1, "type": "turn.resumed", "turn_id": None, "data": {},
           "at": datetime.now(UTC)}  # fmt: skip
    conn.execute(insert(events).values(**row))


def _events(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())


def test_the_decision_commits_with_the_callers_rows(retail_gateway: Gateway, retail_engine: Engine) -> None:
    preview_id = preview(retail_gateway, ALEX, TOOL, ARGS)
    with retail_engine.begin() as conn:
        decided = retail_gateway.decide(ALEX, preview_id, True, conn=conn)
        _outbox_row(conn)
    assert decided.preview_id == preview_id
    assert _events(retail_engine) == 1 and audit_outcomes(retail_engine, TOOL) == ["preview", "confirm"]
    assert retail_gateway.execute(ALEX, preview_id).outcome == "executed"


def test_the_decision_rolls_back_with_the_caller(retail_gateway: Gateway, retail_engine: Engine) -> None:
    preview_id = preview(retail_gateway, ALEX, TOOL, ARGS)
    with retail_engine.connect() as conn:
        retail_gateway.decide(ALEX, preview_id, True, conn=conn)
        _outbox_row(conn)
        conn.rollback()  # e.g. the resume job crashed before committing
    assert _events(retail_engine) == 0 and audit_outcomes(retail_engine, TOOL) == ["preview"]
    assert retail_gateway.execute(ALEX, preview_id).code == "confirmation_required"
    retail_gateway.decide(ALEX, preview_id, True)  # still undecided: the human can confirm it
    assert retail_gateway.execute(ALEX, preview_id).outcome == "executed"


def _deny_codes(engine: Engine) -> list[str | None]:
    with engine.connect() as conn:
        return [row[0] for row in conn.execute(select(audit_log.c.code).where(audit_log.c.outcome == "deny"))]


@pytest.mark.parametrize("caller_wrote_first", [False, True])
def test_a_refusal_is_audited_even_when_the_caller_rolls_back(
    retail_gateway: Gateway, retail_engine: Engine, caller_wrote_first: bool
) -> None:
    """caller_wrote_first: the caller's transaction already holds SQLite's write lock when decide refuses."""
    preview_id = preview(retail_gateway, ALEX, TOOL, ARGS)
    retail_gateway.decide(ALEX, preview_id, True)
    started = time.perf_counter()
    with retail_engine.connect() as conn:
        if caller_wrote_first:
            _outbox_row(conn)
        with pytest.raises(CopilotError) as refused:
            retail_gateway.decide(ALEX, preview_id, False, conn=conn)
        conn.rollback()
    assert time.perf_counter() - started < 2  # no wait on the caller's own lock
    assert refused.value.code == ErrorCode.CONFIRMATION_USED
    retail_gateway.audit.join_detached()
    assert _deny_codes(retail_engine) == ["confirmation_used"] and _events(retail_engine) == 0
