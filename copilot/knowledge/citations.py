"""Inline citations: `[returns-policy#2]` markers in answers, which must cite only retrieved chunks."""

from __future__ import annotations

import re
from collections.abc import Iterable

CITATION = re.compile(r"\[([A-Za-z0-9][\w().:/-]*#\d+)\]")


def extract_citations(text: str) -> list[str]:
    """Chunk ids cited inline as `[doc-id#n]`, in first-appearance order, without duplicates."""
    return list(dict.fromkeys(CITATION.findall(text)))


def check_citations(cited: Iterable[str], retrieved_ids: Iterable[str]) -> list[str]:
    """The cited ids that were not retrieved (empty when citations ⊆ retrieved), in citation order."""
    allowed = set(retrieved_ids)
    return [chunk_id for chunk_id in dict.fromkeys(cited) if chunk_id not in allowed]
