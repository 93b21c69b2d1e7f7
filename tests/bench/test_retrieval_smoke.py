"""Smoke test: `python -m bench.retrieval` runs on a small corpus and reports every figure (no timing
assertions: small figures are not meaningful)."""

from __future__ import annotations

from bench.retrieval import corpus, measure


def test_bench_retrieval_reports_every_figure() -> None:
    report = measure(1_000, iterations=3)
    assert report["chunks"] == 1_000
    names = [s["name"] for s in report["stats"]]  # type: ignore[attr-defined]
    assert len(names) == 5 and names[-1].startswith("baseline")
    assert float(report["hybrid_p95_vs_bm25s_p95"]) > 0  # type: ignore[arg-type]


def test_the_synthetic_corpus_has_internal_documents() -> None:
    chunks = corpus(40)
    assert {c.audience for c in chunks} == {"public", "internal"}
    assert len({c.id for c in chunks}) == 40
