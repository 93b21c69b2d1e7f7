"""GET /readyz over the real app and a real SQLite store (and a real Redis when one answers): 200 with each
component's status; 503 naming what failed and what to check; not-ready while draining. /healthz unchanged."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from copilot.api.app import create_app
from copilot.health import DataDirProbe, RedisProbe
from copilot.runtime import Runtime, assemble
from copilot.serverprocess import free_port
from copilot.settings import Settings
from tests.api.support import SECRET, OnceDecider, ScriptedRunner
from tests.databases import redis_server


@pytest.fixture(scope="module")
def redis_url() -> str:
    return redis_server()


async def _ready(runtime: Runtime) -> httpx.Response:
    app = create_app(runtime.settings, runtime=runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        return await client.get("/readyz")


async def test_ready_names_each_component(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert {name: c["status"] for name, c in body["components"].items()} == {
        "database": "ok",
        "data_dir": "ok",
    }
    assert (await client.get("/healthz")).json()["status"] == "ok"


async def test_low_disk_space_is_not_ready(runtime: Runtime, settings: Settings) -> None:
    runtime.readiness.probes.append(DataDirProbe(settings.data_dir, min_free_bytes=2**62, name="disk"))
    response = await _ready(runtime)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["components"]["database"]["status"] == "ok"
    disk = body["components"]["disk"]
    assert disk["status"] == "failed"
    assert "MiB free" in disk["message"] and "free disk space" in disk["message"]


async def test_a_missing_data_dir_is_not_ready(runtime: Runtime, tmp_path: Path) -> None:
    runtime.readiness.probes.append(DataDirProbe(tmp_path / "gone", name="gone"))
    body = (await _ready(runtime)).json()
    assert body["components"]["gone"]["status"] == "failed"
    assert "COPILOT_DATA_DIR" in body["components"]["gone"]["message"]


async def test_draining_worker_is_not_ready(runtime: Runtime) -> None:
    runtime.readiness.drain()
    response = await _ready(runtime)
    assert response.status_code == 503
    assert "shutting down" in response.json()["components"]["server"]["message"]


async def test_redis_is_probed_when_configured(tmp_path: Path, redis_url: str) -> None:
    settings = Settings(data_dir=tmp_path, secret=SECRET, redis_url=redis_url)
    runtime = assemble(settings, runner=ScriptedRunner(), decider=OnceDecider())
    try:
        response = await _ready(runtime)
        assert response.status_code == 200, response.text
        assert response.json()["components"]["redis"]["status"] == "ok"
        runtime.readiness.probes.append(RedisProbe(f"redis://127.0.0.1:{free_port()}/0", name="redis_down"))
        down = await _ready(runtime)
        assert down.status_code == 503
        assert "COPILOT_REDIS_URL" in down.json()["components"]["redis_down"]["message"]
    finally:
        await runtime.turns.aclose()
