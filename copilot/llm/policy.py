"""The offline model's decision: from the messages alone, a tool call, a question, or a cited answer."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from copilot.llm import dialogue, extract, items
from copilot.llm.answer import answer
from copilot.llm.context import Context, asked_before, conversation, human_texts, parse_context
from copilot.llm.domain import Domain
from copilot.llm.intents import Prediction, pack_classifier
from copilot.llm.questions import ask_for
from copilot.llm.resolution import confirms_resolution
from copilot.llm.summaries import SIGN_IN, TRANSFER_TOOL, summarize
from copilot.packs import Intent

MIN_SCORE, MIN_MARGIN = 0.3, 0.05
"""Below these (score, lead over the runner-up) an utterance is 'unclear' and answered from the passages."""
NO_ANSWER = (
    "I couldn't find an answer to that in our help center. "
    "Would you like me to connect you with a human agent?"
)
DECLINED_OFFER = "Okay. What else can I help you with?"
WELCOME = "You're welcome, glad I could help. If anything else comes up, just write here."
"""The reply to a customer saying our answer helped (copilot/llm/resolution.py): no new request to route."""
NOT_HERE = "I can't do that in this chat. Would you like me to connect you with a human agent?"
"""A signed-in principal asks for an action its policy does not offer (e.g. revoked by the tenant's admin):
not a dead end — a human can (a yes is a handoff)."""
ACCOUNT_TOOL, ORDER_TOOL = "get_user_details", "get_order_details"
BoundTools = Mapping[str, Mapping[str, Any]]
"""Bound tool name → JSON Schema of its arguments."""


class Policy:
    def __init__(
        self, intents: Sequence[Intent], side_effects: Mapping[str, str], articles_dir: Path | None = None
    ) -> None:
        self.intents = {intent.name: intent for intent in intents}
        self.classifier = pack_classifier(intents, articles_dir) if intents else None
        self.domain = Domain(example for intent in intents for example in intent.examples)
        self.side_effects = dict(side_effects)

    def respond(self, messages: Sequence[BaseMessage], bound: BoundTools) -> AIMessage:
        turns = conversation(messages)
        tail = _trailing_tool_messages(turns)
        follow = _last_order_lookup(turns, tail, bound)
        if follow is not None:
            return follow
        if tail and self._continues_write(turns, tail, bound):
            return self._reply_to_customer(turns, parse_context(messages), bound)
        if tail:
            text = " ".join(self._summary(m, turns) for m in tail)
            rest = _remaining(turns) if not any(_awaits(m) for m in tail) else []
            return AIMessage(content=f"{text} {dialogue.also_asked(rest)}" if rest else text)
        return self._reply_to_customer(turns, parse_context(messages), bound)

    def _continues_write(
        self, turns: list[BaseMessage], tail: Sequence[ToolMessage], bound: BoundTools
    ) -> bool:
        """The lookups just made were for an item write still being prepared (a return, an exchange)."""
        if not all(m.name in (ORDER_TOOL, ACCOUNT_TOOL, items.PRODUCT_TOOL) for m in tail):
            return False
        texts = human_texts(turns)
        intent = self._intent(turns, texts[0], continues=True) if texts else None
        return intent is not None and intent.target in items.ITEM_TOOLS and intent.target in bound

    def _summary(self, message: ToolMessage, turns: Sequence[BaseMessage]) -> str:
        tool = message.name or _tool_of(message.tool_call_id, turns)
        return summarize(tool, message.text, self.side_effects.get(tool, "read"))

    def _reply_to_customer(self, turns: list[BaseMessage], ctx: Context, bound: BoundTools) -> AIMessage:
        texts = human_texts(turns)
        if not texts:
            return AIMessage(content="Hello! How can I help you today?")
        prior = turns[-2] if len(turns) > 1 and isinstance(turns[-2], AIMessage) else None
        if prior is not None and confirms_resolution(texts[0], replying_to=prior.text):
            return AIMessage(content=WELCOME)
        question = asked_before(turns, len(turns) - 1)
        if question is not None and dialogue.asks_yes_no(question.text):  # only then is yes/no an answer
            offered = dialogue.offered_requests(question.text)
            if dialogue.is_yes(texts[0]) and offered:
                return self._handle(turns, offered[0], offered[1:], ctx, bound)
            if dialogue.is_yes(texts[0]) and "human" in question.text:
                return self._handoff(turns, texts, bound)
            if dialogue.is_no(texts[0]):
                return AIMessage(content=DECLINED_OFFER)
        if dialogue.asks_for_person(texts[0]):
            return self._handoff(turns, texts, bound)
        requests = dialogue.requests_in(texts[0])
        return self._handle(turns, requests[0], requests[1:], ctx, bound)

    def _handle(
        self, turns: list[BaseMessage], text: str, rest: list[str], ctx: Context, bound: BoundTools
    ) -> AIMessage:
        """One request (`text`); the others of the same message (`rest`) are listed back afterwards."""
        texts = human_texts(turns)
        intent = self._intent(turns, text, continues=not rest and text == texts[0].strip())
        if self._own_account(text, ctx, bound):
            return _call(turns, ACCOUNT_TOOL, {"user_id": ctx.principal["user_id"]})
        tool = intent.target if intent and intent.route == "tool" and intent.target in bound else None
        unavailable = intent is not None and intent.route == "tool" and intent.target not in bound
        guest = ctx.principal.get("role") == "guest"
        if guest and (unavailable or (tool is not None and _about_records(bound[tool]))):
            # no account tools here (a guest): the help center answers unless a record is named; else "sign in"
            found = None if _names_record(text) else answer(text, ctx.passages)
            reply = found.text if found else SIGN_IN
            return AIMessage(content=f"{reply} {dialogue.also_asked(rest)}" if rest else reply)
        general = intent is not None and intent.route != "article" and _general(text)
        if general and (tool is None or not self._use_tool(turns, tool, bound[tool], [text], ctx).tool_calls):
            # a question about how things work that no tool call can answer without a record to act on
            found = answer(text, ctx.passages)
            if found is not None:
                return AIMessage(content=f"{found.text} {dialogue.also_asked(rest)}" if rest else found.text)
        if intent is not None and intent.route == "handoff":
            return self._handoff(turns, texts, bound)
        if unavailable and TRANSFER_TOOL in bound:  # in a conversation (assist drafts bind no tools)
            return AIMessage(content=f"{NOT_HERE} {dialogue.also_asked(rest)}" if rest else NOT_HERE)
        if tool is not None:
            # a tool call's result lists `rest` back (see _remaining); a question for a value stands alone
            return self._use_tool(turns, tool, bound[tool], [text, *texts[1:]], ctx, bound=bound)
        prefer = intent.target if intent and intent.route == "article" else None
        found = answer(text, ctx.passages, prefer_doc=prefer)
        if found is None and rest:
            reply = "I couldn't find an answer to “" + text.strip(" ?.!") + "” in our help center."
        else:
            reply = found.text if found else NO_ANSWER
        return AIMessage(content=f"{reply} {dialogue.also_asked(rest)}" if rest else reply)

    @staticmethod
    def _own_account(text: str, ctx: Context, bound: BoundTools) -> bool:
        """A signed-in customer asks about their own saved data (and names no particular order)."""
        return (
            ctx.principal.get("role") == "customer"
            and bool(ctx.principal.get("user_id"))
            and ACCOUNT_TOOL in bound
            and extract.order_id(text) is None
            and dialogue.asks_about_own_account(text)
        )

    def _intent(self, turns: list[BaseMessage], text: str, *, continues: bool) -> Intent | None:
        """The request's intent; a short reply to our own question for a value (an order number, a reason)
        continues the task that question belongs to, unless it is plainly a new request of its own."""
        if self.classifier is None:
            return None
        prediction = self.classifier.predict(text)
        if not continues:
            return self._routed(prediction, text)
        humans = [i for i, m in enumerate(turns) if isinstance(m, HumanMessage)]
        own = self._routed(prediction, text)
        for position in range(len(humans) - 1, 0, -1):
            reply = turns[humans[position]].text
            if not (
                _asked_for_value(turns, humans[position]) and _answers_us(turns, humans[position], reply)
            ):
                break
            earlier_text = turns[humans[position - 1]].text
            earlier = self.classifier.predict(earlier_text)
            if own is not None and earlier.label != own.name and dialogue.is_request(reply):
                break  # e.g. "where is my order #W…?" after "Which order would you like to cancel?"
            prediction, text = earlier, earlier_text
        return self._routed(prediction, text)

    def _routed(self, prediction: Prediction, text: str) -> Intent | None:
        if prediction.score < MIN_SCORE or prediction.margin < MIN_MARGIN:
            return None
        intent = self.intents.get(prediction.label)
        if intent is not None and intent.route == "tool" and not self.domain.covers(text):
            return None  # out of scope (copilot/llm/domain.py): never a tool call
        return intent

    def _handoff(self, turns: list[BaseMessage], texts: list[str], bound: BoundTools) -> AIMessage:
        if TRANSFER_TOOL not in bound:
            return AIMessage(
                content="I can't transfer you from here, but our support team can be reached by email."
            )
        summary = "Customer asks: " + " / ".join(reversed([t.strip() for t in texts[:3]]))[:300]
        return _call(turns, TRANSFER_TOOL, {"summary": summary})

    def _use_tool(
        self, turns: list[BaseMessage], tool: str, schema: Mapping[str, Any], texts: list[str], ctx: Context,
        *, bound: BoundTools | None = None,
    ) -> AIMessage:  # fmt: skip
        properties: Mapping[str, Any] = schema.get("properties", {})
        summary = texts[0][:300]
        args = extract.extract_arguments(properties, texts, ctx.principal, summary)
        if tool in items.ITEM_TOOLS and "order_id" in args:
            step = items.Step(turns, tool, set(schema.get("required", [])), args, texts[:3], set(bound or ()))
            need = items.fill_from_order(step, ctx.principal.get("user_id", ""))
            if need is not None:
                return _call(turns, *need.lookup) if need.lookup else AIMessage(content=need.question or "")
        for required in schema.get("required", []):
            if required not in args:
                return AIMessage(content=ask_for(tool, required))
        return _call(turns, tool, args)


def _about_records(schema: Mapping[str, Any]) -> bool:
    """The tool acts on a customer's records (an account or an order)."""
    return bool({"user_id", "order_id"} & set(schema.get("properties", {})))


def _names_record(text: str) -> bool:
    """The text names a record: an order number, an item, an email, a payment method or an address."""
    values = (extract.ORDER_ID, extract.ITEM_ID, extract.EMAIL, extract.PAYMENT, extract.ADDRESS)
    return any(p.search(text) for p in values)


def _general(text: str) -> bool:
    """A how-does-it-work question that names no record."""
    return dialogue.asks_how_things_work(text) and not _names_record(text)


def _asked_for_value(turns: Sequence[BaseMessage], index: int) -> bool:
    """Our message before `index` asked for a value (not a yes/no question)."""
    question = asked_before(turns, index)
    return question is not None and not dialogue.asks_yes_no(question.text)


def _answers_us(turns: Sequence[BaseMessage], index: int, reply: str) -> bool:
    """A value, or a short choice among what we listed (items by name, where the money goes)."""
    question = asked_before(turns, index)
    chose = question is not None and items.asked_about_items_or_refund(question.text)
    return _slot_like(reply) or (chose and len(reply.split()) <= 8)


def _slot_like(text: str) -> bool:
    """A reply that is mostly a value (an order number, an email, a reason) rather than a new request."""
    stripped = text
    for pattern in (extract.ORDER_ID, extract.ITEM_ID, extract.EMAIL, extract.PAYMENT, extract.ZIP):
        stripped = pattern.sub(" ", stripped)
    stripped = extract.ADDRESS.sub(" ", stripped)
    has_value = stripped != text or extract.cancel_reason(text) is not None
    return len(re.findall(r"[A-Za-z]+", stripped)) <= (6 if has_value else 2)


def _last_order_lookup(
    turns: Sequence[BaseMessage], tail: Sequence[ToolMessage], bound: BoundTools
) -> AIMessage | None:
    """After the account details, "what's in my last order" needs that order: look it up."""
    humans = [m for m in turns if isinstance(m, HumanMessage)]
    if not tail or tail[-1].name != ACCOUNT_TOOL or ORDER_TOOL not in bound or not humans:
        return None
    if not dialogue.LAST_ORDER.search(humans[-1].text):
        return None
    try:
        orders = json.loads(tail[-1].text).get("result", {}).get("orders", [])
    except (ValueError, AttributeError):
        return None
    return _call(turns, ORDER_TOOL, {"order_id": str(orders[-1])}) if orders else None


def _awaits(message: ToolMessage) -> bool:
    """A preview waiting for the customer, or a hand-off: nothing else is offered meanwhile."""
    return "awaiting_confirmation" in message.text or message.name == TRANSFER_TOOL


def _remaining(turns: Sequence[BaseMessage]) -> list[str]:
    """Requests of the customer's last message (or of the list they said yes to) after the one just done."""
    humans = [i for i, m in enumerate(turns) if isinstance(m, HumanMessage)]
    if not humans:
        return []
    last = turns[humans[-1]].text
    question = asked_before(turns, humans[-1])
    if question is not None and dialogue.is_yes(last):
        return dialogue.offered_requests(question.text)[1:]
    return dialogue.requests_in(last)[1:]


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
