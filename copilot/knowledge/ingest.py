"""Read Markdown, HTML and JSONL (`{id,title,content}`) sources into chunks."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path

from copilot import jsonl
from copilot.errors import CopilotError, ErrorCode
from copilot.knowledge.audience import (
    DEFAULT_INTERNAL_PREFIXES,
    audience_of,
    parse_audience,
    split_front_matter,
)
from copilot.knowledge.chunks import Chunk, chunk_markdown
from copilot.knowledge.citations import check_doc_id, doc_id_from_name
from copilot.knowledge.html_text import html_to_markdown

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
JSONL_SUFFIXES = frozenset({".jsonl"})
SUFFIXES = MARKDOWN_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES


def source_files(path: Path) -> list[Path]:
    """The ingestible files at `path` (a file, or a directory searched recursively), sorted."""
    if path.is_file():
        if path.suffix.lower() not in SUFFIXES:
            raise CopilotError(
                ErrorCode.BAD_REQUEST,
                f"Cannot ingest {path}: use a .md, .markdown, .html, .htm or .jsonl file.",
            )
        return [path]
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    raise CopilotError(ErrorCode.NOT_FOUND, f"{path} does not exist; pass a knowledge file or directory.")


def load_file(path: Path, internal_prefixes: Sequence[str] = DEFAULT_INTERNAL_PREFIXES) -> list[Chunk]:
    """Chunks of one file; the doc id of a Markdown/HTML file is its stem (made citable, see
    `doc_id_from_name`), a JSONL record's is its `id` (refused if not citable). Audiences: see audience.py."""
    suffix = path.suffix.lower()
    text = path.read_text(encoding="utf-8")
    if suffix in JSONL_SUFFIXES:
        records = _records(path, text)
        return [
            chunk
            for lineno, record in records
            for chunk in _record_chunks(path, lineno, record, internal_prefixes)
        ]
    markdown = html_to_markdown(text) if suffix in HTML_SUFFIXES else text
    meta, body = split_front_matter(markdown, str(path))
    explicit = parse_audience(meta.get("audience"), str(path))
    title = meta.get("title")
    return chunk_markdown(
        doc_id_from_name(path.stem),
        body,
        source=str(path),
        title=title if isinstance(title, str) and title else None,
        audience=partial(audience_of, explicit, internal_prefixes=internal_prefixes),
    )


def load_path(path: Path, internal_prefixes: Sequence[str] = DEFAULT_INTERNAL_PREFIXES) -> list[Chunk]:
    """Chunks of every ingestible file at `path`."""
    return [chunk for file in source_files(path) for chunk in load_file(file, internal_prefixes)]


def _records(path: Path, text: str) -> Iterator[tuple[int, dict[str, object]]]:
    for lineno, record in jsonl.records(path, text):
        if not isinstance(record, dict) or not isinstance(record.get("id"), str) or not record["id"]:
            raise CopilotError(
                ErrorCode.BAD_REQUEST,
                f"{path}:{lineno} needs an object with string fields id, title and content.",
            )
        check_doc_id(record["id"], f"{path}:{lineno}")
        yield lineno, record


def _explicit_audience(record: dict[str, object]) -> object:
    metadata = record.get("metadata")
    nested = metadata.get("audience") if isinstance(metadata, dict) else None
    return record.get("audience", nested)


def _record_chunks(
    path: Path, lineno: int, record: dict[str, object], internal_prefixes: Sequence[str]
) -> list[Chunk]:
    doc_id = str(record["id"])
    title = record.get("title")
    content = record.get("content")
    url = record.get("url")
    source = url if isinstance(url, str) and url else f"{path}#{doc_id}"
    explicit = parse_audience(_explicit_audience(record), f"{path}:{lineno}")
    return chunk_markdown(
        doc_id,
        content if isinstance(content, str) else "",
        source=source,
        title=title if isinstance(title, str) else None,
        audience=partial(audience_of, explicit, internal_prefixes=internal_prefixes),
    )
