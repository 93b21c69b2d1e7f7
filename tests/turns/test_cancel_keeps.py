"""Property (real SQLite and Postgres): a cancel marks every queued or running turn of the conversation except
those that execute a confirmed change (resume {approved: true}), which it reports as kept, whatever the mix and
whichever of them runs."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from copilot.store.schema import turns
from copilot.turns import TurnRequest
from tests.databases import BACKENDS, fresh_engine
from tests.turns.test_queue import ALICE, queue_on

_ids = itertools.count()
KINDS: dict[str, dict[str, Any]] = {
    "message": {"text": "hello"},
    "confirmed": {"resume": {"preview_id": "pv_1", "approved": True}},
    "declined": {"resume": {"preview_id": "pv_1", "approved": False}},
}


@pytest.fixture(params=BACKENDS, scope="module")
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with fresh_engine(request.param, tmp_path_factory.mktemp("keeps")) as built:
        yield built


def _marked(engine: Engine, cid: str) -> set[str]:
    with engine.connect() as conn:
        query = select(turns.c.turn_id).where(
            turns.c.conversation_id == cid, turns.c.cancel_requested_at.is_not(None)
        )
        return set(conn.execute(query).scalars())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=5), run_first=st.booleans())
def test_a_cancel_keeps_exactly_the_confirmed_changes(
    engine: Engine, kinds: list[str], run_first: bool
) -> None:
    queue = queue_on(engine)
    cid = f"keeps-{next(_ids)}"
    requests = [TurnRequest(cid, f"{cid}-t{n}", ALICE, **KINDS[kind]) for n, kind in enumerate(kinds)]
    for request in requests:
        queue.enqueue(request)
    if run_first:
        claimed = [c.request.turn_id for c in queue.claim("w1", 100) if c.request.conversation_id == cid]
        assert claimed == [
            requests[0].turn_id
        ]  # (earlier examples' turns are claimed too; they don't matter)
    asked = queue.request_cancel(cid)
    confirmed = [r.turn_id for r, kind in zip(requests, kinds, strict=True) if kind == "confirmed"]
    others = [r.turn_id for r, kind in zip(requests, kinds, strict=True) if kind != "confirmed"]
    assert asked.kept == confirmed
    assert sorted(asked.turn_ids) == sorted(others)
    assert asked.running == ([requests[0].turn_id] if run_first and kinds[0] != "confirmed" else [])
    assert _marked(engine, cid) == set(others)  # a kept turn is never marked: it runs to its end
