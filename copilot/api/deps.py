"""Request dependencies: the runtime, the authenticated principal, a conversation the caller may read."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from copilot.auth import TOKEN_HINT, verify_token_async
from copilot.conversations import Conversation
from copilot.errors import CopilotError, ErrorCode
from copilot.principal import Principal
from copilot.runtime import Runtime

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="JWT",
    description="A token from `copilot token --role customer --user USER_ID` (HS256, signed with the server secret).",
)


async def get_runtime(request: Request) -> Runtime:  # async: a sync dependency costs a thread hop
    runtime: Runtime | None = getattr(request.app.state, "runtime", None)
    if runtime is None:
        raise CopilotError(ErrorCode.INTERNAL, "The server is still starting; retry in a moment.")
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_principal(
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The principal of a valid bearer token; 401 unauthenticated otherwise."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise CopilotError(ErrorCode.UNAUTHENTICATED, f"Send `Authorization: Bearer <token>`; {TOKEN_HINT}.")
    return await verify_token_async(runtime.key_ring, credentials.credentials)


PrincipalDep = Annotated[Principal, Depends(get_principal)]

ConversationId = Annotated[
    str, Path(description="Conversation id from POST /v1/conversations.", max_length=64)
]


async def readable_conversation(
    conversation_id: ConversationId, principal: PrincipalDep, runtime: RuntimeDep
) -> Conversation:
    """The conversation, if the caller is its customer or an agent/supervisor of its tenant (else 404)."""
    return await runtime.conversations.readable(principal, conversation_id)


ConversationDep = Annotated[Conversation, Depends(readable_conversation)]
