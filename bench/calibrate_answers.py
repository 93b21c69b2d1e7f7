"""Calibrate the offline model's answer-support threshold (copilot/llm/answer.py SUPPORT) on the pack's own
data: positives are the example utterances of the article-routed intents (their answer is in the target
article), plus the answerable lines of tools/retail/eval/answers_calibration.jsonl; negatives are its "none"
lines. Prints, per threshold, how many positives are answered from the right article and how many negatives
are refused. Evaluation questions (answers.jsonl, held-out sets) are never read here.

    .venv/bin/python -m bench.calibrate_answers
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from copilot.knowledge import open_knowledge_base
from copilot.llm.answer import candidates
from copilot.llm.context import Passage
from copilot.packs import load_pack
from copilot.settings import Settings

CALIBRATION = Path("tools/retail/eval/answers_calibration.jsonl")


def main() -> None:
    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="copilot-calibrate-")))
    pack = load_pack(settings.pack_path)
    kb = open_knowledge_base(settings, [pack.articles_dir])
    cases: list[tuple[str, set[str] | None, str | None]] = []
    for intent in pack.intents:
        if intent.route == "article":
            cases += [(text, {intent.target}, intent.target) for text in intent.examples]
    for line in CALIBRATION.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        cases.append((row["text"], None if row["sources"] == "none" else set(row["sources"]), None))
    scored = []
    for text, docs, prefer in cases:
        passages = [Passage(h.chunk.id, h.chunk.title, h.chunk.text) for h in kb.search(text, 5)]
        ranked = candidates(text, passages, prefer)
        best = ranked[0] if ranked else None
        scored.append((best.support if best else 0.0, docs, best.passage.doc_id if best else None))
    positives = sum(docs is not None for _, docs, _ in scored)
    for step in range(30, 56):
        threshold = step / 100
        right = sum(1 for s, docs, doc in scored if docs is not None and s >= threshold and doc in docs)
        refused = sum(1 for s, docs, _ in scored if docs is None and s < threshold)
        answered = sum(1 for s, docs, _ in scored if docs is not None and s >= threshold)
        balanced = (right / positives + refused / (len(scored) - positives)) / 2
        print(
            f"{threshold:.2f}  answered right {right}/{positives}  refused {refused}/{len(scored) - positives}  "
            f"balanced {balanced:.3f}  precision {right / max(answered, 1):.3f}"
        )


if __name__ == "__main__":
    main()
