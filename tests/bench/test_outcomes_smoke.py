"""bench.outcomes on a tiny store: it reports every figure and counts every synthetic conversation."""

from __future__ import annotations

from bench.outcomes import measure


def test_bench_outcomes_reports_every_figure() -> None:
    figures = measure(per_day=5, days=2)
    assert figures["conversations"] == 10
    assert all(figures[name] > 0 for name in ("train_classifier_s", "without_intents_s", "with_intents_s"))
