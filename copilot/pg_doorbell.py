"""The doorbell over PostgreSQL LISTEN/NOTIFY: workers on one Postgres database and no Redis still wake each
other within milliseconds instead of polling.

* `ring` wakes local waiters at once and queues one NOTIFY on channel `copilot_bell` (payload
  `<origin> <topic>:<key>`, so a bell ignores its own echo). A publisher task sends what is queued in one
  round trip (`pg_notify` over an array); a failed batch stays queued and is retried with backoff.
* ONE listener connection per process (autocommit, `LISTEN copilot_bell`) dispatches to local waiters. When it
  drops (restart, failover, pg_terminate_backend) every waiter is woken and `poll_seconds` becomes the short
  fallback poll until it listens again (exponential backoff); listening again wakes every waiter once more,
  for the rings sent while it was away. Idle for HEALTH_SECONDS, it runs `SELECT 1` to notice a dead link.
* NOTIFY is delivered to every listening session of the database, at commit of the notifying statement (here
  autocommit), and Postgres holds nothing for a session that was away: the tables stay the source of truth
  and a lost ring costs one poll interval. Same contract as `copilot.redis_doorbell.RedisDoorbell`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid

import psycopg

from copilot.doorbell import DEFAULT_POLL_SECONDS, Signals, Topic

log = logging.getLogger(__name__)

CHANNEL = "copilot_bell"
CONNECTED_POLL_SECONDS = 5.0
"""Safety poll while listening (a notification can be missed around a reconnect)."""
BACKOFF_MIN, BACKOFF_MAX = 0.05, 2.0
HEALTH_SECONDS = 5.0
_DOWN = (psycopg.Error, OSError)


def conninfo(url: str) -> str:
    """A libpq URL from a SQLAlchemy one (postgresql+psycopg://… → postgresql://…)."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+', 1)[0]}{sep}{rest}"


class PostgresDoorbell:
    """A `copilot.doorbell.Doorbell` shared by every process on one Postgres database. `start()` on the loop
    that uses it."""

    def __init__(
        self, url: str, *, fallback_poll: float = DEFAULT_POLL_SECONDS,
        connected_poll: float = CONNECTED_POLL_SECONDS, channel: str = CHANNEL,
    ) -> None:  # fmt: skip
        self.conninfo, self.channel = conninfo(url), channel
        self._fallback, self._connected_poll = fallback_poll, connected_poll
        self.origin = uuid.uuid4().hex[:16]
        self._signals = Signals()
        self._pending: dict[str, None] = {}
        self._kick = asyncio.Event()
        self._up = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.listens = 0
        """How many times the listener connection was (re)established."""

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
        self._pending[f"{self.origin} {topic}:{key}"] = None
        self._kick.set()

    # -- lifecycle ------------------------------------------------------------------------------------------
    async def start(self, *, wait: float = 1.0) -> bool:
        """Start publishing and listening; wait up to `wait` s for the LISTEN (False: still trying, waiters
        poll every `fallback_poll` s meanwhile)."""
        self._loop = asyncio.get_running_loop()
        self._tasks = [
            asyncio.create_task(self._publish_loop(), name="pg doorbell publisher"),
            asyncio.create_task(self._listen_loop(), name="pg doorbell listener"),
        ]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await self._up.wait()
        if not self.connected:
            log.warning("doorbell: Postgres LISTEN not up yet; polling every %ss", self._fallback)
        return self.connected

    async def aclose(self) -> None:
        """Flush queued rings (briefly), stop both tasks, wake every waiter."""
        if self._pending:
            with contextlib.suppress(*_DOWN, TimeoutError):
                async with asyncio.timeout(0.5), await self._connect() as conn:
                    await self._publish(conn, self._take_pending())
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self._set_up(False)

    async def _connect(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        return await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True, connect_timeout=2)

    # -- publishing -----------------------------------------------------------------------------------------
    def _take_pending(self) -> list[str]:
        batch, self._pending = list(self._pending), {}
        return batch

    async def _publish(self, conn: psycopg.AsyncConnection[tuple[object, ...]], payloads: list[str]) -> None:
        await conn.execute("SELECT pg_notify(%s, p) FROM unnest(%s::text[]) AS p", (self.channel, payloads))

    async def _publish_loop(self) -> None:
        delay, conn = BACKOFF_MIN, None
        while True:
            await self._kick.wait()
            self._kick.clear()
            batch = self._take_pending()
            try:
                if conn is None or conn.closed:
                    conn = await self._connect()
                await self._publish(conn, batch)
                delay = BACKOFF_MIN
            except asyncio.CancelledError:
                if conn is not None:
                    await conn.close()
                raise
            except Exception as exc:  # psycopg.Error/OSError mostly; never let the publisher die
                log.warning("doorbell: NOTIFY failed (%s); retrying in %.2fs", exc, delay)
                self._pending = {**dict.fromkeys(batch), **self._pending}
                conn = None
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))
                delay = min(BACKOFF_MAX, delay * 2)
                self._kick.set()

    # -- listening ------------------------------------------------------------------------------------------
    async def _listen_loop(self) -> None:
        delay = BACKOFF_MIN
        while True:
            before = self.listens
            try:
                async with await self._connect() as conn:
                    await conn.execute(f'LISTEN "{self.channel}"')
                    self._set_up(True)
                    await self._receive(conn)
            except _DOWN as exc:
                if self.connected:
                    log.warning("doorbell: LISTEN connection lost (%s); polling until Postgres is back", exc)
            except Exception:  # never let the listener die: waiters would poll forever
                log.exception("doorbell: listener failed; reconnecting")
            finally:
                self._set_up(False)
            delay = BACKOFF_MIN if self.listens != before else min(BACKOFF_MAX, delay * 2)
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))

    async def _receive(self, conn: psycopg.AsyncConnection[tuple[object, ...]]) -> None:
        while True:
            async for notify in conn.notifies(timeout=HEALTH_SECONDS):
                self._dispatch(notify.payload)
            await conn.execute("SELECT 1")  # idle: a dead link raises here

    def _dispatch(self, payload: str) -> None:
        origin, _, ring = payload.partition(" ")
        if origin == self.origin:
            return
        topic, _, key = ring.partition(":")
        self._signals.fire(topic, key)

    def _set_up(self, up: bool) -> None:
        if up == self.connected:
            return
        if up:
            self._up.set()
            self.listens += 1
        else:
            self._up.clear()
        self._signals.fire_all()  # up: rings sent while away; down: switch to the short poll now
