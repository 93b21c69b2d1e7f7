"""Audiences: internal documents (metadata or an internal title prefix) reach staff only."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copilot.api.help import find_article, public_article
from copilot.errors import CopilotError
from copilot.knowledge import Chunk, KnowledgeBase
from copilot.knowledge.audience import EVERY_AUDIENCE, PUBLIC_ONLY, audiences_for
from copilot.knowledge.ingest import load_file, load_path
from copilot.knowledge.store import ChunkStore
from copilot.principal import ROLES, Principal


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def audiences(chunks: Sequence[Chunk]) -> dict[str, str]:
    return {c.doc_id: c.audience for c in chunks}


def test_front_matter_sets_the_audience_and_is_not_indexed(tmp_path: Path) -> None:
    path = write(
        tmp_path / "escalations.md", "---\naudience: internal\n---\n# Escalations\n\n## Codes\nUse C7.\n"
    )
    [chunk] = load_file(path)
    assert (chunk.audience, chunk.title, chunk.text) == ("internal", "Escalations", "Use C7.")


def test_jsonl_audience_field_metadata_and_title_prefix(tmp_path: Path) -> None:
    records = [
        {"id": "a", "title": "Internal: Agent codes", "content": "x"},
        {"id": "b", "title": "Fees", "content": "x", "audience": "internal"},
        {"id": "c", "title": "Limits", "content": "x", "metadata": {"audience": "INTERNAL"}},
        {"id": "d", "title": "Internal: but marked public", "content": "x", "audience": "public"},
        {"id": "e", "title": "Opening an account", "content": "x"},
        {"id": "f", "title": "internal: lower case prefix", "content": "x"},
    ]
    path = write(tmp_path / "kb.jsonl", "".join(json.dumps(r) + "\n" for r in records))
    assert audiences(load_file(path)) == {
        "a": "internal",
        "b": "internal",
        "c": "internal",
        "d": "public",
        "e": "public",
        "f": "internal",
    }
    assert audiences(load_file(path, ["Staff only:"]))["a"] == "public"


def test_an_unknown_audience_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = write(
        tmp_path / "kb.jsonl", json.dumps({"id": "a", "title": "T", "content": "x", "audience": "vip"})
    )
    with pytest.raises(CopilotError, match=re.escape("kb.jsonl:1: audience must be 'public' or 'internal'")):
        load_file(path)


def test_chunks_stored_before_audiences_get_one_from_their_title(tmp_path: Path) -> None:
    old = {"id": "a#1", "doc_id": "a", "title": "Internal: codes", "section": "", "text": "x", "source": "s"}
    write(tmp_path / "chunks.jsonl", json.dumps(old) + "\n")
    assert ChunkStore(tmp_path).load()[0].audience == "internal"


def test_only_staff_read_internal_documents() -> None:
    for role in ROLES:
        expected = EVERY_AUDIENCE if role in ("agent", "supervisor", "admin") else PUBLIC_ONLY
        assert audiences_for(Principal("demo", role, "u")) == expected


@pytest.fixture(scope="module")
def banking(shared_data: Path) -> KnowledgeBase:
    return KnowledgeBase(load_path(shared_data / "tau2-banking-kb" / "documents.jsonl"))


def test_banking_docs_titled_internal_are_internal(banking: KnowledgeBase) -> None:
    for chunk in banking.chunks:
        assert (chunk.audience == "internal") == chunk.title.startswith("Internal:")


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_a_customer_never_retrieves_an_internal_banking_doc(
    banking: KnowledgeBase, data: st.DataObject
) -> None:
    internal = [c for c in banking.chunks if c.audience == "internal"]
    # The hardest queries: an internal document's own title and opening words.
    chunk = data.draw(st.sampled_from(internal))
    query = f"{chunk.title.removeprefix('Internal:')} {' '.join(chunk.text.split()[:12])}"
    public = banking.search(query, 10, PUBLIC_ONLY)
    assert public and all(hit.chunk.audience == "public" for hit in public)
    staff = banking.search(query, 10, EVERY_AUDIENCE)
    assert any(hit.chunk.audience == "internal" for hit in staff)


def test_the_public_help_center_never_shows_an_internal_article(tmp_path: Path) -> None:
    write(tmp_path / "Refund policy.md", "---\naudience: public\n---\n# Refunds\n\n## Window\n30 days.\n")
    write(tmp_path / "codes.md", "# Internal: Agent codes\n\n## Codes\nC7.\n")
    write(tmp_path / "limits.md", "---\naudience: internal\n---\n# Limits\n\n## Max\n500.\n")
    body = public_article(find_article([tmp_path], "Refund-policy"), ["Internal:"])
    assert body.startswith("# Refunds") and "audience" not in body
    for doc_id in ("codes", "limits"):
        with pytest.raises(CopilotError) as error:
            public_article(find_article([tmp_path], doc_id), ["Internal:"])
        assert error.value.code.value == "not_found"
