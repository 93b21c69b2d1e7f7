"""`confirms_resolution`: thanks or "that solved it" with nothing more to ask; reservations, new requests, a
human, and a yes to our offer are not."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable

from copilot.llm.policy import WELCOME
from copilot.llm.resolution import confirms_resolution

Model = Runnable[LanguageModelInput, AIMessage]

CONFIRMING = [
    "thanks!", "Thank you so much, that helped", "perfect, got it", "that solved it, cheers",
    "Great, thanks a lot!", "ok that works thank you", "You've been very helpful", "all sorted now, ty",
    "brilliant, that fixed my problem", "that answers my question, thanks", "ok, makes sense. thanks",
]  # fmt: skip
NOT_CONFIRMING = [
    "thanks but it still doesn't work", "that didn't help", "no thanks", "not helpful", "Thanks for nothing",
    "this is useless", "great, another delay", "thanks, can you also cancel order #W0000002?",
    "Thank you. Please cancel my order", "thanks, I want to return it too", "talk to a human please",
    "how do I get a refund?", "Where is my order?", "hello", "",
]  # fmt: skip
RESERVATIONS = [
    "but it still does not work",
    "however the refund never arrived",
    "it didn't help",
    "it is wrong",
]
REQUESTS = ["Can you also cancel order #W0000001?", "Please change my address", "I want to return the lamp",
            "how do I reset my password?", "let me talk to a human"]  # fmt: skip


@pytest.mark.parametrize("text", CONFIRMING)
def test_confirms(text: str) -> None:
    assert confirms_resolution(text)
    assert confirms_resolution(text, replying_to="Your order ships in 3 days.")


@pytest.mark.parametrize("text", NOT_CONFIRMING)
def test_does_not_confirm(text: str) -> None:
    assert not confirms_resolution(text)


def test_a_yes_to_our_offer_accepts_the_offer() -> None:
    assert not confirms_resolution(
        "yes, that would be great, thanks", replying_to="Shall I cancel it for you?"
    )
    assert confirms_resolution("great, thanks", replying_to="Your refund was issued to your card.")


@given(
    st.sampled_from(CONFIRMING), st.sampled_from(RESERVATIONS + REQUESTS), st.sampled_from([" ", ", ", ". "])
)
def test_a_reservation_or_a_new_request_undoes_the_thanks(thanks: str, more: str, joint: str) -> None:
    assert not confirms_resolution(f"{thanks}{joint}{more}")
    assert not confirms_resolution(f"{more}{joint}{thanks}")


def test_no_support_request_reads_as_a_thank_you(shared_data: Path) -> None:
    """Bitext's 3,560 customer requests (27 intents, including reviews and complaints): none confirms."""
    with (shared_data / "bitext-support" / "intents_dev.csv").open(encoding="utf-8") as handle:
        texts = [row["instruction"] for row in csv.DictReader(handle)]
    assert len(texts) > 3000
    assert [t for t in texts if confirms_resolution(t)] == []


def test_the_offline_model_takes_thanks_as_thanks(bound: Model, system: SystemMessage) -> None:
    """After an answer, "thanks, that helped" gets a you're-welcome (no help-center search, no offer of a
    human that a following "perfect, thank you" would accept); a thanks that is not one is still routed."""
    asked = HumanMessage("How fast is express shipping?")
    answered = bound.invoke([system, asked])
    assert "1-2 business days" in answered.text
    thanked = bound.invoke([system, asked, answered, HumanMessage("thanks, that helped!")])
    assert thanked.text == WELCOME and not thanked.tool_calls
    again = bound.invoke(
        [system, asked, answered, HumanMessage("thanks"), thanked, HumanMessage("perfect, thank you")]
    )
    assert again.text == WELCOME
    more = bound.invoke([system, asked, answered, HumanMessage("thanks, and where is my order W2611340?")])
    assert more.tool_calls and more.tool_calls[0]["name"] == "get_order_details"
    first = bound.invoke(
        [system, HumanMessage("thanks")]
    )  # nothing answered yet: not a thank-you for an answer
    assert first.text != WELCOME
