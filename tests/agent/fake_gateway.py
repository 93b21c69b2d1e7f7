"""A small in-test gateway implementing GatewayPort over an in-memory order table (used until/unless the
real copilot.gateway.Gateway is available)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from copilot.errors import CopilotError, ErrorCode
from copilot.gateway.result import FieldChange, GatewayResult, Preview
from copilot.principal import Principal


@dataclass
class FakeGateway:
    orders: dict[str, dict[str, Any]]
    previews: dict[str, Preview] = field(default_factory=dict)
    approved: set[str] = field(default_factory=set)
    executed: dict[str, GatewayResult] = field(default_factory=dict)
    handler_runs: int = 0

    def call(
        self,
        principal: Principal,
        tool: str,
        arguments: object,
        *,
        call_id: str,
        conversation_id: str | None = None,
    ) -> GatewayResult:
        decision = uuid.uuid4().hex
        if tool == "transfer_to_human_agents":
            return GatewayResult("executed", tool, decision, {}, "Transfer successful")
        if not isinstance(arguments, dict) or not isinstance(arguments.get("order_id"), str):
            return GatewayResult(
                "invalid", tool, decision, code="invalid_arguments", message="order_id is required"
            )
        order_id = arguments["order_id"]
        order = self.orders.get(order_id)
        if order is None or order["user_id"] != principal.user_id:
            return GatewayResult(
                "denied", tool, decision, code="denied", message="You can only act on your own orders."
            )
        if tool == "get_order_details":
            return GatewayResult("executed", tool, decision, {"order_id": order_id}, dict(order))
        preview = Preview(
            preview_id=uuid.uuid4().hex,
            tool=tool,
            arguments=dict(arguments),
            summary=f"Cancel order {order_id}",
            changes=(
                FieldChange(
                    "order",
                    order_id,
                    order,
                    {**order, "status": "cancelled"},
                    {"status": (order["status"], "cancelled")},
                ),
            ),
            amount=None,
            facts={},
            expires_at=datetime.now(UTC) + timedelta(minutes=10),
            preview_hash="h",
        )
        self.previews[preview.preview_id] = preview
        return GatewayResult("preview", tool, decision, dict(arguments), preview=preview)

    def decide(self, principal: Principal, preview_id: str, approve: bool) -> Preview:
        if approve:
            self.approved.add(preview_id)
        return self.previews[preview_id]

    def execute(self, principal: Principal, preview_id: str) -> GatewayResult:
        if preview_id in self.executed:
            return self.executed[preview_id]
        if preview_id not in self.approved:
            raise CopilotError(ErrorCode.CONFIRMATION_REQUIRED, "The customer has not confirmed this change.")
        preview = self.previews[preview_id]
        self.handler_runs += 1
        self.orders[preview.arguments["order_id"]]["status"] = "cancelled"
        result = GatewayResult(
            "executed", preview.tool, uuid.uuid4().hex, preview.arguments, {"status": "cancelled"}
        )
        self.executed[preview_id] = result
        return result
