"""History summaries: when the conversation no longer fits the model's context window, the messages that fall
out are summarised instead of only dropped — by the model (a call without tools, through the same runtime
policy, never streamed), or extractively (the customer's requests, the assistant's answers, the tools it
called) when the offline model runs or the model's summary fails. The summary lives in state (`summary`):
its text, the id of the first message it does not cover (those before are never sent again) and the latest
result of every tool that fell out, carried verbatim (truncated). The current turn always stays whole (its
tool calls, their results and any pending preview), see hygiene.fit."""

from __future__ import annotations

import json
import logging
import re
from collections import deque
from collections.abc import Sequence
from typing import Any, Literal, TypedDict

from langchain_core.messages import (
    AIMessage,
    AnyMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.runnables import RunnableConfig
from langgraph.constants import TAG_NOSTREAM

from copilot.llm.calls import Bound, CallPolicy, call_chain
from copilot.llm.context import VALIDATOR
from copilot.llm.errors import ModelError

log = logging.getLogger(__name__)
SummaryMode = Literal["off", "extractive", "model"]
CARRIED = 3
"""At most this many tools' latest results are carried."""
RESULTS_SHARE = 0.6
"""Of the summary's room, what the carried results may take (the rest is the summary's text)."""
LINE_CHARS = 200
INSTRUCTIONS = (
    "Summarise this earlier part of a customer-support conversation for the assistant who continues it. "
    "Keep every fact that may matter later: the customer's requests, ids, names, amounts, what was looked up, "
    "changed, declined or left open. Plain sentences, no greeting, at most {words} words."
)


class HistorySummary(TypedDict):
    text: str
    upto: str
    """The id of the first message the summary does not cover."""
    results: list[tuple[str, str]]
    """(tool, its latest result) for tools whose results fell out, oldest first."""


def uncovered(messages: Sequence[AnyMessage], summary: HistorySummary | None) -> list[AnyMessage]:
    """The messages the summary does not cover (all of them without one)."""
    if summary is None:
        return list(messages)
    index = next((i for i, m in enumerate(messages) if m.id == summary["upto"]), None)
    return list(messages) if index is None else list(messages[index:])


def _sentence(text: str) -> str:
    first = re.split(r"(?<=[.!?])\s+", " ".join(text.split()), maxsplit=1)[0]
    return first if len(first) <= LINE_CHARS else first[: LINE_CHARS - 1] + "…"


def transcript_lines(messages: Sequence[BaseMessage]) -> list[str]:
    lines = []
    for message in messages:
        if isinstance(message, HumanMessage) and message.name != VALIDATOR and message.text.strip():
            lines.append(f"Customer: {_sentence(message.text)}")
        elif isinstance(message, AIMessage):
            if message.tool_calls:
                lines.append("Assistant used: " + ", ".join(c["name"] for c in message.tool_calls))
            if message.text.strip():
                lines.append(f"Assistant: {_sentence(message.text)}")
    return lines


def extractive(previous: str | None, dropped: Sequence[BaseMessage], limit_chars: int) -> str:
    """The previous summary's lines and one line per customer message, answer and tool use: the first line
    (how the conversation opened) and then the newest that fit in `limit_chars` ("…" marks the gap)."""
    lines = [*(previous.split("\n") if previous else []), *transcript_lines(dropped)]
    lines = [line for line in lines if line != "…"]
    if not lines:
        return ""
    first, kept = lines[0][:limit_chars], []
    size = len(first)
    for line in reversed(lines[1:]):
        if size + len(line) + 3 > limit_chars:
            kept.append("…")
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join([first, *reversed(kept)])


def compact(text: str, limit: int) -> str:
    """A tool result within `limit` characters: a JSON result as its scalar fields breadth first
    (`order_id: #W…; status: pending; items.0.name: …`), so the top-level facts survive the cut."""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict | list):
        fields: list[str] = []
        queue: deque[tuple[str, Any]] = deque([("", data)])
        while queue:
            path, value = queue.popleft()
            if isinstance(value, dict | list):
                pairs = value.items() if isinstance(value, dict) else enumerate(value)
                queue.extend((f"{path}.{key}" if path else str(key), item) for key, item in pairs)
            else:
                fields.append(f"{path}: {value}")
        text = "; ".join(fields)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def carried(
    previous: list[tuple[str, str]], dropped: Sequence[BaseMessage], limit: int
) -> list[tuple[str, str]]:
    """The latest result of each tool (each within `limit` characters), the dropped messages' over the
    previous ones; the newest CARRIED."""
    latest = {tool: text for tool, text in previous}
    for message in dropped:
        if isinstance(message, ToolMessage):
            latest.pop(str(message.name), None)
            latest[str(message.name)] = compact(message.text, limit)
    return list(latest.items())[-CARRIED:]


async def _by_model(
    chain: Sequence[Bound], policy: CallPolicy, previous: str | None, dropped: Sequence[BaseMessage], *,
    limit_chars: int, config: RunnableConfig,
) -> str:  # fmt: skip
    body = "\n".join([*([f"Summary so far: {previous}"] if previous else []), *transcript_lines(dropped)])
    prompt = [
        SystemMessage(INSTRUCTIONS.format(words=max(20, limit_chars // 7))),
        HumanMessage(body[-limit_chars * 3 :]),
    ]
    quiet: RunnableConfig = {
        **config,
        "tags": [*config.get("tags", []), TAG_NOSTREAM],
    }  # never a message.delta
    reply = await call_chain(chain, prompt, quiet, policy)
    return reply.text.strip()[:limit_chars]


async def summarise(
    mode: SummaryMode, previous: HistorySummary | None, dropped: Sequence[AnyMessage], *, upto: str,
    limit_tokens: int, chain: Sequence[Bound], policy: CallPolicy, config: RunnableConfig,
) -> HistorySummary:  # fmt: skip
    """The summary that covers `previous` and `dropped`, within about `limit_tokens`."""
    each = max(120, int(limit_tokens * 4 * RESULTS_SHARE) // CARRIED)
    results = carried(previous["results"] if previous else [], dropped, each)
    budget = max(200, limit_tokens * 4 - sum(len(tool) + len(text) + 4 for tool, text in results))
    before = previous["text"] if previous else None
    text = ""
    if mode == "model":
        try:
            text = await _by_model(chain, policy, before, dropped, limit_chars=budget, config=config)
        except ModelError as error:  # a summary is best effort: the extractive one instead
            log.warning(
                "history summary by the model failed (%s); using the extractive one", error.code.value
            )
    return HistorySummary(text=text or extractive(before, dropped, budget), upto=upto, results=results)


def summary_tokens(summary: HistorySummary | None) -> int:
    if summary is None:
        return 0
    return count_tokens_approximately([summary["text"], *(f"{t}: {r}" for t, r in summary["results"])])
