"""Read handlers: identity lookups (a customer can only find themselves), orders, users, catalogue."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

from copilot.gateway.spec import ToolContext
from copilot.store.documents import Doc

from . import handlers_common as c

USER_NOT_FOUND = "User not found; check the details or try the other lookup (email, or name and zip code)."


def fold(text: str) -> str:
    """Case- and accent-insensitive form used to match names and emails (as τ² does)."""
    decomposed = unicodedata.normalize("NFKD", text.strip())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def _candidates(ctx: ToolContext) -> Iterable[Doc]:
    """Staff search every user; anyone else only their own record, so a lookup never reveals another user."""
    if ctx.principal.is_staff:
        return ctx.store.all(c.USER)
    own = ctx.store.get(c.USER, ctx.principal.user_id)
    return [own] if own is not None else []


def _find_user(ctx: ToolContext, matches: Callable[[Doc], bool]) -> str:
    for user in _candidates(ctx):
        if matches(user):
            return str(user["user_id"])
    raise c.not_found(USER_NOT_FOUND)


def find_user_id_by_email(ctx: ToolContext, args: dict[str, Any]) -> str:
    wanted = fold(args["email"])
    return _find_user(ctx, lambda user: fold(user["email"]) == wanted)


def find_user_id_by_name_zip(ctx: ToolContext, args: dict[str, Any]) -> str:
    first, last, zip_code = fold(args["first_name"]), fold(args["last_name"]), args["zip"].strip()
    return _find_user(
        ctx,
        lambda user: (
            fold(user["name"]["first_name"]) == first
            and fold(user["name"]["last_name"]) == last
            and user["address"]["zip"] == zip_code
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
