"""Dialogue acts the offline model reads from the customer's words: asking for a person, a yes or a no to a
yes/no question we asked, and several requests in one message. Patterns are about the act (who is asked for,
what a reply consists of), not about any particular phrasing."""

from __future__ import annotations

import re

_PERSON = (
    r"(humans?|persons?|people|some(one|body)|any(one|body)|agents?|representatives?|reps?|operators?"
    r"|staff|employees?|(support|service) team|customer (service|support|care)( team| rep\w*)?)"
)
_ASKS_FOR_PERSON = [
    # an explicit kind of person
    r"\b(real|live|actual)\s+(person|human|agent|people|one|support|chat)\b",
    r"\b(human|representative|operator|staff member|employee)s?\b(?!-)",
    # reaching one: talk / speak / connect me / transfer / put me through / escalate
    rf"\b(talk|speak|chat|connect|transfer|escalate|reach|contact|call)\b[^.?!]{{0,30}}\b{_PERSON}",
    r"\b(transfer|connect|put)\s+me\b",
    rf"\b(get|give|find)\s+me\s+(a|an|some|one of your)?\s*{_PERSON}",
    # a person doing it: "can a person do it for me?", "could someone look into this"
    rf"\b(can|could|would|will|should)\s+(a|an|some|one of your|a real)?\s*{_PERSON}(\s+[\w']+){{0,4}}?\s+"
    r"(do|help|handle|look|take|fix|deal|sort|assist|check|process|call|ring|get back)\b",
    rf"\b(is|are)\s+there\s+(a|an|any|some)?\s*(real\s+)?{_PERSON}\b",
    rf"\b(i|we)\s*(want|need|would like|'d like|wanna|demand|prefer|insist on)\s+(to\s+\w+\s+(to|with)\s+)?"
    rf"(a|an|some|a real|your)?\s*{_PERSON}",
    # not a machine
    r"\b(not|no|stop|without|enough|done with|hate|tired of|(do not|don'?t) want)\s+(talking\s+to\s+|with\s+|to talk to\s+)?"
    r"(an?\s+|the\s+|this\s+)?"
    r"(bot|robot|machine|ai|computer|chatbot|automated)s?\b",
]
PERSON_REQUEST = re.compile("|".join(_ASKS_FOR_PERSON), re.IGNORECASE)
_PERSON_ALONE = re.compile(rf"^\W*(an?\s+)?{_PERSON}(\s+(please|pls|now|asap))?\W*$", re.IGNORECASE)


def asks_for_person(text: str) -> bool:
    """The customer wants a human: any phrasing that asks for, or to be passed to, a person."""
    return bool(PERSON_REQUEST.search(text) or _PERSON_ALONE.match(text.strip()))


_TOKEN = re.compile(r"[a-z']+")
_YES_START = frozenset(
    [
        "yes",
        "yeah",
        "yea",
        "yep",
        "yup",
        "ya",
        "sure",
        "ok",
        "okay",
        "k",
        "please",
        "y",
        "absolutely",
        "definitely",
        "certainly",
        "alright",
        "of",
        "go",
        "do",
        "connect",
        "that",
        "transfer",
        "affirmative",
        "correct",
        "right",
        "fine",
        "great",
        "perfect",
    ]
)
_YES_WORDS = _YES_START | frozenset(
    [
        "course",
        "ahead",
        "it",
        "that",
        "would",
        "be",
        "great",
        "fine",
        "thanks",
        "thank",
        "you",
        "sounds",
        "good",
        "me",
        "please",
        "do",
        "so",
        "now",
        "right",
        "away",
        "i'd",
        "like",
        "id",
        "love",
        "to",
        "that's",
        "thats",
        "all",
        "a",
        "human",
        "agent",
        "person",
        "why",
        "not",
        "thing",
    ]
)
_NO_START = frozenset(["no", "nope", "nah", "n", "not", "never", "nothing", "don't", "dont"])
_NO_WORDS = _NO_START | frozenset(
    [
        "thanks",
        "thank",
        "you",
        "that's",
        "thats",
        "that",
        "it",
        "is",
        "fine",
        "ok",
        "okay",
        "i'm",
        "im",
        "good",
        "all",
        "now",
        "need",
        "mind",
        "never",
        "for",
        "no",
        "it's",
        "its",
    ]
)
_YES_NO_QUESTION = re.compile(
    r"(^|[.!]\s+)(would|do|does|did|shall|should|can|could|is|are|was|will|may|want|have)\b[^.!?]*\?\s*$",
    re.IGNORECASE,
)


def _words(text: str) -> list[str]:
    return _TOKEN.findall(text.lower().replace("’", "'"))


