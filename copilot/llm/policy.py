"""The offline model's decision: from the messages alone, a tool call, a question, or a cited answer."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from copilot.llm import extract
from copilot.llm.answer import answer
from copilot.llm.context import Context, asked_before, conversation, human_texts, parse_context
from copilot.llm.intents import IntentClassifier, Prediction
from copilot.llm.questions import ask_for
from copilot.llm.summaries import TRANSFER_TOOL, summarize
from copilot.packs import Intent

WANTS_HUMAN = re.compile(
    r"\b(human|real person|live (agent|person|chat)|representative|(talk|speak|chat) (to|with) "
    r"(an? |some)?(agent|person|one|body|someone|staff))",
    re.IGNORECASE,
)
YES = re.compile(r"^\s*(yes|yeah|yep|sure|ok(ay)?|please( do)?|y)\b", re.IGNORECASE)
MIN_SCORE, MIN_MARGIN = 0.3, 0.05
"""Below these (score, lead over the runner-up) an utterance is 'unclear' and answered from the passages."""
NO_ANSWER = (
    "I couldn't find an answer to that in our help center. "
    "Would you like me to connect you with a human agent?"
)
BoundTools = Mapping[str, Mapping[str, Any]]
"""Bound tool name → JSON Schema of its arguments."""


class Policy:
    def __init__(self, intents: Sequence[Intent], side_effects: Mapping[str, str]) -> None:
        self.intents = {intent.name: intent for intent in intents}
        self.classifier = IntentClassifier.from_intents(intents) if intents else None
        self.side_effects = dict(side_effects)

    def respond(self, messages: Sequence[BaseMessage], bound: BoundTools) -> AIMessage:
        turns = conversation(messages)
        tail = _trailing_tool_messages(turns)
        if tail:
            return AIMessage(content=" ".join(self._summary(m, turns) for m in tail))
        return self._reply_to_customer(turns, parse_context(messages), bound)

    def _summary(self, message: ToolMessage, turns: Sequence[BaseMessage]) -> str:
        tool = message.name or _tool_of(message.tool_call_id, turns)
        return summarize(tool, message.text, self.side_effects.get(tool, "read"))

    def _reply_to_customer(self, turns: list[BaseMessage], ctx: Context, bound: BoundTools) -> AIMessage:
        texts = human_texts(turns)
        if not texts:
            return AIMessage(content="Hello! How can I help you today?")
        intent = self._intent(turns)
        if self._wants_human(turns, texts[0], intent):
            return self._handoff(turns, texts, bound)
        if intent and intent.route == "tool" and intent.target in bound:
            return self._use_tool(turns, intent.target, bound[intent.target], texts, ctx)
        prefer = intent.target if intent and intent.route == "article" else None
        found = answer(texts[0], ctx.passages, prefer_doc=prefer)
        return AIMessage(content=found.text if found else NO_ANSWER)

    def _intent(self, turns: list[BaseMessage]) -> Intent | None:
        """The current task's intent; a short reply to our own question continues the previous task."""
        if self.classifier is None:
            return None
        humans = [i for i, m in enumerate(turns) if isinstance(m, HumanMessage)]
        prediction = self.classifier.predict(turns[humans[-1]].text)
        for position in range(len(humans) - 1, 0, -1):
            text = turns[humans[position]].text
            if not (asked_before(turns, humans[position]) and _slot_like(text)):
                break
            prediction = self.classifier.predict(turns[humans[position - 1]].text)
        return self._routed(prediction)

    def _routed(self, prediction: Prediction) -> Intent | None:
        if prediction.score < MIN_SCORE or prediction.margin < MIN_MARGIN:
            return None
        return self.intents.get(prediction.label)

    def _wants_human(self, turns: list[BaseMessage], text: str, intent: Intent | None) -> bool:
        if WANTS_HUMAN.search(text) or (intent is not None and intent.route == "handoff"):
            return True
        previous = asked_before(turns, len(turns) - 1)
        return previous is not None and "human agent" in previous.text and bool(YES.match(text))

    def _handoff(self, turns: list[BaseMessage], texts: list[str], bound: BoundTools) -> AIMessage:
        if TRANSFER_TOOL not in bound:
            return AIMessage(
                content="I can't transfer you from here, but our support team can be reached by email."
            )
        summary = "Customer asks: " + " / ".join(reversed([t.strip() for t in texts[:3]]))[:300]
        return _call(turns, TRANSFER_TOOL, {"summary": summary})

    def _use_tool(
        self, turns: list[BaseMessage], tool: str, schema: Mapping[str, Any], texts: list[str], ctx: Context
    ) -> AIMessage:
        properties: Mapping[str, Any] = schema.get("properties", {})
        summary = texts[0][:300]
        args = extract.extract_arguments(properties, texts, ctx.principal, summary)
        for required in schema.get("required", []):
            if required not in args:
                return AIMessage(content=ask_for(tool, required))
        return _call(turns, tool, args)


def _slot_like(text: str) -> bool:
    """A reply that is mostly a value (an order number, an email, a reason) rather than a new request."""
    stripped = text
    for pattern in (extract.ORDER_ID, extract.ITEM_ID, extract.EMAIL, extract.PAYMENT, extract.ZIP):
        stripped = pattern.sub(" ", stripped)
    stripped = extract.ADDRESS.sub(" ", stripped)
    has_value = stripped != text or extract.cancel_reason(text) is not None
    return len(re.findall(r"[A-Za-z]+", stripped)) <= (6 if has_value else 2)


def _trailing_tool_messages(turns: Sequence[BaseMessage]) -> list[ToolMessage]:
    tail: list[ToolMessage] = []
    for message in reversed(turns):
        if not isinstance(message, ToolMessage):
            break
        tail.insert(0, message)
    return tail


def _tool_of(call_id: str, turns: Sequence[BaseMessage]) -> str:
    for message in turns:
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                if call["id"] == call_id:
                    return call["name"]
    return "tool"


def _call(turns: Sequence[BaseMessage], tool: str, args: dict[str, Any]) -> AIMessage:
    history = json.dumps([[m.type, m.text] for m in turns], sort_keys=True)
    digest = hashlib.sha256(f"{len(turns)}|{tool}|{json.dumps(args, sort_keys=True)}|{history}".encode())
    call_id = "call_" + digest.hexdigest()[:24]
    return AIMessage(
        content="", tool_calls=[{"name": tool, "args": args, "id": call_id, "type": "tool_call"}]
    )
