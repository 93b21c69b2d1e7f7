from __future__ import annotations

import importlib.util
import sys

import pytest

from copilot.errors import CopilotError, ErrorCode
from copilot.llm.factory import make_chat_model
from copilot.llm.offline import OfflineChatModel
from copilot.packs import Pack
from copilot.settings import Settings


def test_offline_is_the_default(pack: Pack) -> None:
    model = make_chat_model(Settings(model="offline"), pack)
    assert isinstance(model, OfflineChatModel) and len(model.intents) == len(pack.intents)


def test_malformed_model_spec_is_a_configuration_error(pack: Pack) -> None:
    with pytest.raises(CopilotError) as caught:
        make_chat_model(Settings(model="gpt-4o"), pack)
    assert caught.value.code is ErrorCode.CONFIGURATION


def test_missing_extra_says_what_to_install(pack: Pack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        sys.modules, "langchain_openai", None
    )  # None in sys.modules: the import raises ImportError
    with pytest.raises(CopilotError, match=r"support-copilot\[openai\]"):
        make_chat_model(Settings(model="openai:gpt-4o-mini"), pack)


def test_unknown_provider_is_a_configuration_error(pack: Pack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        sys.modules, "langchain.chat_models", None
    )  # without langchain, whether or not it is here
    with pytest.raises(CopilotError, match="Unknown model provider"):
        make_chat_model(Settings(model="nosuch:model"), pack)


def test_fallback_specs_may_name_their_own_server(pack: Pack, monkeypatch: pytest.MonkeyPatch) -> None:
    from copilot.llm.factory import check_model_settings, make_fallbacks, parse_spec

    spec = parse_spec("openai:qwen @ http://127.0.0.1:9/v1")
    assert (spec.provider, spec.model, spec.base_url) == ("openai", "qwen", "http://127.0.0.1:9/v1")
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    hosted = Settings(model="offline", model_fallbacks="anthropic:claude-haiku")
    with pytest.raises(CopilotError, match="ANTHROPIC_API_KEY"):
        check_model_settings(hosted)
    if importlib.util.find_spec("langchain_openai") is not None:
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        (local,) = make_fallbacks(Settings(model_fallbacks="openai:qwen@http://127.0.0.1:9/v1"), pack)
        assert getattr(local, "stream_usage", None) is True and getattr(local, "max_retries", None) == 0
