"""What the gateway returns for one call. Denials and invalid arguments are results, not exceptions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Outcome = Literal["executed", "preview", "denied", "invalid", "error"]


@dataclass(frozen=True, slots=True)
class FieldChange:
    kind: str
    id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    changed: dict[str, tuple[Any, Any]]
    """Top-level field → (before, after) for fields that differ."""


@dataclass(frozen=True, slots=True)
class Preview:
    preview_id: str
    tool: str
    arguments: dict[str, Any]
    summary: str
    changes: tuple[FieldChange, ...]
    amount: float | None
    facts: dict[str, Any]
    expires_at: datetime
    preview_hash: str
    sentences: tuple[str, ...] = ()
    """The preview for people, rendered once from the tool spec (copilot/gateway/describe.py)."""
    approval: dict[str, Any] | None = None
    """Over the caller's limit: {amount, limit, approver}. The caller's confirmation then becomes a request
    that a supervisor approves before anything runs."""

    def to_dict(self) -> dict[str, Any]:
        body = {
            "preview_id": self.preview_id,
            "tool": self.tool,
            "arguments": self.arguments,
            "summary": self.summary,
            "sentences": list(self.sentences) or [self.summary],
            "changes": [
                {"kind": c.kind, "id": c.id, "changed": {k: list(v) for k, v in c.changed.items()}}
                for c in self.changes
            ],
            "amount": self.amount,
            "facts": self.facts,
            "expires_at": self.expires_at.isoformat(),
        }
        if self.approval is not None:
            body["approval"] = self.approval
        return body


@dataclass(frozen=True, slots=True)
class GatewayResult:
    outcome: Outcome
    tool: str
    decision_id: str
    arguments: dict[str, Any] = field(default_factory=dict)
    """The canonical, validated arguments (empty when invalid)."""
    result: Any = None
    preview: Preview | None = None
    code: str | None = None
    message: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    """Error details (e.g. amount, limit, approval_id of a limit_exceeded denial)."""

    @property
    def ok(self) -> bool:
        return self.outcome in ("executed", "preview")

    def for_model(self) -> dict[str, Any]:
        """The tool result the model sees: data, a preview notice, or a code and a reason it can act on."""
        if self.outcome == "executed":
            return {"ok": True, "result": self.result}
        if self.outcome == "preview" and self.preview is not None:
            body: dict[str, Any] = {
                "ok": True,
                "status": "awaiting_confirmation",
                "preview_id": self.preview.preview_id,
                "summary": self.preview.summary,
            }
            if self.preview.approval is not None:
                body["needs_supervisor_approval"] = True
            return body
        return {"ok": False, "error": {"code": self.code, "message": self.message}}
