"""The doorbell over Redis pub/sub: rings cross processes in about a millisecond. The batching, retries,
fallback poll and wake-ups on a drop are `copilot.doorbell.SharedDoorbell`'s; this module is the transport.

* A ring is one PUBLISH of `<prefix>:<topic>:<key>` (payload: this bell's id, so its own echo is ignored); a
  batch goes out in one pipelined round trip.
* ONE subscriber connection per process, PSUBSCRIBEd to `<prefix>:*`, with no hidden retries: it drops on a
  Redis restart, CLIENT KILL or network failure. Idle for HEALTH_SECONDS it PINGs; silence for 3x that counts
  as a lost connection.
* Redis holds nothing: the database stays the source of truth and a lost ring costs one poll interval.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from copilot.doorbell import CONNECTED_POLL_SECONDS, DEFAULT_POLL_SECONDS, SharedDoorbell, Topic

PREFIX = "copilot:bell"
HEALTH_SECONDS = 5.0
"""The subscriber PINGs Redis when idle this long; silence for 3x this counts as a lost connection."""


def where(url: str) -> str:
    """host:port/db of a Redis URL, without credentials (for logs)."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 6379}{parts.path}"


class RedisDoorbell(SharedDoorbell):
    """A `copilot.doorbell.Doorbell` shared by every process on one Redis. `start()` on the loop that uses it."""

    transport = "Redis"
    down = (RedisError, OSError)

    def __init__(
        self,
        url: str,
        *,
        fallback_poll: float = DEFAULT_POLL_SECONDS,
        connected_poll: float = CONNECTED_POLL_SECONDS,
        prefix: str = PREFIX,
    ) -> None:
        super().__init__(origin=uuid.uuid4().hex, fallback_poll=fallback_poll, connected_poll=connected_poll)
        self.url, self.prefix = url, prefix
        self._publisher: Redis | None = None

    @property
    def subscriber_name(self) -> str:
        """CLIENT SETNAME of the subscriber connection (find it in CLIENT LIST)."""
        return f"copilot-doorbell-{self.origin[:12]}"

    @property
    def subscriptions(self) -> int:
        """How many times the subscriber connection was (re)established."""
        return self.links

    def where(self) -> str:
        return f"Redis at {where(self.url)}"

    def _payload(self, topic: Topic, key: str) -> str:
        return f"{self.prefix}:{topic}:{key}"

    async def _open(self) -> None:
        self._publisher = Redis.from_url(
            self.url, socket_connect_timeout=1.0, client_name=f"{self.subscriber_name}-pub"
        )

    async def _close(self) -> None:
        if self._publisher is not None:
            await self._publisher.aclose()
            self._publisher = None

    async def _publish(self, payloads: list[str]) -> None:
        if self._publisher is None:
            raise ConnectionError("the doorbell is not started")
        async with self._publisher.pipeline(transaction=False) as pipe:
            for channel in payloads:
                pipe.publish(channel, self.origin)
            await pipe.execute()

    async def _listen(self) -> None:
        client = Redis.from_url(
            self.url, retry=Retry(NoBackoff(), 0), socket_connect_timeout=1.0, socket_keepalive=True,
            client_name=self.subscriber_name,
        )  # fmt: skip
        pubsub = client.pubsub()
        try:
            await self._subscribe(pubsub)
            await self._receive(pubsub)
        finally:
            with contextlib.suppress(*self.down):
                await pubsub.aclose()  # type: ignore[no-untyped-call]  # untyped in redis-py
            with contextlib.suppress(*self.down):
                await client.aclose()

    async def _receive(self, pubsub: PubSub) -> None:
        """Dispatch messages; PING when idle for HEALTH_SECONDS, give up when Redis is silent for 3x that."""
        heard = time.monotonic()
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=HEALTH_SECONDS)
            now = time.monotonic()
            if message is not None:
                heard = now
                self._dispatch(message)
            if now - heard > 3 * HEALTH_SECONDS:
                raise ConnectionError(f"no reply from Redis for {now - heard:.0f}s")
            if now - heard >= HEALTH_SECONDS:
                await pubsub.ping()

    async def _subscribe(self, pubsub: PubSub) -> None:
        await pubsub.psubscribe(f"{self.prefix}:*")
        while (await pubsub.get_message(timeout=1.0)) is None:  # the psubscribe confirmation
            await pubsub.ping()
        self._set_up(True)

    def _dispatch(self, message: dict[str, Any]) -> None:
        if message.get("type") != "pmessage" or message.get("data") == self.origin.encode():
            return
        channel = message["channel"]
        text = channel.decode() if isinstance(channel, bytes) else str(channel)
        topic, _, key = text[len(self.prefix) + 1 :].partition(":")
        self._fire(topic, key)
