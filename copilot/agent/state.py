"""Graph state (TypedDicts, checkpointed) and the run config accessors. The principal is NOT in state: it
comes only from config["configurable"]["principal"], set by the runner from the authenticated session, or
under the LangGraph server from the user its auth handler verified."""

from __future__ import annotations

from typing import Annotated, Any, NotRequired, TypedDict

from langchain_core.messages import AnyMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph.message import add_messages

from copilot.agent.summary import HistorySummary
from copilot.errors import CopilotError, ErrorCode
from copilot.principal import Principal, principal_from_claims

TRANSFER_TOOL = "transfer_to_human_agents"


class PassageState(TypedDict):
    id: str
    title: str
    text: str


class ActionRecord(TypedDict):
    call_id: str
    tool: str
    outcome: str
    """executed | preview | denied | invalid | error | declined."""
    preview_id: NotRequired[str]
    signature: NotRequired[str]
    """Tool + canonical arguments (copilot/agent/hygiene.signature): the same change has the same one."""


class PendingPreview(TypedDict):
    """A write awaiting the human's confirmation; its ToolMessage is added once decided."""

    call_id: str
    tool: str
    preview_id: str
    preview: dict[str, Any]


class Decision(TypedDict):
    preview_id: str
    approved: bool


class Spent(TypedDict):
    """What the current turn used so far (checked against the turn budget)."""

    model_calls: int
    tool_calls: int
    tokens: int


NOTHING_SPENT = Spent(model_calls=0, tool_calls=0, tokens=0)


class HandoffState(TypedDict):
    reason: str
    summary: str


class SupportState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]
    passages: NotRequired[list[PassageState]]
    actions: NotRequired[list[ActionRecord]]
    pending: NotRequired[list[PendingPreview]]
    decision: NotRequired[Decision | None]
    handoff: NotRequired[HandoffState | None]
    """Set by guard (user asks), act (model called transfer_to_human_agents) or validate (failed twice)."""
    spent: NotRequired[Spent]
    failures: NotRequired[list[str]]
    """Signatures (tool + canonical arguments) of the tool calls that failed in the current turn."""
    repairs: NotRequired[int]
    """Validation repair attempts in the current turn."""
    final: NotRequired[bool]
    """Set when a node already answered (guard refusal); routes straight to END."""
    note: NotRequired[str | None]
    """A context-boundary note for the system prompt (set when a human agent hands back)."""
    summary: NotRequired[HistorySummary | None]
    """The left-out start of the history, summarised (copilot/agent/summary.py); kept across turns."""
    turn_id: NotRequired[str | None]
    """The turn that last started in this thread (set by guard; recovery reads it from the checkpoint)."""


SERVER_USER = "langgraph_auth_user"
"""Where the LangGraph server puts the user its auth handler returned (copilot/platform/auth.py); a reserved
configurable key that clients cannot send."""


def principal_of(config: RunnableConfig) -> Principal:
    configurable = config.get("configurable", {})
    principal = configurable.get("principal")
    if isinstance(principal, Principal):
        return principal
    user = configurable.get(SERVER_USER)
    found = principal_from_claims(user) if user is not None else None
    if found is None:
        raise CopilotError(
            ErrorCode.UNAUTHENTICATED,
            "No authenticated principal in config['configurable']['principal']; run turns through run_turn "
            "(or the LangGraph server with the auth of langgraph.json).",
        )
    return found


def conversation_of(config: RunnableConfig) -> str | None:
    """The conversation id (the API sets it; under the LangGraph server it is the thread id)."""
    configurable = config.get("configurable", {})
    value = configurable.get("conversation_id", configurable.get("thread_id"))
    return str(value) if value is not None else None


def turn_of(config: RunnableConfig) -> str | None:
    value = config.get("configurable", {}).get("turn_id")
    return str(value) if value is not None else None
