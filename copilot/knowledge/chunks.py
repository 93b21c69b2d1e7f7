"""Chunks: a document's `##` sections, long sections split on paragraphs into ~150–300 word pieces."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from copilot.knowledge.audience import Audience

MAX_WORDS = 300
TARGET_WORDS = 220
OVERLAP_WORDS = 30
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True, slots=True)
class Chunk:
    """One retrievable passage. `id` is `<doc_id>#<n>` (n from 1, in document order): stable across re-ingest."""

    id: str
    doc_id: str
    title: str
    section: str
    text: str
    source: str
    audience: Audience = "public"


@dataclass(frozen=True, slots=True)
class Section:
    heading: str
    body: str


def parse_markdown(markdown: str) -> tuple[str, list[Section]]:
    """Split Markdown into (title from the first `# ` line, sections per `## ` heading). Fences are respected."""
    title = ""
    heading = ""
    lines: list[str] = []
    sections: list[Section] = []
    in_fence = False
    for line in markdown.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        if not in_fence and line.startswith("# ") and not title:
            title = line[2:].strip()
        elif not in_fence and line.startswith("## "):
            sections.append(Section(heading, "\n".join(lines).strip()))
            heading, lines = line[3:].strip(), []
        else:
            lines.append(line)
    sections.append(Section(heading, "\n".join(lines).strip()))
    return title, [s for s in sections if s.body]


def _paragraphs(body: str) -> list[str]:
    """Blank-line separated paragraphs; a paragraph longer than MAX_WORDS is cut into word windows."""
    out: list[str] = []
    for para in re.split(r"\n\s*\n", body):
        words = para.split()
        if len(words) <= MAX_WORDS:
            if words:
                out.append(para.strip())
            continue
        step = TARGET_WORDS - OVERLAP_WORDS
        out.extend(" ".join(words[i : i + TARGET_WORDS]) for i in range(0, len(words) - OVERLAP_WORDS, step))
    return out


def split_section(body: str) -> list[str]:
    """Pack paragraphs into pieces of ≲ MAX_WORDS; each new piece starts with a short overlap of the last."""
    if len(body.split()) <= MAX_WORDS:
        return [body]
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for para in _paragraphs(body):
        words = len(para.split())
        if current and size + words > MAX_WORDS and size >= TARGET_WORDS // 2:
            pieces.append("\n\n".join(current))
            tail = " ".join(current[-1].split()[-OVERLAP_WORDS:])
            current, size = [tail], len(tail.split())
        current.append(para)
        size += words
    pieces.append("\n\n".join(current))
    return pieces


def chunk_markdown(
    doc_id: str,
    markdown: str,
    *,
    source: str,
    title: str | None = None,
    audience: Callable[[str], Audience] = lambda _title: "public",
) -> list[Chunk]:
    """Chunk one Markdown document. `title` overrides the `# ` line (e.g. JSONL records carry their own);
    `audience` maps the document's title to its audience."""
    parsed_title, sections = parse_markdown(markdown)
    doc_title = title or parsed_title or doc_id
    reader = audience(doc_title)
    texts = [(s.heading, piece) for s in sections for piece in split_section(s.body)]
    return [
        Chunk(f"{doc_id}#{n}", doc_id, doc_title, heading, text, source, reader)
        for n, (heading, text) in enumerate(texts, start=1)
    ]
