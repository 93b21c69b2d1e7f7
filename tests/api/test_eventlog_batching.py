"""Group commit: random interleavings of concurrent appends from several tasks through two EventLog
instances (two engines, as two worker processes) on one SQLite file and on PostgreSQL. Every conversation
gets seqs 1..n, each writer's events keep its order, nothing acknowledged is lost, and the returned seq is
the stored one. Plus: refused events fail alone, the database failing fails its batch, close flushes."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from copilot.eventlog import EventLog, LocalNotifier, RecentEvents, insert_event
from copilot.events import StoredEvent
from copilot.store.database import make_engine
from copilot.store.schema import events
from tests.databases import postgres_database

# A writer: the (log, conversation, yields-before) of each of its appends, awaited one after another.
WRITER = st.lists(st.tuples(st.integers(0, 1), st.integers(0, 2), st.integers(0, 3)), min_size=1, max_size=12)
SCENARIO = st.lists(WRITER, min_size=1, max_size=6)
_examples = itertools.count()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def engines(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Engine]]:
    """Two engines (two connection pools, like two processes) on one database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('batching') / 'events.db'}"
        pair = [make_engine(url), make_engine(url)]
        yield pair
        for engine in pair:
            engine.dispose()
        return
    with postgres_database() as url:
        pair = [make_engine(url), make_engine(url)]
        yield pair
        for engine in pair:
            engine.dispose()


async def _scenario(engines: list[Engine], writers: list[list[tuple[int, int, int]]]) -> None:
    logs = [EventLog(engine) for engine in engines]
    prefix = f"ex{next(_examples)}-"
    returned: dict[tuple[int, int], int] = {}

    async def write(w: int, steps: list[tuple[int, int, int]]) -> None:
        for i, (log, conversation, yields) in enumerate(steps):
            for _ in range(yields):
                await asyncio.sleep(0)
            data = {"w": w, "i": i}
            returned[w, i] = await logs[log].append(f"{prefix}{conversation}", "message.delta", data)

    async def follow(log: EventLog, into: list[StoredEvent]) -> None:
        async for event in log.tail(f"{prefix}0", poll=0.05):
            into.append(event)

    tailed: list[list[StoredEvent]] = [[], []]
    tails = [asyncio.create_task(follow(log, into)) for log, into in zip(logs, tailed, strict=True)]
    await asyncio.gather(*(write(w, steps) for w, steps in enumerate(writers)))
    for log in logs:
        await log.aclose()
    expected = await logs[0].read_all(f"{prefix}0")
    for _ in range(3000):  # the tails see exactly the stored events, in order (own appends + polled ones);
        # up to 30 s: a loaded CI box may take seconds to poll, and the loop ends as soon as they have
        if all(len(into) >= len(expected) for into in tailed):
            break
        await asyncio.sleep(0.01)
    for task in tails:
        task.cancel()
    await asyncio.gather(*tails, return_exceptions=True)
    assert tailed == [expected, expected]
    total = 0
    for conversation in range(3):
        stored = await logs[0].read_all(f"{prefix}{conversation}")
        total += len(stored)
        assert [e["seq"] for e in stored] == list(range(1, len(stored) + 1))
        for w in range(len(writers)):
            mine = [e["data"]["i"] for e in stored if e["data"]["w"] == w]
            assert mine == sorted(mine)
        assert all(returned[e["data"]["w"], e["data"]["i"]] == e["seq"] for e in stored)
    assert total == sum(len(steps) for steps in writers) == len(returned)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(writers=SCENARIO)
def test_interleaved_appends_get_contiguous_seqs_in_writer_order(
    engines: list[Engine], writers: list[list[tuple[int, int, int]]]
) -> None:
    asyncio.run(_scenario(engines, writers))


async def test_one_batch_commits_many_concurrent_appends(tmp_path: Path) -> None:
    log = EventLog(make_engine(f"sqlite:///{tmp_path / 'e.db'}"))
    seqs = await asyncio.gather(*(log.append(f"c{i % 4}", "message.delta", {"i": i}) for i in range(100)))
    assert sorted(seqs) == sorted(list(range(1, 26)) * 4)
    batches, appends = log.stats()
    assert appends == 100 and batches <= 2  # the first append's batch, then the 99 queued


