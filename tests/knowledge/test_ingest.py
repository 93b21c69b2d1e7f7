"""Ingest Markdown, HTML and JSONL into chunks with stable, human-readable ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copilot.errors import CopilotError
from copilot.knowledge.chunks import MAX_WORDS, chunk_markdown
from copilot.knowledge.ingest import load_path

MARKDOWN = """# Returns and refunds

Intro paragraph about returns.

## Return window

Items can be returned within 30 days of delivery.

## Refund destination

Refunds go back to the original payment method or to a gift card.

```
## not a heading inside a code fence
```
"""

HTML = """<html><head><title>Shipping page</title><style>.x{color:red}</style>
<script>var secret = "do not index";</script></head>
<body><h1>Shipping</h1><p>We ship worldwide.</p>
<h2>Delivery times</h2><p>Standard delivery takes 5&ndash;7 business days.</p>
<ul><li>Express: 2 days</li><li>Overnight: 1 day</li></ul>
<h2>Tracking</h2><div>Use the tracking number in your confirmation email.</div></body></html>
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_markdown_title_and_sections(tmp_path: Path) -> None:
    chunks = load_path(write(tmp_path / "returns-policy.md", MARKDOWN))
    assert [c.id for c in chunks] == ["returns-policy#1", "returns-policy#2", "returns-policy#3"]
    assert {c.title for c in chunks} == {"Returns and refunds"}
    assert [c.section for c in chunks] == ["", "Return window", "Refund destination"]
    assert "30 days" in chunks[1].text
    assert "## not a heading" in chunks[2].text
    assert chunks[0].doc_id == "returns-policy"
    assert chunks[0].source == str(tmp_path / "returns-policy.md")


def test_html_headings_paragraphs_without_scripts_or_styles(tmp_path: Path) -> None:
    chunks = load_path(write(tmp_path / "shipping.html", HTML))
    assert [c.section for c in chunks] == ["", "Delivery times", "Tracking"]
    assert chunks[0].title == "Shipping"
    assert chunks[1].text.startswith("Standard delivery takes 5–7 business days.")
    assert "- Express: 2 days" in chunks[1].text
    everything = " ".join(c.text for c in chunks)
    assert "secret" not in everything
    assert "color" not in everything


def test_jsonl_records_with_markdown_content(tmp_path: Path) -> None:
    records = [
        {
            "id": "doc_a",
            "title": "Card fees",
            "content": "## Annual fee\n\nNo annual fee.\n\n## Late fee\n\n$25.",
        },
        {"id": "doc_b", "title": "Plain", "content": "Just one paragraph.", "url": "https://help.example/b"},
    ]
    path = write(tmp_path / "docs.jsonl", "\n".join(json.dumps(r) for r in records) + "\n\n")
    chunks = load_path(path)
    assert [(c.id, c.section) for c in chunks] == [
        ("doc_a#1", "Annual fee"),
        ("doc_a#2", "Late fee"),
        ("doc_b#1", ""),
    ]
    assert chunks[0].title == "Card fees"
    assert chunks[2].source == "https://help.example/b"


def test_bad_jsonl_line_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.jsonl", '{"id": "ok", "title": "t", "content": "c"}\nnot json\n')
    with pytest.raises(CopilotError, match=r"bad\.jsonl:2"):
        load_path(path)


def test_long_section_split_on_paragraphs_with_overlap() -> None:
    paragraphs = [" ".join(f"p{p}w{i}" for i in range(80)) for p in range(10)]
    chunks = chunk_markdown("long", "# Long\n\n## Body\n\n" + "\n\n".join(paragraphs), source="x")
    assert len(chunks) >= 3
    assert all(len(c.text.split()) <= MAX_WORDS + 40 for c in chunks)
    assert all(c.section == "Body" for c in chunks)
    first_tail = chunks[0].text.split()[-1]
    assert first_tail in chunks[1].text.split()[:40]
    every_word = {w for c in chunks for w in c.text.split()}
    assert every_word == {w for p in paragraphs for w in p.split()}


def test_ids_are_stable_across_reingest_and_directory_order(tmp_path: Path) -> None:
    write(tmp_path / "returns-policy.md", MARKDOWN)
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub" / "shipping.htm", HTML)
    write(tmp_path / "notes.txt", "ignored")
    first = load_path(tmp_path)
    second = load_path(tmp_path)
    assert first == second
    assert {c.doc_id for c in first} == {"returns-policy", "shipping"}


def test_unsupported_file_and_missing_path_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(CopilotError, match=r"use a \.md"):
        load_path(write(tmp_path / "notes.txt", "x"))
    with pytest.raises(CopilotError, match="does not exist"):
        load_path(tmp_path / "missing")
