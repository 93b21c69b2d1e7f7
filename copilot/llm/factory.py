"""Provider selection: COPILOT_MODEL = "offline" or "provider:model" (openai, anthropic, or any provider
LangChain's init_chat_model knows). Provider packages are optional extras, imported lazily."""

from __future__ import annotations

import importlib
from typing import Any

from langchain_core.language_models import BaseChatModel

from copilot.errors import CopilotError, ErrorCode
from copilot.llm.offline import OfflineChatModel
from copilot.packs import Pack
from copilot.settings import Settings

_PROVIDERS = {
    "openai": ("langchain_openai", "ChatOpenAI", "openai"),
    "anthropic": ("langchain_anthropic", "ChatAnthropic", "anthropic"),
}


def make_chat_model(settings: Settings, pack: Pack) -> BaseChatModel:
    spec = settings.model.strip()
    if spec == "offline":
        return OfflineChatModel(intents=tuple(pack.intents), tools=tuple(t.spec for t in pack.tools))
    provider, _, model = spec.partition(":")
    if not model:
        raise CopilotError(
            ErrorCode.CONFIGURATION,
            f"COPILOT_MODEL={spec!r} is not understood; use 'offline' or 'provider:model', e.g. openai:gpt-4o-mini.",
        )
    if provider in _PROVIDERS:
        return _from_package(provider, model, settings)
    return _from_init_chat_model(provider, model, settings)


def _from_package(provider: str, model: str, settings: Settings) -> BaseChatModel:
    module_name, class_name, extra = _PROVIDERS[provider]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise CopilotError(
            ErrorCode.CONFIGURATION,
            f"COPILOT_MODEL uses {provider!r} but {module_name} is not installed; "
            f"run: pip install 'support-copilot[{extra}]'",
        ) from exc
    kwargs: dict[str, Any] = {"model": model}
    if settings.model_base_url:
        kwargs["base_url"] = settings.model_base_url
    chat: BaseChatModel = getattr(module, class_name)(**kwargs)
    return chat


def _from_init_chat_model(provider: str, model: str, settings: Settings) -> BaseChatModel:
    try:
        module = importlib.import_module("langchain.chat_models")
    except ImportError as exc:
        raise CopilotError(
            ErrorCode.CONFIGURATION,
            f"Unknown model provider {provider!r}; use 'offline', 'openai:<model>' or 'anthropic:<model>' "
            "(or install langchain to use any provider init_chat_model supports).",
        ) from exc
    kwargs: dict[str, Any] = {"model_provider": provider}
    if settings.model_base_url:
        kwargs["base_url"] = settings.model_base_url
    try:
        chat: BaseChatModel = module.init_chat_model(model, **kwargs)
    except (ImportError, ValueError) as exc:
        raise CopilotError(ErrorCode.CONFIGURATION, f"Cannot create model {provider}:{model}: {exc}") from exc
    return chat
