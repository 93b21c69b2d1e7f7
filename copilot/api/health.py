"""GET /healthz: liveness plus what was loaded (tools, knowledge chunks, model); it touches nothing external.
GET /readyz: readiness: database, checkpointer, Redis (when configured), the SQLite data directory."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from copilot.api.deps import RuntimeDep
from copilot.api.models import Health

router = APIRouter(tags=["health"])


class Component(BaseModel):
    status: Literal["ok", "failed"]
    latency_ms: float = Field(examples=[1.4])
    message: str | None = Field(default=None, description="What failed and what to check (failed only).")


class Readiness(BaseModel):
    status: Literal["ok", "unavailable"]
    components: dict[str, Component] = Field(
        examples=[{"database": {"status": "ok", "latency_ms": 1.4}, "checkpointer": {"status": "ok"}}]
    )


@router.get("/healthz", summary="Liveness and loaded components")
async def healthz(runtime: RuntimeDep) -> Health:
    facts = runtime.facts
    return Health(
        tools=int(facts.get("tools", 0)),
        kb_chunks=int(facts.get("kb_chunks", 0)),
        model=str(facts.get("model", runtime.settings.model)),
        prompt_tokens=dict(facts.get("prompt_tokens", {})),
    )


@router.get(
    "/readyz",
    summary="Readiness: can this worker serve requests now?",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "A component failed (named, with what to check)."}},
)
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    results = await runtime.readiness.check()
    components = {
        r.name: Component(
            status="ok" if r.ok else "failed", latency_ms=r.latency_ms, message=r.message or None
        )
        for r in results
    }
    ready = all(r.ok for r in results)
    body = Readiness(status="ok" if ready else "unavailable", components=components)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=200 if ready else 503)
