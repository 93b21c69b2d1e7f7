"""Turn gateway tool results (GatewayResult.for_model() JSON) into short customer-facing sentences."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

TRANSFER_TOOL = "transfer_to_human_agents"
TRANSFER_TEXT = "YOU ARE BEING TRANSFERRED TO A HUMAN AGENT. PLEASE HOLD ON."
_ERRORS = {
    "declined": "Okay, I haven't changed anything. What would you like to do instead?",
    "denied": "I'm not able to do that for you: {message}",
    "limit_exceeded": "That is above what I'm allowed to approve: {message} A human agent can help with it.",
    "invalid_arguments": "Some of the details didn't check out: {message} Could you check them and try again?",
    "not_found": "I couldn't find that: {message} Could you double-check the number?",
    "precondition_failed": "I couldn't do that: {message}",
    "not_executed": "Nothing was changed: {message}",
    "approval_pending": "Thanks, you confirmed it. {message}",  # the gateway's words: grounded in its result
    "approval_rejected": "A supervisor declined this change, so nothing was changed. A human agent can help.",
}

SIGN_IN = (
    "I can't do that in this chat. If you have an account, sign in to manage your orders, "
    "or I can connect you with a human agent."
)


def summarize(tool: str, content: str, side_effect: str) -> str:
    """One short paragraph about one tool result."""
    try:
        body: Any = json.loads(content)
    except ValueError:
        return f"Here is what I found: {_clip(content)}"
    if not isinstance(body, dict):
        return f"Here is what I found: {_readable(body)}"
    if body.get("ok") is False:
        raw = body.get("error")
        error: dict[str, Any] = raw if isinstance(raw, dict) else {}
        code, message = str(error.get("code", "error")), str(error.get("message", "something went wrong"))
        if code == "denied" and "role may not call" in message:
            return SIGN_IN  # the gateway's reason is addressed to the model, not the customer
        template = _ERRORS.get(code, "That didn't work ({code}): {message}")
        return template.format(code=code, message=message.rstrip(".") + ".")
    if body.get("status") == "awaiting_confirmation":
        return f"I've prepared this: {str(body.get('summary', tool)).rstrip('.')}. Please confirm or cancel."
    result = body.get("result", body)
    if tool == TRANSFER_TOOL:
        return TRANSFER_TEXT
    if side_effect == "write":
        return f"Done — {_done(result)}"
    return _read_summary(tool, result)


def _done(result: Any) -> str:
    if isinstance(result, Mapping) and "order_id" in result:
        return f"order {result['order_id']} is now {result.get('status', 'updated')}."
    if isinstance(result, Mapping) and "user_id" in result and isinstance(result.get("address"), Mapping):
        return f"your address is now {_address(result['address'])}."
    return f"the change went through. {_readable(result)}"


def _read_summary(tool: str, result: Any) -> str:
    if isinstance(result, Mapping) and "order_id" in result and "status" in result:
        return _order(result)
    if isinstance(result, Mapping) and "user_id" in result and "orders" in result:
        return _account(result)
    if tool.startswith("find_user_id") and isinstance(result, str):
        return f"I found the account: {result}."
    if tool == "calculate":
        return f"The result is {result}."
    return f"Here is what I found: {_readable(result)}"


def _order(order: Mapping[str, Any]) -> str:
    status = str(order["status"])
    items = [str(i.get("name", i.get("item_id"))) for i in order.get("items", []) if isinstance(i, Mapping)]
    text = f"Order {order['order_id']} is {status}."
    if items:
        text += f" It contains {', '.join(items)}."
    tracking = [
        t for f in order.get("fulfillments", []) if isinstance(f, Mapping) for t in f.get("tracking_id", [])
    ]
    if tracking:
        text += f" Tracking number: {', '.join(str(t) for t in tracking)}."
    return text


def _account(user: Mapping[str, Any]) -> str:
    """Saved payment methods (brand and last four digits, gift card balances), orders and the address."""
    raw = user.get("payment_methods", {})
    methods = [
        method_label(m) for m in (raw.values() if isinstance(raw, Mapping) else raw) if isinstance(m, Mapping)
    ]
    orders = ", ".join(str(o) for o in user.get("orders", [])) or "none yet"
    text = f"Saved payment methods: {'; '.join(methods) or 'none'}. Orders: {orders}."
    if isinstance(user.get("address"), Mapping):
        text += f" Default address: {_address(user['address'])}."
    return text


def method_label(method: Mapping[str, Any]) -> str:
    source = str(method.get("source", ""))
    if source == "credit_card":
        return (
            f"{str(method.get('brand', 'credit')).title()} card ending in {method.get('last_four', '????')}"
        )
    if source == "gift_card":
        digits = re.sub(r"\D", "", str(method.get("id", "")))[-4:]
        ending = f" ending in {digits}" if digits else ""
        return f"gift card{ending} with a balance of ${float(method.get('balance', 0)):,.2f}"
    if source == "paypal":
        return "PayPal account"
    return str(method.get("id", source))


def _address(address: Mapping[str, Any]) -> str:
    parts = [address.get(k) for k in ("address1", "address2", "city", "state", "zip", "country")]
    return ", ".join(str(p) for p in parts if p)


def _readable(value: Any) -> str:
    if isinstance(value, Mapping):
        pairs = [f"{k}: {_readable(v) if isinstance(v, Mapping | list) else v}" for k, v in value.items()]
        return _clip("; ".join(pairs))
    if isinstance(value, list):
        return _clip(", ".join(str(v) for v in value))
    return _clip(str(value))


def _clip(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
