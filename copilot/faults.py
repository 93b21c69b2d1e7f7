"""Crash points for the crash harness (tests/crash): with COPILOT_CRASH_AT=name[,name...] the process kills
itself with SIGKILL when it reaches a named point, as a power cut or an OOM kill would; COPILOT_CRASH_FILE
names a file holding such names, read at every point (the harness arms one server life after another without
a restart in between). Both unset (the default, and always in production) every point is a no-op. Names: see
`POINTS`."""

from __future__ import annotations

import os
import signal
from functools import cache
from pathlib import Path

POINTS = frozenset(
    {
        "confirm.committed",  # the decision and its resume job committed, the 202 not yet sent
        "turn.claimed",  # a worker claimed a turn (turn.started committed), the graph not yet run
        "execute.committed",  # the gateway committed a write, the graph has not seen its result
        "turn.finishing",  # the graph finished, turn.completed not yet committed
        "handoff.claim.committed",  # an agent's claim (and its event) committed, the answer not yet sent
        "approval.decided",  # a supervisor's approval committed, its execution not yet started
        "approval.executed",  # the approved write committed, its result and status event not yet recorded
    }
    | {f"event.{kind}" for kind in ("message.delta", "tool.preview", "tool.executed", "handoff.requested")}
)


def _names(raw: str) -> frozenset[str]:
    return frozenset(name.strip() for name in raw.replace("\n", ",").split(",") if name.strip())


@cache
def _armed() -> frozenset[str]:
    return _names(os.environ.get("COPILOT_CRASH_AT", ""))


@cache
def _crash_file() -> Path | None:
    raw = os.environ.get("COPILOT_CRASH_FILE")
    return Path(raw) if raw else None


def crash_point(name: str) -> None:
    """Die here (SIGKILL, no cleanup) if the harness armed this point."""
    armed = _armed()
    if (path := _crash_file()) is not None:
        armed = armed | _names(path.read_text() if path.exists() else "")
    if name in armed:
        os.kill(os.getpid(), signal.SIGKILL)
