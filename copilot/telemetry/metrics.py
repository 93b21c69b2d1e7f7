"""Prometheus metrics of the copilot, and GET /metrics rendering.

Every label has a closed set of values (statuses, outcomes, reasons, tool and model names the deployment
configured); ids never become labels. With PROMETHEUS_MULTIPROC_DIR set (several worker processes behind one
port, e.g. gunicorn), each process writes its samples to that directory and /metrics sums them
(prometheus-client's multiprocess mode; the directory must be empty when the workers start).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar, cast

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from copilot.telemetry import Telemetry, metering

_LATENCY = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
_FAST = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)

TURN_DURATION = Histogram(
    "copilot_turn_duration_seconds", "A turn from its start on a worker to its end, by status.", ["status"],
    buckets=_LATENCY,
)  # fmt: skip
TURN_FIRST_TOKEN = Histogram(
    "copilot_turn_first_token_seconds", "A turn from its start to its first streamed answer text, by status.",
    ["status"], buckets=_LATENCY,
)  # fmt: skip
QUEUE_WAIT = Histogram(
    "copilot_turn_queue_wait_seconds", "A turn from its acceptance (202) to its start on a worker.",
    ["kind"], buckets=_LATENCY,
)  # fmt: skip
TOOL_DECISIONS = Counter(
    "copilot_tool_decisions",
    "Gateway decisions (one per audit row), by tool and outcome.",
    ["tool", "outcome"],
)
CONFIRMATIONS = Counter("copilot_confirmations", "Human decisions on write previews.", ["decision"])
APPROVALS = Counter("copilot_approvals", "Supervisor approval requests and decisions.", ["event"])
HANDOFFS = Counter("copilot_handoffs", "Conversations queued for a human, by reason.", ["reason"])
MODEL_CALLS = Counter("copilot_model_calls", "Chat model calls.", ["provider", "model"])
MODEL_ERRORS = Counter(
    "copilot_model_errors", "Failed chat model calls, by kind (rate_limit, server, timeout, budget, other).",
    ["provider", "model", "kind"],
)  # fmt: skip
MODEL_TOKENS = Counter(
    "copilot_model_tokens", "Model tokens, by direction (input/output); estimated=true where the model "
    "reported none.", ["provider", "model", "direction", "estimated"],
)  # fmt: skip
MODEL_COST = Counter(
    "copilot_model_cost_usd", "Model cost from the price table (USD).", ["provider", "model"]
)
MODEL_LATENCY = Histogram(
    "copilot_model_call_seconds", "Chat model call latency.", ["provider", "model"], buckets=_LATENCY
)
RETRIEVAL_LATENCY = Histogram("copilot_retrieval_seconds", "Knowledge-base search latency.", buckets=_FAST)
SSE_STREAMS = Gauge("copilot_sse_streams_open", "Open SSE event streams.", multiprocess_mode="livesum")
FEEDBACK = Counter(
    "copilot_feedback", "Customer ratings of answers, by rating (up/down) and change (new: a first rating, "
    "changed: one that replaced another).", ["rating", "change"],
)  # fmt: skip
EVENT_APPEND = Histogram(
    "copilot_event_append_seconds", "Event-log lag: from a turn's emit to the event being committed (visible "
    "to every stream).", ["type"], buckets=_FAST,
)  # fmt: skip

HANDOFF_REASONS = frozenset(
    {
        "user_request",
        "model_request",
        "validation_failed",
        "repeated_tool_failure",
        "budget_exceeded",
        "customer_request",
        "agent_request",
        "agent_takeover",
    }
)
_NAME = re.compile(r"^[A-Za-z0-9_.:\-/]{1,64}$")
_known_tools: set[str] = set()

_M = TypeVar("_M", Counter, Histogram)
_children: dict[tuple[Counter | Histogram, tuple[str, ...]], Counter | Histogram] = {}


def child(metric: _M, *labels: str) -> _M:
    """`metric.labels(*labels)`, bound once per label set (labels are closed sets, so this stays small):
    prometheus-client's `labels` validates and locks on every call, ~1 µs, some 20 times a turn."""
    key = (metric, labels)
    bound = _children.get(key)
    if bound is None:
        bound = _children[key] = metric.labels(*labels)
    return cast(_M, bound)


def know_tools(names: set[str] | frozenset[str]) -> None:
    """Tool names that may appear as a label (the loaded packs'); any other name is `unknown`."""
    _known_tools.update(names)


def tool_label(name: str) -> str:
    return name if name in _known_tools else "unknown"


def reason_label(reason: str) -> str:
    return reason if reason in HANDOFF_REASONS else "other"


def name_label(value: str | None) -> str:
    """A provider or model name (configured by the operator, so bounded); anything odd is `other`."""
    return value if value and _NAME.match(value) else "other"


def render() -> tuple[bytes, str]:
    """The exposition text of this process, or of every process sharing PROMETHEUS_MULTIPROC_DIR."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def process_exited(pid: int) -> None:
    """Drop a dead worker's live gauges (multiprocess mode); call from the process manager."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def count_decision(tool: str, outcome: str) -> None:
    """A gateway decision (an audit row); a human's confirm/reject also counts as a confirmation."""
    if not metering():
        return
    child(TOOL_DECISIONS, tool_label(tool), outcome).inc()
    if outcome in ("confirm", "reject"):
        child(CONFIRMATIONS, "approved" if outcome == "confirm" else "rejected").inc()


def count_handoff(reason: str) -> None:
    if metering():
        HANDOFFS.labels(reason_label(reason)).inc()


def count_approval(event: str) -> None:
    """requested | approved | rejected."""
    if metering():
        APPROVALS.labels(event).inc()


def count_feedback(rating: str, change: str) -> None:
    """rating up | down; change new | changed."""
    if metering():
        FEEDBACK.labels(rating if rating in ("up", "down") else "other", change).inc()


@contextmanager
def open_stream(telemetry: Telemetry | None) -> Iterator[None]:
    """An SSE stream is open for the duration (the open-streams gauge, when metrics are on)."""
    if telemetry is None or not telemetry.metrics:
        yield
        return
    SSE_STREAMS.inc()
    try:
        yield
    finally:
        SSE_STREAMS.dec()
