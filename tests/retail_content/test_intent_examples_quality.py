"""The examples alone must teach a plain bag-of-n-grams classifier the Bitext intents (goal ≥ 0.80 in
`copilot eval intents`; this reference classifier must keep a margin above it)."""

from __future__ import annotations

import csv
import itertools
import math
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from copilot.packs import Intent

Vector = dict[str, float]


def features(text: str) -> Counter[str]:
    words = re.findall(r"[a-z]+|\d+", text.lower())
    words = ["<num>" if w.isdigit() else w for w in words]
    grams = Counter(f"w:{w}" for w in words)
    grams.update(f"b:{a}_{b}" for a, b in itertools.pairwise(words))
    for word in words:
        padded = f"<{word}>"
        grams.update(f"c:{padded[i : i + n]}" for n in (3, 4, 5) for i in range(len(padded) - n + 1))
    return grams


class NearestCentroid:
    """TF-IDF (sublinear tf, smoothed idf) over words, word bigrams and char 3-5-grams; cosine to centroids."""

    def __init__(self, intents: tuple[Intent, ...]) -> None:
        docs = [(intent.name, features(e)) for intent in intents for e in intent.examples]
        df = Counter(g for _, grams in docs for g in grams)
        self.idf = {g: math.log((1 + len(docs)) / (1 + n)) + 1 for g, n in df.items()}
        sums: dict[str, dict[str, float]] = {}
        for name, grams in docs:
            total = sums.setdefault(name, {})
            for g, w in self.vector(grams).items():
                total[g] = total.get(g, 0.0) + w
        self.names = list(sums)
        self.column = {g: i for i, g in enumerate(self.idf)}
        self.matrix = np.zeros((len(self.names), len(self.column)))
        for row, name in enumerate(self.names):
            for g, w in unit(sums[name]).items():
                self.matrix[row, self.column[g]] = w

    def vector(self, grams: Counter[str]) -> Vector:
        return unit({g: (1 + math.log(n)) * self.idf[g] for g, n in grams.items() if g in self.idf})

    def predict(self, text: str) -> str:
        query = self.vector(features(text))
        columns = [self.column[g] for g in query]
        scores = self.matrix[:, columns] @ np.array(list(query.values()))
        return self.names[int(np.argmax(scores))]


def unit(vector: Vector) -> Vector:
    norm = math.sqrt(sum(w * w for w in vector.values())) or 1.0
    return {g: w / norm for g, w in vector.items()}


def test_reference_classifier_separates_our_own_examples(intents: tuple[Intent, ...]) -> None:
    model = NearestCentroid(intents)
    assert model.predict("where is my order #W2378156") == "track_order"
    assert model.predict("I want to talk to a human") == "contact_human_agent"
    assert model.predict("is there a fee to cancel") == "check_cancellation_fee"


@pytest.mark.shared
def test_examples_reach_the_dev_accuracy_with_margin(intents: tuple[Intent, ...], shared_data: Path) -> None:
    model = NearestCentroid(intents)
    with (shared_data / "bitext-support" / "intents_dev.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    correct = sum(model.predict(row["instruction"]) == row["intent"] for row in rows)
    assert correct / len(rows) >= 0.85, f"accuracy {correct / len(rows):.3f} on {len(rows)} utterances"
