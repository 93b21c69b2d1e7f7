from __future__ import annotations

from copilot.llm import extract


def test_order_ids_are_canonicalised() -> None:
    assert extract.order_id("where is W1234567?") == "#W1234567"
    assert extract.order_id("order #w7654321 please") == "#W7654321"
    assert extract.order_id("order 12345") is None


def test_cancel_reasons_from_phrasing() -> None:
    assert extract.cancel_reason("I don't need it anymore") == "no longer needed"
    assert extract.cancel_reason("I ordered it by mistake") == "ordered by mistake"
    assert extract.cancel_reason("just cancel it") is None


def test_item_ids_split_old_and_new() -> None:
    assert extract.item_ids("swap 1234567890 and 1111111111 for 2222222222") == (
        ["1234567890", "1111111111"],
        ["2222222222"],
    )


def test_address_parsing() -> None:
    parsed = extract.address("move it to 12 Main St, Apt 4, Austin, tx 78701")
    assert parsed == {
        "address1": "12 Main St",
        "address2": "Apt 4",
        "city": "Austin",
        "state": "TX",
        "zip": "78701",
        "country": "USA",
    }


def test_arguments_from_history_principal_and_message() -> None:
    properties: dict[str, object] = {"order_id": {}, "reason": {}, "user_id": {}, "email": {}}
    texts = ["it was by mistake, mail me at a.b@example.com", "cancel #W1234567"]
    principal = {"role": "customer", "user_id": "ethan_kim_8860"}
    assert extract.extract_arguments(properties, texts, principal, "s") == {
        "order_id": "#W1234567",
        "reason": "ordered by mistake",
        "user_id": "ethan_kim_8860",
        "email": "a.b@example.com",
    }


def test_staff_user_id_comes_from_the_message_not_the_principal() -> None:
    principal = {"role": "agent", "user_id": "agent_1"}
    found = extract.extract_arguments({"user_id": {}}, ["look up sara_doe_496"], principal, "s")
    assert found == {"user_id": "sara_doe_496"}
