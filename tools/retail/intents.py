"""Customer intents of the retail pack: the 27 Bitext support intents and 9 for the other retail tools, each routed to a tool, an article
or a human hand-off, with example utterances written for this project (intents_examples.yaml).

Use `load_intents()` (cached); `INTENTS` is the same tuple, read lazily on first access so importing
this module does no I/O.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from copilot.errors import CopilotError, ErrorCode
from copilot.packs import Intent, Route

EXAMPLES_FILE = Path(__file__).with_name("intents_examples.yaml")

INTENTS: tuple[Intent, ...]
"""Declared for type checkers; provided lazily by `__getattr__` below."""

# intent                         route       target (tool name | article id | hand-off queue)
ROUTES: dict[str, tuple[Route, str]] = {
    "track_order": ("tool", "get_order_details"),
    "cancel_order": ("tool", "cancel_pending_order"),
    "change_order": ("tool", "modify_pending_order_items"),
    # "my delivery address is wrong": an order in flight, so the pending order's address.
    "change_shipping_address": ("tool", "modify_pending_order_address"),
    # "set up / save a new address": the account's default address.
    "set_up_shipping_address": ("tool", "modify_user_address"),
    "get_refund": ("tool", "return_delivered_order_items"),
    "track_refund": ("article", "refund-tracking"),
    "check_refund_policy": ("article", "refund-policy"),
    "check_cancellation_fee": ("article", "cancellation-fees"),
    "check_invoice": ("article", "invoices-and-receipts"),
    "get_invoice": ("article", "invoices-and-receipts"),
    "check_payment_methods": ("article", "payment-methods"),
    "payment_issue": ("article", "payment-issues"),
    "delivery_options": ("article", "shipping-options"),
    "delivery_period": ("article", "delivery-times"),
    "place_order": ("article", "placing-an-order"),
    "create_account": ("article", "create-account"),
    "registration_problems": ("article", "registration-problems"),
    "edit_account": ("article", "edit-account"),
    "recover_password": ("article", "password-recovery"),
    "switch_account": ("article", "switch-accounts"),
    "delete_account": ("article", "delete-account"),
    "newsletter_subscription": ("article", "newsletter"),
    "review": ("article", "product-reviews"),
    # A complaint gets a case and a human follow-up (see the `complaints` article).
    "complaint": ("handoff", "complaints"),
    # Asking for "customer service" means asking for people; hours are in the `contact-support` article.
    "contact_customer_service": ("handoff", "general"),
    "contact_human_agent": ("handoff", "general"),
    # Beyond Bitext's 27: the other tools of the τ² retail domain (find_user_id_* are staff tools).
    "exchange_item": ("tool", "exchange_delivered_order_items"),
    "change_payment_method": ("tool", "modify_pending_order_payment"),
    "account_details": ("tool", "get_user_details"),
    "list_products": ("tool", "list_all_product_types"),
    "product_details": ("tool", "get_product_details"),
    "item_details": ("tool", "get_item_details"),
    "calculate": ("tool", "calculate"),
    "find_account_by_email": ("tool", "find_user_id_by_email"),
    "find_account_by_name": ("tool", "find_user_id_by_name_zip"),
}


@cache
def load_intents(path: Path = EXAMPLES_FILE) -> tuple[Intent, ...]:
    """Join ROUTES with the example utterances in `path`; every routed intent needs examples and vice versa."""
    examples = _read_examples(path)
    if set(examples) != set(ROUTES):
        missing = sorted(set(ROUTES) - set(examples))
        extra = sorted(set(examples) - set(ROUTES))
        raise CopilotError(
            ErrorCode.CONFIGURATION,
            f"{path.name} must list examples for exactly the routed intents; missing {missing}, unrouted {extra}.",
        )
    return tuple(
        Intent(name=name, route=route, target=target, examples=examples[name])
        for name, (route, target) in ROUTES.items()
    )


def _read_examples(path: Path) -> dict[str, tuple[str, ...]]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data: object = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    if not isinstance(data, dict):
        raise CopilotError(ErrorCode.CONFIGURATION, f"{path} must map intent names to lists of utterances.")
    result: dict[str, tuple[str, ...]] = {}
    for name, utterances in data.items():
        if not isinstance(utterances, list) or not all(isinstance(u, str) and u.strip() for u in utterances):
            raise CopilotError(
                ErrorCode.CONFIGURATION, f"{path.name}: intent {name!r} needs a list of non-empty strings."
            )
        result[str(name)] = tuple(u.strip() for u in utterances)
    return result


def __getattr__(name: str) -> tuple[Intent, ...]:
    """Lazy `INTENTS` (PEP 562): the examples file is read on first use, not at import."""
    if name == "INTENTS":
        return load_intents()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
