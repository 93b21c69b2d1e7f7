"""The doorbell over PostgreSQL LISTEN/NOTIFY: workers on one Postgres database and no Redis still wake each
other within milliseconds instead of polling. The batching, retries, fallback poll and wake-ups on a drop are
`copilot.doorbell.SharedDoorbell`'s; this module is the transport.

* A ring is one NOTIFY on channel `copilot_bell` (payload `<origin> <topic>:<key>`, so a bell ignores its own
  echo); a batch goes out in one round trip (`pg_notify` over an array).
* ONE listener connection per process (autocommit, `LISTEN copilot_bell`); it drops on a restart, failover or
  pg_terminate_backend. Idle for HEALTH_SECONDS, it runs `SELECT 1` to notice a dead link.
* NOTIFY is delivered to every listening session of the database, at commit of the notifying statement (here
  autocommit), and Postgres holds nothing for a session that was away. Same contract as
  `copilot.redis_doorbell.RedisDoorbell`.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import psycopg

from copilot.doorbell import CONNECTED_POLL_SECONDS, DEFAULT_POLL_SECONDS, SharedDoorbell, Topic

CHANNEL = "copilot_bell"
HEALTH_SECONDS = 5.0

Connection = psycopg.AsyncConnection[tuple[object, ...]]


def conninfo(url: str) -> str:
    """A libpq URL from a SQLAlchemy one (postgresql+psycopg://… → postgresql://…)."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+', 1)[0]}{sep}{rest}"


class PostgresDoorbell(SharedDoorbell):
    """A `copilot.doorbell.Doorbell` shared by every process on one Postgres database. `start()` on the loop
    that uses it."""

    transport = "Postgres"
    down = (psycopg.Error, OSError)

    def __init__(
        self, url: str, *, fallback_poll: float = DEFAULT_POLL_SECONDS,
        connected_poll: float = CONNECTED_POLL_SECONDS, channel: str = CHANNEL,
    ) -> None:  # fmt: skip
        super().__init__(
            origin=uuid.uuid4().hex[:16], fallback_poll=fallback_poll, connected_poll=connected_poll
        )
        self.conninfo, self.channel = conninfo(url), channel
        self._publisher: Connection | None = None
        self._publishing = asyncio.Lock()

    @property
    def listens(self) -> int:
        """How many times the listener connection was (re)established."""
        return self.links

    def _payload(self, topic: Topic, key: str) -> str:
        return f"{self.origin} {topic}:{key}"

    async def _connect(self) -> Connection:
        return await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True, connect_timeout=2)

    async def _open(self) -> None:
        """The publisher connects on its first batch."""

    async def _publish(self, payloads: list[str]) -> None:
        async with self._publishing:  # aclose's flush may race the publisher task for the connection
            try:
                if self._publisher is None or self._publisher.closed:
                    self._publisher = await self._connect()
                sql = "SELECT pg_notify(%s, p) FROM unnest(%s::text[]) AS p"
                await self._publisher.execute(sql, (self.channel, payloads))
            except Exception:
                await self._close()  # connect again on the retry
                raise

    async def _close(self) -> None:
        conn, self._publisher = self._publisher, None
        if conn is not None:
            with contextlib.suppress(*self.down):
                await conn.close()

    async def _listen(self) -> None:
        async with await self._connect() as conn:
            await conn.execute(f'LISTEN "{self.channel}"')
            self._set_up(True)
            while True:
                async for notify in conn.notifies(timeout=HEALTH_SECONDS):
                    self._dispatch(notify.payload)
                await conn.execute("SELECT 1")  # idle: a dead link raises here

    def _dispatch(self, payload: str) -> None:
        origin, _, ring = payload.partition(" ")
        if origin != self.origin:
            topic, _, key = ring.partition(":")
            self._fire(topic, key)
