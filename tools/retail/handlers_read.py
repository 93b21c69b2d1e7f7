"""Read handlers: identity lookups (a customer can only find themselves), orders, users, catalogue."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from copilot.gateway.spec import ToolContext
from copilot.store.documents import Doc
from copilot.store.schema import documents

from . import handlers_common as c

USER_NOT_FOUND = "User not found; check the details or try the other lookup (email, or name and zip code)."


def fold(text: str) -> str:
    """Case- and accent-insensitive form used to match names and emails (as τ² does)."""
    decomposed = unicodedata.normalize("NFKD", text.strip())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def _profiles(ctx: ToolContext) -> list[dict[str, str]]:
    """Identity fields of the users a lookup may search: all of the tenant's users for staff, only their own
    record for anyone else, so a customer's lookup never reveals another user. Reads just these fields."""
    data = documents.c.data
    query = select(
        documents.c.id,
        data["email"].as_string(),
        data[("name", "first_name")].as_string(),
        data[("name", "last_name")].as_string(),
        data[("address", "zip")].as_string(),
    ).where(documents.c.tenant == ctx.store.tenant, documents.c.kind == c.USER)
    if not ctx.principal.is_staff:
        query = query.where(documents.c.id == ctx.principal.user_id)
    rows = ctx.store.conn.execute(query.order_by(documents.c.id))
    keys = ("user_id", "email", "first_name", "last_name", "zip")
    return [dict(zip(keys, (value or "" for value in row), strict=True)) for row in rows]


def _find_user(ctx: ToolContext, matches: Callable[[dict[str, str]], bool]) -> str:
    for profile in _profiles(ctx):
        if matches(profile):
            return profile["user_id"]
    raise c.not_found(USER_NOT_FOUND)


def find_user_id_by_email(ctx: ToolContext, args: dict[str, Any]) -> str:
    wanted = fold(args["email"])
    return _find_user(ctx, lambda user: fold(user["email"]) == wanted)


def find_user_id_by_name_zip(ctx: ToolContext, args: dict[str, Any]) -> str:
    first, last, zip_code = fold(args["first_name"]), fold(args["last_name"]), args["zip"].strip()
    return _find_user(
        ctx,
        lambda user: (
            fold(user["first_name"]) == first and fold(user["last_name"]) == last and user["zip"] == zip_code
        ),
    )


def get_order_details(ctx: ToolContext, args: dict[str, Any]) -> Doc:
    return c.get_order(ctx.store, args["order_id"])


def get_user_details(ctx: ToolContext, args: dict[str, Any]) -> Doc:
    return c.get_user(ctx.store, args["user_id"])


def get_product_details(ctx: ToolContext, args: dict[str, Any]) -> Doc:
    return c.get_product(ctx.store, args["product_id"])


def get_item_details(ctx: ToolContext, args: dict[str, Any]) -> Doc:
    return c.find_item(ctx.store, args["item_id"])


def list_all_product_types(ctx: ToolContext, args: dict[str, Any]) -> dict[str, str]:
    """Product name → product id, sorted by name."""
    names = {product["name"]: product["product_id"] for product in ctx.store.all(c.PRODUCT)}
    return dict(sorted(names.items()))