def is_yes(text: str) -> bool:
    """A reply that is only an affirmation ("yes", "sure, go ahead", "please do") — not a new request."""
    words = _words(text)
    return 0 < len(words) <= 8 and words[0] in _YES_START and all(w in _YES_WORDS for w in words)


def is_no(text: str) -> bool:
    """A reply that is only a refusal ("no thanks", "not now", "nope, that's all")."""
    words = _words(text)
    return 0 < len(words) <= 8 and words[0] in _NO_START and all(w in _NO_WORDS for w in words)


def asks_yes_no(text: str) -> bool:
    """Our message ends with a yes/no question ("Would you like …?", "Shall I …?")."""
    return bool(_YES_NO_QUESTION.search(text.strip()))


# -- several requests in one message ------------------------------------------------------------------------

_BOUNDARY = re.compile(
    r"(?<=[?!;])\s+|(?<=\.)\s+(?=[A-Z])|,?\s+(?:and also|and then|also|plus|and|then)\s+"
    r"(?=(?:can|could|would|will|please|i|how|what|when|where|why|which|is|are|do|does|did|cancel|change"
    r"|return|exchange|track|send|update|modify|tell|show|check|help|let|delete|reset|pay|ship|add|remove|use)\b)",
    re.IGNORECASE,
)
_REQUEST_CUE = re.compile(
    r"^(?:(?:hi|hello|hey|ok|okay|also|and|so|oh|thanks)\W+)*(?:can|could|would|will|please|how|what|when|where"
    r"|why|which|who|is|are|do|does|did|cancel|change|return|exchange|track|send|update|modify|tell me|show me"
    r"|help me|let me|check|delete|reset|add|remove|use|i(?:'d| would)?(?: also| really| just)? (?:like|want|need|wanna))\b",
    re.IGNORECASE,
)
ALSO_ASKED = "You also asked: "
_QUOTED = re.compile(r"“([^”]+)”")


def requests_in(text: str) -> list[str]:
    """The message's separate requests (questions or asks), in order; one entry when it is a single one."""
    parts = [p.strip(" ,") for p in _BOUNDARY.split(text.strip()) if p and p.strip(" ,")]
    asks = [p for p in parts if len(_words(p)) >= 3 and (p.endswith("?") or _REQUEST_CUE.match(p))]
    return asks if len(asks) > 1 else [text.strip()]


def is_request(text: str) -> bool:
    """Worded as a request or a question of its own (not just a value)."""
    return bool(_REQUEST_CUE.match(text.strip()) or text.strip().endswith("?"))


def also_asked(rest: list[str]) -> str:
    """The line that lists the requests still to do and offers the next one (a yes/no question)."""
    quoted = "; ".join(f"“{r.strip()}”" for r in rest)
    return f"{ALSO_ASKED}{quoted}. Shall I go on with the next one?"


def offered_requests(text: str) -> list[str]:
    """The requests our own `also_asked` line listed (empty when the message has none)."""
    at = text.rfind(ALSO_ASKED)
    return _QUOTED.findall(text[at:]) if at >= 0 else []


_GENERAL_QUESTION = re.compile(
    r"^(?:(?:hi|hello|hey|so|ok|okay|and|also|quick question)\W+)*(?:how|what|which|when|why|who|is|are|do|does|did"
    r"|can i|could i|may i|should i|would i|will i|can we|if i|if my|is it|is there|are there|where can i|where do i)\b",
    re.IGNORECASE,
)
_ABOUT_MINE = re.compile(r"^\W*where\s+is\s+my\b|\b(status of|track)\s+my\b", re.IGNORECASE)


def asks_how_things_work(text: str) -> bool:
    """A general question about how something works ("can I cancel an order that was processed?", "how do
    I return an item") rather than a request to act on a particular record ("cancel my order")."""
    return bool(_GENERAL_QUESTION.match(text.strip())) and not _ABOUT_MINE.search(text)


_MINE = re.compile(
    r"\b(my|mine|i have|do i have|have i got|i've got|i got|on (my )?(the )?account|saved|on file)\b", re.I
)
_ACCOUNT_THING = re.compile(
    r"\b(payment (methods?|options?)|(credit |debit |gift )?cards?|balance|paypal|orders?|purchases?"
    r"|address(es)? on file|email on file)\b",
    re.IGNORECASE,
)
LAST_ORDER = re.compile(r"\b(last|latest|most recent|recent|newest|previous)\s+(order|purchase)\b", re.I)


def asks_about_own_account(text: str) -> bool:
    """A question about the customer's own saved data ("what payment methods do I have", "my gift card
    balance", "what's in my last order") that their account details answer."""
    return bool(_MINE.search(text) and _ACCOUNT_THING.search(text)) and (
        "?" in text
        or bool(_GENERAL_QUESTION.match(text.strip()))
        or bool(re.match(r"^\W*(show|list|tell)", text, re.I))
    )
