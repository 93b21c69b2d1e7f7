"""Fixtures: the real FastAPI app over real SQLite with a scripted turn runner (queue/claim/reply/release)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from copilot.api.app import create_app
from copilot.runtime import Runtime, assemble
from copilot.settings import Settings
from tests.api.support import SECRET, OnceDecider, ScriptedRunner
from tests.gateway.retail import backend, retail_engine  # noqa: F401 (fixtures)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", secret=SECRET, env="development")


@pytest.fixture
def runner() -> ScriptedRunner:
    return ScriptedRunner(deltas=1)


@pytest.fixture
async def runtime(settings: Settings, runner: ScriptedRunner) -> AsyncIterator[Runtime]:
    built = assemble(settings, runner=runner, decider=OnceDecider())
    yield built
    await built.turns.aclose()


@pytest.fixture
async def client(settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(settings, runtime=runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http
