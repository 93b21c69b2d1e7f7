"""Approval routing: a write over an agent's limit becomes a request a supervisor can approve."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from copilot.principal import Principal


class ApprovalRouter(Protocol):
    """Records a write over an agent's limit as a request a supervisor can approve; returns its id."""

    def request(
        self, principal: Principal, tool: str, arguments: dict[str, Any], *, conversation_id: str | None,
        details: dict[str, Any], description: Sequence[str] = (),
    ) -> str: ...  # fmt: skip
