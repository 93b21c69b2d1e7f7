"""Handler for the user's own profile: the default address."""

from __future__ import annotations

from typing import Any

from copilot.gateway.spec import ToolContext
from copilot.store.documents import Doc

from . import handlers_common as c
from .schemas import ADDRESS_FIELDS


def modify_user_address(ctx: ToolContext, args: dict[str, Any]) -> Doc:
    """Replace the user's default address (existing orders keep theirs)."""
    user = c.get_user(ctx.store, args["user_id"])
    old = c.address_label(user["address"])
    user["address"] = {name: args[name] for name in ADDRESS_FIELDS}
    ctx.store.put(c.USER, user["user_id"], user, owner=user["user_id"])
    ctx.facts.update(old_address=old, new_address=c.address_label(user["address"]))
    return user
