"""The production tracer provider (`provider_for`) and bound metric children (`metrics.child`)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry, Counter

from copilot.telemetry import metrics
from copilot.telemetry.tracing import provider_for


def _turn_tree(exporter: InMemorySpanExporter) -> list[str]:
    provider = provider_for(exporter, "test")
    tracer = provider.get_tracer("test")
    root = tracer.start_span("turn", otel_context.Context())
    node = tracer.start_span("node plan", trace.set_span_in_context(root))
    tracer.start_span("chat m", trace.set_span_in_context(node)).end()
    node.end()
    root.end()
    provider.force_flush()
    provider.shutdown()
    spans = exporter.get_finished_spans()
    assert len({s.context.trace_id for s in spans if s.context is not None}) <= 1
    return [s.name for s in spans]


def test_every_span_of_a_turn_is_sampled_and_exported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_TRACES_SAMPLER", raising=False)
    assert sorted(_turn_tree(InMemorySpanExporter())) == ["chat m", "node plan", "turn"]


def test_an_operators_sampler_still_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_off")
    assert _turn_tree(InMemorySpanExporter()) == []


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(["x", "y"])), max_size=30))
def test_bound_children_count_like_labels(calls: list[tuple[str, str]]) -> None:
    registry = CollectorRegistry()
    counter = Counter("t", "test", ["k", "v"], registry=registry)
    for k, v in calls:
        assert metrics.child(counter, k, v) is counter.labels(k, v)
        metrics.child(counter, k, v).inc()
    for k in "abc":
        for v in "xy":
            expected = calls.count((k, v))
            assert (registry.get_sample_value("t_total", {"k": k, "v": v}) or 0) == expected
