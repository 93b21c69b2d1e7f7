"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from copilot.api import (
    agent_tools,
    analytics,
    approvals,
    assist,
    confirmations,
    conversations,
    events,
    feedback,
    health,
    limits,
    metrics,
    policy,
    policy_tests,
    prompts,
    sessions,
    tenant_keys,
    tenants,
    timeseries,
    tools,
    web,
)
from copilot.api import handoff as handoff_api
from copilot.api.errors import install_error_handlers
from copilot.auth import resolve_secret
from copilot.llm.factory import check_model_settings
from copilot.redaction import install_log_redaction
from copilot.runtime import Runtime, open_runtime
from copilot.settings import Settings

DESCRIPTION = """Support Copilot: grounded answers with citations and permission-checked tools.

Authenticate with a bearer token (`copilot token --role customer --user USER_ID`). Create a conversation,
post messages (each starts a background turn, 202), and follow `GET /v1/conversations/{id}/events` (SSE,
resumable with `Last-Event-ID`). Writes arrive as `tool.preview` events and run only after
`POST /v1/conversations/{id}/confirmations`. Every error is `{"error": {"code", "message"}}`."""


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    """Build the app. Without `runtime`, the real one is opened in the lifespan (and closed after)."""
    settings = settings or Settings()
    install_log_redaction()  # every log line of the process passes copilot.redaction
    if runtime is None:
        resolve_secret(settings)  # production without COPILOT_SECRET refuses to start, right here
        check_model_settings(settings)  # a hosted model without its API key, too

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if runtime is not None:
            yield
            return
        async with open_runtime(settings) as opened:
            app.state.runtime = opened
            yield

    # /docs and /redoc with Swagger UI / ReDoc served from the fastapi-offline wheel: they work with no network.
    app = FastAPIOffline(title="Support Copilot", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.runtime = runtime
    install_error_handlers(app)
    app.add_middleware(metrics.TelemetryMiddleware)
    app.state.metrics_access = metrics.MetricsAccess.of(settings)
    app.include_router(metrics.router)
    for module in (health, conversations, events, feedback, confirmations, policy, policy_tests, prompts,
                   sessions, tools, tenants, tenant_keys):  # fmt: skip
        app.include_router(module.router)
    app.include_router(analytics.router)
    app.include_router(timeseries.router)
    for staff_module in (handoff_api, agent_tools, approvals, assist):
        app.include_router(staff_module.router)
    web.install(app)
    limits.install(app, settings.max_body_bytes)  # outermost: body size, page security headers
    return app
