"""OfflineChatModel: a deterministic LangChain chat model that needs no network (COPILOT_MODEL=offline)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage
from pydantic import ConfigDict, PrivateAttr

from copilot.gateway.spec import ToolSpec
from copilot.llm.chunks import tool_schemas
from copilot.llm.policy import Policy
from copilot.llm.replying import ReplyingChatModel
from copilot.packs import Intent

OFFLINE_NAME = "copilot-offline"
"""How the offline model names itself (usage, metrics, traces and audit rows: copilot-offline:copilot-offline)."""


class OfflineChatModel(ReplyingChatModel):
    """Routes by intent (trained on the pack's examples), fills tool arguments from the conversation and
    the principal line of <context>, asks for what is missing, answers extractively with [chunk-id]
    citations, and summarises tool results. Only tools bound with `bind_tools` are ever called."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    intents: Sequence[Intent] = ()
    tools: Sequence[ToolSpec] = ()
    articles_dir: Path | None = None
    """The pack's help center: the intent classifier reads term rarity from it too."""
    _policy: Policy = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        side_effects = {spec.name: spec.side_effect for spec in self.tools}
        self._policy = Policy(self.intents, side_effects, self.articles_dir)

    @property
    def _llm_type(self) -> str:
        return OFFLINE_NAME

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"intents": len(self.intents), "tools": len(self.tools)}

    def reply(self, messages: Sequence[BaseMessage], tools: Sequence[Any] | None = None) -> AIMessage:
        """The whole answer for `messages`, with `tools` (OpenAI-format) bound."""
        return self._policy.respond(messages, tool_schemas(tools))

    def _reply(self, messages: list[BaseMessage], tools: Sequence[Any] | None) -> AIMessage:
        return self.reply(messages, tools)
