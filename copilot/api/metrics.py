"""GET /metrics (Prometheus exposition; optionally behind a bearer token and/or a client allow-list), and the middleware that puts each HTTP request in the runtime's
telemetry context: decisions and handoffs it causes are counted, and with tracing on it gets a server span
whose context the turns it queues carry (their traces link to it)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_address

from fastapi import APIRouter, Request, Response
from opentelemetry.trace import SpanKind
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from copilot.api.errors import error_responses
from copilot.errors import CopilotError, ErrorCode
from copilot.settings import Settings
from copilot.telemetry import Telemetry, using
from copilot.telemetry.metrics import render
from copilot.telemetry.tracing import identified, span

router = APIRouter(tags=["health"])
_UNTRACED = ("/metrics", "/healthz", "/readyz")


@dataclass(frozen=True, slots=True)
class MetricsAccess:
    """Who may read /metrics: anyone (neither set), a bearer token, client networks, or both (both must hold)."""

    token: str | None = None
    networks: tuple[IPv4Network | IPv6Network, ...] = ()

    @classmethod
    def of(cls, settings: Settings) -> MetricsAccess:
        return cls(settings.metrics_token or None, tuple(settings.metrics_allow))

    def check(self, request: Request) -> None:
        if self.networks and not self._allowed(request.client.host if request.client else None):
            raise CopilotError(
                ErrorCode.FORBIDDEN,
                "GET /metrics is not open to this address; scrape it from a network in COPILOT_METRICS_ALLOW.",
            )
        if self.token is not None:
            scheme, _, given = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                given.strip().encode(), self.token.encode()
            ):
                raise CopilotError(
                    ErrorCode.UNAUTHENTICATED,
                    "GET /metrics needs `Authorization: Bearer <COPILOT_METRICS_TOKEN>` (Prometheus: "
                    "`authorization: {credentials_file: …}` in the scrape config).",
                )

    def _allowed(self, host: str | None) -> bool:
        try:
            address = ip_address(host or "")
        except ValueError:
            return False
        return any(address in network for network in self.networks)


@router.get(
    "/metrics",
    summary="Prometheus metrics (text exposition format)",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "Prometheus exposition text."},
        **error_responses(401, 403),
    },
)
async def prometheus_metrics(request: Request) -> Response:
    access: MetricsAccess = getattr(request.app.state, "metrics_access", MetricsAccess())
    access.check(request)
    body, content_type = render()
    return Response(body, media_type=content_type)


class TelemetryMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        runtime = getattr(scope["app"].state, "runtime", None) if scope["type"] == "http" else None
        telemetry: Telemetry | None = getattr(runtime, "telemetry", None)
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(_UNTRACED) or path.endswith("/events"):
            with using(telemetry):
                await self.app(scope, receive, send)
            return
        with using(telemetry):
            if telemetry is None or telemetry.tracer is None:
                with identified():  # the audit rows of the request still name one trace id
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
