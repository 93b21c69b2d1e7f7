"""DeltaCoalescer: the same text in the same order relative to every other event, in fewer deltas."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copilot.coalesce import DeltaCoalescer, FlushPolicy
from copilot.events import EventType
from tests.agent.fakes import RecordingSink

Emitted = tuple[EventType, dict[str, Any], str | None]
POLICY = FlushPolicy(interval=0.002, max_chars=12)

DELTA = st.builds(
    lambda text, message, turn: ("message.delta", {"text": text, "message_id": message}, turn),
    st.text(max_size=8),
    st.sampled_from(["m1", "m2", None]),
    st.sampled_from(["t1", "t2"]),
)
ODD_DELTA = st.builds(
    lambda n: ("message.delta", {"text": "x", "message_id": "m1", "n": n}, "t1"), st.integers()
)
OTHER = st.builds(
    lambda type, n: (type, {"n": n}, "t1"),
    st.sampled_from(["tool.requested", "tool.executed", "message.completed", "error"]),
    st.integers(0, 9),
)
STEP = st.tuples(st.one_of(DELTA, DELTA, DELTA, ODD_DELTA, OTHER), st.sampled_from([0.0, 0.0, 0.001, 0.005]))


def _merge(events: list[Emitted]) -> list[Emitted]:
    """Runs of plain deltas of one message and turn, concatenated (what a reader reassembles)."""
    out: list[Emitted] = []
    for type, data, turn in events:
        plain = type == "message.delta" and set(data) == {"text", "message_id"}
        if plain and out and out[-1][0] == "message.delta" and set(out[-1][1]) == {"text", "message_id"}:
            last = out[-1]
            if (last[1]["message_id"], last[2]) == (data["message_id"], turn):
                out[-1] = (type, {**last[1], "text": last[1]["text"] + data["text"]}, turn)
                continue
        out.append((type, dict(data), turn))
    return out


async def _run(steps: list[tuple[Emitted, float]]) -> tuple[list[Emitted], list[int]]:
    inner = RecordingSink()
    sink = DeltaCoalescer(inner, POLICY)
    seqs = []
    for (type, data, turn), pause in steps:
        seqs.append(await sink.emit(type, data, turn_id=turn))
        if pause:
            await asyncio.sleep(pause)
    await sink.flush()
    return inner.events, seqs


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(STEP, max_size=30))
def test_text_and_order_are_preserved(steps: list[tuple[Emitted, float]]) -> None:
    emitted = [event for event, _ in steps]
    out, seqs = asyncio.run(_run(steps))
    assert _merge(out) == _merge(emitted)
    assert len(out) <= len(emitted)
    assert seqs == sorted(seqs) and all(0 <= s <= len(out) for s in seqs)
    assert all(
        len(d["text"]) < POLICY.max_chars + 8 for t, d, _ in out if t == "message.delta" and "n" not in d
    )


async def test_other_events_flush_the_buffered_run_first() -> None:
    inner = RecordingSink()
    sink = DeltaCoalescer(inner, FlushPolicy(interval=60, max_chars=1000))
    for word in ("Your ", "order ", "ships."):
        await sink.emit("message.delta", {"text": word, "message_id": "m"}, turn_id="t")
    assert inner.events == []
    assert await sink.emit("message.completed", {"text": "Your order ships."}, turn_id="t") == 2
    assert inner.types() == ["message.delta", "message.completed"]
    assert inner.events[0][1] == {"text": "Your order ships.", "message_id": "m"}


async def test_a_buffered_run_is_appended_after_the_interval_without_more_events() -> None:
    inner = RecordingSink()
    sink = DeltaCoalescer(inner, FlushPolicy(interval=0.01, max_chars=1000))
    await sink.emit("message.delta", {"text": "Hello", "message_id": "m"}, turn_id="t")
    await sink.emit("message.delta", {"text": " there", "message_id": "m"}, turn_id="t")
    for _ in range(200):
        if inner.events:
            break
        await asyncio.sleep(0.005)
    assert inner.events == [("message.delta", {"text": "Hello there", "message_id": "m"}, "t")]


class _FailingSink(RecordingSink):
    async def emit(self, type: EventType, data: dict[str, Any], *, turn_id: str | None = None) -> int:
        raise RuntimeError("log down")


async def test_a_failed_timed_append_is_raised_by_the_next_emit() -> None:
    sink = DeltaCoalescer(_FailingSink(), FlushPolicy(interval=0.001, max_chars=1000))
    await sink.emit("message.delta", {"text": "Hi", "message_id": "m"}, turn_id="t")
    await asyncio.sleep(0.05)
    with pytest.raises(RuntimeError, match="log down"):
        await sink.emit("turn.completed", {"status": "completed"}, turn_id="t")
