"""Shared fixtures for the model tests: the retail pack and an offline model with all its tools bound."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage, SystemMessage
from langchain_core.runnables import Runnable

from copilot.llm.offline import OfflineChatModel
from copilot.packs import Pack, load_pack
from copilot.settings import PROJECT_ROOT

CONTEXT = """You are Support Copilot.
<context>
principal: role=customer user_id=ethan_kim_8860 tenant=demo
<passage id="refund-policy#1" title="Refund policy">Refunds for returned items go back to the original payment method within 5-7 business days. Gift card refunds are added to the gift card balance immediately.</passage>
<passage id="shipping-options#2" title="Shipping options">We offer standard and express shipping. Express shipping delivers within 1-2 business days.</passage>
</context>"""


@pytest.fixture(scope="session")
def pack() -> Pack:
    return load_pack(PROJECT_ROOT / "tools" / "retail")


@pytest.fixture(scope="session")
def offline(pack: Pack) -> OfflineChatModel:
    return OfflineChatModel(
        intents=tuple(pack.intents), tools=tuple(t.spec for t in pack.tools), articles_dir=pack.articles_dir
    )


@pytest.fixture(scope="session")
def bound(offline: OfflineChatModel, pack: Pack) -> Runnable[LanguageModelInput, AIMessage]:
    return offline.bind_tools([t.spec.openai_schema() for t in pack.tools])


@pytest.fixture
def system() -> SystemMessage:
    return SystemMessage(content=CONTEXT)


def only_call(reply: AIMessage) -> dict[str, Any]:
    assert len(reply.tool_calls) == 1, reply
    call = reply.tool_calls[0]
    return {"name": call["name"], "args": call["args"]}
