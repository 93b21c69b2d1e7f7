"""Browser-test fixtures: a live copilot server (real uvicorn, fresh seeded store, offline model) and a
headless Debian Chromium driven by playwright. Outside CI they skip when /usr/bin/chromium or playwright is
missing; in CI (CI=true) they never skip."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn
from fastapi import FastAPI

from copilot.api.app import create_app
from copilot.auth import mint_token
from copilot.principal import Principal, Role
from copilot.serverprocess import free_port
from copilot.settings import Settings
from tests.api.support import SECRET
from tests.conftest import IN_CI

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = Path(os.environ.get("COPILOT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class LiveServer:
    """A running copilot: `url` (http://127.0.0.1:PORT), its `settings` (data_dir, database) and `secret`."""

    url: str
    settings: Settings
    secret: str = SECRET

    def token(self, role: Role = "customer", user: str = "demo_customer_0001", tenant: str = "demo") -> str:
        """A bearer token for ROLE:USER@TENANT, as a host page's server would mint it."""
        return mint_token(self.secret, Principal(tenant=tenant, role=role, user_id=user))

    def headers(self, role: Role = "customer", user: str = "demo_customer_0001") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, user)}"}


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """uvicorn in a thread on a free port; open SSE streams get 1 s to finish at shutdown (browsers keep them)."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=free_port(), log_level="warning", ws="none", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture
def live_server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """A real uvicorn server in a thread on a free port; fresh data dir seeded with the demo store.
    Parametrize it indirectly with a number to set COPILOT_DELTA_FLUSH_CHARS (1: a delta per token)."""
    flush_chars = int(getattr(request, "param", Settings.model_fields["delta_flush_chars"].default))
    settings = Settings(
        data_dir=tmp_path / "data",
        secret=SECRET,
        env="development",
        model="offline",
        delta_flush_chars=flush_chars,
    )
    with serve(create_app(settings)) as url:
        yield LiveServer(url=url, settings=settings)


def _skip_or_fail(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true but {reason}; .ci/run installs Debian chromium and the dev extras")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium (never a downloaded browser). Create a context per test/actor."""
    if not CHROMIUM.is_file():
        _skip_or_fail(f"{CHROMIUM} not found (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("the playwright package is not installed (pip install -e '.[dev]')")
        raise
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots go (test-artifacts/, gitignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
