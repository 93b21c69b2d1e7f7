"""`copilot kb ingest` and `copilot eval retrieval` through the real CLI app."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from copilot.cli.main import app
from copilot.knowledge.store import ChunkStore, open_knowledge_base
from copilot.settings import Settings

DOCS: list[dict[str, object]] = [
    {"id": "fees", "title": "Card fees", "content": "## Annual fee\n\nThe gold card has no annual fee."},
    {
        "id": "lost",
        "title": "Lost card",
        "content": "## Report\n\nReport a lost or stolen card to freeze it.",
    },
    {"id": "wire", "title": "Wire transfers", "content": "## Limits\n\nInternational wire transfer limits."},
]
TASKS: list[dict[str, object]] = [
    {
        "id": "t1",
        "instructions": "You are playing the role of a customer. Your card was stolen.",
        "required_documents": ["lost"],
    },
    {
        "id": "t2",
        "instructions": "You want to send an international wire transfer.",
        "required_documents": ["wire", "fees"],
    },
]


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_eval_retrieval_last_line(tmp_path: Path) -> None:
    docs = write_jsonl(tmp_path / "docs.jsonl", list(DOCS))
    tasks = write_jsonl(tmp_path / "tasks.jsonl", list(TASKS))
    args = ["eval", "retrieval", "--docs", str(docs), "--tasks", str(tasks), "--embedder", "none"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    baseline, hybrid, last = result.stdout.strip().splitlines()[-3:]
    assert re.fullmatch(r"recall@10 \d\.\d{3} on 2 tasks", last)
    # t1 finds "lost" (1.0); t2 finds "wire" but "fees" shares no term with its scenario (0.5).
    assert last == "recall@10 0.750 on 2 tasks"
    assert hybrid.startswith("hybrid (none)  recall@10 0.750  precision@5 0.200  MRR@10 1.000")
    assert baseline.startswith("baseline (bm25s, whole documents)  recall@10 ")


def test_eval_retrieval_split_and_bad_option(tmp_path: Path) -> None:
    docs = write_jsonl(tmp_path / "docs.jsonl", list(DOCS))
    tasks = write_jsonl(tmp_path / "tasks.jsonl", list(TASKS))
    base = ["eval", "retrieval", "--docs", str(docs), "--tasks", str(tasks), "--embedder", "none"]
    counts = []
    for split in ("calibration", "evaluation"):
        result = CliRunner().invoke(app, [*base, "--split", split])
        assert result.exit_code == 0, result.output
        counts.append(int(result.stdout.split()[-2]))
    assert sum(counts) == 2
    bad = CliRunner().invoke(app, [*base, "--split", "test"])
    assert bad.exit_code == 2 and "use all, calibration or evaluation" in bad.stderr


def test_kb_ingest_stores_chunks_and_replaces_on_reingest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COPILOT_PACK_PATH", str(tmp_path / "no-pack"))
    docs = write_jsonl(tmp_path / "docs.jsonl", list(DOCS))
    runner = CliRunner()
    result = runner.invoke(app, ["kb", "ingest", str(docs)])
    assert result.exit_code == 0, result.output
    assert "ingested 3 documents (3 chunks)" in result.stdout

    (tmp_path / "fees.md").write_text("# Card fees\n## Annual\nFee text.\n## Late\nLate fee.\n", "utf-8")
    result = runner.invoke(app, ["kb", "ingest", str(tmp_path / "fees.md")])
    assert result.exit_code == 0, result.output
    assert "knowledge base: 3 documents, 4 chunks" in result.stdout

    settings = Settings()
    stored = ChunkStore(settings.data_dir / "kb").load()
    assert [c.id for c in stored] == ["lost#1", "wire#1", "fees#1", "fees#2"]
    kb = open_knowledge_base(settings)
    assert kb.loaded_from_disk
    assert kb.search("late fee")[0].chunk.id == "fees#2"


def test_kb_ingest_missing_path_exits_with_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(app, ["kb", "ingest", str(tmp_path / "missing")])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


@pytest.mark.shared
def test_banking_recall_beats_whole_document_baseline(shared_data: Path) -> None:
    kb_dir = shared_data / "tau2-banking-kb"
    args = ["--docs", str(kb_dir / "documents.jsonl"), "--tasks", str(kb_dir / "tasks_dev.jsonl")]
    result = CliRunner().invoke(app, ["eval", "retrieval", *args])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    match = re.fullmatch(r"recall@10 (\d\.\d{3}) on (\d+) tasks", lines[-1])
    baseline = re.search(r"recall@10 (\d\.\d{3})", lines[-3])
    assert match is not None and baseline is not None
    assert float(match.group(1)) >= 1.2 * float(baseline.group(1))  # 0.412 vs 0.329 on 2026-12-01
    assert int(match.group(2)) == 55
