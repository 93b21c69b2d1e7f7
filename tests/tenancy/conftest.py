"""A real copilot server (uvicorn on a free port, real runtime: demo store, Casbin, gateway, offline model,
SQLite) for the tenancy regression tests, and token helpers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from copilot.api.app import create_app
from copilot.settings import Settings
from tests.api.support import SECRET
from tests.web.conftest import serve


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=Path(tmp_path_factory.mktemp("tenancy")), secret=SECRET, env="development")


@pytest.fixture(scope="module")
def server(settings: Settings) -> Iterator[str]:
    with serve(create_app(settings)) as url:
        yield url


@pytest.fixture
def database_url(settings: Settings) -> str:
    """The server's own database, for checks a client cannot make over HTTP (e.g. no turn was queued)."""
    return settings.resolved_database_url


@pytest.fixture
def http(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=30) as client:
        yield client
