"""Intent accuracy: pack examples vs a labelled CSV (instruction,intent), or k-fold cross-validation."""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from copilot.errors import CopilotError, ErrorCode
from copilot.llm.intents import IntentClassifier, pack_classifier
from copilot.packs import Intent


@dataclass(frozen=True, slots=True)
class Labelled:
    text: str
    intent: str


Progress = Callable[[int], None]
"""Called with the number of utterances just scored."""


def load_csv(path: Path) -> list[Labelled]:
    """Rows of a CSV with `instruction` (or `text`) and `intent` columns."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise CopilotError(
            ErrorCode.BAD_REQUEST, f"Cannot read {path}: {exc.strerror}; check the path."
        ) from exc
    text_key = "instruction" if rows and "instruction" in rows[0] else "text"
    if not rows or text_key not in rows[0] or "intent" not in rows[0]:
        raise CopilotError(
            ErrorCode.BAD_REQUEST,
            f"{path} needs a header with 'instruction' (or 'text') and 'intent' columns.",
        )
    return [Labelled(row[text_key], row["intent"]) for row in rows if row[text_key] and row["intent"]]


def _score(classifier: IntentClassifier, rows: Sequence[Labelled], progress: Progress | None) -> int:
    correct = 0
    for start in range(0, len(rows), 200):
        batch = rows[start : start + 200]
        predicted = classifier.predict_many([r.text for r in batch])
        correct += sum(p == r.intent for p, r in zip(predicted, batch, strict=True))
        if progress:
            progress(len(batch))
    return correct


def evaluate_intents(
    intents: Sequence[Intent], rows: Sequence[Labelled], progress: Progress | None = None,
    articles_dir: Path | None = None,
) -> float:  # fmt: skip
    """Accuracy of the pack's classifier: trained on its examples only (term rarity also from its articles)."""
    return _score(pack_classifier(intents, articles_dir), rows, progress) / max(len(rows), 1)


def evaluate_trained(
    train: Sequence[Labelled], rows: Sequence[Labelled], progress: Progress | None = None
) -> float:
    classifier = IntentClassifier([r.text for r in train], [r.intent for r in train])
    return _score(classifier, rows, progress) / max(len(rows), 1)


def cross_validate(
    rows: Sequence[Labelled], folds: int = 5, seed: int = 0, progress: Progress | None = None
) -> float:
    """k-fold cross-validation accuracy over a seeded shuffle of `rows`."""
    if len(rows) < folds:
        raise CopilotError(
            ErrorCode.BAD_REQUEST, f"Need at least {folds} rows for {folds}-fold cross-validation."
        )
    order = list(rows)
    random.Random(seed).shuffle(order)
    correct = 0
    for fold in range(folds):
        test = order[fold::folds]
        train = [r for i, r in enumerate(order) if i % folds != fold]
        classifier = IntentClassifier([r.text for r in train], [r.intent for r in train])
        correct += _score(classifier, test, progress)
    return correct / len(order)
