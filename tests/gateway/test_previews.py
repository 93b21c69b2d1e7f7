"""Previews for people: every retail write tool's preview, through the real gateway on the demo store, reads as
plain sentences (what changes, amounts, where the money goes, when) — no ids-only lines, raw JSON or counters;
over-limit requests carry the same sentences into the approvals inbox; the generic renderer never leaks
structure."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from copilot.gateway.casbin_authorizer import CasbinAuthorizer
from copilot.gateway.describe import generic
from copilot.gateway.gateway import Gateway
from copilot.gateway.result import FieldChange
from copilot.gateway.sandbox import Run
from copilot.handoff.approvals import ApprovalStore
from copilot.settings import PROJECT_ROOT
from copilot.store.documents import DocumentStore
from tests.databases import fresh_engine
from tests.gateway.retail import AGENT, ALEX, SAM, retail_pack, seed_small

LEAKS = re.compile(r"[{}\[\]]|undefined|\bnull\b|\bNone\b|\d+ entr(y|ies)|payment_history|_id\b")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    with fresh_engine("sqlite", tmp_path) as engine:
        seed_small(engine)
        yield engine


def _gateway(engine: Engine) -> Gateway:
    authorizer = CasbinAuthorizer.from_dir(PROJECT_ROOT / "policies")
    return Gateway(engine, retail_pack(), authorizer, approvals=ApprovalStore(engine))


def _items(engine: Engine, order_id: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        order = DocumentStore(conn, "demo").get("order", order_id)
        assert order is not None
        return list(order["items"])


def _other_option(engine: Engine, line: dict[str, Any]) -> str:
    with engine.connect() as conn:
        product = DocumentStore(conn, "demo").get("product", line["product_id"])
    assert product is not None
    return next(
        str(v["item_id"])
        for v in product["variants"].values()
        if v["available"] and v["item_id"] != line["item_id"]
    )


ADDRESS = {"address1": "12 Oak Ave", "address2": "Apt 4", "city": "Austin", "state": "TX",
           "country": "USA", "zip": "78701"}  # fmt: skip


def _cases(engine: Engine) -> dict[str, tuple[Any, dict[str, Any], list[str]]]:
    pending, delivered = _items(engine, "#W0000001"), _items(engine, "#W0000002")
    swap = {"item_ids": [pending[0]["item_id"]], "new_item_ids": [_other_option(engine, pending[0])]}
    exchange = {"item_ids": [delivered[0]["item_id"]], "new_item_ids": [_other_option(engine, delivered[0])]}
    return {
        "cancel_pending_order": (ALEX, {"order_id": "#W0000001", "reason": "ordered by mistake"},
                                 ["Cancel order #W0000001", "T-Shirt", "Visa card ending in 4242",
                                  "within 5-7 business days"]),
        "modify_pending_order_address": (ALEX, {"order_id": "#W0000001", **ADDRESS},
                                         ["12 Oak Ave, Apt 4, Austin, TX 78701, USA", "1 Demo Plaza"]),
        "modify_pending_order_payment": (SAM, {"order_id": "#W0000004", "payment_method_id": "credit_card_0000002"},
                                         ["Mastercard card ending in 5100", "gift card ending in 0002", "right away"]),
        "modify_pending_order_items": (ALEX, {"order_id": "#W0000001", **swap, "payment_method_id": "gift_card_0000001"},
                                       ["In order #W0000001, change T-Shirt (", "gift card ending in 0001"]),
        "return_delivered_order_items": (ALEX, {"order_id": "#W0000002", "item_ids": [delivered[1]["item_id"]],
                                                "payment_method_id": "gift_card_0000001"},
                                         ["Return Headphones (", "from order #W0000002", "as soon as the return", "email"]),
        "exchange_delivered_order_items": (ALEX, {"order_id": "#W0000002", **exchange,
                                                  "payment_method_id": "gift_card_0000001"},
                                           ["In order #W0000002, exchange Mechanical Keyboard (", "email"]),
        "modify_user_address": (ALEX, {"user_id": "demo_customer_0001", **ADDRESS},
                                ["default address", "12 Oak Ave", "Orders already placed keep"]),
    }  # fmt: skip


def test_every_write_tool_previews_in_plain_sentences(engine: Engine) -> None:
    gateway = _gateway(engine)
    cases = _cases(engine)
    writes = {t.spec.name for t in retail_pack().tools if t.spec.side_effect == "write"}
    assert set(cases) == writes  # a new write tool needs a case (and an explainer)
    for tool, (who, args, expected) in cases.items():
        result = gateway.call(who, tool, args)
        assert result.outcome == "preview" and result.preview is not None, (tool, result.message)
        text = " ".join(result.preview.sentences)
        assert result.preview.summary == text and result.preview.to_dict()["sentences"]
        assert all(s[0].isupper() and s.endswith(".") for s in result.preview.sentences), text
        assert not LEAKS.search(text), (tool, text)
        for fragment in expected:
            assert fragment in text, (tool, fragment, text)
        if result.preview.amount:
            assert f"${result.preview.amount:,.2f}" in text or "no price difference" in text, text


def test_over_limit_request_carries_the_same_sentences_to_the_approvals_inbox(engine: Engine) -> None:
    gateway = _gateway(engine)
    big = {"order_id": "#W0000007", "reason": "no longer needed"}
    own = gateway.call(SAM, "cancel_pending_order", big)  # the customer's limit (10000) covers it
    assert own.outcome == "preview" and own.preview is not None
    over = gateway.call(AGENT, "cancel_pending_order", big)  # the agent's (5000) does not: preview first
    assert over.preview is not None and over.preview.approval is not None
    assert ApprovalStore(engine).listing("demo", "pending") == []  # nothing before the agent's consent
    gateway.decide(AGENT, over.preview.preview_id, True)
    [request] = ApprovalStore(engine).listing("demo", "pending")
    assert request.description == list(over.preview.sentences)
    assert over.preview.sentences[: len(own.preview.sentences)] == own.preview.sentences
    assert "a supervisor must approve it" in over.preview.sentences[-1]
    assert request.description[0].startswith("Cancel order #W0000007 with Laptop (")
    assert "Refund $5,862.56 to the Mastercard card ending in 5100" in request.description[1]


words = st.text(alphabet="abcdefgh ", max_size=12)
scalars = st.one_of(st.none(), words, st.integers(), st.floats(allow_nan=False, allow_infinity=False))
values = st.one_of(scalars, st.lists(scalars, max_size=3), st.dictionaries(words, scalars, max_size=3))


@given(
    st.dictionaries(
        st.from_regex(r"[a-z]{1,8}(_[a-z]{1,8})?", fullmatch=True), st.tuples(values, values), max_size=8
    )
)
def test_generic_renderer_shows_only_scalar_fields_in_words(changed: dict[str, tuple[Any, Any]]) -> None:
    change = FieldChange("order", "W1", {"a": 1}, {"a": 2}, changed)
    lines = generic("some_tool", Run(None, (change,), amount=12.5))
    text = " ".join(lines)
    assert (
        lines[0] == "Some tool."
        and lines[-1] == "Amount: 12.50."
        and all(line.endswith(".") for line in lines)
    )
    assert not re.search(r"[{}\[\]_]|entries", text), text
    scalar = [
        f
        for f, (a, b) in changed.items()
        if not isinstance(a, list | dict) and not isinstance(b, list | dict)
    ]
    assert text.count(" to ") >= min(len(scalar), 6)
