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
`LocalDoorbell` rings within one process; `SharedDoorbell` is the skeleton of a bell that crosses processes
(`copilot.redis_doorbell.RedisDoorbell`, `copilot.pg_doorbell.PostgresDoorbell` add only their transport).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import weakref
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import ClassVar, Literal, Protocol, TypeVar

T = TypeVar("T")

Topic = Literal["events", "turns", "policy", "cancel"]
TOPICS: tuple[Topic, ...] = ("events", "turns", "policy", "cancel")
ANY = "*"
DEFAULT_POLL_SECONDS = 1.0
"""How long a waiter sleeps before re-reading when no bell crosses processes (COPILOT_EVENT_POLL_SECONDS)."""
CONNECTED_POLL_SECONDS = 5.0
"""A shared bell's safety poll while its link is up (a ring can be missed around a reconnect)."""
BACKOFF_MIN, BACKOFF_MAX = 0.05, 2.0
"""A shared bell's reconnect and republish backoff (doubling, jittered)."""

log = logging.getLogger(__name__)


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


class SharedDoorbell(ABC):
    """A bell shared by every process on one transport. `ring` wakes local waiters at once and queues one
    payload; a publisher task sends what is queued in one batch, and a failed batch stays queued and is retried
    with backoff (identical rings queued meanwhile collapse into one). A listener task holds ONE link per
    process and dispatches other processes' rings; while the link is down every waiter is woken and
    `poll_seconds` is the short fallback poll, and linking up again wakes every waiter once more (for the rings
    sent while it was away). The transport holds nothing: the database stays the source of truth.

    A transport supplies `_payload`, `_publish`, `_listen` (which calls `_set_up(True)` once it hears rings)
    `_open` and `_close`. `start()` on the loop that uses the bell."""

    transport: ClassVar[str]
    """Named in logs ("Redis", "Postgres")."""
    down: ClassVar[tuple[type[Exception], ...]]
    """The errors that mean the transport is unreachable."""

    def __init__(self, *, origin: str, fallback_poll: float, connected_poll: float) -> None:
        self.origin = origin
        self._fallback, self._connected_poll = fallback_poll, connected_poll
        self._signals = Signals()
        self._pending: dict[str, None] = {}
        self._kick = asyncio.Event()
        self._up = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.links = 0
        """How many times the listening link was (re)established."""

    # -- Doorbell -------------------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._up.is_set()

    @property
    def poll_seconds(self) -> float:
        return self._connected_poll if self.connected else self._fallback

    def ring(self, topic: Topic, key: str) -> None:
        self._signals.call(lambda: self._ring_here(topic, key), self._loop)

    def signal(self, topic: Topic, key: str) -> asyncio.Event:
        return self._signals.take(topic, key)

    def _ring_here(self, topic: Topic, key: str) -> None:
        self._signals.fire(topic, key)
        self._pending[self._payload(topic, key)] = None
        self._kick.set()

    # -- the transport --------------------------------------------------------------------------------------
    @abstractmethod
    def _payload(self, topic: Topic, key: str) -> str:
        """What one ring of (topic, key) queues for `_publish`."""

    @abstractmethod
    async def _publish(self, payloads: list[str]) -> None:
        """Send a batch of queued payloads in one round trip; raise when it did not go out."""

    @abstractmethod
    async def _listen(self) -> None:
        """Open the link, `_set_up(True)` once listening, dispatch with `_fire` until the link fails (raise)."""

    @abstractmethod
    async def _open(self) -> None:
        """Before the tasks start (e.g. create a client)."""

    @abstractmethod
    async def _close(self) -> None:
        """After the tasks stopped (e.g. close the publisher's connection)."""

    def where(self) -> str:
        """The transport as logs name it, without credentials."""
        return self.transport

    def _fire(self, topic: str, key: str) -> None:
        """Wake the local waiters of a ring heard from another process."""
        self._signals.fire(topic, key)

    # -- lifecycle ------------------------------------------------------------------------------------------
    async def start(self, *, wait: float = 1.0) -> bool:
        """Start publishing and listening; wait up to `wait` s for the link (False: still trying, waiters poll
        every `fallback_poll` s meanwhile)."""
        self._loop = asyncio.get_running_loop()
        await self._open()
        name = self.transport.lower()
        self._tasks = [
            asyncio.create_task(self._publish_loop(), name=f"{name} doorbell publisher"),
            asyncio.create_task(self._listen_loop(), name=f"{name} doorbell listener"),
        ]
        up = await self.wait_connected(wait)
        if not up:
            log.warning("doorbell: %s not reachable yet; polling every %ss", self.where(), self._fallback)
        return up

    async def wait_connected(self, timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._up.wait()
        return self.connected

    async def aclose(self) -> None:
        """Flush queued rings (briefly), stop both tasks, close the transport, wake every waiter."""
        if self._pending:
            with contextlib.suppress(*self.down, TimeoutError):
                async with asyncio.timeout(0.5):
                    await self._publish(self._take_pending())
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self._close()
        self._set_up(False)

    # -- publishing -----------------------------------------------------------------------------------------
    def _take_pending(self) -> list[str]:
        batch, self._pending = list(self._pending), {}
        return batch

    async def _publish_loop(self) -> None:
        delay = BACKOFF_MIN
        while True:
            await self._kick.wait()
            self._kick.clear()
            batch = self._take_pending()
            try:
                await self._publish(batch)
                delay = BACKOFF_MIN
            except Exception as exc:  # mostly `down`; never let the publisher die
                log.warning("doorbell: %s publish failed (%s); retrying in %.2fs", self.transport, exc, delay)
                self._pending = {**dict.fromkeys(batch), **self._pending}
                await _sleep_jittered(delay)
                delay = min(BACKOFF_MAX, delay * 2)
                self._kick.set()

    # -- listening ------------------------------------------------------------------------------------------
    async def _listen_loop(self) -> None:
        delay = BACKOFF_MIN
        while True:
            before = self.links
            try:
                await self._listen()
            except self.down as exc:
                if self.connected:
                    log.warning("doorbell: %s link lost (%s); polling until it is back", self.transport, exc)
            except Exception:  # never let the listener die: waiters would poll forever
                log.exception("doorbell: %s listener failed; reconnecting", self.transport)
            finally:
                self._set_up(False)
            delay = BACKOFF_MIN if self.links != before else min(BACKOFF_MAX, delay * 2)
            await _sleep_jittered(delay)

    def _set_up(self, up: bool) -> None:
        if up == self.connected:
            return
        if up:
            self._up.set()
            self.links += 1
        else:
            self._up.clear()
        self._signals.fire_all()  # up: rings sent while away; down: switch to the short poll now


async def _sleep_jittered(delay: float) -> None:
    await asyncio.sleep(delay * random.uniform(0.5, 1.0))


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
