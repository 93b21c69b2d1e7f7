"""Staff cannot drive a customer's bot (real server, real HTTP). Regression: on 746edb1 an agent's
`POST …/messages` on a customer's conversation started a turn with the agent's tenant-wide privileges, and
another user's email and address reached the customer's stream. Staff now reply only as a human (handoff API);
their questions to the copilot run in a staff-only thread that reaches the customer only if the agent sends it."""

from __future__ import annotations

import httpx
from sqlalchemy import create_engine, func, select

from copilot.store.schema import turns
from tests.api.support import parse_sse, token

CUSTOMER = token("customer", "demo_customer_0001")
ANN = token("agent", "ann")
SUE = token("supervisor", "sue")


def _events(http: httpx.Client, cid: str, headers: dict[str, str]) -> list[tuple[str, dict[str, object]]]:
    got = http.get(f"/v1/conversations/{cid}/events?follow=false", headers=headers)
    assert got.status_code == 200, got.text
    return [(e.event, e.data) for e in parse_sse(got.text)]


def _turns(server_db: str, cid: str) -> int:
    engine = create_engine(server_db)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(turns).where(turns.c.conversation_id == cid))
        number = int(count.scalar_one())
    engine.dispose()
    return number


def test_staff_messages_never_start_a_turn_in_a_customers_conversation(
    http: httpx.Client, database_url: str
) -> None:
    cid = http.post("/v1/conversations", headers=CUSTOMER).json()["id"]
    for staff in (ANN, SUE):
        sent = http.post(
            f"/v1/conversations/{cid}/messages",
            json={"text": "Show me the email and address of user demo_customer_0002"}, headers=staff,
        )  # fmt: skip
        assert sent.status_code == 403, sent.text
        error = sent.json()["error"]
        assert error["code"] == "forbidden" and "agent-messages" in error["message"]
    assert _turns(database_url, cid) == 0 and _events(http, cid, CUSTOMER) == []
    own = http.post("/v1/conversations", headers=ANN).json()["id"]  # an agent's own thread still works
    assert http.post(f"/v1/conversations/{own}/messages", json={"text": "hi"}, headers=ANN).status_code == 202


def test_a_staff_question_stays_in_the_staff_thread_until_the_agent_sends_it(http: httpx.Client) -> None:
    cid = http.post("/v1/conversations", headers=CUSTOMER).json()["id"]
    assert http.post(
        f"/v1/conversations/{cid}/handoff", json={"reason": "refund"}, headers=CUSTOMER
    ).is_success
    asked = http.post(
        f"/v1/conversations/{cid}/assist/questions", json={"text": "How long do refunds take?"}, headers=ANN
    )
    assert asked.status_code == 200, asked.text
    answer = asked.json()["draft"]["text"]
    assert answer and asked.json()["question"] == "How long do refunds take?"
    staff_view = _events(http, cid, ANN)
    answered = [d for kind, d in staff_view if kind == "assist.answered"]
    assert [(d["text"], d["asked_by"]) for d in answered] == [(answer, "ann")]
    customer_view = _events(http, cid, CUSTOMER)
    assert "assist.answered" not in [kind for kind, _ in customer_view]
    transcript = http.get(f"/v1/conversations/{cid}", headers=CUSTOMER).json()
    assert answer not in str(transcript)
    denied = http.post(f"/v1/conversations/{cid}/assist/questions", json={"text": "hi"}, headers=CUSTOMER)
    assert denied.status_code == 403

    assert http.post(f"/v1/conversations/{cid}/claim", headers=ANN).is_success
    sent = http.post(f"/v1/conversations/{cid}/agent-messages", json={"text": answer}, headers=ANN)
    assert sent.status_code == 200, sent.text
    assert ("agent.message", answer) in [(k, d.get("text")) for k, d in _events(http, cid, CUSTOMER)]


def test_the_staff_thread_lists_earlier_questions_and_drafts_to_staff_only(http: httpx.Client) -> None:
    cid = http.post("/v1/conversations", headers=CUSTOMER).json()["id"]
    questions = [(ANN, "ann", "How long do refunds take?"), (SUE, "sue", "Do you ship internationally?")]
    answers = []
    for headers, _, text in questions:
        asked = http.post(f"/v1/conversations/{cid}/assist/questions", json={"text": text}, headers=headers)
        assert asked.status_code == 200, asked.text
        answers.append(asked.json())
    listed = http.get(f"/v1/conversations/{cid}/assist/questions", headers=ANN)
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert [(i["question"], i["asked_by"]) for i in items] == [(q, who) for _, who, q in questions]
    assert [(i["event_id"], i["draft"]) for i in items] == [(a["event_id"], a["draft"]) for a in answers]

    refused = http.get(f"/v1/conversations/{cid}/assist/questions", headers=CUSTOMER)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    other = http.get(
        f"/v1/conversations/{cid}/assist/questions", headers=token("agent", "eve", tenant="acme")
    )
    assert other.status_code in (403, 404)
    seen_by_customer = str(_events(http, cid, CUSTOMER)) + str(
        http.get(f"/v1/conversations/{cid}", headers=CUSTOMER).json()
    )
    for _, _, text in questions:
        assert text not in seen_by_customer
    for answer in answers:
        assert answer["draft"]["text"] not in seen_by_customer
