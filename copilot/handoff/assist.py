"""Agent assist: a drafted reply (the configured chat model over retrieved passages; citations ⊆ retrieved)
and suggested actions (agent-scoped tool calls with arguments, run as previews through the gateway)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict, cast

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from copilot.agent.deps import Retriever
from copilot.agent.state import PassageState
from copilot.agent.validate import citations_in
from copilot.conversations import Conversation
from copilot.events import StoredEvent
from copilot.handoff.summary import customer_texts, intent_of
from copilot.knowledge.audience import PUBLIC_ONLY
from copilot.knowledge.citations import CITATION_WITH_SPACE
from copilot.llm.calls import CallPolicy, call_chain
from copilot.principal import Principal, Role
from copilot.prompts.defaults import INSTRUCTIONS
from copilot.prompts.service import PromptRegistry
from copilot.prompts.templates import PromptSet, builtin

ORDER_ID = re.compile(r"#?\b[Ww](\d{7})\b")
_CANCEL = re.compile(r"\bcancel", re.IGNORECASE)
_MISTAKE = re.compile(r"\bmistake|\bby accident|\baccidental", re.IGNORECASE)
FALLBACK = "Thanks for your patience. I'm looking into this for you now and will update you shortly."
MAX_ORDERS = 3


def _tidy(text: str) -> str:
    """Whitespace left by removed markers: no space before punctuation, single spaces."""
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", text)).strip()


class Draft(TypedDict):
    text: str
    citations: list[dict[str, str]]


class Action(TypedDict):
    tool: str
    arguments: dict[str, Any]
    label: str


def suggested_actions(
    conversation: Conversation, texts: Sequence[str], tools: Collection[str]
) -> list[Action]:
    """Deterministic suggestions from what the customer wrote: look up mentioned orders, cancel if asked."""
    actions: list[Action] = []
    if conversation.customer_role == "customer":
        actions.append(
            Action(
                tool="get_user_details",
                arguments={"user_id": conversation.customer},
                label="Open the customer's account",
            )
        )
    orders = list(dict.fromkeys(f"#W{m}" for text in texts for m in ORDER_ID.findall(text)))[:MAX_ORDERS]
    for order in orders:
        actions.append(
            Action(tool="get_order_details", arguments={"order_id": order}, label=f"Look up order {order}")
        )
        asked = [t for t in texts if order[2:] in t and _CANCEL.search(t)]
        if asked:
            reason = "ordered by mistake" if _MISTAKE.search(" ".join(asked)) else "no longer needed"
            arguments = {"order_id": order, "reason": reason}
            label = f"Cancel order {order} ({reason}) — preview first"
            actions.append(Action(tool="cancel_pending_order", arguments=arguments, label=label))
    return [a for a in actions if a["tool"] in tools]


@dataclass(frozen=True)
class Assistant:
    model: BaseChatModel
    retriever: Retriever
    tools: Collection[str]
    k: int = 5
    calls: CallPolicy = field(default_factory=CallPolicy)
    """The model runtime's timeout/retries: a hung model is a typed error (504/503), not a 500."""
    fallbacks: Sequence[BaseChatModel] = ()
    instructions: str = INSTRUCTIONS
    prompts: PromptRegistry | None = None
    """The tenant's published prompts (system prompt and draft note); None: the built-in ones."""

    async def _prompts(self, tenant: str) -> PromptSet:
        if self.prompts is None:
            return builtin(self.instructions)
        return await asyncio.to_thread(self.prompts.current, tenant)

    async def assist(self, conversation: Conversation, events: Sequence[StoredEvent]) -> dict[str, Any]:
        texts = customer_texts(events)
        draft = (
            await self.draft(conversation, intent_of(texts)) if texts else Draft(text=FALLBACK, citations=[])
        )
        return {"draft": draft, "suggested_actions": suggested_actions(conversation, texts, self.tools)}

    async def answer(self, conversation: Conversation, question: str) -> Draft:
        """A staff member's own question about the conversation, answered in the staff-only thread: no tools
        run and nothing reaches the customer unless the agent sends it (public documents only, so it may be)."""
        return await self.draft(conversation, question)

    async def draft(self, conversation: Conversation, question: str) -> Draft:
        """The model's answer to the customer's request over freshly retrieved passages. The draft is meant
        for the customer, so it is written from public documents only."""
        hits = self.retriever.search(question, self.k, PUBLIC_ONLY)
        passages: list[PassageState] = [{"id": h.id, "title": h.title, "text": h.text} for h in hits]
        customer = Principal(
            conversation.tenant, cast(Role, conversation.customer_role), conversation.customer
        )
        prompts = await self._prompts(conversation.tenant)
        prompt = SystemMessage(content=prompts.system(customer, passages, prompts.text("draft")))
        messages = [prompt, HumanMessage(content=question)]
        reply = await call_chain([self.model, *self.fallbacks], messages, {}, self.calls)
        text = reply.text.strip() if not getattr(reply, "tool_calls", None) else ""
        titles = {p["id"]: p["title"] for p in passages}
        cited = [c for c in citations_in(text) if c in titles]
        # The customer gets clean text: the markers become the message's sources (links in the widget).
        text = _tidy(CITATION_WITH_SPACE.sub("", text))
        if not cited and ("human agent" in text or not text):
            return Draft(text=FALLBACK, citations=[])
        return Draft(text=text, citations=[{"id": c, "title": titles[c]} for c in cited])
