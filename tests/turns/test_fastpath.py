"""The turn queue's fast paths on real SQLite and PostgreSQL: `submit` claims a new turn in its enqueue
transaction only when its conversation is idle, and `finish(take_next=True)` hands the conversation's next
queued turn to the finishing worker; neither may break the queue's rules (one running turn per conversation,
turns in the order they were accepted, contiguous event seqs, turn.started before turn.completed)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from copilot.store.schema import conversations, turns
from copilot.turns import TurnQueue, TurnRequest
from tests.databases import BACKENDS, fresh_engine
from tests.turns.test_queue import ALICE, log_of, queue_on

_ids = itertools.count()


@pytest.fixture(params=BACKENDS, scope="module")
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with fresh_engine(request.param, tmp_path_factory.mktemp("fastpath")) as built:
        yield built


def new_turn(cid: str) -> TurnRequest:
    return TurnRequest(cid, f"{cid}-t{next(_ids)}", ALICE, text="hello")


def running(engine: Engine, cid: str) -> list[str]:
    with engine.connect() as conn:
        query = select(turns.c.turn_id).where(turns.c.conversation_id == cid, turns.c.status == "running")
        return list(conn.execute(query).scalars())


def test_submit_claims_an_idle_conversation_and_queues_behind_a_busy_one(engine: Engine) -> None:
    queue, cid = queue_on(engine), f"idle-{next(_ids)}"
    first = queue.submit(new_turn(cid), "w1")
    assert first is not None and first.request.attempt == 1 and first.started["type"] == "turn.started"
    second, third = new_turn(cid), new_turn(cid)
    assert queue.submit(second, "w2") is None  # the conversation is busy: queued
    assert queue.submit(third, "w2") is None
    done = queue.finish(first.request, "w1", "completed", take_next=True)
    assert done.completed is not None and done.next is not None
    assert done.next.request.turn_id == second.turn_id  # the oldest queued one, not the newest
    assert running(engine, cid) == [second.turn_id]
    assert [(seq, kind) for seq, kind, _ in log_of(engine, cid)] == [
        (1, "turn.started"), (2, "turn.completed"), (3, "turn.started"),
    ]  # fmt: skip
    last = queue.finish(done.next.request, "w1", "completed")  # without take_next: the claim loop's job
    assert last.next is None and running(engine, cid) == []
    assert queue.submit(new_turn(cid), "w1") is None  # idle, but `third` is queued ahead of it
    assert [c.request.turn_id for c in queue.claim("w2", 5)] == [third.turn_id]


def test_submit_without_a_worker_only_queues_and_commits_with_also(engine: Engine) -> None:
    queue, cid = queue_on(engine), f"plain-{next(_ids)}"
    seen: list[bool] = []
    assert queue.submit(new_turn(cid), None, also=lambda conn: seen.append(conn.in_transaction())) is None
    assert seen == [True] and running(engine, cid) == [] and queue.active(cid)


def test_a_failing_also_queues_nothing(engine: Engine) -> None:
    queue, cid = queue_on(engine), f"rollback-{next(_ids)}"

    def fail(_conn: object) -> None:
        raise RuntimeError("the caller's write failed")

    with pytest.raises(RuntimeError):
        queue.submit(new_turn(cid), "w1", also=fail)
    assert not queue.active(cid) and log_of(engine, cid) == []


def test_concurrent_submits_to_one_conversation_claim_it_once(engine: Engine) -> None:
    queue = queue_on(engine)
    for _ in range(5):
        cid = f"race-{next(_ids)}"
        barrier = threading.Barrier(3)
        claims: list[object] = []

        def submit(
            worker: str, cid: str = cid, barrier: threading.Barrier = barrier, claims: list[object] = claims
        ) -> None:
            barrier.wait()
            claims.append(queue.submit(new_turn(cid), worker))

        threads = [threading.Thread(target=submit, args=(f"w{i}",)) for i in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len([c for c in claims if c is not None]) == 1, claims
        assert len(running(engine, cid)) == 1
        with engine.connect() as conn:
            queued = conn.execute(
                select(func.count()).where(turns.c.conversation_id == cid, turns.c.status == "queued")
            ).scalar_one()
        assert queued == 2


Step = tuple[str, int, int]
"""(operation, conversation, worker): submit / finish / finish_next / claim."""
steps = st.lists(
    st.tuples(
        st.sampled_from(["submit", "submit", "finish", "finish_next", "claim"]),
        st.integers(0, 1),
        st.integers(0, 1),
    ),
    min_size=1,
    max_size=14,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(program=steps)
def test_any_mix_of_fast_and_slow_paths_keeps_the_queue_rules(engine: Engine, program: list[Step]) -> None:
    queue: TurnQueue = queue_on(engine)
    tag = next(_ids)
    cids = [f"p{tag}-{c}" for c in range(2)]
    accepted: dict[str, list[str]] = {cid: [] for cid in cids}
    owner: dict[str, tuple[TurnRequest, str]] = {}  # conversation → (running request, its worker)

    def took(claim: object, worker: str) -> None:
        if claim is not None:
            request = claim.request  # type: ignore[attr-defined]
            assert request.conversation_id not in owner, "two running turns in one conversation"
            owner[request.conversation_id] = (request, worker)

    for op, c, w in program:
        cid, worker = cids[c], f"w{w}"
        if op == "submit":
            request = new_turn(cid)
            idle = cid not in owner and not queue.active(cid)
            claim = queue.submit(request, worker)
            accepted[cid].append(request.turn_id)
            assert (claim is not None) == idle, "submit claims exactly when the conversation is idle"
            took(claim, worker)
        elif op in ("finish", "finish_next") and cid in owner:
            request, holder = owner.pop(cid)
            done = queue.finish(request, holder, "completed", take_next=op == "finish_next")
            assert done.completed is not None
            took(done.next, holder)
        elif op == "claim":
            for claim in queue.claim(worker, 5, recover=False):
                if claim.request.conversation_id in cids:
                    took(claim, worker)
        for each in cids:
            assert running(engine, each) == ([owner[each][0].turn_id] if each in owner else [])
    for cid in cids:
        log = log_of(engine, cid)
        assert [seq for seq, _, _ in log] == list(range(1, len(log) + 1)), "seqs not contiguous"
        started = [turn_id for _, kind, turn_id in log if kind == "turn.started"]
        assert started == accepted[cid][: len(started)], "turns started out of their accepted order"
        completed = [turn_id for _, kind, turn_id in log if kind == "turn.completed"]
        assert completed == started[: len(completed)] and len(started) - len(completed) <= 1


def test_a_turn_touch_commits_with_its_submit(engine: Engine) -> None:
    """What post_message does: the conversation's activity stamp and the turn in one transaction."""
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from copilot.conversations import touch_on

    cid = f"touch-{next(_ids)}"
    old = datetime(2020, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(conversations).values(
                id=cid, tenant="demo", customer="alice", customer_role="customer", status="open",
                created_at=old, updated_at=old,
            )
        )  # fmt: skip
    claim = queue_on(engine).submit(new_turn(cid), "w1", also=lambda conn: touch_on(conn, cid))
    assert claim is not None
    with engine.connect() as conn:
        stamp = conn.execute(select(conversations.c.updated_at).where(conversations.c.id == cid)).scalar_one()
    assert stamp.replace(tzinfo=UTC) > old