async def test_a_refused_event_fails_alone(tmp_path: Path) -> None:
    log = EventLog(make_engine(f"sqlite:///{tmp_path / 'e.db'}"))
    results = await asyncio.gather(
        log.append("c", "message.delta", {"i": 0}),
        log.append("c", "message.delta", {"i": 1}),
        log.append("c", "message.delta", {"bad": object()}),  # not JSON
        log.append("c", "message.delta", {"i": 3}),
        return_exceptions=True,
    )
    assert list(results[:2]) == [1, 2] and results[3] == 3
    assert isinstance(results[2], Exception)
    assert [e["data"]["i"] for e in await log.read_all("c")] == [0, 1, 3]


async def test_a_failing_database_fails_every_caller_and_the_writer_recovers(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'e.db'}")
    log = EventLog(engine)
    assert await log.append("c", "turn.started", {}) == 1
    events.drop(engine)
    failed = await asyncio.gather(
        *(log.append("c", "message.delta", {}) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, OperationalError) for r in failed), failed
    events.create(engine)
    assert await log.append("c", "turn.completed", {}) == 1


async def test_close_commits_pending_appends_then_refuses_more(tmp_path: Path) -> None:
    log = EventLog(make_engine(f"sqlite:///{tmp_path / 'e.db'}"))
    pending = [asyncio.ensure_future(log.append("c", "message.delta", {"i": i})) for i in range(10)]
    await asyncio.sleep(0)  # queued, not yet committed
    await log.aclose()
    assert [task.result() for task in pending] == list(range(1, 11))
    with pytest.raises(RuntimeError, match="closed"):
        await log.append("c", "turn.completed", {})


async def test_a_tail_fills_a_gap_left_by_another_process_without_waiting_for_the_poll(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'e.db'}"
    here, there = EventLog(make_engine(url)), EventLog(make_engine(url))
    received: list[int] = []

    async def follow() -> None:
        async for event in here.tail("c", poll=30):
            received.append(event["seq"])
            if len(received) == 3:
                return

    task = asyncio.create_task(follow())
    assert await here.append("c", "turn.started", {}) == 1
    assert await there.append("c", "message.user", {}) == 2  # another process: no wake-up here
    assert await here.append("c", "turn.completed", {}) == 3  # held in memory after a gap
    await asyncio.wait_for(task, timeout=2)
    assert received == [1, 2, 3]


def test_recent_events_are_bounded_and_only_serve_a_consecutive_run() -> None:
    recent = RecentEvents(per_conversation=3, conversations=2)
    for seq in (1, 2, 3, 4, 6):
        recent.add("a", StoredEvent(seq=seq, type="message.delta", turn_id=None, data={}))
    assert recent.after("a", 1) is None  # 2 was dropped (3 per conversation): read from the table
    run = recent.after("a", 3)
    assert run is not None and [e["seq"] for e in run[0]] == [4] and run[1] is True  # 6 past a gap
    assert recent.after("a", 6) is None
    recent.add("b", StoredEvent(seq=1, type="turn.started", turn_id=None, data={}))
    recent.add("c", StoredEvent(seq=1, type="turn.started", turn_id=None, data={}))
    assert recent.after("a", 3) is None and recent.after("c", 0) is not None  # "a" appended least recently


