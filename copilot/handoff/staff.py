"""What the staff endpoints (agent tools, approvals, assist, audit) need from the real system, as ports.
`copilot.wiring` fills them; a runtime assembled around a fake turn runner has none (those routes say so)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Connection

from copilot.errors import CopilotError, ErrorCode
from copilot.gateway.result import GatewayResult, Preview
from copilot.principal import Principal

if TYPE_CHECKING:
    from copilot.handoff.approvals import ApprovalService
    from copilot.handoff.assist import Assistant


class StaffGateway(Protocol):
    """The gateway as staff use it: their own principal, preview → their own confirmation → execute once."""

    def call(
        self,
        principal: Principal,
        tool: str,
        arguments: object,
        *,
        conversation_id: str | None = None,
    ) -> GatewayResult: ...

    def decide(
        self, principal: Principal, preview_id: str, approve: bool, *, conn: Connection | None = None
    ) -> Preview: ...

    def execute(self, principal: Principal, preview_id: str) -> GatewayResult: ...


@dataclass(frozen=True)
class Staff:
    gateway: StaffGateway
    approvals: ApprovalService
    assistant: Assistant


def require_staff(staff: Staff | None) -> Staff:
    if staff is None:
        raise CopilotError(
            ErrorCode.CONFIGURATION,
            "This server runs without the tool gateway (a test runtime); staff tools are unavailable.",
        )
    return staff
