"""The running turn's stamp: its prompt version, model (provider:model) and policy version, in a context
variable for the turn (the gateway runs in threads that inherit it), so every audit row written during the
turn names them (copilot/gateway/audit.py). Set by copilot/prompts/turns.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from copilot.prompts.templates import PromptSet


@dataclass
class TurnStamp:
    turn_id: str
    prompts: PromptSet
    policy_version: str
    configured_model: str
    models: list[str] = field(default_factory=list)
    """provider:model of each model call of the turn so far, in order."""

    @property
    def model(self) -> str:
        return self.models[-1] if self.models else self.configured_model

    def audit_fields(self) -> dict[str, Any]:
        return {"prompt_version": self.prompts.version, "model": self.model, "turn_id": self.turn_id}


_STAMP: ContextVar[TurnStamp | None] = ContextVar("copilot_turn_stamp", default=None)


def current_stamp() -> TurnStamp | None:
    return _STAMP.get()


def saw_model(provider: str, model: str) -> None:
    """A model call of the running turn finished (called by the usage callback)."""
    stamp = _STAMP.get()
    if stamp is not None:
        stamp.models.append(f"{provider}:{model}")


@contextmanager
def stamping(stamp: TurnStamp) -> Iterator[TurnStamp]:
    token = _STAMP.set(stamp)
    try:
        yield stamp
    finally:
        _STAMP.reset(token)
