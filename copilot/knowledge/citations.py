"""Document ids and inline citations: `[returns-policy#2]` markers in answers, which must cite only retrieved
chunks. One rule for both, so every id the knowledge base accepts round-trips through a citation."""

from __future__ import annotations

import re
from collections.abc import Iterable

from copilot.errors import CopilotError, ErrorCode

DOC_ID_CHARS = r"[^\s\[\]#\"<>\x00-\x1f\x7f]"
"""A document id is a run of these: anything but whitespace, control characters and `[ ] # " < >` (the
characters that delimit a citation, a chunk number or the markup passages travel in)."""
DOC_ID = re.compile(f"{DOC_ID_CHARS}{{1,200}}")
CITATION = re.compile(rf"\[({DOC_ID_CHARS}+#\d+)\]")
"""An inline citation: `[<doc id>#<chunk n>]`."""
CITATION_WITH_SPACE = re.compile(rf"\s?\[({DOC_ID_CHARS}+#\d+)\]")
"""A citation with the space before it (to strip markers from a text)."""
_UNSAFE = re.compile(rf"(?:(?!{DOC_ID_CHARS}).)+", re.DOTALL)


def check_doc_id(doc_id: str, where: str) -> str:
    """`doc_id` if the knowledge base accepts it, else a BAD_REQUEST saying how to fix it."""
    if DOC_ID.fullmatch(doc_id):
        return doc_id
    raise CopilotError(
        ErrorCode.BAD_REQUEST,
        f"{where}: document id {doc_id[:80]!r} is not usable; ids are 1–200 characters without spaces, "
        'control characters or any of [ ] # " < > — rename it.',
    )


def doc_id_from_name(stem: str) -> str:
    """A document id from a file name: each run of disallowed characters becomes `-` (`Refund policy` →
    `Refund-policy`), at most 200 characters."""
    return _UNSAFE.sub("-", stem).strip("-")[:200] or "document"


def extract_citations(text: str) -> list[str]:
    """Chunk ids cited inline as `[doc-id#n]`, in first-appearance order, without duplicates."""
    return list(dict.fromkeys(CITATION.findall(text)))


def check_citations(cited: Iterable[str], retrieved_ids: Iterable[str]) -> list[str]:
    """The cited ids that were not retrieved (empty when citations ⊆ retrieved), in citation order."""
    allowed = set(retrieved_ids)
    return [chunk_id for chunk_id in dict.fromkeys(cited) if chunk_id not in allowed]
