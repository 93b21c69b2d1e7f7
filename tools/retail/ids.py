"""Identifier patterns and canonicalizers of the retail pack (NFKC + strip, case rules, or ValueError)."""

from __future__ import annotations

import re
import unicodedata

ORDER_ID = r"^#W[0-9]{7}$"
CATALOGUE_ID = r"^[0-9]{10}$"
PAYMENT_METHOD_ID = r"^(gift_card|credit_card|paypal)_[0-9]{7}$"
USER_ID = r"^[a-z]+(_[a-z]+)*_[0-9]{4}$"

_ORDER_LOOSE = re.compile(r"#?W([0-9]{7})")
_CATALOGUE = re.compile(CATALOGUE_ID)
_PAYMENT = re.compile(PAYMENT_METHOD_ID)
_USER = re.compile(USER_ID)


def _clean(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


def order_id(value: str) -> str:
    """'w1234567', '#w1234567', 'W1234567' → '#W1234567'."""
    match = _ORDER_LOOSE.fullmatch(_clean(value).upper())
    if match is None:
        raise ValueError(f"{value!r} is not an order id; order ids look like '#W0000000'")
    return f"#W{match.group(1)}"


def catalogue_id(value: str) -> str:
    """Product and item ids: exactly ten ASCII digits."""
    cleaned = _clean(value)
    if _CATALOGUE.fullmatch(cleaned) is None:
        raise ValueError(f"{value!r} is not a product/item id; those are ten digits like '1008292230'")
    return cleaned


def payment_method_id(value: str) -> str:
    """'Gift_Card_0000000' → 'gift_card_0000000'."""
    cleaned = _clean(value).lower()
    if _PAYMENT.fullmatch(cleaned) is None:
        raise ValueError(
            f"{value!r} is not a payment method id; use e.g. 'gift_card_0000000', "
            "'credit_card_0000000' or 'paypal_0000000'"
        )
    return cleaned


def user_id(value: str) -> str:
    """'Sara_Doe_4960' → 'sara_doe_4960'."""
    cleaned = _clean(value).lower()
    if _USER.fullmatch(cleaned) is None:
        raise ValueError(f"{value!r} is not a user id; user ids look like 'sara_doe_4960'")
    return cleaned
