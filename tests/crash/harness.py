"""A real `copilot serve` process to kill: started on a data dir (SQLite) or a Postgres URL, killed with
SIGKILL at a random moment or at an armed crash point (copilot.faults via COPILOT_CRASH_FILE), restarted on
the same data. A small synchronous HTTP client drives it the way the widget does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from copilot.auth import mint_token
from copilot.principal import Principal
from copilot.serverprocess import free_port, wait_ready
from tests.api.support import SECRET, parse_sse

COPILOT = Path(sys.executable).parent / "copilot"
LEASE_SECONDS = 1.0


@dataclass
class Server:
    """One copilot worker process; `start` again after `kill` to restart it on the same data."""

    data_dir: Path
    database_url: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    """More settings (e.g. COPILOT_REDIS_URL for a scaled-out worker)."""
    port: int = field(default_factory=free_port)
    crash_file: Path = field(init=False)
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def __post_init__(self) -> None:
        self.crash_file = self.data_dir / "crash-at"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {
            **os.environ, "COPILOT_DATA_DIR": str(self.data_dir), "COPILOT_SECRET": SECRET,
            "COPILOT_PORT": str(self.port), "COPILOT_TURN_LEASE_SECONDS": str(LEASE_SECONDS),
            "COPILOT_TURN_POLL_SECONDS": "0.2", "COPILOT_CRASH_FILE": str(self.crash_file),
        }  # fmt: skip
        if self.database_url:
            env["COPILOT_DATABASE_URL"] = self.database_url
        return {**env, **self.extra_env}

    def start(self, timeout: float = 60.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.data_dir / f"server-{self.starts}.log"
        with log.open("wb") as out:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen([str(COPILOT), "serve"], env=self.env(), stdout=out, stderr=out)
        self.starts += 1
        wait_ready(self.url, self.proc, log, timeout=timeout, name="copilot serve")

    def arm(self, point: str | None) -> None:
        """Die at `point` (a copilot.faults name) from now on; None disarms."""
        self.crash_file.write_text(point or "")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=10)

    def wait_dead(self, timeout: float) -> bool:
        """True if the process died (an armed point fired) within `timeout` seconds."""
        if self.proc is None:
            return True
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True


def auth(role: str, user: str, tenant: str = "demo") -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(SECRET, Principal(tenant, role, user))}"}  # type: ignore[arg-type]


@dataclass
class Client:
    server: Server
    headers: dict[str, str]

    def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response | None:
        """The response, or None when the server died before answering."""
        try:
            return httpx.post(f"{self.server.url}{path}", json=body or {}, headers=self.headers, timeout=30)
        except httpx.TransportError:
            return None

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"{self.server.url}{path}", headers=self.headers, timeout=30)

    def conversation(self) -> str:
        response = self.post("/v1/conversations")
        assert response is not None and response.status_code == 201, response
        return str(response.json()["id"])

    def events(self, cid: str) -> list[dict[str, Any]]:
        response = self.get(f"/v1/conversations/{cid}/events?follow=false")
        assert response.status_code == 200, response.text
        return [{"seq": e.id, "type": e.event, **e.data} for e in parse_sse(response.text)]

    def wait_events(
        self, cid: str, done: Callable[[list[dict[str, Any]]], bool], timeout: float = 30.0
    ) -> list[dict[str, Any]] | None:
        """Poll the event log until `done(events)`; None if the server died or time ran out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                events = self.events(cid)
            except httpx.TransportError:
                return None
            if done(events):
                return events
            time.sleep(0.05)
        return None


def settled(events: list[dict[str, Any]]) -> bool:
    """Every turn.started has its turn.completed."""
    started = {e["turn_id"] for e in events if e["type"] == "turn.started"}
    completed = {e["turn_id"] for e in events if e["type"] == "turn.completed"}
    return bool(started) and started <= completed


def of(events: list[dict[str, Any]], kind: str, turn_id: str | None = None) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind and (turn_id is None or e.get("turn_id") == turn_id)]
