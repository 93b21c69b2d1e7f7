"""OfflineChatModel: a deterministic LangChain chat model that needs no network (COPILOT_MODEL=offline)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, PrivateAttr

from copilot.gateway.spec import ToolSpec
from copilot.llm.chunks import stream_chunks, tool_schemas
from copilot.llm.policy import Policy
from copilot.packs import Intent


class OfflineChatModel(BaseChatModel):
    """Routes by intent (trained on the pack's examples), fills tool arguments from the conversation and
    the principal line of <context>, asks for what is missing, answers extractively with [chunk-id]
    citations, and summarises tool results. Only tools bound with `bind_tools` are ever called."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    intents: Sequence[Intent] = ()
    tools: Sequence[ToolSpec] = ()
    _policy: Policy = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        side_effects = {spec.name: spec.side_effect for spec in self.tools}
        self._policy = Policy(self.intents, side_effects)

    @property
    def _llm_type(self) -> str:
        return "copilot-offline"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"intents": len(self.intents), "tools": len(self.tools)}

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

    def reply(self, messages: Sequence[BaseMessage], tools: Sequence[Any] | None = None) -> AIMessage:
        """The whole answer for `messages`, with `tools` (OpenAI-format) bound."""
        return self._policy.respond(messages, tool_schemas(tools))

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self.reply(messages, kwargs.get("tools")))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._generate(messages, stop, None, **kwargs)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for chunk in stream_chunks(self.reply(messages, kwargs.get("tools"))):
            if run_manager is not None:
                run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        for chunk in stream_chunks(self.reply(messages, kwargs.get("tools"))):
            if run_manager is not None:
                await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk
