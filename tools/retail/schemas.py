"""JSON Schema building blocks for the retail tools: strict objects, identifier patterns, addresses."""

from __future__ import annotations

from typing import Any

from . import ids

Schema = dict[str, Any]

CANCEL_REASONS = ("no longer needed", "ordered by mistake")
ADDRESS_FIELDS = ("address1", "address2", "city", "state", "country", "zip")


def text(description: str, *, min_length: int = 1, max_length: int = 200) -> Schema:
    return {"type": "string", "description": description, "minLength": min_length, "maxLength": max_length}


def pattern(regex: str, description: str) -> Schema:
    return {"type": "string", "pattern": regex, "description": description}


def order_id() -> Schema:
    return pattern(
        ids.ORDER_ID,
        "The order id, such as '#W0000000'. Be careful there is a '#' symbol at the beginning of the order id.",
    )


def user_id() -> Schema:
    return pattern(ids.USER_ID, "The user id, such as 'sara_doe_4960'.")


def payment_method_id() -> Schema:
    return pattern(
        ids.PAYMENT_METHOD_ID,
        "The payment method id to pay or receive refund for the item price difference, such as "
        "'gift_card_0000000' or 'credit_card_0000000'. These can be looked up from the user or order details.",
    )


def catalogue_id(description: str) -> Schema:
    return pattern(ids.CATALOGUE_ID, description)


def item_id_list(description: str) -> Schema:
    return {
        "type": "array",
        "items": pattern(ids.CATALOGUE_ID, "An item id such as '1008292230'."),
        "minItems": 1,
        "maxItems": 50,
        "description": description,
    }


def address_properties() -> dict[str, Schema]:
    return {
        "address1": text("The first line of the address, such as '123 Main St'."),
        "address2": text("The second line of the address, such as 'Apt 1' or ''.", min_length=0),
        "city": text("The city, such as 'San Francisco'."),
        "state": text("The state, such as 'CA'.", max_length=60),
        "country": text("The country, such as 'USA'.", max_length=60),
        "zip": text("The zip code, such as '12345'.", max_length=12),
    }


def obj(properties: dict[str, Schema], *, optional: tuple[str, ...] = ()) -> Schema:
    """A strict arguments object: every property required unless listed as optional, nothing extra."""
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }
