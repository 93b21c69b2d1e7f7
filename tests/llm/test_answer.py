"""Calibrated extractive answers: only supporting sentences, composed without dangling connectives, duplicates
or off-topic sentences from other passages, one citation per passage used; nothing when nothing supports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from copilot.cli.main import app
from copilot.llm.answer import answer
from copilot.llm.context import Passage

SHIPPING = Passage(
    "shipping#2",
    "Shipping",
    "Most orders leave our warehouse within one business day. After that, standard shipping usually takes "
    "3 to 5 business days. Standard shipping is free on orders of $50 or more. Standard shipping is free on "
    "orders of $50 or more.",
)
RETURNS = Passage("returns#1", "Returns", "Returns are free: we do not charge return shipping.")
PETS = Passage("pets#1", "Pets", "Our office dog is called Biscuit and loves long walks.")


def test_answers_from_the_supporting_passage_only_and_cites_it_once() -> None:
    found = answer("is standard shipping free?", [SHIPPING, RETURNS, PETS])
    assert found is not None and found.citations == ("shipping#2",)
    assert found.text.endswith("[shipping#2]") and found.text.count("[") == 1
    assert "free on orders of $50" in found.text and found.text.count("free on orders of $50") == 1
    assert "Returns are free" not in found.text and "Biscuit" not in found.text


def test_a_connective_without_what_it_follows_is_dropped() -> None:
    found = answer("how many business days does standard shipping take", [SHIPPING])
    assert found is not None
    assert not found.text.startswith("After that") and "Standard shipping usually takes 3 to 5" in found.text


@pytest.mark.parametrize(
    "question", ["what is the capital of Australia", "tell me a joke", "my bank card was stolen"]
)
def test_nothing_supports_an_unrelated_question(question: str) -> None:
    assert answer(question, [SHIPPING, RETURNS, PETS]) is None


def test_eval_answers_grades_facts_and_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path / "unused"))
    questions = tmp_path / "questions.jsonl"
    rows = [
        {
            "text": "how much does express shipping cost?",
            "facts": [r"12\.99"],
            "sources": ["shipping-options"],
        },
        {"text": "what is the capital of Australia", "sources": "none"},
        {"text": "how much does express shipping cost?", "facts": ["free pony"], "sources": ["returns"]},
    ]
    questions.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", "answers", str(questions)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "answers 0.667 correct on 3 questions, citation precision 0.500"
    assert sum(line.startswith("pass ") for line in lines) == 2 and sum("FAIL" in line for line in lines) == 1
    assert "facts MISSING, sources WRONG" in result.stdout
    assert not (tmp_path / "unused").exists()  # a scratch store, never the configured one
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "hi"}\n', encoding="utf-8")
    refused = CliRunner().invoke(app, ["eval", "answers", str(bad)])
    assert refused.exit_code == 2 and "line 1" in refused.stderr
