"""Grounding: is every factual sentence of an answer supported by this turn's evidence (the passages it
retrieved, the tool results it got, the descriptions of the tools it used), and is every claimed action an
action the gateway executed in this turn? Offline and model-agnostic: three checks per sentence —
1. numbers, ids and amounts must occur in the evidence (an invented price, order or tracking number fails);
2. a claim of having done something ("I've cancelled…", "Done — …is now refunded") needs an executed write of
   that kind in this turn (tool.executed), not a denied, failed or declined one;
3. the sentence's content words must be covered by the evidence — by the cited passages (and the tool results)
   when it cites some —
   at least SUPPORT (calibrated on data built from the packs: bench/calibrate_grounding.py).
Questions and short courtesy sentences are not factual claims and are not checked."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

SUPPORT = 0.75
"""Minimum share of a sentence's content words found in its evidence: the best balanced accuracy on the
calibration cases (`python -m bench.calibrate_grounding`; ARCHITECTURE.md, Grounding)."""
MIN_CONTENT_WORDS = 3
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9#\"'(\[])")
WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
NUMBER = re.compile(r"(?<![\w.])[#$]?\d[\d,]*(?:\.\d+)?")
CITATION = re.compile(r"\[([^\[\]\s]+)\]")
LEADING_CITATIONS = re.compile(r"^(?:\[[^\[\]\s]+\]\s*)+")
"""Markers placed after a sentence's full stop ("… days. [refund-policy#1]"): they cite that sentence."""
QUOTED = re.compile(r"“([^”]*)”|\"([^\"]*)\"")
# fmt: off
STOP = frozenset((
    "a", "an", "the", "and", "or", "but", "if", "then", "so", "to", "of", "in", "on", "at", "for", "with",
    "by", "from", "as", "is", "are", "was", "were", "be", "been", "being", "it", "its", "this", "that",
    "these", "those", "you", "your", "yours", "we", "our", "ours", "i", "me", "my", "he", "she", "they",
    "them", "their", "there", "here", "which", "who", "whom", "what", "when", "where", "why", "how", "not",
    "no", "yes", "can", "could", "will", "would", "shall", "should", "may", "might", "must", "do", "does",
    "did", "done", "has", "have", "had", "having", "than", "too", "very", "just", "also", "only", "any",
    "all", "each", "some", "more", "most", "other", "such", "own", "same", "into", "out", "up", "down",
    "over", "under", "again", "once", "now", "about", "after", "before", "both", "few", "nor", "off",
    "per", "via", "let", "lets", "please", "thanks", "thank", "hi", "hello", "sure", "okay", "ok", "glad",
    "happy", "help", "anything", "else", "today",
))
# fmt: on
NEGATION = re.compile(
    r"\b(not|no|never|nothing|haven't|hasn't|didn't|couldn't|can't|cannot|won't|unable)\b", re.I
)
REQUEST = re.compile(r"^(please|could you|can you|would you|let me know|tell me|if you|feel free)\b", re.I)
"""A request to the customer (with its example values), not a claim."""
SELF_NEGATION = re.compile(r"^(i|i'm|we|we're)\b.*(\bnot\b|n't\b|\bcannot\b|\bunable\b)", re.I)
""""I couldn't find…", "I haven't changed anything": about the assistant, not the world (numbers still checked)."""
CLAIM = re.compile(
    r"\b(?:i(?:'ve| have)?|we(?:'ve| have)?|done|successfully|is now|are now|has been|have been|was)\b[^.!?]*?"
    r"\b(cancel+ed|refunded|returned|exchanged|updated|changed|modified|placed|transferred|processed)\b",
    re.IGNORECASE,
)
CLAIMED_TOOLS: Mapping[str, tuple[str, ...]] = {
    "cancel": ("cancel_",),
    "refund": ("cancel_", "return_", "exchange_", "modify_"),
    "return": ("return_",),
    "exchang": ("exchange_",),
    "transfer": ("transfer_",),
}
"""Claimed verb stem → tool-name prefixes that make it true; other verbs need any executed write."""


@dataclass(frozen=True, slots=True)
class Evidence:
    passages: Mapping[str, str]
    """Passage id → text, retrieved in this turn."""
    results: Sequence[str]
    """Tool results (and the used tools' descriptions) of this turn."""
    executed: frozenset[str]
    """Tools the gateway executed in this turn (writes and reads)."""
    said: Sequence[str] = ()
    """The customer's messages: ids and numbers they gave may be repeated back (not facts to support)."""
    writes: frozenset[str] = frozenset()
    """The executed ones that change something."""


def stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s", "ly"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


@functools.lru_cache(maxsize=4096)
def content(text: str) -> frozenset[str]:
    """Stemmed content words (cached: a turn's passages and tool results are checked sentence by sentence)."""
    words = WORD.findall(text.lower().replace("’", "'"))
    return frozenset(stem(w) for w in words if w not in STOP and len(w) > 1 and not w.isdigit())


def numbers(text: str) -> set[str]:
    """Numbers as values: '$1,126.04' → '1126.04', '180.10' → '180.1', '#W0000001' keeps its digits."""
    found = set()
    for raw in NUMBER.findall(text):
        value = raw.lstrip("#$").replace(",", "")
        found.add(value.rstrip("0").rstrip(".") if "." in value else value)
    return found


def digit_runs(text: str) -> set[str]:
    """Digits inside identifiers too ('gift_card_0000001' → '0000001'), for "the card ending in 0001"."""
    return set(re.findall(r"\d{4,}", text))


def _seen(number: str, seen: set[str]) -> bool:
    return number in seen or (len(number) >= 4 and any(s.endswith(number) for s in seen))


def sentences(text: str) -> list[str]:
    """The text's sentences, each with the citation markers that follow its full stop."""
    found: list[str] = []
    for piece in (p.strip() for p in SENTENCE.split(text.strip())):
        lead = LEADING_CITATIONS.match(piece)
        if lead and found:
            found[-1] = f"{found[-1]} {lead.group(0).strip()}"
        rest = piece[lead.end() :] if lead and found else piece
        if rest:
            found.append(rest)
    return found


def _words(text: str) -> str:
    return " ".join(WORD.findall(text.lower().replace("’", "'")))


def _unquote_said(sentence: str, said: Sequence[str]) -> str:
    """The sentence without the customer's own words it quotes back ("You also asked: “…”"): repeating a
    question is not a claim to support. A quote the customer never said stays and is checked."""
    heard = [f" {_words(s)} " for s in said]

    def drop(match: re.Match[str]) -> str:
        quoted = _words(match.group(1) or match.group(2) or "")
        return " " if quoted and any(f" {quoted} " in h for h in heard) else match.group(0)

    return QUOTED.sub(drop, sentence)


def coverage(sentence: str, evidence: Iterable[str]) -> float:
    words = content(CITATION.sub(" ", sentence))
    if not words:
        return 1.0
    pool: set[str] = set()
    for text in evidence:
        pool |= content(text)
    return len(words & pool) / len(words)


def _claim_problem(sentence: str, evidence: Evidence) -> str | None:
    match = CLAIM.search(sentence)
    if match is None or NEGATION.search(sentence):
        return None
    verb = match.group(1).lower()
    prefixes = next((p for stem_, p in CLAIMED_TOOLS.items() if verb.startswith(stem_)), None)
    done = evidence.writes | ({t for t in evidence.executed if t.startswith("transfer_")})
    if any(t.startswith(prefixes) for t in done) if prefixes else bool(evidence.writes):
        return None
    return f"it says {match.group(0).strip()!r}, but no such change was executed in this turn"


def problems(text: str, evidence: Evidence) -> list[str]:
    """What is wrong with the answer, one line per unsupported sentence (empty: grounded)."""
    found = []
    everything = [*evidence.passages.values(), *evidence.results]
    numbers_seen = set().union(*(numbers(t) | digit_runs(t) for t in [*everything, *evidence.said]))
    for sentence in (_unquote_said(s, evidence.said) for s in sentences(text)):
        if sentence.endswith("?") or REQUEST.match(sentence):
            continue
        if claim := _claim_problem(sentence, evidence):
            found.append(f"{_quote(sentence)}: {claim}")
            continue
        invented = sorted(n for n in numbers(CITATION.sub(" ", sentence)) if not _seen(n, numbers_seen))
        if invented:
            found.append(f"{_quote(sentence)}: {', '.join(invented)} appears in no tool result or passage")
            continue
        cited = [evidence.passages[c] for c in CITATION.findall(sentence) if c in evidence.passages]
        short = len(content(CITATION.sub(" ", sentence))) < MIN_CONTENT_WORDS
        if (short or SELF_NEGATION.match(sentence)) and not cited:
            continue
        if coverage(sentence, [*cited, *evidence.results] if cited else everything) < SUPPORT:
            where = "the passages it cites" if cited else "this turn's passages or tool results"
            found.append(f"{_quote(sentence)}: not supported by {where}")
    return found


def _quote(sentence: str) -> str:
    return repr(sentence if len(sentence) <= 80 else sentence[:77] + "...")
