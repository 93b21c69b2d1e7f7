"""Read the <context> block of the system prompt (principal line + passages) and the conversation's turns."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

_PRINCIPAL = re.compile(r"^principal:(.*)$", re.MULTILINE)
_PASSAGE = re.compile(r'<passage id="([^"]*)" title="([^"]*)">(.*?)</passage>', re.DOTALL)
VALIDATOR = "validator"
"""Name of the HumanMessage the answer validator adds when it asks for a repair."""


@dataclass(frozen=True, slots=True)
class Passage:
    id: str
    title: str
    text: str

    @property
    def doc_id(self) -> str:
        return self.id.split("#", 1)[0]


@dataclass(frozen=True, slots=True)
class Context:
    principal: dict[str, str] = field(default_factory=dict)
    """role, user_id, tenant as written on the principal line."""
    passages: tuple[Passage, ...] = ()


def parse_context(messages: Sequence[BaseMessage]) -> Context:
    system = "\n".join(m.text for m in messages if isinstance(m, SystemMessage))
    start, end = system.rfind("<context>"), system.rfind("</context>")
    if start < 0:
        return Context()
    block = system[start : end if end > start else len(system)]
    principal: dict[str, str] = {}
    match = _PRINCIPAL.search(block)
    if match:
        pairs = (item.split("=", 1) for item in match.group(1).split() if "=" in item)
        principal = {key: value for key, value in pairs}
    passages = tuple(
        Passage(pid, html.unescape(title), _unescape(text)) for pid, title, text in _PASSAGE.findall(block)
    )
    return Context(principal, passages)


def _unescape(text: str) -> str:
    return text.replace("<\\/", "</").replace("<\\", "<").strip()


def conversation(messages: Sequence[BaseMessage]) -> list[BaseMessage]:
    """The turns after the system prompt, without the validator's repair notes."""
    return [
        m
        for m in messages
        if not isinstance(m, SystemMessage) and not (isinstance(m, HumanMessage) and m.name == VALIDATOR)
    ]


def human_texts(messages: Sequence[BaseMessage]) -> list[str]:
    """Customer utterances, newest first."""
    return [m.text for m in reversed(conversation(messages)) if isinstance(m, HumanMessage)]


def asked_before(messages: Sequence[BaseMessage], index: int) -> AIMessage | None:
    """The assistant text question right before position `index` of the conversation, if there was one."""
    if index <= 0:
        return None
    previous = messages[index - 1]
    if isinstance(previous, AIMessage) and not previous.tool_calls and "?" in previous.text:
        return previous
    return None
