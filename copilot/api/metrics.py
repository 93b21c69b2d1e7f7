"""GET /metrics (Prometheus exposition), and the middleware that puts each HTTP request in the runtime's
telemetry context: decisions and handoffs it causes are counted, and with tracing on it gets a server span
whose context the turns it queues carry (their traces link to it)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from opentelemetry.trace import SpanKind
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from copilot.telemetry import Telemetry, using
from copilot.telemetry.metrics import render
from copilot.telemetry.tracing import span

router = APIRouter(tags=["health"])
_UNTRACED = ("/metrics", "/healthz", "/readyz")


@router.get(
    "/metrics",
    summary="Prometheus metrics (text exposition format)",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus exposition text."}},
)
async def prometheus_metrics() -> Response:
    body, content_type = render()
    return Response(body, media_type=content_type)


class TelemetryMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        runtime = getattr(scope["app"].state, "runtime", None) if scope["type"] == "http" else None
        telemetry: Telemetry | None = getattr(runtime, "telemetry", None)
        if telemetry is None:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        with using(telemetry):
            if telemetry.tracer is None or path.startswith(_UNTRACED) or path.endswith("/events"):
                await self.app(scope, receive, send)
                return
            await self._traced(scope, receive, send)

    async def _traced(self, scope: Scope, receive: Receive, send: Send) -> None:
        method: str = scope["method"]
        with span(method, {"http.request.method": method}, kind=SpanKind.SERVER) as server:
            status: list[int] = []

            async def sending(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status.append(int(message["status"]))
                await send(message)

            await self.app(scope, receive, sending)
            if server is not None:
                route = getattr(scope.get("route"), "path", None)
                if route:
                    server.update_name(f"{method} {route}")
                    server.set_attribute("http.route", route)
                if status:
                    server.set_attribute("http.response.status_code", status[0])
