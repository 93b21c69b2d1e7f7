"""The doorbell over Redis pub/sub: rings cross processes in about a millisecond.

* `ring` wakes local waiters at once and queues one PUBLISH of `<prefix>:<topic>:<key>` (payload: this bell's
  id, so its own echo is ignored). A publisher task sends what is queued in one pipelined round trip; a failed
  batch stays queued and is retried with backoff (identical channels queued meanwhile collapse into one).
* ONE subscriber connection per process, PSUBSCRIBEd to `<prefix>:*`, dispatches to the local waiters. It has
  no hidden retries: when it drops (Redis restart, CLIENT KILL, network) every waiter is woken and
  `poll_seconds` becomes the short fallback poll until it is subscribed again, with exponential backoff;
  (re)subscribing wakes every waiter once more, for the rings sent while it was away.
* Redis holds nothing: the database stays the source of truth and a lost ring costs one poll interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from copilot.doorbell import DEFAULT_POLL_SECONDS, Signals, Topic

log = logging.getLogger(__name__)

PREFIX = "copilot:bell"
CONNECTED_POLL_SECONDS = 5.0
"""Safety poll while subscribed (pub/sub is at-most-once; a drop is detected and handled separately)."""
BACKOFF_MIN, BACKOFF_MAX = 0.05, 2.0
HEALTH_SECONDS = 5.0
"""The subscriber PINGs Redis when idle this long; silence for 3x this counts as a lost connection."""
_DOWN = (RedisError, OSError)


def where(url: str) -> str:
    """host:port/db of a Redis URL, without credentials (for logs)."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 6379}{parts.path}"


def _next_backoff(delay: float) -> float:
    return min(BACKOFF_MAX, delay * 2)


async def _sleep_jittered(delay: float) -> None:
    await asyncio.sleep(delay * random.uniform(0.5, 1.0))


class RedisDoorbell:
    """A `copilot.doorbell.Doorbell` shared by every process on one Redis. `start()` on the loop that uses it."""

    def __init__(
        self,
        url: str,
        *,
        fallback_poll: float = DEFAULT_POLL_SECONDS,
        connected_poll: float = CONNECTED_POLL_SECONDS,
        prefix: str = PREFIX,
    ) -> None:
        self.url, self.prefix = url, prefix
        self._fallback, self._connected_poll = fallback_poll, connected_poll
        self.origin = uuid.uuid4().hex
        self._signals = Signals()
        self._pending: dict[str, None] = {}
        self._kick = asyncio.Event()
        self._up = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._publisher: Redis | None = None
        self.subscriptions = 0
        """How many times the subscriber connection was (re)established."""

    # -- Doorbell -------------------------------------------------------------------------------------------
    @property
    def subscriber_name(self) -> str:
        """CLIENT SETNAME of the subscriber connection (find it in CLIENT LIST)."""
        return f"copilot-doorbell-{self.origin[:12]}"

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
        self._pending[f"{self.prefix}:{topic}:{key}"] = None
        self._kick.set()

    # -- lifecycle ------------------------------------------------------------------------------------------
    async def start(self, *, wait: float = 1.0) -> bool:
        """Start publishing and subscribing; wait up to `wait` s for the subscription (False: still trying,
        waiters poll every `fallback_poll` s meanwhile)."""
        self._loop = asyncio.get_running_loop()
        self._publisher = Redis.from_url(
            self.url, socket_connect_timeout=1.0, client_name=f"{self.subscriber_name}-pub"
        )
        self._tasks = [
            asyncio.create_task(self._publish_loop(self._publisher), name="doorbell publisher"),
            asyncio.create_task(self._listen_loop(), name="doorbell subscriber"),
        ]
        up = await self.wait_connected(wait)
        if not up:
            log.warning(
                "doorbell: Redis at %s not reachable yet; polling every %ss", where(self.url), self._fallback
            )
        return up

    async def wait_connected(self, timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._up.wait()
        return self.connected

    async def aclose(self) -> None:
        """Flush queued rings (briefly), stop both tasks, close the connections, wake every waiter."""
        if self._pending and self._publisher is not None:
            with contextlib.suppress(*_DOWN, TimeoutError):
                async with asyncio.timeout(0.5):
                    await self._publish(self._publisher, self._take_pending())
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._publisher is not None:
            await self._publisher.aclose()
            self._publisher = None
        self._set_up(False)

    # -- publishing -----------------------------------------------------------------------------------------
    def _take_pending(self) -> list[str]:
        batch, self._pending = list(self._pending), {}
        return batch

    async def _publish(self, client: Redis, channels: list[str]) -> None:
        async with client.pipeline(transaction=False) as pipe:
            for channel in channels:
                pipe.publish(channel, self.origin)
            await pipe.execute()

    async def _publish_loop(self, client: Redis) -> None:
        delay = BACKOFF_MIN
        while True:
            await self._kick.wait()
            self._kick.clear()
            batch = self._take_pending()
            try:
                await self._publish(client, batch)
                delay = BACKOFF_MIN
            except Exception as exc:  # RedisError/OSError mostly; never let the publisher die
                log.warning("doorbell: publish failed (%s); retrying in %.2fs", exc, delay)
                self._pending = {**dict.fromkeys(batch), **self._pending}
                await _sleep_jittered(delay)
                delay = _next_backoff(delay)
                self._kick.set()

    # -- subscribing ----------------------------------------------------------------------------------------
    async def _listen_loop(self) -> None:
        delay = BACKOFF_MIN
        while True:
            before = self.subscriptions
            try:
                await self._listen_once()
            except _DOWN as exc:
                if self.connected:
                    log.warning("doorbell: subscriber lost (%s); polling until Redis is back", exc)
            except Exception:  # never let the subscriber die: waiters would poll forever
                log.exception("doorbell: subscriber failed; reconnecting")
            finally:
                self._set_up(False)
            delay = BACKOFF_MIN if self.subscriptions != before else _next_backoff(delay)
            await _sleep_jittered(delay)

    async def _listen_once(self) -> None:
        client = Redis.from_url(
            self.url, retry=Retry(NoBackoff(), 0), socket_connect_timeout=1.0, socket_keepalive=True,
            client_name=self.subscriber_name,
        )  # fmt: skip
        pubsub = client.pubsub()
        try:
            await self._subscribe(pubsub)
            await self._receive(pubsub)
        finally:
            with contextlib.suppress(*_DOWN):
                await pubsub.aclose()  # type: ignore[no-untyped-call]  # untyped in redis-py
            with contextlib.suppress(*_DOWN):
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
        self._signals.fire(topic, key)

    def _set_up(self, up: bool) -> None:
        if up == self.connected:
            return
        if up:
            self._up.set()
            self.subscriptions += 1
        else:
            self._up.clear()
        self._signals.fire_all()  # up: rings sent while away; down: switch to the short poll now
