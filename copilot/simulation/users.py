"""Simulated customers. After each assistant turn the customer sees what the widget would show (the
assistant's messages, a pending preview card, a handoff) and makes one move: say something, confirm or
decline the preview, or stop. `ScriptedUser` follows a scenario's script (CI); `LLMUser` is any LangChain
chat model playing the task's instructions, as τ²'s user simulator does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from copilot.simulation.metrics import Usage
from copilot.simulation.tasks import ScriptStep, Task

GREETING = "Hi! How can I help you today?"
STOP_TOKENS = ("###STOP###", "###TRANSFER###", "###OUT-OF-SCOPE###")


@dataclass(frozen=True, slots=True)
class Observation:
    """One assistant turn as the customer saw it."""

    texts: tuple[str, ...] = ()
    preview: dict[str, Any] | None = None
    """The preview card awaiting the customer's decision, if any."""
    handed_off: bool = False


@dataclass(frozen=True, slots=True)
class Say:
    text: str


@dataclass(frozen=True, slots=True)
class Decide:
    preview_id: str
    approve: bool


@dataclass(frozen=True, slots=True)
class Stop:
    pass


Move = Say | Decide | Stop


class UserSimulator(Protocol):
    usage: Usage

    async def move(self, seen: Observation) -> Move:
        """The customer's next move after seeing `seen` (the greeting first)."""
        ...


@dataclass
class ScriptedUser:
    """Plays a script in order. A preview nobody scripted is declined (a customer does not approve a change
    they did not ask for); a scripted `confirm` with no preview on screen is skipped (the expected preview
    never came: grading will say so); the end of the script stops the conversation."""

    steps: list[ScriptStep]
    usage: Usage = field(default_factory=Usage)

    async def move(self, seen: Observation) -> Move:
        if seen.preview is not None:
            preview_id = str(seen.preview["preview_id"])
            if self.steps and self.steps[0].confirm is not None:
                return Decide(preview_id, bool(self.steps.pop(0).confirm))
            return Decide(preview_id, False)
        while self.steps and self.steps[0].confirm is not None:
            self.steps.pop(0)
        if not self.steps:
            return Stop()
        return Say(str(self.steps.pop(0).say))


def user_prompt(task: Task) -> str:
    """τ²-style instructions for an LLM playing the task's customer."""
    brief = task.user_scenario.brief
    parts = [
        "You are a customer chatting with an online shop's support assistant. Play the customer described "
        "below, one message at a time.",
        f"Reason for contacting support: {brief.reason_for_call}" if brief.reason_for_call else "",
        f"What you know: {brief.known_info}" if brief.known_info else "",
        f"What you do not know: {brief.unknown_info}" if brief.unknown_info else "",
        f"How you behave: {brief.task_instructions}" if brief.task_instructions.strip(" .") else "",
        f"Persona: {task.user_scenario.persona}" if task.user_scenario.persona else "",
        "Rules:\n- Write only the customer's next message, short and natural, in your own words.\n"
        "- Reveal information only when it is needed for the current step; never invent facts you were not "
        "given (say you do not know them).\n"
        "- When the assistant shows a confirmation card, answer CONFIRM if the change is exactly what you "
        "want, otherwise DECLINE, optionally followed by a message.\n"
        f"- When your goal is reached (or cannot be), reply {STOP_TOKENS[0]} alone. If you are transferred "
        f"to a human, reply {STOP_TOKENS[1]}.",
    ]
    return "\n\n".join(p for p in parts if p)


def card_text(preview: dict[str, Any]) -> str:
    """A preview card as text: summary, field changes and amount."""
    lines = [f"[Confirmation card] {preview.get('summary', preview.get('tool', 'a change'))}"]
    for change in preview.get("changes", []):
        for key, (before, after) in change.get("changed", {}).items():
            lines.append(f"- {change.get('kind')} {change.get('id')}: {key}: {before!r} -> {after!r}")
    if preview.get("amount") is not None:
        lines.append(f"- amount: {preview['amount']}")
    lines.append("Reply CONFIRM or DECLINE.")
    return "\n".join(lines)


@dataclass
class LLMUser:
    """A LangChain chat model as the customer; its history has the roles flipped (the assistant's words are
    the 'human' side of its prompt)."""

    model: BaseChatModel
    task: Task
    usage: Usage = field(default_factory=Usage)
    history: list[BaseMessage] = field(default_factory=list)

    async def move(self, seen: Observation) -> Move:
        if not self.history:
            self.history.append(SystemMessage(user_prompt(self.task)))
        self.history.append(HumanMessage(_shown(seen)))
        reply = await self.model.ainvoke(self.history)
        self.history.append(reply)
        self.usage = self.usage + _usage_of(reply)
        text = reply.text.strip()
        if seen.preview is not None:
            return Decide(str(seen.preview["preview_id"]), _approves(text))
        if not text or any(token in text for token in STOP_TOKENS):
            return Stop()
        return Say(text)


def _shown(seen: Observation) -> str:
    parts = list(seen.texts) or ([] if seen.preview else [GREETING])
    if seen.preview is not None:
        parts.append(card_text(seen.preview))
    if seen.handed_off:
        parts.append("[You are being transferred to a human agent.]")
    return "\n\n".join(parts)


def _approves(text: str) -> bool:
    head = text.strip().lstrip("*#[ ").upper()
    return head.startswith(("CONFIRM", "YES", "APPROVE"))


def _usage_of(message: BaseMessage) -> Usage:
    meta = message.usage_metadata if isinstance(message, AIMessage) else None
    return Usage(meta["input_tokens"], meta["output_tokens"]) if meta else Usage()


def usage_of(messages: Sequence[BaseMessage]) -> Usage:
    """Token usage the models reported on these messages."""
    total = Usage()
    for message in messages:
        total = total + _usage_of(message)
    return total
