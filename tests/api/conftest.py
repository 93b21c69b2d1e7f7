"""Fixtures: a real FastAPI app over a real SQLite database, with a scripted turn runner."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from copilot.api.app import create_app
from copilot.runtime import Runtime, assemble
from copilot.settings import Settings
from tests.api.support import SECRET, OnceDecider, ScriptedRunner


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", secret=SECRET, env="development")


@pytest.fixture
def runner() -> ScriptedRunner:
    return ScriptedRunner()


@pytest.fixture
async def runtime(settings: Settings, runner: ScriptedRunner) -> AsyncIterator[Runtime]:
    built = assemble(settings, runner=runner, decider=OnceDecider(), facts={"tools": 16, "kb_chunks": 5})
    yield built
    await built.turns.aclose()


@pytest.fixture
def app(settings: Settings, runtime: Runtime) -> FastAPI:
    return create_app(settings, runtime=runtime)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http
