"""Readiness (GET /readyz): small probes of what a request needs (database, checkpointer, Redis, the SQLite
data directory), run concurrently with a timeout each. Liveness (GET /healthz) stays probe-free.

A probe raises on failure; its `hint` tells the operator what to check. `Readiness.drain()` makes the worker
report not-ready while it shuts down (set on SIGTERM) so a load balancer stops sending it traffic.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from langgraph.checkpoint.base import BaseCheckpointSaver
from sqlalchemy import Engine, text

from copilot.settings import Settings

MIN_FREE_BYTES = 64 * 1024 * 1024
"""Below this much free space in the SQLite data directory the worker reports not-ready."""
PROBE_TIMEOUT = 3.0


class Probe(Protocol):
    @property
    def name(self) -> str:
        """The component's key in the /readyz body."""

    @property
    def hint(self) -> str:
        """What the operator should check when the probe fails."""

    async def check(self) -> None:
        """Return when the component works; raise (any exception) when it does not."""


@dataclass(frozen=True, slots=True)
class ProbeResult:
    name: str
    ok: bool
    latency_ms: float
    message: str = ""


@dataclass
class Readiness:
    probes: list[Probe] = field(default_factory=list)
    draining: bool = False
    timeout: float = PROBE_TIMEOUT

    def drain(self) -> None:
        """Report not-ready from now on (the server is shutting down)."""
        self.draining = True

    async def check(self) -> list[ProbeResult]:
        results = list(await asyncio.gather(*(run_probe(p, self.timeout) for p in self.probes)))
        if self.draining:
            message = "this worker is shutting down; send traffic to another worker"
            results.append(ProbeResult("server", False, 0.0, message))
        return results


async def run_probe(probe: Probe, timeout: float) -> ProbeResult:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            await probe.check()
    except TimeoutError:
        error = f"no answer within {timeout:g} s"
    except Exception as exc:  # every failure is a not-ready report, never a 500
        error = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
    else:
        return ProbeResult(probe.name, True, _ms(started))
    return ProbeResult(probe.name, False, _ms(started), f"{error}; {probe.hint}")


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


@dataclass
class DatabaseProbe:
    """SELECT 1 through the store's engine (its pool pre-pings, so a dropped connection is replaced)."""

    engine: Engine
    name: str = "database"

    @property
    def hint(self) -> str:
        url = self.engine.url.render_as_string(hide_password=True)
        return f"check that the database {url} is running and reachable (COPILOT_DATABASE_URL)"

    async def check(self) -> None:
        await asyncio.to_thread(self._select_one)

    def _select_one(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))


@dataclass
class CheckpointerProbe:
    """A read through the LangGraph saver (a thread that never exists: one indexed lookup)."""

    saver: BaseCheckpointSaver[str]
    name: str = "checkpointer"
    hint: str = "check the database that holds the LangGraph checkpoints (the store's database)"

    async def check(self) -> None:
        await self.saver.aget_tuple({"configurable": {"thread_id": "__readyz__", "checkpoint_ns": ""}})


@dataclass
class RedisProbe:
    url: str
    name: str = "redis"

    @property
    def hint(self) -> str:
        return "check that the Redis server in COPILOT_REDIS_URL is running and reachable"

    async def check(self) -> None:
        from redis.asyncio import Redis

        client = Redis.from_url(self.url, socket_connect_timeout=PROBE_TIMEOUT, socket_timeout=PROBE_TIMEOUT)
        async with client:
            await client.ping()


@dataclass
class DataDirProbe:
    """The SQLite data directory takes a new file and has more than `min_free_bytes` free."""

    directory: Path
    min_free_bytes: int = MIN_FREE_BYTES
    name: str = "data_dir"

    @property
    def hint(self) -> str:
        return f"free disk space on, or make writable, the data directory {self.directory} (COPILOT_DATA_DIR)"

    async def check(self) -> None:
        await asyncio.to_thread(self._check)

    def _check(self) -> None:
        with tempfile.TemporaryFile(dir=self.directory, prefix=".readyz-"):
            pass
        free = shutil.disk_usage(self.directory).free
        if free < self.min_free_bytes:
            raise OSError(f"only {free // 2**20} MiB free, below {self.min_free_bytes // 2**20} MiB")


def store_probes(settings: Settings, engine: Engine) -> list[Probe]:
    """The probes of the store's side of the runtime (the checkpointer's is added where the saver is opened)."""
    probes: list[Probe] = [DatabaseProbe(engine)]
    if settings.sqlite_path is not None:
        probes.append(DataDirProbe(settings.sqlite_path.parent))
    if settings.redis_url:
        probes.append(RedisProbe(settings.redis_url))
    return probes
