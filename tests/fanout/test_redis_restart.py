"""A Redis restart (our own redis-server on a free port, stopped and started again): while it is down the
workers' tails fall back to the short poll and nothing is missed; after it is back the bell rings again."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot.doorbell import EventNotifier
from copilot.eventlog import EventLog
from copilot.redis_doorbell import RedisDoorbell
from copilot.serverprocess import free_port
from copilot.store.database import make_engine
from tests.conftest import IN_CI
from tests.fanout.test_eventlog_workers import PROMPT, Reader

FALLBACK = 0.2


class RedisServer:
    """A private redis-server (no persistence) that the test may stop and start."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary, self.workdir, self.port = binary, workdir, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [
            self.binary,
            "--port",
            str(self.port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.workdir),
        ]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            done = subprocess.run(
                ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, check=False
            )
            if done.stdout.strip() == b"PONG":
                return
            time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None or shutil.which("redis-cli") is None:
        if IN_CI:
            pytest.fail("CI=true but redis-server/redis-cli are not installed")
        pytest.skip("redis-server/redis-cli not installed (needed to restart a private Redis)")
    running = RedisServer(binary, tmp_path)
    running.start()
    yield running
    running.stop()


async def test_tails_survive_a_redis_restart(server: RedisServer, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    engines = [make_engine(url) for _ in range(2)]
    bells = [RedisDoorbell(server.url, fallback_poll=FALLBACK, connected_poll=30) for _ in range(2)]
    assert all([await bell.start() for bell in bells])
    a, b = (EventLog(engine, EventNotifier(bell)) for engine, bell in zip(engines, bells, strict=True))
    reader = Reader(b, "conv_restart")
    await asyncio.sleep(0.1)
    try:
        sent = time.perf_counter()
        await a.append("conv_restart", "turn.started", {})
        assert await reader.next(timeout=2) - sent < PROMPT  # the bell

        await asyncio.to_thread(server.stop)
        await asyncio.sleep(0.2)
        assert not bells[1].connected and bells[1].poll_seconds == FALLBACK
        sent = time.perf_counter()
        await a.append("conv_restart", "message.delta", {"text": "while Redis is down"})
        assert await reader.next(timeout=2) - sent < FALLBACK + PROMPT  # the fallback poll

        await asyncio.to_thread(server.start)
        assert await bells[1].wait_connected(5) and await bells[0].wait_connected(5)
        sent = time.perf_counter()
        await a.append("conv_restart", "turn.completed", {})
        assert await reader.next(timeout=2) - sent < PROMPT  # the bell again
    finally:
        await reader.stop()
        for bell in bells:
            await bell.aclose()
        for engine in engines:
            engine.dispose()
    assert [seq for seq, _ in reader.seen] == [1, 2, 3]
