"""The tool catalogue: which of the pack's tools the caller's role may call in their tenant (the gateway's own
authorizer decides, on one policy version), with each tool's JSON Schema so a UI can build an arguments form.
Policy administrators may ask for every pack tool (`?all=true`), e.g. to edit rules or simulate other roles."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from copilot.api.deps import PrincipalDep, RuntimeDep
from copilot.api.errors import error_responses
from copilot.api.models import ErrorResponse
from copilot.errors import CopilotError, ErrorCode
from copilot.gateway.authorizer import CALL, pinned
from copilot.gateway.gateway import Gateway
from copilot.gateway.spec import SideEffect
from copilot.handoff.staff import require_staff
from copilot.policy.lint import MANAGE, POLICY_OBJECT
from copilot.principal import Principal
from copilot.runtime import Runtime

router = APIRouter(prefix="/v1", tags=["tools"])

_FORBIDDEN: dict[int | str, dict[str, Any]] = {
    403: {
        "model": ErrorResponse,
        "description": "`all=true` without permission to manage the policy (code `forbidden`).",
    }
}


class ToolInfo(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "get_order_details",
                    "description": "Get the status and details of an order.",
                    "side_effect": "read",
                    "parameters": {
                        "type": "object",
                        "properties": {"order_id": {"type": "string", "pattern": "^#W[0-9]{7}$"}},
                        "required": ["order_id"],
                        "additionalProperties": False,
                    },
                }
            ]
        }
    )

    name: str
    description: str
    side_effect: SideEffect = Field(description="none | read | write (writes return a preview to confirm).")
    parameters: dict[str, Any] = Field(description="JSON Schema (draft 2020-12) of the arguments object.")


class ToolList(BaseModel):
    tools: list[ToolInfo] = Field(description="In the pack's order.")
    all: bool = Field(description="True: every pack tool, whether or not your role may call it.")
    policy_version: str = Field(description="The policy version the list was decided on.")


def _gateway(runtime: Runtime) -> Gateway:
    gateway = require_staff(runtime.staff).gateway
    if not isinstance(gateway, Gateway):
        raise CopilotError(
            ErrorCode.CONFIGURATION, "This server runs without the tool gateway; no tools to list."
        )
    return gateway


def list_tools(gateway: Gateway, principal: Principal, *, every: bool) -> ToolList:
    """The pack's tools `principal` may call (all of them with `every`, for policy administrators only)."""
    authorizer = gateway.authorizer
    with pinned(authorizer, None, principal.tenant):
        if every and not authorizer.allows(principal.role, principal.tenant, POLICY_OBJECT, MANAGE):
            raise CopilotError(
                ErrorCode.FORBIDDEN,
                "Only policy administrators may list every tool (all=true); "
                "drop all=true to see the tools your role may call.",
            )
        specs = [tool.spec for tool in gateway.pack.tools]
        if not every:
            specs = [s for s in specs if authorizer.allows(principal.role, principal.tenant, s.name, CALL)]
        version = authorizer.version
    tools = [
        ToolInfo(name=s.name, description=s.description, side_effect=s.side_effect, parameters=dict(s.parameters))
        for s in specs
    ]  # fmt: skip
    return ToolList(tools=tools, all=every, policy_version=version)


@router.get(
    "/tools",
    summary="The tools your role may call in your tenant (name, description, side effect, JSON Schema)",
    responses={**error_responses(401), **_FORBIDDEN},
)
async def tools(
    principal: PrincipalDep,
    runtime: RuntimeDep,
    every: Annotated[
        bool,
        Query(
            alias="all",
            description="Policy administrators only: every pack tool, including ones your role may not call.",
        ),
    ] = False,
) -> ToolList:
    return await asyncio.to_thread(list_tools, _gateway(runtime), principal, every=every)
