"""The configured knowledge base under `data_dir/kb`: ingested chunks (chunks.jsonl) and saved indexes."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path

from copilot.knowledge.audience import DEFAULT_INTERNAL_PREFIXES, audience_of
from copilot.knowledge.chunks import Chunk
from copilot.knowledge.embedder import make_embedder
from copilot.knowledge.index import KnowledgeBase
from copilot.knowledge.ingest import load_path
from copilot.settings import Settings


class ChunkStore:
    """Chunks ingested with `copilot kb ingest`, one JSON object per line; re-ingesting a doc replaces it."""

    def __init__(self, kb_dir: Path) -> None:
        self.dir = kb_dir
        self.path = kb_dir / "chunks.jsonl"

    def load(self, internal_prefixes: Sequence[str] = DEFAULT_INTERNAL_PREFIXES) -> list[Chunk]:
        """Stored chunks; a chunk stored before audiences existed gets its audience from its title."""
        if not self.path.is_file():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        records = [json.loads(line) for line in lines if line.strip()]
        for record in records:
            record.setdefault("audience", audience_of(None, record["title"], internal_prefixes))
        return [Chunk(**record) for record in records]

    def replace(self, chunks: Sequence[Chunk]) -> list[Chunk]:
        """Store `chunks`, dropping earlier chunks of the same documents; return everything stored."""
        new_docs = {chunk.doc_id for chunk in chunks}
        merged = [c for c in self.load() if c.doc_id not in new_docs] + list(chunks)
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".jsonl.tmp")
        tmp.write_text("".join(json.dumps(asdict(c)) + "\n" for c in merged), encoding="utf-8")
        os.replace(tmp, self.path)
        return merged


def kb_dir(settings: Settings) -> Path:
    return settings.data_dir / "kb"


def configured_sources(settings: Settings, extra: Iterable[Path] = ()) -> list[Path]:
    """Sources read at every start: `extra` (e.g. the pack's articles_dir) and COPILOT_KB_PATH."""
    sources = [p for p in extra if p.exists()]
    if settings.kb_path is not None:
        sources.append(settings.kb_path)
    return sources


def merge_documents(*groups: Sequence[Chunk]) -> list[Chunk]:
    """Concatenate chunk lists document by document; a later group's document replaces an earlier one's."""
    docs: dict[str, list[Chunk]] = {}
    for group in groups:
        fresh: dict[str, list[Chunk]] = {}
        for chunk in group:
            fresh.setdefault(chunk.doc_id, []).append(chunk)
        docs.update(fresh)
    return [chunk for chunks in docs.values() for chunk in chunks]


def open_knowledge_base(settings: Settings, extra_sources: Iterable[Path] = ()) -> KnowledgeBase:
    """The configured KB: sources (pack articles, COPILOT_KB_PATH) + ingested chunks, index under data_dir/kb."""
    prefixes = settings.kb_internal_title_prefixes
    groups = [load_path(source, prefixes) for source in configured_sources(settings, extra_sources)]
    groups.append(ChunkStore(kb_dir(settings)).load(prefixes))
    embedder = make_embedder(settings.kb_embedder)
    return KnowledgeBase(merge_documents(*groups), index_dir=kb_dir(settings) / "index", embedder=embedder)
