"""The doorbell: a wake-up, never a message. `ring(topic, key)` wakes whoever waits on (topic, key); the
waiter then reads the source of truth (the event log, the turns table, the policy stamp) itself.

Waiting follows subscribe → read → wait, so a ring between the read and the wait is never lost:

    signal = bell.signal("events", conversation_id)   # take the signal first
    batch = read_the_database()                       # then read
    if not batch:
        await wait(bell, signal)                      # rung, or `bell.poll_seconds` passed: read again

Rings are wake-ups only, so a spurious or late one costs a read, and a lost one costs at most one poll
interval: `poll_seconds` is short when the bell cannot be trusted to cross processes (no Redis, or Redis
unreachable) and long when it can.

Topics and keys: "events" (conversation id: an event was appended), "turns" ("*" or a conversation id: a turn
was queued), "policy" (tenant or "*": a policy version was activated). A ring of (topic, key) wakes the waiters
of (topic, key) and of (topic, "*"); a ring of (topic, "*") wakes every waiter of the topic.
`LocalDoorbell` rings within one process; `copilot.redis_doorbell.RedisDoorbell` across processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Awaitable, Callable
from typing import Literal, Protocol, TypeVar

T = TypeVar("T")

Topic = Literal["events", "turns", "policy", "cancel"]
TOPICS: tuple[Topic, ...] = ("events", "turns", "policy", "cancel")
ANY = "*"
DEFAULT_POLL_SECONDS = 1.0
"""How long a waiter sleeps before re-reading when no bell crosses processes (COPILOT_EVENT_POLL_SECONDS)."""


class Doorbell(Protocol):
    """Wakes waiters of (topic, key) in this process and, for a shared bell, in every other process."""

    @property
    def poll_seconds(self) -> float:
        """The longest a waiter should sleep before re-reading the source of truth."""
        ...

    def ring(self, topic: Topic, key: str) -> None:
        """Wake the waiters of (topic, key); call it after the change is committed. Thread-safe."""
        ...

    def signal(self, topic: Topic, key: str) -> asyncio.Event:
        """An event set by the next ring of (topic, key); take it before reading."""
        ...

    async def aclose(self) -> None: ...


async def wait(bell: Doorbell, signal: asyncio.Event, timeout: float | None = None) -> bool:
    """Wait for `signal` at most `timeout` (default: the bell's poll interval); True if it was rung."""
    # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation that arrives as the
    # signal fires, and the waiting loop would then never stop.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(bell.poll_seconds if timeout is None else timeout):
            await signal.wait()
        return True
    return False


async def until(bell: Doorbell, topic: Topic, key: str, probe: Callable[[], Awaitable[T | None]]) -> T:
    """Take the signal, run `probe` (read the source of truth), return its result unless None, else wait for a
    ring or the poll interval and probe again. E.g. a turn worker: `job = await until(bell, "turns", "*", claim)`.
    """
    while True:
        signal = bell.signal(topic, key)
        found = await probe()
        if found is not None:
            return found
        await wait(bell, signal)


class Signals:
    """One asyncio.Event per (topic, key), replaced each time it fires; held weakly (a waiter that went away
    leaves nothing behind). Fired on the loop that took them, whichever thread rings."""

    def __init__(self) -> None:
        self._events: dict[str, weakref.WeakValueDictionary[str, asyncio.Event]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def take(self, topic: str, key: str) -> asyncio.Event:
        self._loop = asyncio.get_running_loop()
        keys = self._events.setdefault(topic, weakref.WeakValueDictionary())
        event = keys.get(key)
        if event is None:
            event = keys[key] = asyncio.Event()
        return event

    def fire(self, topic: str, key: str) -> None:
        """Set the events of (topic, key) and (topic, "*"), or of the whole topic when key is "*"."""
        keys = self._events.get(topic)
        if not keys:
            return
        chosen = list(keys) if key == ANY else [k for k in (key, ANY) if k in keys]
        for name in chosen:
            event = keys.pop(name, None)
            if event is not None:
                event.set()

    def fire_all(self) -> None:
        for topic in list(self._events):
            self.fire(topic, ANY)

    def call(self, fn: Callable[[], None], loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Run `fn` on the signals' loop: now when already on it (or no loop is known), else thread-safely."""
        target = loop or self._loop
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if target is None or target is running or target.is_closed():
            fn()
        else:
            target.call_soon_threadsafe(fn)


class LocalDoorbell:
    """In-process rings; other processes are only seen by polling every `poll_seconds`."""

    def __init__(self, poll_seconds: float = DEFAULT_POLL_SECONDS) -> None:
        self._poll = poll_seconds
        self._signals = Signals()

    @property
    def poll_seconds(self) -> float:
        return self._poll

    def ring(self, topic: Topic, key: str) -> None:
        self._signals.call(lambda: self._signals.fire(topic, key))

    def signal(self, topic: Topic, key: str) -> asyncio.Event:
        return self._signals.take(topic, key)

    async def aclose(self) -> None:
        self._signals.fire_all()


class EventNotifier:
    """`copilot.eventlog.Notifier` over a doorbell: topic "events", key = conversation id."""

    def __init__(self, bell: Doorbell) -> None:
        self.bell = bell

    @property
    def poll_seconds(self) -> float:
        return self.bell.poll_seconds

    def notify(self, conversation_id: str) -> None:
        self.bell.ring("events", conversation_id)

    def signal(self, conversation_id: str) -> asyncio.Event:
        return self.bell.signal("events", conversation_id)
