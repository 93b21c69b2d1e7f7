"""The dialogue act "that helped": the customer thanks us or says the problem is solved, and asks for nothing
more. Read from the act's parts (gratitude or success, no negation or reservation, no new request, not the
yes to an offer we made) with the dialogue machinery in `copilot.llm.dialogue`, not from a list of phrases."""

from __future__ import annotations

import re

from copilot.llm import dialogue

_GRATITUDE = re.compile(
    r"\b(thanks?|thank\s*(you|u|ya)|thx|tnx|ty|tysm|cheers|appreciated?|grateful|obliged|ta)\b", re.IGNORECASE
)
_SUCCESS = re.compile(
    r"\b(help(ed|s|ful)|solved|resolved|fixed|sorted|works|worked|answered|answers|got it"
    r"|makes sense|all (good|set)|perfect|great|awesome|excellent|wonderful|brilliant|fantastic|amazing)\b",
    re.IGNORECASE,
)
_RESERVATION = re.compile(
    r"\b(not|no|never|nothing|none|neither|nor|without|still|yet|but|however|though|although|except|unless"
    r"|cannot|useless|wrong|worse|again|another|anymore|even|(do|does|did|is|was|are|were|have|has|wo|ca)nt)\b"
    r"|n['’]t\b",
    re.IGNORECASE,
)
_CLAUSES = re.compile(r"[.!;,:\n]+|\s+-+\s+|\s+(?=[A-Z][a-z])")
_ASKS = re.compile(
    r"\b(please|pls|plz)\b|\b(can|could|would|will)\s+(you|u|i|we|someone)\b|\bwhat about\b"
    r"|\bi\s*('d|\s+would)?\s*(like|want|need|wanna)\b|\bhow\s+(do|can|long|much|many|to)\b",
    re.IGNORECASE,
)
MAX_WORDS = 30
"""Longer messages carry more than a thank-you: they are read as a new request."""


def confirms_resolution(text: str, *, replying_to: str | None = None) -> bool:
    """The customer says the answer helped ("thanks, that solved it", "perfect, got it") and asks for nothing
    more. `replying_to` is our message it answers: a yes to our yes/no question accepts an offer instead."""
    words = len(text.split())
    if not words or words > MAX_WORDS or "?" in text:
        return False
    if not (_GRATITUDE.search(text) or _SUCCESS.search(text)) or _RESERVATION.search(text):
        return False
    if _ASKS.search(text) or dialogue.asks_for_person(text) or dialogue.is_no(text):
        return False
    if replying_to is not None and dialogue.asks_yes_no(replying_to) and dialogue.is_yes(text):
        return False
    return not any(dialogue.is_request(part) for part in _CLAUSES.split(text) if part.strip())