def test_one_log_driven_from_two_event_loops(tmp_path: Path) -> None:
    """A writer per loop (a test may drive a server's log from its own loop): nothing lost, seqs contiguous."""
    log = EventLog(make_engine(f"sqlite:///{tmp_path / 'e.db'}"))
    seqs: list[int] = []

    async def appends(k: int) -> None:
        got = await asyncio.gather(*(log.append("c", "message.delta", {"k": k, "i": i}) for i in range(20)))
        seqs.extend(got)

    threads = [threading.Thread(target=asyncio.run, args=(appends(k),)) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(seqs) == list(range(1, 41))


async def test_an_outbox_event_committed_beside_the_writer_reaches_a_live_tail(tmp_path: Path) -> None:
    """insert_event in a caller's transaction + notify: the recent window forgets the conversation, so the
    tail reads the table instead of trusting a window that lacks that event."""
    engine = make_engine(f"sqlite:///{tmp_path / 'e.db'}")
    log = EventLog(engine)
    received: list[int] = []

    async def follow() -> None:
        async for event in log.tail("c", poll=30):
            received.append(event["seq"])
            if len(received) == 4:
                return

    task = asyncio.create_task(follow())
    assert await log.append("c", "turn.started", {}) == 1
    with engine.begin() as conn:
        assert insert_event(conn, "c", "message.user", {}) == 2
    log.notify("c")
    assert await log.append("c", "message.delta", {"text": "x"}) == 3
    with engine.begin() as conn:
        assert insert_event(conn, "c", "turn.completed", {}) == 4
    log.notify("c")
    await asyncio.wait_for(task, timeout=2)
    assert received == [1, 2, 3, 4]
    assert [e["seq"] async for e in log.tail("c", 2, follow=False)] == [3, 4]


async def test_a_relaying_notifier_turns_the_recent_window_off(tmp_path: Path) -> None:
    class Relay(LocalNotifier):  # stands in for a notifier that relays other processes' appends
        pass

    log = EventLog(make_engine(f"sqlite:///{tmp_path / 'e.db'}"), notifier=Relay())
    await log.append("c", "turn.started", {})
    assert log._recent.after("c", 0) is None
    assert [e["seq"] async for e in log.tail("c", follow=False)] == [1]


@settings(max_examples=60, deadline=None)
@given(held=st.sets(st.integers(1, 20)).flatmap(lambda seqs: st.permutations(sorted(seqs))))
def test_recent_events_serve_the_same_runs_whatever_order_they_arrive_in(held: list[int]) -> None:
    """The turn queue hands in turn.started/turn.completed beside the writer's batches, so events may be
    added out of seq order (and twice): the window still serves exactly the consecutive run after a seq."""
    recent = RecentEvents(per_conversation=64)
    for seq in [*held, *held[:2]]:  # the first two again: a seq held already is kept once
        recent.add("c", StoredEvent(seq=seq, type="message.delta", turn_id=None, data={}))
    have = set(held)
    for after in range(21):
        served = recent.after("c", after)
        if after + 1 not in have:
            assert served is None
            continue
        end = after + 1
        while end + 1 in have:
            end += 1
        assert served is not None
        assert [e["seq"] for e in served[0]] == list(range(after + 1, end + 1))
        assert served[1] == any(seq > end for seq in have)


async def test_an_event_handed_in_as_committed_reaches_a_live_tail_from_the_window(tmp_path: Path) -> None:
    """EventLog.committed (the turn queue's turn.started/turn.completed): the window holds the event, so the
    tail is woken and served without a table read, and the events around it still come in seq order."""
    engine = make_engine(f"sqlite:///{tmp_path / 'e.db'}")
    log = EventLog(engine)
    received: list[int] = []

    async def follow() -> None:
        async for event in log.tail("c", poll=30):
            received.append(event["seq"])
            if len(received) == 3:
                return

    task = asyncio.create_task(follow())
    with engine.begin() as conn:
        seq = insert_event(conn, "c", "turn.started", {"by": "x"}, "t1")
    log.committed("c", StoredEvent(seq=seq, type="turn.started", turn_id="t1", data={"by": "x"}))
    assert await log.append("c", "message.delta", {"text": "x"}, turn_id="t1") == 2
    with engine.begin() as conn:
        seq = insert_event(conn, "c", "turn.completed", {"status": "completed"}, "t1")
    with engine.begin() as conn:  # the table no longer has it: only the window can serve the live tail
        conn.execute(events.delete().where(events.c.seq == 3))
    log.committed(
        "c", StoredEvent(seq=seq, type="turn.completed", turn_id="t1", data={"status": "completed"})
    )
    await asyncio.wait_for(task, timeout=2)
    assert received == [1, 2, 3]
    served = log._recent.after("c", 0)
    assert served is not None and [e["type"] for e in served[0]] == [
        "turn.started",
        "message.delta",
        "turn.completed",
    ]
