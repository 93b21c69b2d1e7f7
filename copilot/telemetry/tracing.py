"""OpenTelemetry traces: one trace per turn (copilot/telemetry/turn.py), with spans for each graph node
(`traced_node`), each gateway stage (`span`), retrieval and every model call (copilot/telemetry/callbacks.py).

Off by default. `COPILOT_OTLP_ENDPOINT` turns it on with the OTLP/HTTP exporter (batching, in a background
thread); tests hand `open_runtime` their own TracerProvider (the SDK's in-memory exporter). The copilot uses
its own provider, not the process-global one, so two runtimes in one process keep their traces apart.
A turn runs on a worker, not in the HTTP request that queued it: the request's span context travels in the
turn job as a W3C `traceparent`, and the turn's root span links to it.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import Token
from types import TracebackType
from typing import Any

from langgraph.errors import GraphBubbleUp
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, Sampler
from opentelemetry.trace import Link, NonRecordingSpan, Span, SpanContext, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

from copilot.settings import Settings
from copilot.telemetry import current

_PROPAGATOR = TraceContextTextMapPropagator()
_IDS = RandomIdGenerator()
Attributes = Mapping[str, AttributeValue]


EXPORT_BATCH = 32
"""Spans per export (about two turns). The SDK's default, 512, keeps ~30 turns of spans (11 tracked objects
each) waiting in the queue: they outlive young garbage collections and trigger full ones — measured at
0.7 ms of CPU per turn in the overhead benchmark, against 0.1 ms with batches of 16–32."""


def sampler() -> Sampler | None:
    """Every turn is traced. The SDK's default, parent-based always-on, asks each span's parent whether it was
    sampled — a second lookup of the parent context per span — yet no copilot span has a remote parent (a turn
    starts a new trace, linked to its request; the HTTP span does not continue an incoming one), so every
    parent is one of ours and sampled: always-on decides the same, cheaper. An operator's OTEL_TRACES_SAMPLER
    (None here: the SDK reads it) still wins."""
    return None if os.environ.get("OTEL_TRACES_SAMPLER") else ALWAYS_ON


def provider_for(exporter: SpanExporter, service_name: str) -> TracerProvider:
    """The copilot's tracer provider around `exporter` (production and the overhead benchmark alike)."""
    provider = TracerProvider(sampler=sampler(), resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(exporter, max_export_batch_size=EXPORT_BATCH))
    return provider


def open_provider(settings: Settings) -> TracerProvider | None:
    """The OTLP-exporting provider when COPILOT_OTLP_ENDPOINT is set, else None (tracing off)."""
    if not settings.otlp_endpoint:
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return provider_for(OTLPSpanExporter(endpoint=settings.otlp_endpoint), settings.service_name)


def tracer_of(provider: TracerProvider | None) -> trace.Tracer | None:
    return provider.get_tracer("copilot") if provider is not None else None


def active_tracer() -> trace.Tracer | None:
    telemetry = current()
    return telemetry.tracer if telemetry is not None else None


class _Current:
    """A started span made current for the block (what the SDK's start_as_current_span does, without its
    three generator layers: ~15 spans a turn, so this is on the hot path). An exception marks the span as an
    error, except LangGraph's interrupt (a confirmation pause is not a failure)."""

    __slots__ = ("_span", "_token")

    def __init__(self, started: Span) -> None:
        self._span = started
        self._token: Token[otel_context.Context] | None = None

    def __enter__(self) -> Span:
        self._token = otel_context.attach(trace.set_span_in_context(self._span))
        return self._span

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if isinstance(exc, GraphBubbleUp):
                self._span.set_attribute("copilot.interrupted", True)
            elif exc is not None:
                self._span.record_exception(exc)
                self._span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
        finally:
            if self._token is not None:
                otel_context.detach(self._token)
            self._span.end()


_OFF: AbstractContextManager[None] = nullcontext()


def span(
    name: str, attributes: Attributes | None = None, *, kind: SpanKind = SpanKind.INTERNAL,
    links: list[Link] | None = None, context: otel_context.Context | None = None,
) -> AbstractContextManager[Span | None]:  # fmt: skip
    """A current span of the context's tracer for the block (None when tracing is off)."""
    tracer = active_tracer()
    if tracer is None:
        return _OFF
    return _Current(tracer.start_span(name, context, kind, attributes, links))


def traced_node(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """A graph node with a `node <name>` span around it (the same signature, so LangGraph passes it the same
    arguments: config, writer...)."""
    if not inspect.iscoroutinefunction(fn):
        raise TypeError(f"graph node {name} must be async to be traced")

    span_name = f"node {name}"

    @functools.wraps(fn)
    async def node(*args: Any, **kwargs: Any) -> Any:
        tracer = active_tracer()
        if tracer is None:
            return await fn(*args, **kwargs)
        with _Current(tracer.start_span(span_name)):  # no attributes: each costs ABC checks in the SDK
            return await fn(*args, **kwargs)

    return node


def traceparent() -> str | None:
    """The current span context as a W3C traceparent (None outside a recording span)."""
    carrier: dict[str, str] = {}
    if trace.get_current_span().get_span_context().is_valid:
        _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


def link_to(parent: str | None) -> list[Link]:
    """A link to the span a traceparent names (the request that queued a turn); [] when absent or bad."""
    if not parent:
        return []
    span_context = trace.get_current_span(_PROPAGATOR.extract({"traceparent": parent})).get_span_context()
    return [Link(span_context)] if span_context.is_valid else []


def trace_id() -> str | None:
    """The current trace id (32 hex digits) for the audit record; None outside a trace."""
    span_context = trace.get_current_span().get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else None


@contextmanager
def identified(*, fresh: bool = False) -> Iterator[None]:
    """With tracing off: a non-recording span context with a new trace id around a request or (`fresh`, even
    inside a request's) a turn, so their audit rows still share one trace id (nothing is exported; ~2 µs)."""
    if not fresh and trace.get_current_span().get_span_context().is_valid:
        yield
        return
    ids = SpanContext(_IDS.generate_trace_id(), _IDS.generate_span_id(), is_remote=False)
    token = otel_context.attach(trace.set_span_in_context(NonRecordingSpan(ids)))
    try:
        yield
    finally:
        otel_context.detach(token)
