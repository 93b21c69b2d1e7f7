"""Specs of the read tools: identity lookups, order/user details, catalogue."""

from __future__ import annotations

from copilot.gateway.spec import Tool, ToolSpec

from . import handlers_read as h
from . import ids
from . import schemas as s

ORDER_OWNED = {"order_id": "order"}


def read_tools() -> list[Tool]:
    return [
        Tool(
            ToolSpec(
                name="find_user_id_by_email",
                description=(
                    "Find a user id by email. Use this first to authenticate the customer. "
                    "Returns the user id, or a not-found error."
                ),
                parameters=s.obj(
                    {"email": s.text("The email of the user, such as 'something@example.com'.")}
                ),
                side_effect="read",
            ),
            h.find_user_id_by_email,
        ),
        Tool(
            ToolSpec(
                name="find_user_id_by_name_zip",
                description=(
                    "Find a user id by first name, last name and zip code. Only use this when the customer "
                    "cannot be found by email or does not remember it."
                ),
                parameters=s.obj(
                    {
                        "first_name": s.text("The first name of the customer, such as 'John'."),
                        "last_name": s.text("The last name of the customer, such as 'Doe'."),
                        "zip": s.text("The zip code of the customer, such as '12345'.", max_length=12),
                    }
                ),
                side_effect="read",
            ),
            h.find_user_id_by_name_zip,
        ),
        Tool(
            ToolSpec(
                name="get_order_details",
                description="Get the status and details of an order (items, fulfilments, payment history).",
                parameters=s.obj({"order_id": s.order_id()}),
                side_effect="read",
                owned=ORDER_OWNED,
                identifiers={"order_id": ids.order_id},
            ),
            h.get_order_details,
        ),
        Tool(
            ToolSpec(
                name="get_user_details",
                description="Get the details of a user: name, email, default address, payment methods, orders.",
                parameters=s.obj({"user_id": s.user_id()}),
                side_effect="read",
                owned={"user_id": "user"},
                identifiers={"user_id": ids.user_id},
            ),
            h.get_user_details,
        ),
        *catalogue_tools(),
    ]


def catalogue_tools() -> list[Tool]:
    """Catalogue reads: public, no ownership."""
    return [
        Tool(
            ToolSpec(
                name="get_product_details",
                description=(
                    "Get the inventory details of a product: its variant items with options, availability and "
                    "price. A product id is different from an item id."
                ),
                parameters=s.obj({"product_id": s.catalogue_id("The product id, such as '6086499569'.")}),
                side_effect="read",
                identifiers={"product_id": ids.catalogue_id},
            ),
            h.get_product_details,
        ),
        Tool(
            ToolSpec(
                name="get_item_details",
                description=(
                    "Get the inventory details of one item (a product variant): options, availability, price. "
                    "An item id is different from a product id."
                ),
                parameters=s.obj({"item_id": s.catalogue_id("The item id, such as '1008292230'.")}),
                side_effect="read",
                identifiers={"item_id": ids.catalogue_id},
            ),
            h.get_item_details,
        ),
        Tool(
            ToolSpec(
                name="list_all_product_types",
                description=(
                    "List the name and product id of every product type, sorted by name. Each product type has "
                    "several variant items with their own item ids and options."
                ),
                parameters=s.obj({}),
                side_effect="read",
            ),
            h.list_all_product_types,
        ),
    ]
