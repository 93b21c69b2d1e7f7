"""The LangGraph server's auth (langgraph.json "auth" → graphs/auth.py): the copilot's own bearer tokens map to
the principal (the graph reads it from the server's `langgraph_auth_user`); a thread belongs to the principal
that created it; and a run that resumes a pending preview first records the human's decision through
`Gateway.decide` — the decision POST /confirmations records in the copilot's API — so `execute` finds the same
approval (or refusal) either way. Anything else is denied (fail closed)."""

from __future__ import annotations

import asyncio
from typing import Any

from langgraph_sdk import Auth
from sqlalchemy import select

from copilot.auth import verify_token_async
from copilot.errors import CopilotError
from copilot.platform.system import ServerSystem, server_system
from copilot.principal import Principal, principal_claims, principal_from_claims
from copilot.store.schema import previews

auth = Auth()
OWNER = "owner"


def _refuse(status: int, message: str) -> Auth.exceptions.HTTPException:
    return Auth.exceptions.HTTPException(status_code=status, detail=message)


@auth.authenticate
async def authenticate(authorization: str | None) -> Auth.types.MinimalUserDict:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _refuse(401, "Send Authorization: Bearer <token> (mint one with `copilot token`).")
    system = await server_system()
    try:
        principal = await verify_token_async(system.keys or system.secret, token.strip())
    except CopilotError as exc:
        raise _refuse(401, exc.message) from exc
    return principal_claims(principal)  # type: ignore[return-value]


def _owned(ctx: Auth.types.AuthContext, value: Any) -> dict[str, str]:
    """Tag what is created with its owner; every read, update, search and run is filtered to it."""
    if isinstance(value, dict):
        metadata = value.setdefault("metadata", {})
        if isinstance(metadata, dict):
            metadata[OWNER] = ctx.user.identity
    return {OWNER: ctx.user.identity}


@auth.on
async def deny_by_default(ctx: Auth.types.AuthContext, value: Any) -> bool:
    return False  # crons, the store, assistant edits: not part of the copilot's surface


@auth.on.assistants.read
async def read_assistant(ctx: Auth.types.AuthContext, value: Any) -> bool:
    return True


@auth.on.assistants.search
async def search_assistants(ctx: Auth.types.AuthContext, value: Any) -> bool:
    return True


@auth.on.threads
async def own_threads(ctx: Auth.types.AuthContext, value: Any) -> dict[str, str]:
    return _owned(ctx, value)


@auth.on.threads.create_run
async def run_on_own_thread(ctx: Auth.types.AuthContext, value: Auth.types.RunsCreate) -> dict[str, str]:
    kwargs = value.get("kwargs") or {}
    command = kwargs.get("command") if isinstance(kwargs, dict) else None
    resume = command.get("resume") if isinstance(command, dict) else None
    if resume is not None:
        principal = principal_from_claims(ctx.user)
        if principal is None:
            raise _refuse(401, "The authenticated user is not a copilot principal.")
        system = await server_system()
        await asyncio.to_thread(record_decision, system, principal, str(value.get("thread_id")), resume)
    return _owned(ctx, value)


def record_decision(system: ServerSystem, principal: Principal, thread_id: str, resume: object) -> None:
    """The human's decision on the thread's preview, through Gateway.decide (a retried resume that repeats
    an unused decision is accepted); refusals are HTTP errors, so the run is never created."""
    if not isinstance(resume, dict) or not isinstance(resume.get("approved"), bool):
        raise _refuse(422, 'Resume with {"preview_id": "...", "approved": true|false}.')
    preview_id, approved = str(resume.get("preview_id")), bool(resume["approved"])
    columns = (previews.c.conversation_id, previews.c.principal, previews.c.approved, previews.c.decided_at)
    query = select(*columns, previews.c.used_at)
    with system.engine.connect() as conn:
        row = conn.execute(query.where(previews.c.preview_id == preview_id)).first()
    if row is None or row.conversation_id != thread_id or row.principal != principal.label():
        raise _refuse(409, f"Preview {preview_id} is not awaiting confirmation in this thread.")
    if row.decided_at is not None:
        if row.approved == approved and row.used_at is None:
            return  # the same decision again (e.g. the run was not created the first time)
        raise _refuse(409, f"Preview {preview_id} was already decided; ask for the change again.")
    try:
        system.gateway.decide(principal, preview_id, approved)
    except CopilotError as exc:
        raise _refuse(exc.status, exc.message) from exc
