"""GET /healthz: liveness plus what was loaded (tools, knowledge chunks, model)."""

from __future__ import annotations

from fastapi import APIRouter

from copilot.api.deps import RuntimeDep
from copilot.api.models import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness and loaded components")
async def healthz(runtime: RuntimeDep) -> Health:
    facts = runtime.facts
    return Health(
        tools=int(facts.get("tools", 0)),
        kb_chunks=int(facts.get("kb_chunks", 0)),
        model=str(facts.get("model", runtime.settings.model)),
    )
