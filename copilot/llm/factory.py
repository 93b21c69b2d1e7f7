"""Provider selection: COPILOT_MODEL = "offline" or "provider:model" (openai, anthropic, or any provider
LangChain's init_chat_model knows), plus COPILOT_MODEL_FALLBACKS (each "provider:model[@base_url]").
Provider packages are optional extras, imported lazily. Every hosted model gets our timeouts, max tokens,
temperature and `stream_usage=True` (usage on streamed messages); the SDKs' own retries are off, because the
model runtime (copilot/llm/calls.py) retries, honouring Retry-After, and then falls back."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel

from copilot.errors import CopilotError, ErrorCode
from copilot.llm.offline import OfflineChatModel
from copilot.packs import Pack
from copilot.settings import Settings

_PROVIDERS = {
    "openai": ("langchain_openai", "ChatOpenAI", "openai", "OPENAI_API_KEY"),
    "anthropic": ("langchain_anthropic", "ChatAnthropic", "anthropic", "ANTHROPIC_API_KEY"),
}
KEYLESS = "not-needed"
"""Sent to a local server that takes no key (the SDKs refuse to start without one)."""


@dataclass(frozen=True, slots=True)
class ModelSpec:
    provider: str
    model: str
    base_url: str | None

    @property
    def label(self) -> str:
        return f"{self.provider}:{self.model}"


def parse_spec(spec: str, base_url: str | None = None) -> ModelSpec:
    """'provider:model' (optionally '@base_url'); CopilotError(configuration) when not understood."""
    text = spec.strip()
    head, _, url = text.partition("@")
    provider, _, model = head.partition(":")
    if not model or not provider:
        raise CopilotError(
            ErrorCode.CONFIGURATION,
            f"Model {text!r} is not understood; use 'offline' or 'provider:model', e.g. openai:gpt-4o-mini.",
        )
    return ModelSpec(provider.strip(), model.strip(), url.strip() or base_url)


def _api_key(spec: ModelSpec) -> str | None:
    """The key for a hosted provider (a clear start-up error without one); a placeholder for a base URL."""
    env = _PROVIDERS[spec.provider][3]
    key = os.environ.get(env)
    if key or spec.base_url:
        return key or KEYLESS
    raise CopilotError(
        ErrorCode.CONFIGURATION,
        f"{spec.label} runs on the provider's hosted API, which needs {env}: set it, or set "
        "COPILOT_MODEL_BASE_URL to a local server (no key needed for a keyless server).",
    )


def _options(spec: ModelSpec, settings: Settings) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"model": spec.model, "api_key": _api_key(spec), "max_retries": 0}
    if spec.base_url:
        kwargs["base_url"] = spec.base_url
    if settings.model_temperature is not None:
        kwargs["temperature"] = settings.model_temperature
    if spec.provider == "openai":
        import httpx

        kwargs["timeout"] = timeout = httpx.Timeout(
            settings.model_read_timeout, connect=settings.model_connect_timeout
        )
        kwargs["http_async_client"] = httpx.AsyncClient(timeout=timeout)  # ours, closed with the system
        kwargs["stream_usage"] = True
        if settings.model_max_tokens:
            kwargs["max_tokens"] = settings.model_max_tokens
    else:
        kwargs["default_request_timeout"] = settings.model_read_timeout
        kwargs["stream_usage"] = True
        kwargs["max_tokens"] = settings.model_max_tokens or 1024
    return kwargs


def _from_package(spec: ModelSpec, settings: Settings) -> BaseChatModel:
    module_name, class_name, extra, _ = _PROVIDERS[spec.provider]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise CopilotError(
            ErrorCode.CONFIGURATION,
            f"COPILOT_MODEL uses {spec.provider!r} but {module_name} is not installed; "
            f"run: pip install 'support-copilot[{extra}]'",
        ) from exc
    chat: BaseChatModel = getattr(module, class_name)(**_options(spec, settings))
    return chat


def _from_init_chat_model(spec: ModelSpec) -> BaseChatModel:
    try:
        module = importlib.import_module("langchain.chat_models")
    except ImportError as exc:
        raise CopilotError(
            ErrorCode.CONFIGURATION,
            f"Unknown model provider {spec.provider!r}; use 'offline', 'openai:<model>' or 'anthropic:<model>' "
            "(or install langchain to use any provider init_chat_model supports).",
        ) from exc
    kwargs: dict[str, Any] = {"model_provider": spec.provider}
    if spec.base_url:
        kwargs["base_url"] = spec.base_url
    try:
        chat: BaseChatModel = module.init_chat_model(spec.model, **kwargs)
    except (ImportError, ValueError) as exc:
        raise CopilotError(ErrorCode.CONFIGURATION, f"Cannot create model {spec.label}: {exc}") from exc
    return chat


def build_model(spec_text: str, settings: Settings, pack: Pack, base_url: str | None = None) -> BaseChatModel:
    if spec_text.strip() == "offline":
        return OfflineChatModel(
            intents=tuple(pack.intents),
            tools=tuple(t.spec for t in pack.tools),
            articles_dir=pack.articles_dir,
        )
    spec = parse_spec(spec_text, base_url)
    if spec.provider in _PROVIDERS:
        return _from_package(spec, settings)
    return _from_init_chat_model(spec)


def make_chat_model(settings: Settings, pack: Pack) -> BaseChatModel:
    """COPILOT_MODEL (with COPILOT_MODEL_BASE_URL)."""
    return build_model(settings.model, settings, pack, settings.model_base_url)


def make_fallbacks(settings: Settings, pack: Pack) -> list[BaseChatModel]:
    """COPILOT_MODEL_FALLBACKS, in order (each on its own '@base_url', else the provider's hosted API)."""
    return [build_model(spec, settings, pack) for spec in settings.fallback_models]


async def aclose_models(models: list[BaseChatModel]) -> None:
    """Close the connection pools we gave the models (langchain-openai's default one is process-wide and
    bound to the first event loop that used it)."""
    for model in models:
        client = getattr(model, "http_async_client", None)
        if client is not None and callable(getattr(client, "aclose", None)):
            await client.aclose()


def check_model_settings(settings: Settings) -> None:
    """Start-up check without building anything: specs parse and hosted providers have their key."""
    for text, base_url in [
        (settings.model, settings.model_base_url),
        *((f, None) for f in settings.fallback_models),
    ]:
        if text.strip() != "offline":
            spec = parse_spec(text, base_url)
            if spec.provider in _PROVIDERS:
                _api_key(spec)
