"""A server in a child process, for tests and benchmarks: a free local port, and the wait until it answers.

`wait_ready(url, proc, log)` polls `url + path` until it answers 200, failing fast (with the tail of the
server's log) when the process exits first or time runs out."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import httpx


class ServerNotReady(RuntimeError):
    """The server exited, or did not answer in time; the message carries the tail of its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(
    url: str, proc: subprocess.Popen[bytes], log: Path, *, path: str = "/healthz", timeout: float = 60.0,
    interval: float = 0.05, name: str = "server",
) -> None:  # fmt: skip
    """Return once GET `url + path` answers 200; raise ServerNotReady if `proc` exits or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerNotReady(f"{name} exited with {proc.returncode}:\n{_tail(log)}")
        try:
            if httpx.get(f"{url}{path}", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(interval)
    raise ServerNotReady(f"{name} at {url} did not answer {path} within {timeout:.0f} s:\n{_tail(log)}")


def _tail(log: Path, chars: int = 3000) -> str:
    try:
        return log.read_text(encoding="utf-8", errors="replace")[-chars:]
    except OSError:
        return f"(no log at {log})"
