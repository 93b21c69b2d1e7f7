"""What the offline model asks when a required tool argument is missing."""

from __future__ import annotations

_VERBS = {
    "cancel_pending_order": "cancel",
    "get_order_details": "check",
    "modify_pending_order_address": "send to a new address",
    "modify_pending_order_items": "change",
    "modify_pending_order_payment": "pay differently for",
    "return_delivered_order_items": "return items from",
    "exchange_delivered_order_items": "exchange items from",
}
_ADDRESS = (
    "What is the new address? Please write it as street, optional apartment/suite, city, state and zip, "
    "like 12 Main St, Apt 4, Austin, TX 78701."
)
_QUESTIONS = {
    "reason": "Why would you like to cancel it? The reason must be either 'no longer needed' or 'ordered by mistake'.",
    "item_ids": "Which items? Please give the item ids (10 digits each, like 1008292230).",
    "new_item_ids": "Which items would you like instead? Please give the new item ids (10 digits each).",
    "payment_method_id": (
        "Which payment method should I use? Please give its id, like gift_card_0000000 or credit_card_0000000."
    ),
    "email": "What is the email address on the account?",
    "first_name": "What are your first name, last name and zip code?",
    "last_name": "What are your first name, last name and zip code?",
    "zip": "What is the zip code?",
    "user_id": "Which customer account is this about? Please give the user id, like sara_doe_496.",
    "product_id": "Which product? Please give the product id (10 digits).",
    "item_id": "Which item? Please give the item id (10 digits).",
    "expression": "What would you like me to calculate?",
}
ADDRESS_FIELDS = frozenset({"address1", "address2", "city", "state", "country"})


def ask_for(tool: str, argument: str) -> str:
    """A plain question for one missing argument (always contains a '?')."""
    if argument == "order_id":
        verb = _VERBS.get(tool, "use")
        return f"Which order would you like to {verb}? Please give the order number, like #W1234567."
    if argument in ADDRESS_FIELDS or (argument == "zip" and tool.endswith("address")):
        return _ADDRESS
    return _QUESTIONS.get(argument, f"Could you tell me the {argument.replace('_', ' ')}?")
