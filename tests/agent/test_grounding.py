"""Grounding catches fabrication: invented facts (with or without a citation), invented numbers, and claims
of actions the gateway did not execute; grounded answers pass."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from copilot.agent.grounding import Evidence, coverage, numbers, problems
from copilot.agent.grounding_data import passage_cases, read_articles, record_cases, split
from copilot.llm.summaries import summarize
from copilot.settings import PROJECT_ROOT

REFUNDS = "Refunds go back to the original payment method within 5-7 business days."
SHIPPING = "Standard shipping takes 3 to 5 business days; express shipping takes 1 to 2 business days."
ORDER = json.dumps(
    {"order_id": "#W0000001", "status": "pending", "items": [{"name": "T-Shirt", "price": 44.2}]}
)


def evidence(
    results: tuple[str, ...] = (),
    executed: frozenset[str] = frozenset(),
    writes: frozenset[str] = frozenset(),
) -> Evidence:
    return Evidence({"refund-policy#1": REFUNDS, "shipping#1": SHIPPING}, results, executed, writes=writes)


def test_grounded_answers_pass() -> None:
    assert (
        problems(
            "Refunds go back to the original payment method within 5-7 business days [refund-policy#1].",
            evidence(),
        )
        == []
    )
    assert (
        problems("Order #W0000001 is pending. It contains T-Shirt. Anything else?", evidence((ORDER,))) == []
    )
    assert problems("Which order would you like to cancel?", evidence()) == []


def test_an_invented_fact_without_a_citation_is_caught() -> None:
    found = problems("We also give a lifetime warranty on every product we sell.", evidence())
    assert found and "not supported" in found[0]


def test_an_invented_fact_next_to_a_valid_citation_is_caught() -> None:
    text = "Refunds go back to the original payment method [refund-policy#1]. Every refund includes a bonus voucher for your next purchase [refund-policy#1]."
    found = problems(text, evidence())
    assert len(found) == 1 and "bonus voucher" in found[0] and "passages it cites" in found[0]


def test_invented_numbers_are_caught() -> None:
    found = problems("Order #W0000001 is pending and costs $59.99.", evidence((ORDER,)))
    assert found and "59.99" in found[0]
    assert problems("It costs $44.20.", evidence((ORDER,))) == []  # the same amount, written differently


def test_claiming_an_action_that_did_not_execute_is_caught() -> None:
    claim = "Done! Your order #W0000001 is now cancelled and refunded."
    failed = problems(claim, evidence((ORDER,), executed=frozenset({"get_order_details"})))
    assert failed and "no such change was executed" in failed[0]
    assert (
        problems(
            claim,
            evidence((ORDER,), frozenset({"cancel_pending_order"}), frozenset({"cancel_pending_order"})),
        )
        == []
    )
    returned = problems(
        "I've returned the items.",
        evidence((ORDER,), frozenset({"cancel_pending_order"}), frozenset({"cancel_pending_order"})),
    )
    assert returned  # a different kind of change than the one executed
    assert problems("I haven't changed anything.", evidence()) == []


def test_numbers_are_values() -> None:
    assert numbers("$1,126.04 and 180.10, order #W0000001") >= {"1126.04", "180.1"}


@given(st.sampled_from([REFUNDS, SHIPPING]), st.integers(0, 3))
def test_a_sentence_taken_from_the_evidence_is_supported(passage: str, cut: int) -> None:
    words = passage.split()
    sentence = " ".join(words[cut:])
    assert coverage(sentence, [passage]) == 1.0
    assert problems(sentence, evidence()) == []


def test_calibrated_threshold_separates_held_out_cases(shared_data: Path) -> None:
    """The odd-numbered articles and τ²'s orders were not used to choose SUPPORT."""
    from bench.calibrate_grounding import balanced_accuracy
    from copilot.agent.grounding import SUPPORT

    articles = split(read_articles(PROJECT_ROOT / "tools" / "retail" / "articles"), 1)
    orders = list(json.loads((shared_data / "tau2-retail" / "db.json").read_text())["orders"].values())[:300]
    cases = [*passage_cases(articles, articles), *record_cases(orders)]
    assert balanced_accuracy(cases, SUPPORT) >= 0.9


WORDS = ("change", "supervisor's", "approval", "limit", "outcome", "order", "amount", "waits", "appear")


@given(st.lists(st.sampled_from(WORDS), min_size=3, max_size=12))
def test_the_offline_models_waiting_for_approval_answer_is_grounded_in_the_gateways_result(
    words: list[str],
) -> None:
    """Regression: the summary of an approval_pending result used its own words ("Because of the amount, a
    supervisor must approve it…"); grounding rejected it, the repair re-ran the request and left a second,
    pending preview beside the approved one. The summary restates the gateway's message, so it is grounded."""
    message = " ".join(words).capitalize() + "."
    body = json.dumps({"ok": False, "error": {"code": "approval_pending", "message": message}})
    text = summarize("cancel_pending_order", body, "write")
    assert message in text
    assert problems(text, Evidence({}, (body,), frozenset())) == []


def test_a_citation_after_the_full_stop_cites_that_sentence() -> None:
    """The offline composer (and many models) write "… days. [id]": the marker belongs to the sentence
    before it, not to the next one (which it used to make unsupported by "the passages it cites")."""
    text = f"{REFUNDS} [refund-policy#1] Shipping takes 3 to 5 business days."
    assert problems(text, evidence()) == []
    invented = f"{REFUNDS} [refund-policy#1] Every refund includes a bonus voucher for your next purchase."
    found = problems(invented, evidence())
    assert len(found) == 1 and "bonus voucher" in found[0]


def test_quoting_the_customer_back_is_not_a_claim() -> None:
    said = ("How do returns work, and how long do refunds take?",)
    base = Evidence({"refund-policy#1": REFUNDS}, (), frozenset(), said=said)
    text = f"{REFUNDS} [refund-policy#1] You also asked: “how long do refunds take?”. Shall I go on?"
    assert problems(text, base) == []
    made_up = "You also asked: “whether every refund includes a bonus voucher for next time”."
    assert problems(made_up, base)  # a quote the customer never said is checked like any sentence
