"""Account questions the tools can answer are answered with the tools: a signed-in customer's saved payment
methods, balances and orders come from get_user_details (never from the help center), "my last order" is then
looked up; a guest, who has no account tools, gets the help center."""

from __future__ import annotations

import json

import pytest
from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.runnables import Runnable

from tests.llm.conftest import CONTEXT, only_call

Model = Runnable[LanguageModelInput, AIMessage]
USER = {
    "user_id": "ethan_kim_8860",
    "address": {"address1": "1 Main St", "address2": "", "city": "Austin", "state": "TX", "zip": "78701",
                "country": "USA"},
    "payment_methods": {
        "credit_card_1": {"source": "credit_card", "id": "credit_card_1", "brand": "visa", "last_four": "4242"},
        "gift_card_7": {"source": "gift_card", "id": "gift_card_7", "balance": 42.5},
    },
    "orders": ["#W1000001", "#W1000002"],
}  # fmt: skip


@pytest.mark.parametrize(
    "question",
    ["what payment methods do I have?", "which cards have I got saved", "what's my gift card balance?",
     "show me my orders", "what's in my last order?"],
)  # fmt: skip
def test_a_customer_asking_about_their_account_gets_the_tool(
    bound: Model, system: SystemMessage, question: str
) -> None:
    call = only_call(bound.invoke([system, HumanMessage(question)]))
    assert call == {"name": "get_user_details", "args": {"user_id": "ethan_kim_8860"}}


def test_the_account_summary_names_methods_balances_and_orders(bound: Model, system: SystemMessage) -> None:
    ask = HumanMessage("what payment methods do I have?")
    call = bound.invoke([system, ask])
    result = ToolMessage(json.dumps({"ok": True, "result": USER}), tool_call_id=str(call.tool_calls[0]["id"]),
                         name="get_user_details")  # fmt: skip
    text = bound.invoke([system, ask, call, result]).text
    assert "Visa card ending in 4242" in text and "gift card ending in 7 with a balance of $42.50" in text
    assert "balance of $42.50" in text and "#W1000001, #W1000002" in text and "{" not in text


def test_my_last_order_is_looked_up_after_the_account(bound: Model, system: SystemMessage) -> None:
    ask = HumanMessage("what's in my last order?")
    call = bound.invoke([system, ask])
    result = ToolMessage(json.dumps({"ok": True, "result": USER}), tool_call_id=str(call.tool_calls[0]["id"]),
                         name="get_user_details")  # fmt: skip
    follow = bound.invoke([system, ask, call, result])
    assert only_call(follow) == {"name": "get_order_details", "args": {"order_id": "#W1000002"}}


def test_a_guest_gets_the_help_center_not_account_tools(bound: Model) -> None:
    guest = SystemMessage(
        CONTEXT.replace("role=customer user_id=ethan_kim_8860", "role=guest user_id=guest_1")
    )
    reply = bound.invoke([guest, HumanMessage("what payment methods do I have?")])
    assert not any(c["name"] == "get_user_details" for c in reply.tool_calls)


def test_a_guest_naming_an_order_is_asked_to_sign_in_and_no_tool_runs(bound: Model) -> None:
    guest = SystemMessage(
        CONTEXT.replace("role=customer user_id=ethan_kim_8860", "role=guest user_id=guest_1")
    )
    reply = bound.invoke([guest, HumanMessage("please cancel order #W2611340, I ordered it by mistake")])
    assert reply.tool_calls == [] and "sign in" in reply.text
    general = bound.invoke([guest, HumanMessage("how fast does express shipping deliver my parcel")])
    assert general.tool_calls == [] and "[shipping-options#2]" in general.text
