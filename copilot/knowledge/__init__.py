"""Knowledge base: ingest Markdown/HTML/JSONL into chunks with stable ids, BM25 retrieval, citation checks."""

from copilot.knowledge.chunks import Chunk
from copilot.knowledge.citations import check_citations, extract_citations
from copilot.knowledge.index import Hit, KnowledgeBase
from copilot.knowledge.ingest import load_path
from copilot.knowledge.store import ChunkStore, open_knowledge_base

__all__ = [
    "Chunk",
    "ChunkStore",
    "Hit",
    "KnowledgeBase",
    "check_citations",
    "extract_citations",
    "load_path",
    "open_knowledge_base",
]
