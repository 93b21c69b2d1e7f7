"""POST /v1/sessions/guest: a short-lived guest token for a visitor without an account.

Customers are identified by the host page instead: the shop's backend mints a customer token for its
logged-in user with its tenant key: `copilot.auth.mint_customer_token(key, tenant, user_id)` (or, by hand,
`copilot token --role customer --user USER_ID`) and puts it in the widget's `data-token`."""

from __future__ import annotations

import asyncio
import re
import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, select

from copilot.api.deps import RuntimeDep
from copilot.api.errors import error_response, error_responses
from copilot.api.models import ErrorResponse
from copilot.auth import mint_token
from copilot.errors import CopilotError, ErrorCode
from copilot.principal import Principal
from copilot.store.schema import documents

GUEST_TTL = timedelta(hours=2)
RATE_LIMIT = 20
"""Guest tokens per client address per RATE_WINDOW seconds (across all workers when Redis is configured)."""
RATE_WINDOW = 60.0
_TENANT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

router = APIRouter(prefix="/v1/sessions", tags=["sessions"])


class GuestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str | None = Field(default=None, max_length=64, description="Default: the server's tenant.")


class GuestToken(BaseModel):
    token: str
    user_id: str = Field(examples=["guest_3f2a9c0d1e4b5a6f"])
    tenant: str
    expires_in: int = Field(description="Seconds until the token expires.")


def _tenant_exists(engine: Engine, tenant: str) -> bool:
    with engine.connect() as conn:
        query = select(documents.c.tenant).where(documents.c.tenant == tenant).limit(1)
        return conn.execute(query).first() is not None


@router.post(
    "/guest",
    status_code=status.HTTP_201_CREATED,
    summary="Mint a guest token (help-center answers and handoff; no account tools)",
    response_model=GuestToken,
    responses={
        **error_responses(404, 422),
        429: {
            "model": ErrorResponse,
            "description": "Too many guest tokens from this address (`rate_limited`).",
        },
    },
)
async def guest_session(
    request: Request, runtime: RuntimeDep, body: Annotated[GuestIn | None, Body()] = None
) -> GuestToken | JSONResponse:
    tenant = (body.tenant if body else None) or runtime.settings.default_tenant
    client = request.client.host if request.client else "unknown"
    if not await runtime.backplane.limiter("guest", RATE_LIMIT, RATE_WINDOW).allow(client):
        message = "Too many guest sessions from this address; retry in a minute."
        return error_response(429, "rate_limited", message)
    if not _TENANT.fullmatch(tenant) or not await asyncio.to_thread(_tenant_exists, runtime.engine, tenant):
        raise CopilotError(ErrorCode.NOT_FOUND, f"No tenant {tenant!r}; omit `tenant` to use the default.")
    user_id = f"guest_{secrets.token_hex(8)}"
    token = mint_token(
        runtime.key_ring, Principal(tenant=tenant, role="guest", user_id=user_id), ttl=GUEST_TTL
    )
    return GuestToken(token=token, user_id=user_id, tenant=tenant, expires_in=int(GUEST_TTL.total_seconds()))
