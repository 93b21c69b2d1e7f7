"""Telemetry overhead: the same copilot turn (one graph and runner, so the same production SQLite saver and
message-turn durability on both sides) through the runtime's turn wrapper with metrics + tracing on (the
production tracer provider — `provider_for`: batch span processor, export batch size — around an exporter
that drops the spans) vs off (usage capture stays on in both: it is a product feature, not telemetry), and
vs no wrapper at all, for information. Interleaved in one run, like the turn benchmark."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from bench.model import BenchChatModel
from bench.stats import Stats, summarize
from bench.system import CUSTOMER, OWN_ORDER, DemoSystem
from bench.turn import QUESTION, CountingSink, Variant, make_ours, measure, open_saver
from copilot.agent.graph import SupportGraph
from copilot.agent.runner import DURABILITY, run_turn
from copilot.events import EventSink
from copilot.telemetry import Telemetry
from copilot.telemetry.tracing import provider_for
from copilot.telemetry.turn import TurnObserver
from copilot.telemetry.usage import UsageLedger
from copilot.turns import TurnRequest, TurnRunner, TurnStatus


class DroppingExporter(SpanExporter):
    """Spans are built, batched and handed over as with OTLP; the network send is left out."""

    def __init__(self) -> None:
        self.exported = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.exported += len(spans)
        return SpanExportResult.SUCCESS


@dataclass(frozen=True, slots=True)
class TelemetryResult:
    on: Stats
    off: Stats
    unwrapped: Stats
    spans_per_turn: float
    durability: str
    cpu_on_ms: float
    """Mean process CPU per turn (all threads): robust to other processes competing for the cores."""
    cpu_off_ms: float

    @property
    def ratio(self) -> float:
        return self.on.mean_ms / self.off.mean_ms

    @property
    def ratio_p50(self) -> float:
        return self.on.p50_ms / self.off.p50_ms

    @property
    def cpu_ratio(self) -> float:
        return self.cpu_on_ms / self.cpu_off_ms

    def to_dict(self) -> dict[str, Any]:
        return {
            "on": self.on.to_dict(), "off": self.off.to_dict(), "unwrapped": self.unwrapped.to_dict(),
            "ratio": self.ratio, "ratio_p50": self.ratio_p50, "spans_per_turn": self.spans_per_turn,
            "durability": self.durability, "cpu_on_ms": self.cpu_on_ms, "cpu_off_ms": self.cpu_off_ms,
            "cpu_ratio": self.cpu_ratio,
        }  # fmt: skip


@dataclass
class Wrapped:
    runner: TurnRunner
    tag: str
    sink: CountingSink = field(default_factory=CountingSink)
    status: TurnStatus = "completed"
    cpu_ms: list[float] = field(default_factory=list)

    async def run(self, i: int) -> None:
        self.sink = CountingSink()
        request = TurnRequest(f"{self.tag}-{i}", f"t{i}", CUSTOMER, QUESTION)
        began = time.process_time()
        self.status = await self.runner(request, self.sink)
        self.cpu_ms.append((time.process_time() - began) * 1000)

    async def check(self, i: int) -> None:
        if "message.completed" not in self.sink.types or self.status != "completed":
            raise RuntimeError(f"{self.tag} turn emitted {self.sink.types} ({self.status})")


def graph_runner(graph: SupportGraph) -> TurnRunner:
    async def run(request: TurnRequest, sink: EventSink) -> TurnStatus:
        return await run_turn(
            graph, conversation_id=request.conversation_id, turn_id=request.turn_id,
            principal=request.principal, sink=sink, text=request.text,
        )  # fmt: skip

    return run


async def run_telemetry_bench(system: DemoSystem, iterations: int, warmup: int) -> TelemetryResult:
    model = BenchChatModel(args={"order_id": OWN_ORDER})
    exporter = DroppingExporter()
    provider = provider_for(exporter, "bench")  # the production provider: batching, export batch size
    ledger = UsageLedger(system.engine)
    async with open_saver("sqlite", system) as saver:
        runner = graph_runner(make_ours(system, model, saver, observed=True))  # one graph: both sides
        on = TurnObserver(
            system.settings, ledger, Telemetry(metrics=True, tracer=provider.get_tracer("bench"))
        )
        off = TurnObserver(system.settings, ledger, None)
        variants = {
            "on": Wrapped(on.wrap(runner), "on"),
            "off": Wrapped(off.wrap(runner), "off"),
            "unwrapped": Wrapped(runner, "unwrapped"),
        }
        samples = await measure(dict[str, Variant](variants), iterations, warmup)
    provider.shutdown()
    return TelemetryResult(
        on=summarize("metrics + tracing on", samples["on"]),
        off=summarize("telemetry off (usage on)", samples["off"]),
        unwrapped=summarize("no turn wrapper", samples["unwrapped"]),
        spans_per_turn=exporter.exported / (iterations + warmup),
        durability=DURABILITY,
        cpu_on_ms=statistics.fmean(variants["on"].cpu_ms[warmup:]),
        cpu_off_ms=statistics.fmean(variants["off"].cpu_ms[warmup:]),
    )
