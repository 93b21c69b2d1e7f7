"""Every document id the knowledge base accepts round-trips: ingest → chunk id → citation → sources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from langchain_core.messages import SystemMessage

from copilot.agent.validate import citations_in
from copilot.errors import CopilotError
from copilot.knowledge.citations import (
    CITATION_WITH_SPACE,
    DOC_ID,
    check_doc_id,
    doc_id_from_name,
    extract_citations,
)
from copilot.knowledge.ingest import load_file
from copilot.llm.context import parse_context
from copilot.principal import Principal
from copilot.prompts.defaults import context_block

doc_ids = st.from_regex(DOC_ID, fullmatch=True)
prose = st.text(st.characters(exclude_characters="[]"), max_size=40)


@given(doc_ids, st.integers(1, 999), prose, prose)
def test_an_accepted_id_round_trips_through_a_citation(doc_id: str, n: int, before: str, after: str) -> None:
    chunk_id = f"{doc_id}#{n}"
    text = f"{before} [{chunk_id}]{after}"
    assert extract_citations(text) == [chunk_id]
    assert citations_in(text) == [chunk_id]
    assert CITATION_WITH_SPACE.sub("", f"Yes. [{chunk_id}]") == "Yes."


@given(doc_ids)
def test_an_accepted_id_round_trips_through_the_passage_markup(doc_id: str) -> None:
    block = context_block(
        Principal("demo", "customer", "u1"), [{"id": f"{doc_id}#1", "title": "T", "text": "Body."}]
    )
    [passage] = parse_context([SystemMessage(content=block)]).passages
    assert passage.id == f"{doc_id}#1"


@given(st.text(min_size=1, max_size=250))
def test_any_file_name_becomes_an_accepted_id(stem: str) -> None:
    assert check_doc_id(doc_id_from_name(stem), "here")


def test_tau2_style_ids_with_parentheses_are_ingested_and_cited(tmp_path: Path) -> None:
    doc_id = "doc_bank_accounts_bank_accounts_(general)_042"
    path = tmp_path / "kb.jsonl"
    path.write_text(json.dumps({"id": doc_id, "title": "Codes", "content": "## A\nText."}) + "\n")
    [chunk] = load_file(path)
    assert chunk.id == f"{doc_id}#1"
    assert extract_citations(f"See [{chunk.id}].") == [chunk.id]


@pytest.mark.parametrize("bad", ["two words", "a#b", "x[1]", 'q"uote', "", "x" * 201, "tab\there"])
def test_an_uncitable_jsonl_id_is_refused_with_what_to_do(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "kb.jsonl"
    path.write_text(json.dumps({"id": bad, "title": "T", "content": "Text."}) + "\n")
    with pytest.raises(CopilotError) as error:
        load_file(path)
    assert "kb.jsonl:1" in error.value.message
    assert "rename" in error.value.message or "needs" in error.value.message


def test_a_markdown_file_name_with_spaces_gets_a_citable_id(tmp_path: Path) -> None:
    path = tmp_path / "Refund policy (EU).md"
    path.write_text("# Refunds\n\n## Window\nThirty days.\n")
    [chunk] = load_file(path)
    assert chunk.id == "Refund-policy-(EU)#1"
