"""Telemetry: Prometheus metrics (`metrics`), OpenTelemetry traces (`tracing`), model usage and cost (`usage`),
captured around a turn (`turn`) and from LangChain callbacks (`callbacks`) — never inside node logic.

The instrumentation points read the telemetry of the code they run in from a context variable (`current()`),
set for a turn by `turn.observed` and for an HTTP request by the API middleware; without one they do nothing,
so two runtimes in one process (the benchmark: with and without telemetry) do not see each other's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from opentelemetry.trace import Tracer


@dataclass(frozen=True, slots=True)
class Telemetry:
    metrics: bool = True
    """Record Prometheus metrics (process-wide registry, or PROMETHEUS_MULTIPROC_DIR across processes)."""
    tracer: Tracer | None = None
    """Spans go here; None: tracing is off."""

    @property
    def enabled(self) -> bool:
        return self.metrics or self.tracer is not None


_CURRENT: ContextVar[Telemetry | None] = ContextVar("copilot_telemetry", default=None)


def current() -> Telemetry | None:
    """The telemetry of the running turn or request (None: record nothing)."""
    return _CURRENT.get()


@contextmanager
def using(telemetry: Telemetry | None) -> Iterator[None]:
    token = _CURRENT.set(telemetry if telemetry is not None and telemetry.enabled else None)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def metering() -> bool:
    """Metrics are on in this context."""
    telemetry = _CURRENT.get()
    return telemetry is not None and telemetry.metrics
