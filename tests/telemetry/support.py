"""A real runtime (store, gateway, graph, knowledge base) around a scripted model, over HTTP (ASGI), with an
in-memory span exporter; helpers to read /metrics samples and run a turn to its end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from langchain_core.messages import AIMessage, ToolCall
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families

from copilot.api.app import create_app
from copilot.llm.scripted import ScriptedChatModel
from copilot.runtime import Runtime, open_runtime
from copilot.settings import Settings
from tests.api.support import SECRET, Sse, iter_sse, token

USER = "demo_customer_0001"
ORDER = "#W0000001"


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(data_dir=tmp_path / "data", secret=SECRET, **overrides)


def order_lookup(usage: tuple[int, int] | None) -> list[AIMessage]:
    """A read turn: get_order_details, then an answer; each reply reports `usage` (in, out) if given."""
    meta: dict[str, Any] = {}
    if usage is not None:
        meta = {
            "usage_metadata": {
                "input_tokens": usage[0],
                "output_tokens": usage[1],
                "total_tokens": sum(usage),
            }
        }
    call = ToolCall(name="get_order_details", args={"order_id": ORDER}, id="c1")
    return [
        AIMessage(content="", tool_calls=[call], **meta),
        AIMessage(content=f"Your order {ORDER} is pending.", **meta),
    ]


@dataclass
class Stack:
    runtime: Runtime
    client: httpx.AsyncClient
    spans: InMemorySpanExporter
    model: ScriptedChatModel
    headers: dict[str, str]

    async def conversation(self) -> str:
        response = await self.client.post("/v1/conversations", headers=self.headers)
        return str(response.json()["id"])

    async def turn(self, cid: str, text: str, after: int = 0) -> list[Sse]:
        posted = await self.client.post(
            f"/v1/conversations/{cid}/messages", json={"text": text}, headers=self.headers
        )
        assert posted.status_code == 202, posted.text
        await asyncio.wait_for(self.runtime.turns.wait_idle(cid), 20)
        frames: list[Sse] = []
        headers = {**self.headers, "Last-Event-ID": str(after)}
        url = f"/v1/conversations/{cid}/events?follow=false"
        async with self.client.stream("GET", url, headers=headers) as stream:
            async for frame in iter_sse(stream):
                frames.append(frame)
        assert frames[-1].event == "turn.completed", frames
        return frames

    async def samples(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        response = await self.client.get("/metrics")
        assert response.status_code == 200
        out: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
        for family in text_string_to_metric_families(response.text):
            for sample in family.samples:
                out[(sample.name, frozenset(sample.labels.items()))] = sample.value
        return out


def sample(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@asynccontextmanager
async def stack(settings: Settings, script: list[AIMessage], *, traced: bool = True) -> AsyncIterator[Stack]:
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    model = ScriptedChatModel(script=script)
    async with open_runtime(settings, model=model, tracer_provider=provider if traced else None) as runtime:
        app = create_app(settings, runtime=runtime)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=30) as client:
            yield Stack(runtime, client, spans, model, token("customer", USER))
