from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from copilot.llm.features import Tfidf, terms
from copilot.llm.intent_eval import Labelled, cross_validate, evaluate_intents, load_csv
from copilot.llm.intents import IntentClassifier
from copilot.packs import Pack

DEV = ("bitext-support", "intents_dev.csv")


@pytest.mark.parametrize(
    ("utterance", "intent"),
    [
        ("where is my package for order #W1234567", "track_order"),
        ("I need to cancel purchase W7654321", "cancel_order"),
        ("can I talk to a real person please", "contact_human_agent"),
        ("how do I reset my pasword", "recover_password"),
        ("I want my money back for the broken lamp", "get_refund"),
    ],
)
def test_pack_examples_classify_fresh_utterances(pack: Pack, utterance: str, intent: str) -> None:
    classifier = IntentClassifier.from_intents(pack.intents)
    assert classifier.predict(utterance).label == intent


def test_classifier_rejects_mismatched_training_data() -> None:
    with pytest.raises(ValueError, match="as many labels"):
        IntentClassifier(["a", "b"], ["x"])


def test_unrelated_text_scores_lower_than_a_clear_request(pack: Pack) -> None:
    classifier = IntentClassifier.from_intents(pack.intents)
    clear = classifier.predict("please cancel my order W1234567")
    vague = classifier.predict("what is the meaning of life")
    assert clear.score > vague.score and clear.margin > vague.margin


def test_cross_validation_on_a_tiny_separable_set() -> None:
    rows = [Labelled(f"cancel my order number {i}", "cancel") for i in range(5)]
    rows += [Labelled(f"where is my parcel {i} now", "track") for i in range(5)]
    assert cross_validate(rows, folds=5) == 1.0


@pytest.mark.shared
def test_dev_accuracy_with_pack_examples_only(pack: Pack, shared_data: Path) -> None:
    """Issue 11: not below the 0.972 of the 27 Bitext intents alone, with the retail pack's 9 more (0.970
    before term rarity was read from the help center too)."""
    rows = load_csv(shared_data.joinpath(*DEV))
    assert evaluate_intents(pack.intents, rows, articles_dir=pack.articles_dir) >= 0.972
    assert evaluate_intents(pack.intents, rows) >= 0.80  # the examples alone


_WORD = st.text(alphabet="abcdefg", min_size=1, max_size=6)
_TEXT = st.lists(_WORD, min_size=1, max_size=5).map(" ".join)


@given(texts=st.lists(_TEXT, min_size=1, max_size=8), background=st.lists(_TEXT, max_size=8))
def test_background_documents_change_rarity_only(texts: list[str], background: list[str]) -> None:
    """The vocabulary is the examples'; a term no background document has only gets rarer (higher idf)."""
    alone, read = Tfidf(texts), Tfidf(texts, background=background)
    assert read.vocab == alone.vocab
    seen = {term for text in background for term in terms(text)}
    for term, i in alone.vocab.items():
        if term not in seen:
            assert read.idf[i] >= alone.idf[i] - 1e-12


@pytest.mark.shared
def test_dev_five_fold_cross_validation(shared_data: Path) -> None:
    rows = load_csv(shared_data.joinpath(*DEV))
    assert cross_validate(rows, folds=5) >= 0.95
