"""Intent classifier: TF-IDF features, class centroids refined by a few margin-perceptron epochs (numpy).

A pack's classifier (`pack_classifier`) also counts term rarity (idf) over the pack's help center
(`help_passages`): counted over ~900 short examples alone, a word's rarity mostly says which examples happened
to use it; with the articles' text it follows the domain's language (ARCHITECTURE.md: measured on Bitext)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from copilot.llm.features import FloatArray, Tfidf
from copilot.packs import Intent


@dataclass(frozen=True, slots=True)
class Prediction:
    label: str
    score: float
    """Cosine-like similarity to the winning class (0..1); low means the utterance fits no intent well."""
    margin: float
    """Score gap to the runner-up."""


class IntentClassifier:
    """Fit on (utterance, intent) pairs; predict the intent of new utterances."""

    def __init__(
        self, texts: Sequence[str], labels: Sequence[str], *, epochs: int = 10, rate: float = 0.05,
        background: Sequence[str] = (),
    ) -> None:  # fmt: skip
        if not texts or len(texts) != len(labels):
            raise ValueError("need as many labels as texts, and at least one example")
        self.labels = sorted(set(labels))
        index = {label: i for i, label in enumerate(self.labels)}
        self.tfidf = Tfidf(texts, background=background)
        x = self.tfidf.transform(texts)
        y = np.array([index[label] for label in labels])
        eye = np.eye(len(self.labels))
        xt = x.transposed()
        weights = xt.dot(eye[y])
        weights /= np.linalg.norm(weights, axis=0, keepdims=True)
        rows = np.arange(len(y))
        for _ in range(epochs):
            scores = x.dot(weights)
            scores[rows, y] -= 0.2  # demand a margin, not just a win
            predicted = np.argmax(scores, axis=1)
            wrong = (predicted != y)[:, None]
            weights += rate * xt.dot((eye[y] - eye[predicted]) * wrong)
        self.weights: FloatArray = weights

    @classmethod
    def from_intents(cls, intents: Sequence[Intent], background: Sequence[str] = ()) -> IntentClassifier:
        texts = [example for intent in intents for example in intent.examples]
        labels = [intent.name for intent in intents for _ in intent.examples]
        return cls(texts, labels, background=background)

    def scores(self, texts: Sequence[str]) -> FloatArray:
        return self.tfidf.transform(texts).dot(self.weights)

    def predict(self, text: str) -> Prediction:
        scores = self.scores([text])[0]
        order = np.argsort(scores)[::-1]
        best, second = float(scores[order[0]]), float(scores[order[1]]) if len(order) > 1 else 0.0
        return Prediction(self.labels[int(order[0])], best, best - second)

    def predict_many(self, texts: Sequence[str]) -> list[str]:
        if not texts:
            return []
        return [self.labels[int(i)] for i in np.argmax(self.scores(texts), axis=1)]


@cache
def help_passages(articles_dir: Path) -> tuple[str, ...]:
    """The texts of the knowledge base's chunks of a pack's articles (background for term rarity)."""
    from copilot.knowledge.ingest import load_path

    return tuple(chunk.text for chunk in load_path(articles_dir)) if articles_dir.is_dir() else ()


def pack_classifier(intents: Sequence[Intent], articles_dir: Path | None) -> IntentClassifier:
    """The classifier of a pack's intents, term rarity read from its articles too (see the module doc)."""
    background = help_passages(articles_dir) if articles_dir is not None else ()
    return IntentClassifier.from_intents(intents, background)
