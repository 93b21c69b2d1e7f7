"""The durable turn queue on real SQLite and real PostgreSQL: order, one running turn per conversation across
workers, leases, recovery, giving up, and the outbox (enqueue inside the caller's transaction)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from copilot.principal import Principal
from copilot.store.schema import events, turns
from copilot.turns import TurnQueue, TurnRequest
from tests.databases import BACKENDS, fresh_engine

ALICE = Principal("demo", "customer", "alice")


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with fresh_engine(request.param, tmp_path) as built:
        yield built


def queue_on(engine: Engine, lease: float = 30.0, max_attempts: int = 3) -> TurnQueue:
    return TurnQueue(engine, lease=timedelta(seconds=lease), max_attempts=max_attempts)


def turn(cid: str, n: int, text: str | None = None) -> TurnRequest:
    return TurnRequest(cid, f"{cid}-t{n}", ALICE, text=text or f"message {n}")


def log_of(engine: Engine, cid: str) -> list[tuple[int, str, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(events.c.seq, events.c.type, events.c.turn_id)
            .where(events.c.conversation_id == cid)
            .order_by(events.c.seq)
        )
        return [(r.seq, r.type, r.turn_id) for r in rows]


def test_queued_turns_run_in_order_one_per_conversation(engine: Engine) -> None:
    queue = queue_on(engine)
    for request in (turn("a", 1), turn("a", 2), turn("b", 1)):
        queue.enqueue(request)
    first = queue.claim("w1", 10)
    assert sorted(c.request.turn_id for c in first) == ["a-t1", "b-t1"]
    assert queue.claim("w2", 10) == []  # a-t2 waits for a-t1
    assert queue.finish(
        next(c.request for c in first if c.request.conversation_id == "a"), "w1", "completed"
    ).completed
    second = queue.claim("w2", 10)
    assert [c.request.turn_id for c in second] == ["a-t2"]
    assert second[0].request.text == "message 2" and second[0].request.principal == ALICE
    assert log_of(engine, "a") == [
        (1, "turn.started", "a-t1"),
        (2, "turn.completed", "a-t1"),
        (3, "turn.started", "a-t2"),
    ]
    assert queue.active("a") and queue.active("b") and not queue.active("c")


def test_two_workers_never_run_a_conversation_twice(engine: Engine) -> None:
    """Two workers claim concurrently: every turn runs once, in its conversation's order, never two at once."""
    queue = queue_on(engine)
    expected = {f"c{c}": [f"c{c}-t{n}" for n in range(4)] for c in range(5)}
    for cid, ids in expected.items():
        for n, _ in enumerate(ids):
            queue.enqueue(turn(cid, n))
    ran: dict[str, list[str]] = {cid: [] for cid in expected}
    holding: set[str] = set()
    lock = threading.Lock()
    overlaps: list[str] = []

    def work(worker: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and sum(map(len, ran.values())) < 20:
            for claim in queue.claim(worker, 3):
                cid = claim.request.conversation_id
                with lock:
                    if cid in holding:
                        overlaps.append(cid)
                    holding.add(cid)
                    ran[cid].append(claim.request.turn_id)
                time.sleep(0.002)
                with lock:
                    holding.discard(cid)
                assert queue.finish(claim.request, worker, "completed").completed is not None

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == []
    assert ran == expected
    for cid in expected:
        seqs = [seq for seq, _, _ in log_of(engine, cid)]
        assert seqs == list(range(1, 9))  # started + completed per turn, contiguous


def test_an_expired_lease_is_recovered_by_another_worker(engine: Engine) -> None:
    queue = queue_on(engine, lease=0.2)
    queue.enqueue(turn("a", 1))
    (claim,) = queue.claim("w1", 1)
    assert queue.claim("w2", 1) == []  # the lease still holds
    time.sleep(0.3)  # w1 "died": no heartbeat
    (recovered,) = queue.claim("w2", 1)
    assert recovered.request.turn_id == claim.request.turn_id and recovered.request.attempt == 2
    assert queue.renew("w1", ["a-t1"]) == {"a-t1"}  # w1 learns it lost the turn
    assert queue.finish(claim.request, "w1", "completed").completed is None  # and cannot end it
    assert queue.renew("w2", ["a-t1"]) == set()
    assert queue.finish(recovered.request, "w2", "completed").completed is not None
    assert [t for _, t, _ in log_of(engine, "a")] == ["turn.started", "turn.recovered", "turn.completed"]


def test_a_turn_that_keeps_dying_ends_as_failed(engine: Engine) -> None:
    queue = queue_on(engine, lease=0.05, max_attempts=2)
    queue.enqueue(turn("a", 1))
    assert len(queue.claim("w1", 1)) == 1
    time.sleep(0.1)
    assert len(queue.claim("w2", 1)) == 1
    time.sleep(0.1)
    assert queue.claim("w3", 1) == []  # third death: given up, with a terminal event
    with engine.connect() as conn:
        row = conn.execute(select(turns).where(turns.c.turn_id == "a-t1")).one()
    assert (row.status, row.outcome, row.running) == ("done", "failed", None)
    kinds = [t for _, t, _ in log_of(engine, "a")]
    assert kinds == ["turn.started", "turn.recovered", "error", "turn.completed"]
    assert not queue.active("a")


def test_a_released_turn_is_taken_at_once(engine: Engine) -> None:
    queue = queue_on(engine, lease=60)
    queue.enqueue(turn("a", 1))
    (claim,) = queue.claim("w1", 1)
    queue.release("w1", [claim.request.turn_id])
    (taken,) = queue.claim("w2", 1)
    assert taken.request.attempt == 2


def test_enqueue_commits_with_the_callers_transaction(engine: Engine) -> None:
    queue = queue_on(engine)
    with pytest.raises(RuntimeError), engine.begin() as conn:
        queue.enqueue(turn("a", 1), conn)
        raise RuntimeError("the decision failed: nothing may be queued")
    assert not queue.active("a")
    with engine.begin() as conn:
        queue.enqueue(turn("a", 2), conn)
    assert [c.request.turn_id for c in queue.claim("w1", 5)] == ["a-t2"]
